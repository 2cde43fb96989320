import { type Static, Type } from 'typebox';
import { Nullable, NullableString, NullableTimestamp, PageQuery, Points, StringEnum, Timestamp } from '../../shared/schemas.ts';
import { Balance } from '../ledger/index.ts';
import { MemberRef, RewardName, Shipping } from '../rewards/index.ts';
import { MAX_WEIGHT } from './lottery.engine.ts';

export const SEED_STATUSES = ['active', 'revealed'] as const;
const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$', description: '64 lowercase hex characters.' });
const PrizeCode = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'A code unique in the lottery.', examples: ['grand'] });
const Weight = Type.Integer({ minimum: 1, maximum: MAX_WEIGHT, description: `Relative chance, 1 to ${MAX_WEIGHT}.` });
const Stock = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });
/** A client seed: what the member chooses to mix into their draws. */
export const ClientSeedValue = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[\\x21-\\x7e]+$',
  description: 'Printable ASCII without spaces, 1 to 64 characters.',
});

export const PrizeCreate = Type.Object(
  {
    code: PrizeCode,
    name: RewardName,
    weight: Weight,
    stock: Type.Optional(Nullable(Stock)),
    points: Type.Optional(Nullable({ ...Points, description: 'Points credited to the winner (null: a prize the operator hands over, or a "thank you").' })),
    prize_reward_id: Type.Optional(
      Nullable(
        Type.String({
          pattern: '^rwd_[A-Za-z0-9_]{1,64}$',
          description:
            'A reward of the program the prize issues (a coupon from its pool, goods to ship, a service or an experience; draft or active): the winner gets a redemption of it at no points, taking its stock or a code. A prize is drawn only while that reward has stock (and codes). Null: none.',
        }),
      ),
    ),
  },
  { additionalProperties: false, examples: [{ code: 'p100', name: { 'zh-CN': '100积分', en: '100 points' }, weight: 30, stock: null, points: 100 }] },
);
export type PrizeCreate = Static<typeof PrizeCreate>;
export const PrizeUpdate = Type.Object(
  {
    name: Type.Optional(RewardName),
    weight: Type.Optional(Weight),
    stock: Type.Optional(Nullable(Stock)),
    points: PrizeCreate.properties.points,
    prize_reward_id: PrizeCreate.properties.prize_reward_id,
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PrizeUpdate = Static<typeof PrizeUpdate>;

export const Prize = Type.Object({
  id: Type.String({ examples: ['lpz_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
  object: Type.Literal('lottery_prize'),
  reward_id: Type.String(),
  program_id: Type.String(),
  code: Type.String(),
  name: RewardName,
  weight: Type.Integer(),
  stock: Type.Union([Type.Integer(), Type.Null()], { description: 'Units on sale in all (null: unlimited).' }),
  stock_left: Type.Union([Type.Integer(), Type.Null()], { description: 'Left; a prize at 0 is left out of the draws.' }),
  points: Type.Union([Type.Integer(), Type.Null()]),
  prize_reward_id: { ...NullableString, description: 'The reward the prize issues (null: none).' },
  created_at: Timestamp,
  updated_at: Timestamp,
  archived_at: NullableTimestamp,
});
export type Prize = Static<typeof Prize>;

export const Seed = Type.Object({
  id: Type.String({ examples: ['lsd_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
  object: Type.Literal('lottery_seed'),
  reward_id: Type.String(),
  program_id: Type.String(),
  seed_hash: { ...Hex64, description: 'SHA-256 (hex) of the seed text, published before any draw under it.' },
  seed: { ...NullableString, description: 'The seed, once revealed (null while active).' },
  status: StringEnum(SEED_STATUSES),
  created_at: Timestamp,
  revealed_at: NullableTimestamp,
  draws: Type.Integer(),
});
export type Seed = Static<typeof Seed>;
export const SeedRotation = Type.Object({
  object: Type.Literal('lottery_seed_rotation'),
  revealed: Type.Union([Seed, Type.Null()], { description: 'The seed revealed (null for the first seed).' }),
  active: Seed,
});
export type SeedRotation = Static<typeof SeedRotation>;

export const DrawWeight = Type.Object({ prize_id: Type.String(), code: Type.String(), weight: Type.Integer() });
export type DrawWeight = Static<typeof DrawWeight>;
export const Draw = Type.Object({
  id: Type.String({ examples: ['ldr_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
  object: Type.Literal('lottery_draw'),
  program_id: Type.String(),
  reward_id: Type.String(),
  redemption_id: Type.String({ description: 'The redemption that paid for the draw (delivered at once).' }),
  member_id: Type.String(),
  seed_id: Type.String(),
  seed_hash: Hex64,
  seed_status: StringEnum(SEED_STATUSES),
  client_seed: Type.String(),
  nonce: Type.Integer({ description: "The member's n-th draw under this seed, from 0." }),
  weights: Type.Array(DrawWeight, { description: 'The prizes in stock at the draw, in the order the draw used.' }),
  prize: Type.Object({
    id: Type.String(),
    code: Type.String(),
    name: RewardName,
    points: Type.Union([Type.Integer(), Type.Null()]),
    reward_id: { ...NullableString, description: 'The reward the prize issued (null: none).' },
  }),
  prize_redemption_id: { ...NullableString, description: "The winner's redemption of the reward the prize issued (its code, its order to ship), or null." },
  points_cost: Type.Integer(),
  hmac: { ...Hex64, description: 'HMAC-SHA256(seed, client_seed:nonce), hex.' },
  at: Timestamp,
  verify_path: Type.String({ description: 'The public verification of this draw (no authentication).' }),
  balance: Type.Optional(Balance),
});
export type Draw = Static<typeof Draw>;
/** A draw in a lottery's list: with who drew (the member's own list does not repeat it). */
export const DrawListItem = Type.Object({
  ...Draw.properties,
  member: { ...MemberRef, description: 'The member who drew.' },
});
export type DrawListItem = Static<typeof DrawListItem>;

export const DrawCreate = Type.Object(
  {
    reward_id: Type.String({ pattern: '^rwd_[A-Za-z0-9_]{1,64}$' }),
    expected_points: Type.Optional({ ...Points, description: 'The price the member was shown: another now is 409 PRICE_CHANGED.' }),
    shipping: Type.Optional({ ...Shipping, description: 'Where to ship goods the prize may issue (kept on the prize redemption).' }),
  },
  { additionalProperties: false },
);
export type DrawCreate = Static<typeof DrawCreate>;

export const ClientSeed = Type.Object({
  object: Type.Literal('lottery_client_seed'),
  client_seed: Type.String(),
  updated_at: NullableTimestamp,
});
export type ClientSeed = Static<typeof ClientSeed>;
export const ClientSeedInput = Type.Object({ client_seed: ClientSeedValue }, { additionalProperties: false });
export type ClientSeedInput = Static<typeof ClientSeedInput>;

export const Verification = Type.Object({
  object: Type.Literal('lottery_verification'),
  draw_id: Type.String(),
  reward_id: Type.String(),
  seed_id: Type.String(),
  seed_hash: Hex64,
  seed: { ...NullableString, description: 'The seed once revealed (rotation); null before: the draw cannot be recomputed yet.' },
  seed_status: StringEnum(SEED_STATUSES),
  client_seed: Type.String(),
  nonce: Type.Integer(),
  weights: Type.Array(DrawWeight),
  recorded: Type.Object({ prize_code: Type.String(), hmac: Hex64 }),
  hash_matches: Type.Union([Type.Boolean(), Type.Null()], { description: 'SHA-256(seed) equals the published hash (null: not revealed).' }),
  recomputed: Type.Union([
    Type.Object({ prize_code: Type.String(), index: Type.Integer(), value: Type.Integer(), total: Type.Integer(), hmac: Hex64 }),
    Type.Null(),
  ]),
  matches: Type.Union([Type.Boolean(), Type.Null()], { description: 'The hash, the HMAC and the prize all match (null: not revealed yet).' }),
  message: Type.Object({ 'zh-CN': Type.String(), en: Type.String() }),
});
export type Verification = Static<typeof Verification>;

export const DrawListQuery = Type.Object(
  { seed_id: Type.Optional(Type.String({ pattern: '^lsd_[A-Za-z0-9_]{1,64}$' })), ...PageQuery },
  { additionalProperties: false },
);
export type DrawListQuery = Static<typeof DrawListQuery>;
export const SeedListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export type SeedListQuery = Static<typeof SeedListQuery>;

/** What a member sees of a lottery's prize table: every prize not archived, its chance now, what it gives. */
export const MemberPrize = Type.Object({
  code: Type.String(),
  name: RewardName,
  points: Type.Union([Type.Integer(), Type.Null()], { description: 'Points the prize credits (null: none).' }),
  weight: Type.Integer(),
  in_stock: Type.Boolean({ description: 'Whether it can be drawn now (a prize out of stock is left out of the draws).' }),
  chance: Type.Number({ description: "weight ÷ the total weight of the prizes in stock now (0 when out of stock): the draw's odds." }),
  issues: Type.Union([Type.Object({ reward_id: Type.String(), type: Type.String(), name: RewardName, needs_shipping: Type.Boolean() }), Type.Null()], {
    description: 'The reward the prize issues (goods need a shipping address with the draw), or null.',
  }),
});
export const MemberLotteryPrizes = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      reward_id: Type.String({ description: "The lottery (an active lottery reward of the member's program)." }),
      total_weight: Type.Integer({ description: 'Of the prizes in stock now.' }),
      prizes: Type.Array(MemberPrize, { description: 'In the order draws use.' }),
    }),
  ),
});
export type MemberLotteryPrizes = Static<typeof MemberLotteryPrizes>;
export const MemberLotteryPrizesQuery = Type.Object(
  { reward_id: Type.Optional(Type.String({ pattern: '^rwd_[A-Za-z0-9_]{1,64}$', description: 'Only this lottery.' })) },
  { additionalProperties: false },
);
export type MemberLotteryPrizesQuery = Static<typeof MemberLotteryPrizesQuery>;
