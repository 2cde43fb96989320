-- rewards module (docs/rewards.md): a program's catalogue of rewards, scheduled price changes,
-- redemptions with their history, and pools of unique codes for coupon rewards.

-- A reward of the catalogue. Its price is points_cost (and cash_part, minor units, for points+cash)
-- until a reward_price_change takes effect. stock is what the operator put on sale (null: unlimited)
-- and stock_left what is left of it: one row per reward, decremented last in a redemption's
-- transaction (UPDATE … WHERE stock_left >= quantity), so a hot reward locks its own row only, for
-- the end of its redemptions' transactions, and never the program or other rewards.
--   type             physical | coupon (a code from reward_code) | service | experience |
--                    donation (any points from points_cost up, for donation_project) | lottery
--   limit_per_member at most this many (quantity) per member and limit_period, counted over
--                    redemptions not cancelled, rejected or failed, periods in the program's time zone
--   min_tier         a tier code of the program's ladder: members at that rank or above
--   segment_id       members of that segment only
--   available_from/until  the window [from, until)
--   schedule_days/from/until  flash sales: ISO weekdays (1 = Monday) and local times [from, until)
CREATE TABLE reward (
  id                text COLLATE "C" PRIMARY KEY,
  program_id        text COLLATE "C" NOT NULL REFERENCES program (id),
  type              text NOT NULL CHECK (type IN ('physical', 'coupon', 'service', 'experience', 'donation', 'lottery')),
  -- {"zh-CN": "…", "en": "…"}
  name              jsonb NOT NULL,
  description       jsonb NOT NULL DEFAULT '{}',
  image_urls        text[] NOT NULL DEFAULT '{}',
  category          text,
  points_cost       bigint NOT NULL,
  cash_part         bigint,
  stock             bigint,
  stock_left        bigint,
  limit_per_member  integer,
  limit_period      text CHECK (limit_period IN ('day', 'week', 'month', 'year', 'ever')),
  min_tier          text,
  segment_id        text COLLATE "C" REFERENCES segment (id),
  available_from    timestamptz,
  available_until   timestamptz,
  schedule_days     smallint[],
  schedule_from     time,
  schedule_until    time,
  donation_project  text,
  status            text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
  metadata          jsonb NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  archived_at       timestamptz,
  CONSTRAINT reward_points_cost_points_bound CHECK (points_cost BETWEEN 1 AND 1000000000000),
  CONSTRAINT reward_cash_part_check CHECK (cash_part IS NULL OR cash_part BETWEEN 1 AND 1000000000000),
  CONSTRAINT reward_stock_check CHECK ((stock IS NULL) = (stock_left IS NULL) AND stock_left >= 0 AND stock >= 0),
  CONSTRAINT reward_limit_check CHECK ((limit_per_member IS NULL) = (limit_period IS NULL) AND limit_per_member >= 1),
  CONSTRAINT reward_window_check CHECK (available_until > available_from),
  CONSTRAINT reward_schedule_check CHECK ((schedule_days IS NULL) = (schedule_from IS NULL)
                                          AND (schedule_from IS NULL) = (schedule_until IS NULL)
                                          AND schedule_until > schedule_from),
  CONSTRAINT reward_archived_check CHECK ((status = 'archived') = (archived_at IS NOT NULL))
);
CREATE INDEX reward_program_idx ON reward (program_id, created_at DESC, id DESC);

-- A scheduled price: from effective_at the reward costs points_cost (and cash_part), announced to
-- members from announce_at. The price at an instant is that of the latest change in effect, else
-- the reward's own.
CREATE TABLE reward_price_change (
  id            text COLLATE "C" PRIMARY KEY,
  reward_id     text COLLATE "C" NOT NULL REFERENCES reward (id),
  program_id    text COLLATE "C" NOT NULL,
  points_cost   bigint NOT NULL,
  cash_part     bigint,
  announce_at   timestamptz NOT NULL,
  effective_at  timestamptz NOT NULL,
  created_at    timestamptz NOT NULL,
  created_by    text NOT NULL,
  CONSTRAINT reward_price_change_points_cost_points_bound CHECK (points_cost BETWEEN 1 AND 1000000000000),
  CONSTRAINT reward_price_change_cash_part_check CHECK (cash_part IS NULL OR cash_part BETWEEN 1 AND 1000000000000),
  CHECK (announce_at <= effective_at),
  UNIQUE (reward_id, effective_at)
);

