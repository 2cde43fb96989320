import { type Static, Type } from 'typebox';
import { Nullable, NullableString, NullableTimestamp, PageOf, PageQuery, StringEnum, Timestamp } from '../../shared/schemas.ts';

export const TIER_METRICS = ['spend', 'points', 'orders'] as const;
export type TierMetric = (typeof TIER_METRICS)[number];
export const DOWNGRADE_POLICIES = ['one_step', 'requalify', 'never'] as const;
export const TIER_HISTORY_TYPES = ['tier.upgraded', 'tier.downgraded', 'tier.renewed', 'tier.at_risk', 'tier.override_set', 'tier.override_ended'] as const;
export type TierHistoryType = (typeof TIER_HISTORY_TYPES)[number];
export const GRANT_PERIODS = ['month', 'quarter', 'year'] as const;

/** Most tiers a ladder may have. */
export const MAX_TIERS = 10;
/** Largest threshold: 10^12 (minor units of spend, points or orders). */
export const MAX_THRESHOLD = 1_000_000_000_000;
const MAX_BENEFIT_POINTS = 1_000_000_000;

export const TierCode = Type.String({
  pattern: '^[a-z][a-z0-9_]{0,31}$',
  description: 'Tier code, e.g. gold: what rules, segments and the API name it by.',
  examples: ['gold'],
});

export const LocalizedText = (maxLength: number, description?: string) =>
  Type.Object(
    { 'zh-CN': Type.String({ minLength: 1, maxLength }), en: Type.String({ minLength: 1, maxLength }) },
    { additionalProperties: false, ...(description ? { description } : {}) },
  );

export const QualifyingWindow = Type.Object(
  {
    type: StringEnum(['calendar_year', 'rolling_months', 'membership_year'] as const, {
      description:
        "calendar_year: 1 January to 31 December in the program's time zone; rolling_months: the last `months` months up to today; membership_year: from each anniversary of the member's first day.",
    }),
    months: Type.Optional(Type.Integer({ minimum: 1, maximum: 36, description: 'rolling_months only.' })),
  },
  { additionalProperties: false, examples: [{ type: 'calendar_year' }, { type: 'rolling_months', months: 12 }] },
);
export type QualifyingWindow = Static<typeof QualifyingWindow>;

export const Validity = Type.Object(
  {
    type: StringEnum(['months', 'period_and_next', 'until_date'] as const, {
      description:
        'months: `months` months from qualifying (Starbucks: 12); period_and_next: the rest of the qualifying window and all of the next (Sephora; calendar_year or membership_year windows); until_date: until `month`/`day` of the year `years` after the qualifying year (Delta: 31 January, years 2; calendar_year windows). An upgrade restarts validity; keeping the tier at review renews it.',
    }),
    months: Type.Optional(Type.Integer({ minimum: 1, maximum: 120 })),
    month: Type.Optional(Type.Integer({ minimum: 1, maximum: 12 })),
    day: Type.Optional(Type.Integer({ minimum: 1, maximum: 31 })),
    years: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
  },
  { additionalProperties: false, examples: [{ type: 'months', months: 12 }, { type: 'period_and_next' }, { type: 'until_date', month: 1, day: 31, years: 2 }] },
);
export type Validity = Static<typeof Validity>;

export const PeriodicGrant = Type.Object(
  {
    key: Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$', description: 'Stable name of the grant within its tier, e.g. free_shipping.' }),
    name: LocalizedText(60),
    every: StringEnum(GRANT_PERIODS, { description: "Issued once per member in each month, quarter or year (program's time zone) the member holds the tier." }),
    points: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BENEFIT_POINTS })),
    coupon_prefix: Type.Optional(
      Type.String({
        pattern: '^[A-Z0-9][A-Z0-9-]{0,15}$',
        description: 'A coupon: each grant issues a unique code, this prefix and 10 random characters (e.g. FREESHIP-7KQ2M9XW4T).',
      }),
    ),
  },
  { additionalProperties: false, description: 'Points or a coupon code (exactly one of the two).' },
);
export type PeriodicGrant = Static<typeof PeriodicGrant>;

