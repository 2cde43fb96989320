// The tier API's payloads as both web apps read them (src/modules/tiers/tiers.schemas.ts is the
// contract), and the calls, in one place for both apps.
import type { JifenClient } from '@jifen/client';
import type { Localized, TierMetric } from './tier-progress.ts';

export type TierHistoryType = 'tier.upgraded' | 'tier.downgraded' | 'tier.renewed' | 'tier.at_risk' | 'tier.override_set' | 'tier.override_ended';
export const TIER_HISTORY_TYPES: readonly TierHistoryType[] = [
  'tier.upgraded',
  'tier.downgraded',
  'tier.renewed',
  'tier.at_risk',
  'tier.override_set',
  'tier.override_ended',
];

export interface TierGrant {
  key: string;
  name: Localized;
  every: 'month' | 'quarter' | 'year';
  points?: number;
  coupon_prefix?: string;
}

export interface LadderTier {
  code: string;
  rank: number;
  name: Localized;
  entry: number;
  retention: number;
  multiplier: string;
  birthday_points: number;
  welcome_points: number;
  grants: TierGrant[];
  perks: Localized[];
  members: number;
}

export interface TierLadder {
  object: 'tier_ladder';
  program_id: string;
  metric: TierMetric;
  qualifying_window: { type: 'calendar_year' | 'rolling_months' | 'membership_year'; months?: number };
  validity: { type: 'months' | 'period_and_next' | 'until_date'; months?: number; month?: number; day?: number; years?: number };
  downgrade_policy: 'one_step' | 'requalify' | 'never';
  grace_days: number;
  upgrade_event_rate: 'old' | 'new';
  tiers: LadderTier[];
  revision: number;
  created_at: string;
  updated_at: string;
}

export interface TierRef {
  code: string;
  rank: number;
  name: Localized;
}

export interface TierStatus {
  object: 'tier_status';
  member_id: string;
  program_id: string;
  metric: TierMetric;
  currency: string;
  tier: TierRef & { multiplier: string; perks: Localized[] };
  earned: { code: string; since: string | null; valid_until: string | null; review_at: string | null; in_grace: boolean };
  override: { tier: string; until: string; reason: string; by: string } | null;
  window: { start: string; end: string; value: number };
  next: { tier: TierRef; threshold: number; needed: number; by: string | null } | null;
  keep: {
    threshold: number;
    window: { start: string; end: string; value: number };
    needed: number;
    review_at: string;
    at_risk: boolean;
  } | null;
  ladder: TierRef[];
  grants: {
    kind: 'welcome' | 'birthday' | 'periodic';
    key: string;
    tier: string;
    period_start: string;
    points: number;
    coupon_code: string | null;
    issued_at: string;
  }[];
}

export interface TierChange {
  object: 'tier_change';
  id: string;
  program_id: string;
  member_id: string;
  type: TierHistoryType;
  at: string;
  from_tier: string | null;
  to_tier: string | null;
  reason: string;
  actor: string;
  payload: Record<string, unknown>;
}

export interface TierChangePage {
  data: TierChange[];
  has_more: boolean;
  next_cursor: string | null;
}

export interface TierMix {
  object: 'tier_mix';
  program_id: string;
  tiers: { code: string; name: Localized; members: number; overrides: number }[];
  upgrades_30d: number;
  downgrades_30d: number;
  at_risk: number;
}

type Result = Promise<{ data?: unknown; error?: unknown; response: Response }>;
interface Untyped {
  GET(path: string, init?: unknown): Result;
  PUT(path: string, init?: unknown): Result;
  POST(path: string, init?: unknown): Result;
  DELETE(path: string, init?: unknown): Result;
}

/**
 * The client for the tier paths. They are called by path like every other: the typed client gains
 * them when it is regenerated from the routes, until then the payloads are typed above.
 */
export function tierClient(client: JifenClient): Untyped {
  return client as unknown as Untyped;
}
