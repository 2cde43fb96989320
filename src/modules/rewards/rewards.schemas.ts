import { type Static, Type } from 'typebox';
import { Metadata, Nullable, NullableString, NullableTimestamp, PageQuery, Points, Reason, StringEnum, Timestamp } from '../../shared/schemas.ts';
import { Balance, Entry } from '../ledger/index.ts';

export const REWARD_TYPES = ['physical', 'coupon', 'service', 'experience', 'donation', 'lottery'] as const;
export type RewardType = (typeof REWARD_TYPES)[number];
export const REWARD_STATUSES = ['draft', 'active', 'archived'] as const;
export type RewardStatus = (typeof REWARD_STATUSES)[number];
export const LIMIT_PERIODS = ['day', 'week', 'month', 'year', 'ever'] as const;
export type LimitPeriod = (typeof LIMIT_PERIODS)[number];
export const REDEMPTION_STATUSES = ['confirmed', 'shipped', 'delivered', 'cancelled', 'rejected', 'fulfilment_failed'] as const;
export type RedemptionStatus = (typeof REDEMPTION_STATUSES)[number];
export const REDEMPTION_HISTORY_TYPES = [
  'redemption.confirmed',
  'redemption.shipped',
  'redemption.delivered',
  'redemption.cancelled',
  'redemption.rejected',
  'redemption.fulfilment_failed',
] as const;
/** What a member's catalogue says of each reward, in this order of precedence (docs/rewards.md). */
export const CATALOGUE_STATES = ['ended', 'not_yet', 'sold_out', 'locked_tier', 'locked_segment', 'limit_reached', 'needs_points', 'can_redeem'] as const;
export type CatalogueState = (typeof CATALOGUE_STATES)[number];

/** Largest stock of one reward, and largest quantity of one redemption. */
export const MAX_STOCK = 1_000_000_000;
export const MAX_QUANTITY = 100;
const Minor = Type.Integer({ minimum: 1, maximum: 1_000_000_000_000, description: "Minor units (fen) of the program's currency." });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

export const RewardName = Type.Object(
  { 'zh-CN': Text(100), en: Text(100) },
  { additionalProperties: false, description: 'The name in both languages.', examples: [{ 'zh-CN': '10元咖啡券', en: '¥10 coffee coupon' }] },
);
export type RewardName = Static<typeof RewardName>;
export const RewardDescription = Type.Object(
  { 'zh-CN': Type.Optional(Text(2000)), en: Type.Optional(Text(2000)) },
  { additionalProperties: false, description: 'The description in either or both languages.' },
);
const ImageUrls = Type.Array(Type.String({ maxLength: 2000, pattern: '^https?://[^\\s]+$' }), {
  maxItems: 10,
  description: 'Up to 10 image URLs (http or https), the first one the cover.',
});
const Category = Text(64);
export const RewardLimit = Type.Object(
  {
    per_member: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    period: StringEnum(LIMIT_PERIODS, { description: "day, week (ISO, Monday first), month, year in the program's time zone, or ever." }),
  },
  {
    additionalProperties: false,
    description: 'At most per_member (counting quantity) per member and period; cancelled and rejected redemptions do not count.',
  },
);
export type RewardLimit = Static<typeof RewardLimit>;
const LocalTime = Type.String({ pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$', description: 'HH:MM, local time.', examples: ['10:00'] });
export const RewardSchedule = Type.Object(
  {
    days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, uniqueItems: true, description: 'ISO weekdays, 1 = Monday.' }),
    from: LocalTime,
    until: LocalTime,
  },
  {
    additionalProperties: false,
    description: "Flash sales: redeemable only on these weekdays from `from` until `until` (exclusive) in the program's time zone.",
  },
);
export type RewardSchedule = Static<typeof RewardSchedule>;
const SegmentId = Type.String({ pattern: '^seg_[A-Za-z0-9_]{1,64}$' });
const TierCode = Type.String({ minLength: 1, maxLength: 64, description: "A tier code of the program's ladder: members at that rank or above." });