export const TierInput = Type.Object(
  {
    code: TierCode,
    name: LocalizedText(40, 'Shown to members and operators: {"zh-CN": "金卡", "en": "Gold"}.'),
    entry: Type.Integer({
      minimum: 0,
      maximum: MAX_THRESHOLD,
      description: 'The metric in the window that reaches this tier (spend in minor units, points, or orders). The first tier: 0.',
    }),
    retention: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_THRESHOLD, description: 'What keeps this tier at review (保级), at most entry. Default: entry.' }),
    ),
    multiplier: Type.Optional(
      Type.String({
        pattern: '^(0|[1-9]\\d{0,2})(\\.\\d{1,4})?$',
        description: 'Earn multiplier of the tier, a decimal ("1.5"), applied by rules that earn per amount (tier_benefit). Default "1".',
      }),
    ),
    birthday_points: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_BENEFIT_POINTS, description: 'Points on the birthday, once a year.' })),
    welcome_points: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_BENEFIT_POINTS, description: 'Points when a member is upgraded to this tier, once per member and tier.' }),
    ),
    grants: Type.Optional(Type.Array(PeriodicGrant, { maxItems: 5 })),
    perks: Type.Optional(
      Type.Array(LocalizedText(120), { maxItems: 10, description: 'Benefits in words, shown in the member centre (free shipping, priority service).' }),
    ),
  },
  { additionalProperties: false },
);
export type TierInput = Static<typeof TierInput>;

