import { type Static, Type } from 'typebox';
import {
  Metadata,
  NullableString,
  NullableTimestamp,
  PageQuery,
  Points,
  Reason,
  Reference,
  SignedPoints,
  StringEnum,
  Timestamp,
} from '../../shared/schemas.ts';

export const ENTRY_KINDS = [
  'earn',
  'spend',
  'hold',
  'capture',
  'release',
  'expire',
  'reverse',
  'adjust',
  'transfer_out',
  'transfer_in',
  'forfeit',
  'write_off',
] as const;
export const ACCOUNTS = ['member', 'member_held', 'issued', 'redeemed', 'expired', 'reversed', 'adjusted', 'written_off', 'forfeited', 'transfer'] as const;

export const Entry = Type.Object({
  id: Type.String(),
  object: Type.Literal('entry'),
  program_id: Type.String(),
  member_id: Type.String(),
  txn_id: Type.String({ description: 'Entries written by one operation share it.' }),
  kind: StringEnum(ENTRY_KINDS),
  amount: Type.Integer({ minimum: 1, description: 'Points moved from debit_account to credit_account.' }),
  delta: Type.Integer({ description: "Change to the member's balance (negative when points leave it)." }),
  held_delta: Type.Integer({ description: "Change to the member's held points." }),
  debit_account: StringEnum(ACCOUNTS),
  credit_account: StringEnum(ACCOUNTS),
  lot_id: NullableString,
  hold_id: NullableString,
  reverses_entry_id: NullableString,
  counterparty_member_id: NullableString,
  event_id: Type.Union([Type.String(), Type.Null()], { description: 'The event (evt_…) whose rules produced this entry.' }),
  reason: NullableString,
  reason_code: NullableString,
  reference: NullableString,
  actor: NullableString,
  metadata: Metadata,
  occurred_at: Timestamp,
});

export const LOT_STATES = ['pending', 'available', 'expired', 'consumed'] as const;
export const Lot = Type.Object({
  id: Type.String(),
  object: Type.Literal('lot'),
  member_id: Type.String(),
  entry_id: Type.String(),
  amount: Type.Integer(),
  remaining: Type.Integer({ description: 'Points of this lot the member still has (not held).' }),
  held: Type.Integer(),
  spent: Type.Integer(),
  expired: Type.Integer(),
  reversed: Type.Integer(),
  earned_at: Timestamp,
  available_at: Timestamp,
  expires_at: NullableTimestamp,
  expiry_cap: NullableTimestamp,
  state: StringEnum(LOT_STATES),
});

export const HOLD_STATUSES = ['open', 'captured', 'voided', 'expired'] as const;
export const Hold = Type.Object({
  id: Type.String(),
  object: Type.Literal('hold'),
  program_id: Type.String(),
  member_id: Type.String(),
  amount: Type.Integer(),
  captured: Type.Integer(),
  status: StringEnum(HOLD_STATUSES),
  reference: NullableString,
  description: NullableString,
  metadata: Metadata,
  created_at: Timestamp,
  expires_at: Timestamp,
  resolved_at: NullableTimestamp,
});

export const Balance = Type.Object({
  object: Type.Literal('balance'),
  member_id: Type.String(),
  available: Type.Integer({ description: 'Spendable now. Negative only when the member owes points (allow_negative).' }),
  pending: Type.Integer({ description: 'Earned, not yet available (pending period).' }),
  held: Type.Integer({ description: 'Reserved by open holds.' }),
  debt: Type.Integer({ description: 'Points owed after refunds of already-spent points.' }),
  lifetime_earned: Type.Integer({ description: 'Points earned, net of reversals.' }),
  lifetime_spent: Type.Integer(),
  lifetime_expired: Type.Integer(),
  next_expiry: Type.Union([Type.Object({ at: Timestamp, points: Type.Integer() }), Type.Null()]),
  expiring: Type.Object(
    { days_30: Type.Integer(), days_60: Type.Integer(), days_90: Type.Integer() },
    { description: 'Points that expire within 30, 60 and 90 days.' },
  ),
  last_activity_at: NullableTimestamp,
  as_of: Timestamp,
});

const movement = {
  reason: Type.Optional(Reason),
  reference: Type.Optional(Reference),
  metadata: Type.Optional(Metadata),
};

export const CreditRequest = Type.Object(
  {
    points: Points,
    ...movement,
    pending_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650, description: "Overrides the program's pending period." })),
    available_at: Type.Optional(Type.String({ format: 'date-time', description: 'When the points become available; overrides pending_days.' })),
    expires_at: Type.Optional(
      Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time', description: 'Overrides the expiry policy; null never expires.' }),
    ),
  },
  { additionalProperties: false },
);
export type CreditRequest = Static<typeof CreditRequest>;