const rewardFields = {
  name: RewardName,
  description: Type.Optional(RewardDescription),
  image_urls: Type.Optional(ImageUrls),
  category: Type.Optional(Nullable(Category)),
  stock: Type.Optional(
    Nullable(
      Type.Integer({
        minimum: 0,
        maximum: MAX_STOCK,
        description: 'Units on sale in all (null: unlimited). Changing it moves stock_left by the difference.',
      }),
    ),
  ),
  limit: Type.Optional(Nullable(RewardLimit)),
  min_tier: Type.Optional(Nullable(TierCode)),
  segment_id: Type.Optional(Nullable(SegmentId)),
  available_from: Type.Optional(Nullable(Timestamp)),
  available_until: Type.Optional(Nullable(Timestamp)),
  schedule: Type.Optional(Nullable(RewardSchedule)),
  donation_project: Type.Optional(Nullable(Text(100))),
  metadata: Type.Optional(Metadata),
};

export const RewardCreate = Type.Object(
  {
    type: StringEnum(REWARD_TYPES),
    ...rewardFields,
    points_cost: { ...Points, description: 'Points per unit; for a donation, the minimum (the member gives any amount from it up).' },
    cash_part: Type.Optional(Nullable(Minor)),
    status: Type.Optional(StringEnum(['draft', 'active'] as const, { description: 'draft (default: members do not see it) or active.' })),
  },
  { additionalProperties: false },
);
export type RewardCreate = Static<typeof RewardCreate>;

export const RewardUpdate = Type.Object(
  {
    ...rewardFields,
    name: Type.Optional(RewardName),
    status: Type.Optional(StringEnum(['draft', 'active'] as const)),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Send only what changes; null clears. The type is fixed; the price changes by a price change (POST …/price-changes, effective now or later).',
  },
);
export type RewardUpdate = Static<typeof RewardUpdate>;

export const PriceChangeInput = Type.Object(
  {
    points_cost: Points,
    cash_part: Type.Optional(Nullable(Minor)),
    announce_at: Type.Optional({ ...Timestamp, description: 'When members see it coming (default: now); at most effective_at.' }),
    effective_at: { ...Timestamp, description: 'When the new price applies: now or later.' },
  },
  { additionalProperties: false },
);
export type PriceChangeInput = Static<typeof PriceChangeInput>;

export const PriceChange = Type.Object({
  id: Type.String(),
  object: Type.Literal('reward_price_change'),
  program_id: Type.String(),
  reward_id: Type.String(),
  points_cost: Type.Integer(),
  cash_part: Type.Union([Type.Integer(), Type.Null()]),
  announce_at: Timestamp,
  effective_at: Timestamp,
  in_effect: Type.Boolean({ description: 'Whether effective_at has passed (then it cannot be withdrawn).' }),
  created_at: Timestamp,
  created_by: Type.String(),
});
export type PriceChange = Static<typeof PriceChange>;

export const Reward = Type.Object({
  id: Type.String({ examples: ['rwd_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
  object: Type.Literal('reward'),
  program_id: Type.String(),
  type: StringEnum(REWARD_TYPES),
  name: RewardName,
  description: RewardDescription,
  image_urls: Type.Array(Type.String()),
  category: NullableString,
  points_cost: Type.Integer({ description: 'The price in force now (per unit; a donation: its minimum).' }),
  cash_part: Type.Union([Type.Integer(), Type.Null()], { description: 'The cash part in force now, minor units, or null.' }),
  upcoming_prices: Type.Array(PriceChange, { description: 'Scheduled price changes not yet in effect, soonest first.' }),
  stock: Type.Union([Type.Integer(), Type.Null()]),
  stock_left: Type.Union([Type.Integer(), Type.Null()]),
  codes_left: Type.Union([Type.Integer(), Type.Null()], { description: 'Coupon rewards: codes in the pool not yet issued; null for other types.' }),
  limit: Type.Unsafe<RewardLimit | null>({ anyOf: [RewardLimit, { type: 'null' }] }),
  min_tier: NullableString,
  segment_id: NullableString,
  available_from: NullableTimestamp,
  available_until: NullableTimestamp,
  schedule: Type.Unsafe<RewardSchedule | null>({ anyOf: [RewardSchedule, { type: 'null' }] }),
  donation_project: NullableString,
  status: StringEnum(REWARD_STATUSES),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  created_at: Timestamp,
  updated_at: Timestamp,
  archived_at: NullableTimestamp,
});
export type Reward = Static<typeof Reward>;

export const RewardListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'A part of the name, in either language, case ignored.' })),
    status: Type.Optional(StringEnum(REWARD_STATUSES)),
    type: Type.Optional(StringEnum(REWARD_TYPES)),
    category: Type.Optional(Category),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type RewardListQuery = Static<typeof RewardListQuery>;