export const TierLadderInput = Type.Object(
  {
    metric: StringEnum(TIER_METRICS, {
      description:
        'spend: qualifying spend, minor units of order.paid amounts less refunds; points: 成长值, points earned by qualifying rules (never the spendable balance, so redeeming does not lower it); orders: the number of order.paid events, less orders refunded in full.',
    }),
    qualifying_window: QualifyingWindow,
    validity: Validity,
    downgrade_policy: StringEnum(DOWNGRADE_POLICIES, {
      description:
        'At review, below the retention threshold: one_step (at most one tier down), requalify (to the tier the metric qualifies for), never (keep the tier).',
    }),
    grace_days: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 366,
        description: 'Days after the status ends before the review; what counts in them counts toward keeping the tier. Default 0.',
      }),
    ),
    upgrade_event_rate: Type.Optional(
      StringEnum(['old', 'new'] as const, {
        description: 'Whether the event that crosses a threshold earns at the old tier rate (default) or the new one; every later event earns at the new rate.',
      }),
    ),
    tiers: Type.Array(TierInput, {
      minItems: 1,
      maxItems: MAX_TIERS,
      description: 'Lowest first; the first is the base tier (entry 0); entries strictly increase.',
    }),
    keep_current_tiers_until: Type.Optional(
      Type.String({
        format: 'date',
        description:
          "Migration from the plain tier attribute: a member whose tier (member.tier) is a tier of this ladder and higher than its metric earns keeps it as an override until this date. Only when the program's first ladder is created.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type TierLadderInput = Static<typeof TierLadderInput>;

export const Tier = Type.Object({
  code: Type.String(),
  rank: Type.Integer({ description: '0 for the base tier.' }),
  name: LocalizedText(40),
  entry: Type.Integer(),
  retention: Type.Integer(),
  multiplier: Type.String(),
  birthday_points: Type.Integer(),
  welcome_points: Type.Integer(),
  grants: Type.Array(PeriodicGrant),
  perks: Type.Array(LocalizedText(120)),
  members: Type.Integer({ description: 'Members at this tier now (effective: overrides included).' }),
});
export type Tier = Static<typeof Tier>;

export const TierLadder = Type.Object({
  object: Type.Literal('tier_ladder'),
  program_id: Type.String(),
  metric: StringEnum(TIER_METRICS),
  qualifying_window: QualifyingWindow,
  validity: Validity,
  downgrade_policy: StringEnum(DOWNGRADE_POLICIES),
  grace_days: Type.Integer(),
  upgrade_event_rate: StringEnum(['old', 'new'] as const),
  tiers: Type.Array(Tier),
  revision: Type.Integer(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type TierLadder = Static<typeof TierLadder>;

const TierRef = Type.Object({ code: Type.String(), rank: Type.Integer(), name: LocalizedText(40) });

export const TierStatus = Type.Object({
  object: Type.Literal('tier_status'),
  member_id: Type.String(),
  program_id: Type.String(),
  metric: StringEnum(TIER_METRICS),
  currency: Type.String({ description: 'Spend figures are minor units of this currency.' }),
  tier: Type.Intersect([TierRef, Type.Object({ multiplier: Type.String(), perks: Type.Array(LocalizedText(120)) })], {
    description: 'The tier the member has now (the higher of the earned tier and an override).',
  }),
  earned: Type.Object({
    code: Type.String({ description: 'The tier the metric earned (without the override).' }),
    since: NullableTimestamp,
    valid_until: NullableTimestamp,
    review_at: NullableTimestamp,
    in_grace: Type.Boolean({ description: 'The status has ended and the grace days before the review run.' }),
  }),
  override: Nullable(
    Type.Object(
      { tier: Type.String(), until: Timestamp, reason: Type.String(), by: Type.String() },
      { description: 'A floor set by an operator until `until`.' },
    ),
  ),
  window: Type.Object({
    start: Type.String({ format: 'date' }),
    end: Type.String({ format: 'date', description: 'Exclusive.' }),
    value: Type.Integer({ description: 'The metric in the current window so far.' }),
  }),
  next: Nullable(
    Type.Object(
      {
        tier: TierRef,
        threshold: Type.Integer(),
        needed: Type.Integer({ description: 'What is left to reach it ("再消费 ¥500 即可升级金卡").' }),
        by: Type.Unsafe<string | null>({
          type: ['string', 'null'],
          format: 'date',
          description: 'The last day of the current window; null for a rolling window, which has no deadline (what falls out of it stops counting).',
        }),
      },
      { description: 'The next tier up; null at the top.' },
    ),
  ),
  keep: Nullable(
    Type.Object(
      {
        threshold: Type.Integer({ description: "The current tier's retention threshold." }),
        window: Type.Object({ start: Type.String({ format: 'date' }), end: Type.String({ format: 'date' }), value: Type.Integer() }),
        needed: Type.Integer(),
        review_at: Timestamp,
        at_risk: Type.Boolean({ description: 'The review is within 30 days and the member is below retention.' }),
      },
      { description: 'What keeps the earned tier at the next review; null for the base tier or a never-downgrade ladder.' },
    ),
  ),
  ladder: Type.Array(
    Type.Intersect([
      TierRef,
      Type.Object({
        entry: Type.Integer({ description: 'The metric that reaches this tier.' }),
        multiplier: Type.String(),
        birthday_points: Type.Integer(),
        welcome_points: Type.Integer(),
        perks: Type.Array(LocalizedText(120)),
        grants: Type.Array(
          Type.Object({
            key: Type.String(),
            name: LocalizedText(60),
            every: StringEnum(GRANT_PERIODS),
            points: Type.Optional(Type.Integer()),
            coupon: Type.Boolean({ description: 'A coupon code (its prefix is not shown to members).' }),
          }),
        ),
      }),
    ]),
    { description: "Every tier of the ladder, lowest first, with its benefits (what the member centre's tier page shows)." },
  ),
  grants: Type.Array(
    Type.Object({
      kind: StringEnum(['welcome', 'birthday', 'periodic'] as const),
      key: Type.String(),
      tier: Type.String(),
      period_start: Type.String({ format: 'date' }),
      points: Type.Integer(),
      coupon_code: NullableString,
      issued_at: Timestamp,
    }),
    { description: 'Benefits granted, newest first (the last 20).' },
  ),
});
export type TierStatus = Static<typeof TierStatus>;

export const TierChange = Type.Object({
  object: Type.Literal('tier_change'),
  id: Type.String(),
  program_id: Type.String(),
  member_id: Type.String(),
  type: StringEnum(TIER_HISTORY_TYPES),
  at: Timestamp,
  from_tier: NullableString,
  to_tier: NullableString,
  reason: Type.String(),
  actor: Type.String(),
  payload: Type.Record(Type.String(), Type.Unknown()),
});
export type TierChange = Static<typeof TierChange>;
export const TierChangePage = PageOf(TierChange, 'TierChangePage');

export const TierHistoryQuery = Type.Object({ type: Type.Optional(StringEnum(TIER_HISTORY_TYPES)), ...PageQuery }, { additionalProperties: false });

export const TierOverrideInput = Type.Object(
  {
    tier: TierCode,
    until: Type.String({ format: 'date-time', description: 'When the override ends (in the future, at most 5 years ahead).' }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);
export const TierOverrideEnd = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false });

export const TierMix = Type.Object({
  object: Type.Literal('tier_mix'),
  program_id: Type.String(),
  tiers: Type.Array(Type.Object({ code: Type.String(), name: LocalizedText(40), members: Type.Integer(), overrides: Type.Integer() })),
  upgrades_30d: Type.Integer(),
  downgrades_30d: Type.Integer(),
  at_risk: Type.Integer({ description: 'Members whose review is within 30 days and who are below retention.' }),
});
export type TierMix = Static<typeof TierMix>;
export type TierOverrideInput = Static<typeof TierOverrideInput>;