export const DebitRequest = Type.Object({ points: Points, ...movement }, { additionalProperties: false });
export type DebitRequest = Static<typeof DebitRequest>;

export const HoldRequest = Type.Object(
  {
    points: Points,
    ...movement,
    expires_in_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_592_000, description: "Defaults to the program's hold_timeout_seconds." })),
  },
  { additionalProperties: false },
);
export type HoldRequest = Static<typeof HoldRequest>;

export const CaptureRequest = Type.Object(
  { points: Type.Optional(Points), reason: Type.Optional(Reason), metadata: Type.Optional(Metadata) },
  { additionalProperties: false, description: 'Omit points to capture the whole hold; the rest of a partial capture is released.' },
);
export const VoidRequest = Type.Object({ reason: Type.Optional(Reason), metadata: Type.Optional(Metadata) }, { additionalProperties: false });

export const ReverseRequest = Type.Object(
  { points: Type.Optional(Points), ...movement },
  { additionalProperties: false, description: 'Omit points to reverse all that is left of the credit.' },
);
export type ReverseRequest = Static<typeof ReverseRequest>;

export const AdjustRequest = Type.Object(
  {
    points: SignedPoints,
    reason_code: Type.String({
      pattern: '^[a-z][a-z0-9_]{1,63}$',
      description: 'Your category, e.g. goodwill, correction, migration.',
      examples: ['goodwill'],
    }),
    reason: Type.Optional(Reason),
    reference: Type.Optional(Reference),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The person who made the adjustment.', examples: ['ops:li.wei'] })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type AdjustRequest = Static<typeof AdjustRequest>;

export const TransferRequest = Type.Object(
  {
    from_member_id: Type.String({ pattern: '^mbr_[A-Za-z0-9_]{1,64}$' }),
    to_member_id: Type.String({ pattern: '^mbr_[A-Za-z0-9_]{1,64}$' }),
    points: Points,
    ...movement,
  },
  { additionalProperties: false },
);
export type TransferRequest = Static<typeof TransferRequest>;

export const ActivityRequest = Type.Object(
  { type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, examples: ['app.opened'] })) },
  { additionalProperties: false },
);

export const CreditResult = Type.Object({ entry: Entry, lot: Lot, balance: Balance });
export const DebitResult = Type.Object({ entry: Entry, balance: Balance });
export const HoldResult = Type.Object({ hold: Hold, entry: Entry, balance: Balance });
export const HoldResolveResult = Type.Object({ hold: Hold, entries: Type.Array(Entry), balance: Balance });
export const ReverseResult = Type.Object({
  reversal: Type.Object({
    entry_id: Type.String({ description: 'The credit that was reversed.' }),
    requested: Type.Integer(),
    from_lot: Type.Integer({ description: 'Taken back from what was left of the credit.' }),
    from_expired: Type.Integer({ description: 'Part of the credit that had expired: re-labelled, the member loses nothing twice.' }),
    from_balance: Type.Integer({ description: "Already spent, taken from the member's other points (write_off policy)." }),
    to_debt: Type.Integer({ description: 'Already spent, recorded as debt (allow_negative policy).' }),
    on_hold: Type.Integer({ description: 'Held by an open hold (write_off policy): taken back when the hold releases them, written off if it captures them.' }),
    written_off: Type.Integer({ description: 'Already spent and not recoverable (write_off policy).' }),
  }),
  entries: Type.Array(Entry),
  balance: Balance,
});
export const AdjustResult = Type.Object({ entry: Entry, lot: Type.Union([Lot, Type.Null()]), balance: Balance });
export const TransferResult = Type.Object({
  object: Type.Literal('transfer'),
  id: Type.String(),
  from_member_id: Type.String(),
  to_member_id: Type.String(),
  points: Type.Integer(),
  entries: Type.Array(Entry),
  from_balance: Balance,
  to_balance: Balance,
});

export const EntryListQuery = Type.Object({ kind: Type.Optional(StringEnum(ENTRY_KINDS)), ...PageQuery }, { additionalProperties: false });
export type EntryListQuery = Static<typeof EntryListQuery>;

export const LotListQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(['open', 'all'] as const, { default: 'open', description: 'open: lots with points left (including pending and held).' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type LotListQuery = Static<typeof LotListQuery>;

export const HoldListQuery = Type.Object({ status: Type.Optional(StringEnum(HOLD_STATUSES)), ...PageQuery }, { additionalProperties: false });
export type HoldListQuery = Static<typeof HoldListQuery>;

export const SweepResult = Type.Object({
  holds_released: Type.Integer(),
  lots_expired: Type.Integer(),
  idempotency_keys_purged: Type.Integer(),
  as_of: Timestamp,
});
