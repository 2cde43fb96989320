// The tier API's payloads as both web apps read them, from the typed client (generated from the
// API's schemas, src/modules/tiers/tiers.schemas.ts).
import type { operations } from '@jifen/client';

type Ok<O extends keyof operations, S extends number = 200> =
  operations[O]['responses'] extends Record<S, { content: { 'application/json': infer T } }> ? T : never;

export type TierLadder = Ok<'getTierLadder'>;
export type TierStatus = Ok<'getTierStatus'>;
export type TierRef = TierStatus['ladder'][number];
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