-- One redemption of a reward by a member: the points it cost (captured from a hold), the cash
-- part, its codes (coupons), the shipping of a physical reward, its status:
--   confirmed → shipped → delivered (physical); confirmed → delivered (service, experience);
--   confirmed → cancelled | rejected (points restored as new lots with their original expiry,
--   stock restored, exactly once); shipped → rejected; fulfilment_failed (restored the same way).
CREATE TABLE redemption (
  id               text COLLATE "C" PRIMARY KEY,
  program_id       text COLLATE "C" NOT NULL,
  member_id        text COLLATE "C" NOT NULL REFERENCES member (id),
  reward_id        text COLLATE "C" NOT NULL REFERENCES reward (id),
  reward_type      text NOT NULL,
  quantity         integer NOT NULL CHECK (quantity >= 1),
  points           bigint NOT NULL CHECK (points >= 1),
  cash             bigint,
  status           text NOT NULL CHECK (status IN ('confirmed', 'shipped', 'delivered', 'cancelled', 'rejected', 'fulfilment_failed')),
  hold_id          text COLLATE "C" NOT NULL,
  capture_entry_id text COLLATE "C" NOT NULL,
  -- the txn of the entries that gave the points back (cancel, reject, failure)
  restore_txn_id   text COLLATE "C",
  codes            text[] NOT NULL DEFAULT '{}',
  shipping         jsonb,
  carrier          text,
  tracking_number  text,
  reason           text,
  actor            text NOT NULL,
  metadata         jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  shipped_at       timestamptz,
  delivered_at     timestamptz,
  ended_at         timestamptz
);
-- the per-member limit counts a member's redemptions of one reward since the period's start
CREATE INDEX redemption_member_reward_idx ON redemption (member_id, reward_id, created_at);
CREATE INDEX redemption_member_idx ON redemption (member_id, created_at DESC, id DESC);
CREATE INDEX redemption_program_idx ON redemption (program_id, created_at DESC, id DESC);
CREATE INDEX redemption_reward_idx ON redemption (reward_id, created_at DESC, id DESC);

-- Every step of a redemption, append-only, with what a published event needs (type, member, time,
-- payload). No foreign keys, like tier_history: written only by the rewards module for
-- redemptions it holds locked.
CREATE TABLE redemption_history (
  id             text COLLATE "C" PRIMARY KEY,
  program_id     text COLLATE "C" NOT NULL,
  redemption_id  text COLLATE "C" NOT NULL,
  member_id      text COLLATE "C" NOT NULL,
  reward_id      text COLLATE "C" NOT NULL,
  type           text NOT NULL CHECK (type IN ('redemption.confirmed', 'redemption.shipped', 'redemption.delivered',
                                               'redemption.cancelled', 'redemption.rejected', 'redemption.fulfilment_failed')),
  at             timestamptz NOT NULL,
  actor          text NOT NULL,
  payload        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX redemption_history_redemption_idx ON redemption_history (redemption_id, at, id);
CREATE INDEX redemption_history_program_idx ON redemption_history (program_id, at DESC, id DESC);

-- The pool of unique codes of a coupon reward. A code is issued at most once: to one redemption
-- (redemption_id, issued_at), taken FOR UPDATE SKIP LOCKED so concurrent redemptions never wait
-- on each other's codes; a cancelled redemption's codes stay issued to it (they may have been
-- shown). `batch` names the import or generation that added the code.
CREATE TABLE reward_code (
  reward_id      text COLLATE "C" NOT NULL REFERENCES reward (id),
  code           text COLLATE "C" NOT NULL,
  program_id     text COLLATE "C" NOT NULL,
  batch          text,
  redemption_id  text COLLATE "C" REFERENCES redemption (id) DEFERRABLE INITIALLY DEFERRED,
  issued_at      timestamptz,
  created_at     timestamptz NOT NULL,
  PRIMARY KEY (reward_id, code),
  CHECK ((redemption_id IS NULL) = (issued_at IS NULL))
);
CREATE INDEX reward_code_free_idx ON reward_code (reward_id, created_at, code) WHERE redemption_id IS NULL;
CREATE INDEX reward_code_redemption_idx ON reward_code (redemption_id) WHERE redemption_id IS NOT NULL;