export const Shipping = Type.Object(
  {
    name: Type.Optional(Text(100)),
    phone: Type.Optional(Text(40)),
    address: Type.Optional(Text(500)),
    postal_code: Type.Optional(Text(20)),
  },
  { additionalProperties: false, description: 'Where a physical reward goes.' },
);

export const RedemptionCreate = Type.Object(
  {
    reward_id: Type.String({ pattern: '^rwd_[A-Za-z0-9_]{1,64}$' }),
    quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_QUANTITY, description: 'Units (default 1); a donation is one.' })),
    points: Type.Optional({ ...Points, description: "A donation's points (default and minimum: the reward's points_cost); only for donations." }),
    expected_points: Type.Optional({
      ...Points,
      description: 'The points the member was shown: if the price is another now, 409 PRICE_CHANGED and nothing is redeemed.',
    }),
    shipping: Type.Optional(Shipping),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type RedemptionCreate = Static<typeof RedemptionCreate>;

export const Redemption = Type.Object({
  id: Type.String({ examples: ['rdm_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
  object: Type.Literal('redemption'),
  program_id: Type.String(),
  member_id: Type.String(),
  reward_id: Type.String(),
  reward_type: StringEnum(REWARD_TYPES),
  reward_name: RewardName,
  quantity: Type.Integer(),
  points: Type.Integer({ description: 'Points it cost in all.' }),
  cash: Type.Union([Type.Integer(), Type.Null()], { description: 'Cash part in all, minor units, paid outside Jifen.' }),
  status: StringEnum(REDEMPTION_STATUSES),
  hold_id: { ...NullableString, description: 'The ledger hold that paid (null: a lottery prize, won at no points).' },
  capture_entry_id: NullableString,
  restore_txn_id: NullableString,
  prize_of_draw_id: { ...NullableString, description: 'The lottery draw this redemption was won in (a prize that issues this reward), or null.' },
  codes: Type.Array(Type.String(), { description: 'Coupon codes issued (one per unit).' }),
  shipping: Type.Unsafe<Static<typeof Shipping> | null>({ anyOf: [Shipping, { type: 'null' }] }),
  carrier: NullableString,
  tracking_number: NullableString,
  reason: NullableString,
  actor: Type.String(),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  created_at: Timestamp,
  updated_at: Timestamp,
  shipped_at: NullableTimestamp,
  delivered_at: NullableTimestamp,
  ended_at: NullableTimestamp,
  balance: Type.Optional(Balance),
  restored: Type.Optional(
    Type.Object(
      {
        points: Type.Integer({ description: 'Points given back.' }),
        expired: Type.Integer({ description: 'Of them, points whose original expiry had passed: they came back expired.' }),
        lots: Type.Array(Type.Object({ lot_id: Type.String(), from_lot_id: Type.String(), points: Type.Integer(), expires_at: NullableTimestamp }), {
          description: 'The new lots, each with the expiry of the lot its points were taken from.',
        }),
        entries: Type.Array(Entry),
      },
      { description: 'Cancel and reject: what came back.' },
    ),
  ),
  history: Type.Optional(
    Type.Array(
      Type.Object({
        id: Type.String(),
        type: StringEnum(REDEMPTION_HISTORY_TYPES),
        at: Timestamp,
        actor: Type.String(),
        payload: Type.Record(Type.String(), Type.Unknown()),
      }),
    ),
  ),
});
export type Redemption = Static<typeof Redemption>;
/** Who a member is, in an operator's lists (an operator ships to a person, not an id). */
export const MemberRef = Type.Object({ name: NullableString, external_id: Type.String() });
/** A redemption in the program's list of orders: with who redeemed it. */
export const RedemptionListItem = Type.Object({
  ...Redemption.properties,
  member: { ...MemberRef, description: 'The member who redeemed it.' },
});
export type RedemptionListItem = Static<typeof RedemptionListItem>;

export const RedemptionListQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(REDEMPTION_STATUSES)),
    reward_id: Type.Optional(Type.String({ pattern: '^rwd_[A-Za-z0-9_]{1,64}$' })),
    member_id: Type.Optional(Type.String({ pattern: '^mbr_[A-Za-z0-9_]{1,64}$' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type RedemptionListQuery = Static<typeof RedemptionListQuery>;
export const MemberRedemptionListQuery = Type.Object(
  { status: Type.Optional(StringEnum(REDEMPTION_STATUSES)), reward_id: RedemptionListQuery.properties.reward_id, ...PageQuery },
  { additionalProperties: false },
);
export type MemberRedemptionListQuery = Static<typeof MemberRedemptionListQuery>;

export const ShipInput = Type.Object(
  { carrier: Text(64), tracking_number: Text(100) },
  { additionalProperties: false, examples: [{ carrier: '顺丰速运', tracking_number: 'SF1234567890' }] },
);
export type ShipInput = Static<typeof ShipInput>;
export const EndInput = Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false });
export type EndInput = Static<typeof EndInput>;

export const CatalogueItem = Type.Object({
  object: Type.Literal('catalogue_item'),
  reward: Reward,
  state: StringEnum(CATALOGUE_STATES, {
    description:
      'can_redeem; needs_points (needs_points more); locked_tier (required_tier); locked_segment; limit_reached; sold_out; not_yet (starts_at); ended.',
  }),
  needs_points: Type.Integer({ description: 'Points the member lacks for one unit (0 when enough).' }),
  required_tier: NullableString,
  starts_at: Type.Union([Timestamp, Type.Null()], { description: 'not_yet: when it opens next (window start or the next sale hours).' }),
  used: Type.Integer({ description: "Units redeemed in the limit's current period (0 without a limit)." }),
});
export type CatalogueItem = Static<typeof CatalogueItem>;

export const Catalogue = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(CatalogueItem),
  has_more: Type.Boolean(),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
  available_points: Type.Integer(),
});
export type Catalogue = Static<typeof Catalogue>;

export const CatalogueQuery = Type.Object(
  { type: Type.Optional(StringEnum(REWARD_TYPES)), category: Type.Optional(Category), ...PageQuery },
  { additionalProperties: false },
);
export type CatalogueQuery = Static<typeof CatalogueQuery>;

export const WithinReach = Type.Object({
  object: Type.Literal('within_reach'),
  available_points: Type.Integer(),
  data: Type.Array(
    Type.Object({
      ...CatalogueItem.properties,
      affordability: Type.Number({ description: 'available points ÷ points_cost, at most 1.' }),
      affinity: Type.Number({ description: "Share of the member's recent order lines in the reward's category, 0 to 1." }),
      score: Type.Number({ description: 'affordability + affinity: the ranking, highest first.' }),
    }),
  ),
});
export type WithinReach = Static<typeof WithinReach>;

export const WithinReachQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10 })) }, { additionalProperties: false });

