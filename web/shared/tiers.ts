// The tier API's payloads as both web apps read them, from the typed client (generated from the
// API's schemas, src/modules/tiers/tiers.schemas.ts).
import type { operations } from '@jifen/client';

type Ok<O extends keyof operations, S extends number = 200> =
  operations[O]['responses'] extends Record<S, { content: { 'application/json': infer T } }> ? T : never;

export type TierLadder = Ok<'getTierLadder'>;
export type TierStatus = Ok<'getTierStatus'>;
/** A tier as lists name it: code, rank and names (the status's ladder entries and the ladder's tiers both have them). */
export type TierRef = Pick<TierStatus['ladder'][number], 'code' | 'rank' | 'name'>;
export type TierChangePage = Ok<'listTierHistory'>;
export type TierChange = TierChangePage['data'][number];
export type TierHistoryType = TierChange['type'];
export type TierMix = Ok<'getTierMix'>;

export const TIER_HISTORY_TYPES: readonly TierHistoryType[] = [
  'tier.upgraded',
  'tier.downgraded',
  'tier.renewed',
  'tier.at_risk',
  'tier.override_set',
  'tier.override_ended',
];
