-- The 0.1.0 baseline: every table, type and index of Jifen, squashed from the twelve migrations
-- written while nothing was deployed (their history is in git, before this file). From here on a
-- migration is frozen once applied: the runner stores its checksum and refuses to start when an
-- applied file has changed (src/db/migrate.ts). A schema change is a new file.
--
-- Functions, views and trigger bindings are not here: they live in src/db/functions/, defined once
-- each, and are re-applied after the migrations whenever one of those files changes.
--
-- Conventions. Tables are singular snake_case, and each is owned by one module (named in its
-- section, and in the module's index.ts); every hot table carries member_id so it can be
-- distributed later. Keys compare as bytes (COLLATE "C"): ids are ASCII, so the order is the same
-- as under C.UTF-8, the same on every server whatever its locale, and an index descent compares two
-- ids with one memcmp instead of strcoll (about a tenth of the database's CPU in event ingestion,
-- bench/README.md "events"). Every key column has it: comparing two columns of different collations
-- is an error, and a "C" column compared with a parameter or a PL/pgSQL variable compares under "C".
--
-- Number bounds. Every stored total stays exact as a JSON number: at most 2^53 − 1
-- (9007199254740991) in magnitude. The API refuses a write that would pass it with 422
-- BALANCE_LIMIT_EXCEEDED and writes nothing (fromDatabaseError maps the constraints named
-- *_points_bound). One operation moves at most 10^12 points (the API's schemas and the rule
-- engine's award limit); the constraints are the backstop on every path at once. The timed jobs
-- cannot be stopped by a bound: a release keeps balance + held, expiry lowers the balance, and
-- lifetime_expired stays below lifetime_earned (points expire only after they were earned; a
-- reversal takes them off both).


-- ── programs module ─────────────────────────────────────────────────────────────────────────────

CREATE TABLE program (
  id                      text COLLATE "C" PRIMARY KEY,
  name                    text NOT NULL,
  time_zone               text NOT NULL DEFAULT 'Asia/Shanghai',
  currency                text NOT NULL DEFAULT 'CNY',
  point_name              text NOT NULL DEFAULT '积分',
  expiry_policy           jsonb NOT NULL DEFAULT '{"type":"never"}',
  pending_days            integer NOT NULL DEFAULT 0 CHECK (pending_days BETWEEN 0 AND 3650),
  negative_balance_policy text NOT NULL DEFAULT 'write_off'
                          CHECK (negative_balance_policy IN ('write_off', 'allow_negative')),
  redemption_rate         integer NOT NULL DEFAULT 100 CHECK (redemption_rate > 0),
  hold_timeout_seconds    integer NOT NULL DEFAULT 900 CHECK (hold_timeout_seconds BETWEEN 1 AND 2592000),
  metadata                jsonb NOT NULL DEFAULT '{}',
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL,
  -- bumped by every rule change, so instances know when their compiled rules are stale
  rules_revision          bigint NOT NULL DEFAULT 0
);


-- ── members module ──────────────────────────────────────────────────────────────────────────────

CREATE TABLE member (
  id            text COLLATE "C" PRIMARY KEY,
  program_id    text COLLATE "C" NOT NULL REFERENCES program (id),
  external_id   text COLLATE "C" NOT NULL,
  name          text,
  phone         text,
  email         text,
  birthday      date,
  tags          text[] NOT NULL DEFAULT '{}',
  attributes    jsonb NOT NULL DEFAULT '{}',
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen', 'closed')),
  status_reason text,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  -- free text for now; rules can already multiply by it (the tiers module will replace it)
  tier          text,
  UNIQUE (program_id, external_id)
);
CREATE INDEX member_program_id_idx ON member (program_id, id DESC);
CREATE INDEX member_program_phone_idx ON member (program_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX member_program_email_idx ON member (program_id, lower(email)) WHERE email IS NOT NULL;


-- ── api-keys module ─────────────────────────────────────────────────────────────────────────────

CREATE TABLE api_key (
  id           text COLLATE "C" PRIMARY KEY,
  name         text NOT NULL,
  prefix       text NOT NULL,
  secret_hash  text COLLATE "C" NOT NULL UNIQUE,
  scopes       text[] NOT NULL CHECK (scopes <@ ARRAY['admin', 'integration', 'read']::text[] AND cardinality(scopes) > 0),
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  -- NULL: the whole deployment. Otherwise the key sees and changes only these programs'
  -- resources; the ids are checked against program when the key is created (programs are never
  -- deleted). The programs of a key never change.
  program_ids  text[]
               CHECK (program_ids IS NULL OR (cardinality(program_ids) BETWEEN 1 AND 100 AND array_position(program_ids, NULL) IS NULL))
);


-- ── shared/idempotency ──────────────────────────────────────────────────────────────────────────

-- Remembered results of writes made with an Idempotency-Key (or a natural source id).
CREATE TABLE idempotency_key (
  scope         text COLLATE "C" NOT NULL,
  key           text COLLATE "C" NOT NULL,
  request_hash  text NOT NULL,
  status_code   integer NOT NULL,
  response      jsonb NOT NULL,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_key_created_at_idx ON idempotency_key (created_at);


-- ── ledger module: accounts, immutable entries, lots (one per credit), holds ────────────────────

-- One row per member: the only row a ledger write locks. There is deliberately no per-program
-- balance row: system accounts (issued, redeemed, expired, ...) are sums over ledger_entry.
CREATE TABLE member_account (
  member_id        text COLLATE "C" PRIMARY KEY REFERENCES member (id),
  program_id       text COLLATE "C" NOT NULL REFERENCES program (id),
  -- ledger balance of the member's main account = sum(lot.remaining) - debt; negative only under allow_negative
  balance          bigint NOT NULL DEFAULT 0,
  -- points reserved by open holds (the member_held account)
  held             bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
  -- points owed after a reversal of already-spent points (allow_negative policy)
  debt             bigint NOT NULL DEFAULT 0 CHECK (debt >= 0),
  lifetime_earned  bigint NOT NULL DEFAULT 0,
  lifetime_spent   bigint NOT NULL DEFAULT 0,
  lifetime_expired bigint NOT NULL DEFAULT 0,
  last_activity_at timestamptz,
  updated_at       timestamptz NOT NULL,
  -- bumped whenever rule awards are recorded for the member: the optimistic check that keeps
  -- per-member caps exact when the same member's events are evaluated concurrently
  award_version    bigint NOT NULL DEFAULT 0,
  CHECK (balance <= 9007199254740991),
  -- balance + held: what a member owns (a hold moves points from one to the other, a release
  -- back). Bounded together, so that releasing a hold — which the timed job does too, for many
  -- members in one batch — never takes the balance past the bound: a credit that would is refused.
  CONSTRAINT member_account_balance_points_bound CHECK (balance >= -9007199254740991),
  CONSTRAINT member_account_held_points_bound CHECK (held <= 9007199254740991),
  CONSTRAINT member_account_balance_and_held_points_bound CHECK (balance + held <= 9007199254740991),
  CONSTRAINT member_account_debt_points_bound CHECK (debt <= 9007199254740991),
  CONSTRAINT member_account_lifetime_earned_points_bound CHECK (lifetime_earned BETWEEN -9007199254740991 AND 9007199254740991),
  CONSTRAINT member_account_lifetime_spent_points_bound CHECK (lifetime_spent BETWEEN -9007199254740991 AND 9007199254740991),
  CONSTRAINT member_account_lifetime_expired_points_bound CHECK (lifetime_expired BETWEEN -9007199254740991 AND 9007199254740991)
);
-- Members in debt, for the sweep's repayment (few rows: debt is rare and short-lived).
CREATE INDEX member_account_in_debt_idx ON member_account (member_id) WHERE debt > 0;

-- Immutable: corrections are new entries (the triggers are in src/db/functions/10_ledger_helpers.sql).
CREATE TABLE ledger_entry (
  id                     text COLLATE "C" PRIMARY KEY,
  -- insertion order, for stable history ordering within one instant
  seq                    bigint GENERATED ALWAYS AS IDENTITY,
  program_id             text COLLATE "C" NOT NULL,
  member_id              text COLLATE "C" NOT NULL,
  -- one operation (request) may write several entries; they share txn_id
  txn_id                 text COLLATE "C" NOT NULL,
  kind                   text NOT NULL CHECK (kind IN ('earn', 'spend', 'hold', 'capture', 'release', 'expire',
                           'reverse', 'adjust', 'transfer_out', 'transfer_in', 'forfeit', 'write_off')),
  -- double entry: amount moves from debit_account to credit_account. 'member' and 'member_held' are
  -- the accounts of member_id; the others are the program's system accounts.
  debit_account          text NOT NULL,
  credit_account         text NOT NULL,
  amount                 bigint NOT NULL CHECK (amount > 0),
  delta                  bigint GENERATED ALWAYS AS (
                           CASE WHEN credit_account = 'member' THEN amount
                                WHEN debit_account = 'member' THEN -amount ELSE 0 END) STORED,
  held_delta             bigint GENERATED ALWAYS AS (
                           CASE WHEN credit_account = 'member_held' THEN amount
                                WHEN debit_account = 'member_held' THEN -amount ELSE 0 END) STORED,
  lot_id                 text COLLATE "C",
  hold_id                text COLLATE "C",
  reverses_entry_id      text COLLATE "C",
  counterparty_member_id text COLLATE "C",
  reason                 text,
  reason_code            text,
  reference              text,
  actor                  text,
  metadata               jsonb NOT NULL DEFAULT '{}',
  occurred_at            timestamptz NOT NULL,
  -- which event produced the entry (event.id), for explanations and refunds
  event_id               text COLLATE "C",
  CHECK (debit_account <> credit_account),
  CHECK (debit_account IN ('member', 'member_held', 'issued', 'redeemed', 'expired', 'reversed', 'adjusted',
                           'written_off', 'forfeited', 'transfer')),
  CHECK (credit_account IN ('member', 'member_held', 'issued', 'redeemed', 'expired', 'reversed', 'adjusted',
                            'written_off', 'forfeited', 'transfer')),
  CONSTRAINT ledger_entry_amount_points_bound CHECK (amount <= 9007199254740991)
);
CREATE INDEX ledger_entry_member_idx ON ledger_entry (member_id, occurred_at DESC, seq DESC);
-- The sweep writes one expire entry per lot, never twice (released holds that land in an already
-- expired lot write their own expire entry, tagged with hold_id).
CREATE UNIQUE INDEX ledger_entry_one_sweep_expiry_per_lot ON ledger_entry (lot_id)
  WHERE kind = 'expire' AND hold_id IS NULL;

-- A lot is the unit of expiry: every credit creates one. Its columns always add up:
-- amount = remaining + held + spent + expired + reversed.
CREATE TABLE lot (
  id             text COLLATE "C" PRIMARY KEY,
  program_id     text COLLATE "C" NOT NULL,
  member_id      text COLLATE "C" NOT NULL,
  entry_id       text COLLATE "C" NOT NULL,
  amount         bigint NOT NULL CHECK (amount > 0),
  remaining      bigint NOT NULL CHECK (remaining >= 0),
  held           bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
  spent          bigint NOT NULL DEFAULT 0 CHECK (spent >= 0),
  expired        bigint NOT NULL DEFAULT 0 CHECK (expired >= 0),
  reversed       bigint NOT NULL DEFAULT 0 CHECK (reversed >= 0),
  -- total reversal requested against this credit, including written-off parts; never above amount
  reversal_total bigint NOT NULL DEFAULT 0 CHECK (reversal_total BETWEEN 0 AND amount),
  -- reversal still owed on points of this lot that were held when it was asked (write_off policy):
  -- settled when the hold resolves, from the released points, the captured ones written off
  reversal_held  bigint NOT NULL DEFAULT 0 CHECK (reversal_held >= 0),
  earned_at      timestamptz NOT NULL,
  available_at   timestamptz NOT NULL,
  expires_at     timestamptz,
  -- activity extension never pushes expires_at beyond this (hard cap), if set
  expiry_cap     timestamptz,
  CHECK (amount = remaining + held + spent + expired + reversed),
  CHECK (reversal_held <= held),
  -- a lot's parts are each at most its amount (they add up to it and none is negative)
  CONSTRAINT lot_amount_points_bound CHECK (amount <= 9007199254740991)
);
CREATE INDEX lot_member_open_idx ON lot (member_id, expires_at, earned_at) WHERE remaining > 0;
-- Lots that never expire are never due: the sweep's index leaves them out (one index entry less per
-- credit in a program whose points do not expire; `expires_at <= now` implies NOT NULL).
CREATE INDEX lot_due_idx ON lot (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;
-- The members' lots with points in open holds (few): with lot_member_open_idx, a member's lots with
-- remaining or held points are found through indexes (activity extension).
CREATE INDEX lot_member_held_idx ON lot (member_id) WHERE held > 0;

CREATE TABLE hold (
  id           text COLLATE "C" PRIMARY KEY,
  program_id   text COLLATE "C" NOT NULL,
  member_id    text COLLATE "C" NOT NULL,
  amount       bigint NOT NULL CHECK (amount > 0),
  captured     bigint NOT NULL DEFAULT 0 CHECK (captured BETWEEN 0 AND amount),
  status       text NOT NULL CHECK (status IN ('open', 'captured', 'voided', 'expired')),
  reference    text,
  description  text,
  metadata     jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  resolved_at  timestamptz,
  CHECK ((status = 'open') = (resolved_at IS NULL)),
  CONSTRAINT hold_amount_points_bound CHECK (amount <= 9007199254740991)
);
CREATE INDEX hold_member_idx ON hold (member_id, created_at DESC);
CREATE INDEX hold_open_due_idx ON hold (expires_at) WHERE status = 'open';

CREATE TABLE hold_allocation (
  hold_id text COLLATE "C" NOT NULL REFERENCES hold (id),
  lot_id  text COLLATE "C" NOT NULL REFERENCES lot (id),
  amount  bigint NOT NULL CHECK (amount > 0),
  PRIMARY KEY (hold_id, lot_id),
  CONSTRAINT hold_allocation_amount_points_bound CHECK (amount <= 9007199254740991)
);

-- A locked member with what a ledger write needs of their program (jf_lock_member).
CREATE TYPE jf_member_ctx AS (
  member_id text, program_id text, status text, balance bigint, held bigint, debt bigint,
  time_zone text, expiry_policy jsonb, pending_days integer, negative_balance_policy text,
  hold_timeout_seconds integer
);


-- ── rules module: rules with versions, what they awarded, program budgets ─────────────────────

CREATE TABLE rule (
  id          text COLLATE "C" PRIMARY KEY,
  program_id  text COLLATE "C" NOT NULL REFERENCES program (id),
  created_at  timestamptz NOT NULL,
  -- the rule stops applying from this instant (may be announced in advance)
  archived_at timestamptz
);
CREATE INDEX rule_program_idx ON rule (program_id, created_at);

-- Editing a rule adds a version; the version with the latest effective_from <= an event's
-- occurred_at is the one that evaluates it.
CREATE TABLE rule_version (
  rule_id        text COLLATE "C" NOT NULL REFERENCES rule (id),
  version        integer NOT NULL CHECK (version > 0),
  effective_from timestamptz NOT NULL,
  definition     jsonb NOT NULL,
  created_at     timestamptz NOT NULL,
  created_by     text,
  PRIMARY KEY (rule_id, version)
);

-- One row per points award by a rule that has per-member caps or frequency limits (in any
-- version): what those limits count. Every other rule's awards are in its events' results only
-- (a row and an index entry per award cost about a fifth of an order's database time); a rule that
-- gets its first limit has its awards copied from the results then (rules.service, backfillAwards).
-- Read by member and time only, so it has no key of its own.
CREATE TABLE rule_award (
  program_id   text COLLATE "C" NOT NULL,
  member_id    text COLLATE "C" NOT NULL,
  rule_id      text COLLATE "C" NOT NULL,
  rule_version integer NOT NULL,
  event_id     text COLLATE "C" NOT NULL,
  entry_id     text COLLATE "C" NOT NULL,
  points       bigint NOT NULL CHECK (points > 0),
  awarded_at   timestamptz NOT NULL,
  CONSTRAINT rule_award_points_points_bound CHECK (points <= 9007199254740991)
);
-- What rules awarded a member: one range per member (its recent days, or all of it for lifetime
-- caps) instead of one index descent per member and rule.
CREATE INDEX rule_award_member_time_idx ON rule_award (member_id, awarded_at) INCLUDE (rule_id, points);

-- Program-wide budget use per rule and period: the one shared counter, touched only by rules
-- that have a budget.
CREATE TABLE rule_budget (
  rule_id      text COLLATE "C" NOT NULL,
  period_start timestamptz NOT NULL,
  used         bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (rule_id, period_start),
  CONSTRAINT rule_budget_used_points_bound CHECK (used <= 9007199254740991)
);


-- ── events module: custom event types and processed events ──────────────────────────────────────

CREATE TABLE event_type (
  program_id  text COLLATE "C" NOT NULL REFERENCES program (id),
  type        text COLLATE "C" NOT NULL,
  description text,
  schema      jsonb NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (program_id, type)
);

-- No foreign key to program: every insert would check the program row and take a KEY SHARE lock
-- on it, shared by every concurrent batch of the program (the hot ledger tables have none either).
CREATE TABLE event (
  id           text COLLATE "C" PRIMARY KEY,
  program_id   text COLLATE "C" NOT NULL,
  -- the sender's id: an event is processed once per program
  external_id  text COLLATE "C" NOT NULL,
  type         text COLLATE "C" NOT NULL,
  member_id    text COLLATE "C" NOT NULL,
  occurred_at  timestamptz NOT NULL,
  processed_at timestamptz NOT NULL,
  data         jsonb NOT NULL,
  metadata     jsonb NOT NULL DEFAULT '{}',
  points       bigint NOT NULL,
  -- What only processing knows — the awards (with their explanations), a refund's reversals, the
  -- skips that cost the member points — as JSON text written by the application and returned as it
  -- is (text: never queried inside, so PostgreSQL need not parse it on the way in). The rest of the
  -- result the API returns is put together from the columns when read (jf_event_view).
  result       text NOT NULL,
  UNIQUE (program_id, external_id),
  CONSTRAINT event_points_points_bound CHECK (points BETWEEN -9007199254740991 AND 9007199254740991)
);
CREATE INDEX event_member_idx ON event (member_id, occurred_at DESC);
CREATE INDEX event_order_idx ON event (program_id, (data->>'order_id'), type) WHERE data ? 'order_id';


-- ── programs module: member tokens ──────────────────────────────────────────────────────────────

-- How a program's members authenticate on /v1/me (JWTs signed by the merchant's backend, or
-- minted by Jifen). One row per program that has configured or used them. The HS256 secret is
-- symmetric, so it is kept as it is (it must verify); the previous one stays valid until the next
-- rotation, so a merchant can roll its backends over without downtime.
CREATE TABLE member_token_config (
  program_id                 text COLLATE "C" PRIMARY KEY REFERENCES program (id),
  -- the `aud` tokens must carry; NULL = the default, 'jifen:' || program_id
  audience                   text UNIQUE CHECK (audience IS NULL OR (length(audience) BETWEEN 1 AND 200 AND audience NOT LIKE 'jifen:%')),
  -- the `iss` of tokens the merchant signs (required with a JWKS URL); 'jifen' is reserved for minted tokens
  issuer                     text CHECK (issuer IS NULL OR (length(issuer) BETWEEN 1 AND 200 AND issuer <> 'jifen')),
  jwks_url                   text CHECK (jwks_url IS NULL OR length(jwks_url) BETWEEN 1 AND 2000),
  secret_id                  text,
  secret                     text,
  secret_created_at          timestamptz,
  previous_secret_id         text,
  previous_secret            text,
  previous_secret_created_at timestamptz,
  previous_secret_retired_at timestamptz,
  created_at                 timestamptz NOT NULL,
  updated_at                 timestamptz NOT NULL,
  CHECK ((secret_id IS NULL) = (secret IS NULL) AND (secret IS NULL) = (secret_created_at IS NULL)),
  CHECK ((previous_secret_id IS NULL) = (previous_secret IS NULL)),
  CHECK (jwks_url IS NULL OR issuer IS NOT NULL)
);
