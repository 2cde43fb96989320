-- tiers module (docs/tiers.md): a program's ladder, each member's tier status, what counts toward
-- qualification, the history of every change, and the benefits granted exactly once.

-- One ladder per program: how members qualify (one metric over a window), how long a status lasts,
-- how a member keeps or loses it at review, and the tiers themselves, lowest first (the first one
-- is the base tier, entry 0, where every member starts). Edited as a whole (PUT); `revision`
-- counts the edits.
--   metric              spend (minor units of order.paid, less refunds), points (earned by
--                       qualifying rules: 成长值, never the spendable balance), orders (order.paid count)
--   qualifying_window   {type: calendar_year} | {type: rolling_months, months} | {type: membership_year}
--   validity            {type: months, months} | {type: period_and_next} | {type: until_date, month, day, years}
--   downgrade_policy    one_step | requalify | never
--   tiers               [{code, name: {zh-CN, en}, entry, retention, multiplier, birthday_points,
--                         welcome_points, grants: [{key, every, points | coupon_prefix, name}], perks: [{zh-CN, en}]}]
CREATE TABLE tier_ladder (
  program_id          text COLLATE "C" PRIMARY KEY REFERENCES program (id),
  metric              text NOT NULL CHECK (metric IN ('spend', 'points', 'orders')),
  qualifying_window   jsonb NOT NULL,
  validity            jsonb NOT NULL,
  downgrade_policy    text NOT NULL CHECK (downgrade_policy IN ('one_step', 'requalify', 'never')),
  grace_days          integer NOT NULL DEFAULT 0 CHECK (grace_days BETWEEN 0 AND 366),
  -- whether the event that crosses a threshold earns at the old tier's rate or the new one's
  upgrade_event_rate  text NOT NULL DEFAULT 'old' CHECK (upgrade_event_rate IN ('old', 'new')),
  tiers               jsonb NOT NULL,
  revision            integer NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL
);

-- A member's tier status in a program with a ladder. No row: the base tier, never reviewed (a
-- member gets a row when something happens to its tier). `tier` is what the metric earned;
-- an operator's override is a floor on top of it until override_until. member.tier holds the
-- effective tier (the higher of the two), for the rule engine and the member's profile.
CREATE TABLE member_tier (
  member_id        text COLLATE "C" PRIMARY KEY REFERENCES member (id),
  program_id       text COLLATE "C" NOT NULL REFERENCES program (id),
  tier             text NOT NULL,
  -- when the member reached `tier` (an upgrade or a downgrade; a renewal keeps it)
  since            timestamptz NOT NULL,
  -- the status lasts until this instant (exclusive); null for the base tier
  valid_until      timestamptz,
  -- valid_until + the ladder's grace days: when the review looks at the member
  review_at        timestamptz,
  -- the review a tier.at_risk warning was recorded for (once per review)
  at_risk_for      timestamptz,
  override_tier    text,
  override_until   timestamptz,
  override_reason  text,
  override_by      text,
  updated_at       timestamptz NOT NULL,
  CHECK ((override_tier IS NULL) = (override_until IS NULL))
);
CREATE INDEX member_tier_review_idx ON member_tier (review_at, member_id) WHERE review_at IS NOT NULL;
CREATE INDEX member_tier_override_idx ON member_tier (override_until, member_id) WHERE override_until IS NOT NULL;

-- What counts toward qualification, per member and program-local day: the day of the order (a
-- refund takes its amount off the day of the order it refunds, so a window's figure is net of
-- the refunds of its orders). Written by events_commit for programs with a ladder; a new ladder
-- backfills it from the events.
CREATE TABLE tier_activity (
  member_id  text COLLATE "C" NOT NULL REFERENCES member (id),
  day        date NOT NULL,
  spend      bigint NOT NULL DEFAULT 0,
  points     bigint NOT NULL DEFAULT 0,
  orders     integer NOT NULL DEFAULT 0,
  PRIMARY KEY (member_id, day)
);

-- Every change of a member's tier status, append-only, holding what a published event needs:
-- tier.upgraded, tier.downgraded, tier.renewed (kept at review), tier.at_risk (review within 30
-- days and below retention: payload says what is needed), tier.override_set, tier.override_ended.
-- No foreign keys: rows are written only by the tiers module's functions, for members they hold
-- locked (members are never deleted), and the review writes one per member reviewed — a key check
-- per row would be two more lookups each.
CREATE TABLE tier_history (
  id          text COLLATE "C" PRIMARY KEY,
  program_id  text COLLATE "C" NOT NULL,
  member_id   text COLLATE "C" NOT NULL,
  type        text NOT NULL CHECK (type IN ('tier.upgraded', 'tier.downgraded', 'tier.renewed', 'tier.at_risk',
                                             'tier.override_set', 'tier.override_ended')),
  at          timestamptz NOT NULL,
  from_tier   text,
  to_tier     text,
  reason      text NOT NULL,
  actor       text NOT NULL,
  payload     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX tier_history_member_idx ON tier_history (member_id, at DESC, id DESC);
CREATE INDEX tier_history_program_idx ON tier_history (program_id, at DESC, id DESC);

-- Benefits granted, at most once per member, key and period: welcome points (key welcome:<tier>,
-- once per member and tier ever), birthday points (key birthday, once a year), periodic grants
-- (key grant:<tier>:<grant key>, once per month, quarter or year). The primary key is what makes
-- a rerun or a second instance grant nothing twice.
CREATE TABLE tier_grant (
  member_id    text COLLATE "C" NOT NULL REFERENCES member (id),
  grant_key    text NOT NULL,
  period_start date NOT NULL,
  program_id   text COLLATE "C" NOT NULL REFERENCES program (id),
  tier         text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('welcome', 'birthday', 'periodic')),
  points       bigint NOT NULL DEFAULT 0,
  coupon_code  text,
  entry_id     text COLLATE "C",
  issued_at    timestamptz NOT NULL,
  PRIMARY KEY (member_id, grant_key, period_start)
);
CREATE INDEX tier_grant_program_idx ON tier_grant (program_id, issued_at DESC);
