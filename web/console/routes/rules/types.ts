// The rules area's types, from the typed client (generated from the API's schemas).
import type { operations } from '@jifen/client';

type Json<O extends keyof operations, S extends number> =
  operations[O]['responses'] extends Record<S, { content: { 'application/json': infer T } }> ? T : never;

export type Rule = Json<'getRule', 200>;
export type RuleVersion = Rule['versions'][number];
export type RuleDefinition = RuleVersion['definition'];
export type Multiplier = NonNullable<RuleDefinition['multipliers']>[number];
export type ItemMultiplier = NonNullable<RuleDefinition['item_multipliers']>[number];
export type RuleList = Json<'listRules', 200>;
export type EventType = Json<'listEventTypes', 200>['data'][number];
export type PreviewResult = Json<'previewEvent', 200>;
