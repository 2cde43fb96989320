import { type Static, Type } from 'typebox';
import { NullableString, StringEnum, Timestamp } from '../../shared/schemas.ts';
import { ENTRY_KINDS } from '../ledger/index.ts';
import { MEMBER_STATUSES } from '../members/index.ts';
import { RewardName } from '../rewards/index.ts';

/** What a member sees of their own profile: no operator notes (status_reason), tags or attributes. */
export const MeProfile = Type.Object({
  object: Type.Literal('me'),
  id: Type.String(),
  program_id: Type.String(),
  external_id: Type.String(),
  name: NullableString,
  phone: NullableString,
  email: NullableString,
  birthday: NullableString,
  tier: NullableString,
  status: StringEnum(MEMBER_STATUSES),
  created_at: Timestamp,
  program: Type.Object({
    id: Type.String(),
    name: Type.String(),
    point_name: Type.String(),
    point_name_en: Type.String(),
    currency: Type.String(),
    time_zone: Type.String(),
    redemption_rate: Type.Integer({ description: 'Points worth one currency unit.' }),
  }),
});
export type MeProfile = Static<typeof MeProfile>;

export const ENTRY_ABOUT_TYPES = ['redemption', 'lottery_draw', 'lottery_prize', 'checkout'] as const;
export const EntryAbout = Type.Object({
  type: StringEnum(ENTRY_ABOUT_TYPES),
  reward_name: Type.Union([RewardName, Type.Null()], { description: 'The reward redeemed, or the lottery drawn.' }),
  reward_type: NullableString,
  prize_name: Type.Union([RewardName, Type.Null()], { description: 'The prize won (lottery_prize).' }),
  order_reference: { ...NullableString, description: 'The order paid partly with points (checkout).' },
});
export type EntryAbout = Static<typeof EntryAbout>;

/** An entry of the member's history as the member sees it: no accounts, actor, metadata or counterparty. */
export const MeEntry = Type.Object({
  id: Type.String(),
  object: Type.Literal('entry'),
  txn_id: Type.String({ description: 'Entries written by one operation share it.' }),
  kind: StringEnum(ENTRY_KINDS),
  amount: Type.Integer({ minimum: 1 }),
  delta: Type.Integer({ description: 'Change to the balance (negative when points leave it).' }),
  held_delta: Type.Integer({ description: 'Change to the held points.' }),
  lot_id: NullableString,
  hold_id: NullableString,
  reverses_entry_id: NullableString,
  event_id: NullableString,
  reason: Type.Union([Type.String(), Type.Null()], {
    description: 'Why, in words: for points earned from events, how they were computed (e.g. 150 = ¥100 × 1 pt/¥ × 1.5 (金卡)).',
  }),
  reference: NullableString,
  about: Type.Union([EntryAbout, Type.Null()], {
    description: 'What the entry was for, when Jifen knows: a redemption (its reward), a lottery draw or prize, an order paid at checkout.',
  }),
  occurred_at: Timestamp,
});
export type MeEntry = Static<typeof MeEntry>;

export const ExpiryForecast = Type.Object({
  object: Type.Literal('expiry_forecast'),
  member_id: Type.String(),
  time_zone: Type.String({ description: "Dates and months are in the program's time zone." }),
  total: Type.Integer({ description: 'Points that will expire (if not spent first), from every lot with an expiry.' }),
  next_expiry: Type.Union([Type.Object({ at: Timestamp, points: Type.Integer() }), Type.Null()]),
  by_month: Type.Array(Type.Object({ month: Type.String({ examples: ['2027-01'] }), points: Type.Integer() }), { description: 'Soonest first.' }),
  by_date: Type.Array(Type.Object({ date: Type.String({ format: 'date' }), points: Type.Integer() }), { description: 'Soonest first.' }),
  complete: Type.Boolean({ description: 'false only for a member with more than 10,000 open lots: the forecast then covers the 10,000 most recently earned.' }),
  as_of: Timestamp,
});
export type ExpiryForecast = Static<typeof ExpiryForecast>;