export const DonationTotals = Type.Object({
  object: Type.Literal('donation_totals'),
  program_id: Type.String(),
  projects: Type.Array(
    Type.Object({
      project: Type.String(),
      points: Type.Integer({ description: 'Points donated, less cancelled and rejected donations.' }),
      donations: Type.Integer(),
      donors: Type.Integer(),
    }),
  ),
});
export type DonationTotals = Static<typeof DonationTotals>;

export const TopRewardsQuery = Type.Object(
  {
    days: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 366,
        default: 90,
        description: 'The window, in calendar days of the program ending today (default 90), as the dashboard.',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 5 })),
  },
  { additionalProperties: false },
);
export type TopRewardsQuery = Static<typeof TopRewardsQuery>;

export const TopRewards = Type.Object({
  object: Type.Literal('top_rewards'),
  program_id: Type.String(),
  window: Type.Object({
    days: Type.Integer({ minimum: 1 }),
    from: Type.String({ format: 'date', description: 'First day of the window (program-local).' }),
    to: Type.String({ format: 'date', description: 'Last day of the window: today in the program.' }),
  }),
  data: Type.Array(
    Type.Object({
      reward_id: Type.String(),
      reward_type: StringEnum(REWARD_TYPES),
      name: RewardName,
      status: StringEnum(REWARD_STATUSES),
      redemptions: Type.Integer({ description: 'Redemptions (and lottery draws) made in the window, less those cancelled or rejected since.' }),
      quantity: Type.Integer({ description: 'Units of them.' }),
      points: Type.Integer({ description: 'Points they spent.' }),
      members: Type.Integer({ description: 'Distinct members who made them.' }),
    }),
    { description: 'Most redeemed first (by redemptions, then points, then reward id).' },
  ),
});
export type TopRewards = Static<typeof TopRewards>;
