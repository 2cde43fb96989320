import { type Static, Type } from 'typebox';
import { Metadata, NullableString, NullableTimestamp, PageQuery, Points, Reference, StringEnum, Timestamp } from '../../shared/schemas.ts';
import { Balance } from '../ledger/index.ts';

/** The largest amount of one order, minor units (10^12 fen: ten billion yuan). */
export const MAX_ORDER_AMOUNT = 1_000_000_000_000;
const Amount = (description: string) => Type.Integer({ minimum: 0, maximum: MAX_ORDER_AMOUNT, description });

export const CHECKOUT_STATUSES = ['held', 'captured', 'voided', 'expired', 'refunded'] as const;
export type CheckoutStatus = (typeof CHECKOUT_STATUSES)[number];
export const QUOTE_LIMITS = ['not_enabled', 'below_min_order', 'not_combinable', 'share_cap', 'per_order_cap', 'rounding', 'below_min_points'] as const;

const policyFields = {
  enabled: Type.Boolean({ description: 'Whether members may use points at checkout.' }),
  max_share_bps: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    description: 'The largest share of the payable amount points may pay, in basis points (5000 = 50%).',
  }),
  min_order_amount: Amount('Orders below this amount (minor units, before other discounts) cannot use points.'),
  min_points: Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991, description: 'Fewer points than this cannot be used on an order.' }),
  max_points_per_order: Type.Union([Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }), Type.Null()], {
    description: 'At most this many points on one order (null: no cap).',
  }),
  combinable_with_discounts: Type.Boolean({ description: "Whether points combine with the order's other discounts (coupons, promotions)." }),
  hold_timeout_seconds: Type.Union([Type.Integer({ minimum: 60, maximum: 2_592_000 }), Type.Null()], {
    description: "How long a deduction holds the points before they are released (null: the program's hold_timeout_seconds).",
  }),
};

export const CheckoutPolicyInput = Type.Object(
  {
    ...policyFields,
    max_points_per_order: Type.Optional(policyFields.max_points_per_order),
    hold_timeout_seconds: Type.Optional(policyFields.hold_timeout_seconds),
  },
  { additionalProperties: false },
);
export type CheckoutPolicyInput = Static<typeof CheckoutPolicyInput>;

export const CheckoutPolicyView = Type.Object({
  object: Type.Literal('checkout_policy'),
  program_id: Type.String(),
  points_per_yuan: Type.Integer({ description: "The program's redemption_rate: points worth one currency unit (100 = 1 point a fen)." }),
  ...policyFields,
  updated_at: NullableTimestamp,
  updated_by: NullableString,
});
export type CheckoutPolicyView = Static<typeof CheckoutPolicyView>;

const basket = {
  amount: Amount("The order's amount before other discounts, minor units."),
  other_discounts: Type.Optional(Amount("The order's other discounts (coupons, promotions), minor units; default 0.")),
};

export const QuoteInput = Type.Object(basket, { additionalProperties: false });
export type QuoteInput = Static<typeof QuoteInput>;

export const QuoteView = Type.Object({
  object: Type.Literal('checkout_quote'),
  member_id: Type.String(),
  enabled: Type.Boolean({ description: 'Whether the program lets members use points at checkout (off: max_points is 0, limited_by not_enabled).' }),
  available: Type.Integer({ description: "The member's spendable points now." }),
  max_points: Type.Integer({ description: 'The most points usable on this order.' }),
  cash_value: Type.Integer({ description: 'What max_points pay, minor units.' }),
  payable: Type.Integer({ description: 'The amount after other discounts, minor units.' }),
  remaining: Type.Integer({ description: 'What is left to pay with max_points used, minor units.' }),
  points_step: Type.Integer({ description: 'Points are used in multiples of this (each step worth value_step minor units exactly).' }),
  value_step: Type.Integer(),
  points_per_yuan: Type.Integer(),
  limited_by: Type.Array(StringEnum(QUOTE_LIMITS), { description: 'Each limit that keeps max_points under the balance, the tightest first.' }),
});
export type QuoteView = Static<typeof QuoteView>;

export const DeductionCreate = Type.Object(
  {
    order_reference: { ...Reference, description: 'Your order id: one order has at most one deduction held or captured at a time.' },
    ...basket,
    points: { ...Points, description: 'Points to hold: at most the quote, in multiples of its points_step, at least min_points.' },
    expires_in_seconds: Type.Optional(
      Type.Integer({ minimum: 60, maximum: 2_592_000, description: "Release the points if not captured within this (default: the policy's hold timeout)." }),
    ),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type DeductionCreate = Static<typeof DeductionCreate>;

export const CaptureInput = Type.Object(
  { points: Type.Optional({ ...Points, description: 'Points to capture (default all held): a partial capture releases the rest.' }) },
  { additionalProperties: false },
);
export type CaptureInput = Static<typeof CaptureInput>;

export const Deduction = Type.Object({
  id: Type.String({ examples: ['chk_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
  object: Type.Literal('checkout_deduction'),
  program_id: Type.String(),
  member_id: Type.String(),
  order_reference: Type.String(),
  amount: Type.Integer(),
  other_discounts: Type.Integer(),
  points: Type.Integer({ description: 'Points held.' }),
  value: Type.Integer({ description: 'What the held points pay, minor units.' }),
  captured_points: Type.Integer(),
  captured_value: Type.Integer({ description: 'What the captured points paid, minor units.' }),
  status: StringEnum(CHECKOUT_STATUSES),
  points_step: Type.Integer(),
  value_step: Type.Integer(),
  hold_id: Type.String(),
  expires_at: Timestamp,
  metadata: Type.Record(Type.String(), Type.Unknown()),
  created_at: Timestamp,
  resolved_at: NullableTimestamp,
  refunded_at: NullableTimestamp,
  refund_txn_id: NullableString,
  balance: Type.Optional(Balance),
});
export type Deduction = Static<typeof Deduction>;

export const DeductionListQuery = Type.Object(
  {
    order_reference: Type.Optional(Reference),
    member_id: Type.Optional(Type.String({ pattern: '^mbr_[A-Za-z0-9_]{1,64}$' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type DeductionListQuery = Static<typeof DeductionListQuery>;
