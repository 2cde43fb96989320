-- checkout module (docs/rewards.md, "Checkout deduction"): points used as cash on an order at
-- checkout (结算直接抵扣). The rate is the program's redemption_rate (points per yuan); the policy
-- holds the rest. A deduction is a ledger hold with the order it pays for: its state is the
-- hold's (open → held, captured, voided, expired by the hold timeout job), and refunded_at once a
-- captured deduction's points were given back.

-- One row per program that has set its policy; none means checkout deduction is off.
--   max_share_bps          the largest share of the payable amount points may pay (10000 = all)
--   min_order_amount       baskets below this (minor units, before other discounts) cannot use points
--   min_points             fewer points cannot be used
--   max_points_per_order   at most this many points on one order (null: no cap)
--   combinable_with_discounts  whether points combine with the basket's other discounts
--   hold_timeout_seconds   how long a deduction holds the points before the timeout releases them
--                          (null: the program's hold_timeout_seconds)
CREATE TABLE checkout_policy (
  program_id                text COLLATE "C" PRIMARY KEY REFERENCES program (id),
  enabled                   boolean NOT NULL,
  max_share_bps             integer NOT NULL CHECK (max_share_bps BETWEEN 0 AND 10000),
  min_order_amount          bigint NOT NULL CHECK (min_order_amount BETWEEN 0 AND 1000000000000),
  min_points                bigint NOT NULL CHECK (min_points BETWEEN 0 AND 9007199254740991),
  max_points_per_order      bigint CHECK (max_points_per_order BETWEEN 1 AND 9007199254740991),
  combinable_with_discounts boolean NOT NULL,
  hold_timeout_seconds      integer CHECK (hold_timeout_seconds BETWEEN 60 AND 2592000),
  updated_at                timestamptz NOT NULL,
  updated_by                text NOT NULL
);

-- A deduction: the points held (then captured) for one order of the merchant's. The rate's step
-- is kept as it was when the points were held (points_step points are worth value_step fen), so a
-- later change of the program's rate never changes what a held or captured deduction is worth.
-- One order has at most one deduction held or captured at a time (checked under the member's lock
-- and an advisory lock on the order); a voided or expired one leaves room for another.
CREATE TABLE checkout_deduction (
  id               text COLLATE "C" PRIMARY KEY,
  program_id       text COLLATE "C" NOT NULL REFERENCES program (id),
  member_id        text COLLATE "C" NOT NULL REFERENCES member (id),
  hold_id          text COLLATE "C" NOT NULL UNIQUE REFERENCES hold (id),
  order_reference  text NOT NULL,
  amount           bigint NOT NULL,
  other_discounts  bigint NOT NULL,
  points           bigint NOT NULL CHECK (points > 0),
  points_step      bigint NOT NULL CHECK (points_step > 0),
  value_step       bigint NOT NULL CHECK (value_step > 0),
  metadata         jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL,
  refunded_at      timestamptz,
  refund_txn_id    text COLLATE "C"
);
CREATE INDEX checkout_deduction_order_idx ON checkout_deduction (program_id, order_reference);
CREATE INDEX checkout_deduction_member_idx ON checkout_deduction (member_id, created_at DESC);
CREATE INDEX checkout_deduction_program_idx ON checkout_deduction (program_id, created_at DESC, id DESC);
