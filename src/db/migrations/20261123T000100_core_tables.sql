-- Programmes, members and their ledger account rows, API keys, idempotency keys.
-- Tables are singular snake_case; every hot table carries member_id so it can be distributed later.

CREATE TABLE program (
  id                      text PRIMARY KEY,
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
  updated_at              timestamptz NOT NULL
);

CREATE TABLE member (
  id            text PRIMARY KEY,
  program_id    text NOT NULL REFERENCES program (id),
  external_id   text NOT NULL,
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
  UNIQUE (program_id, external_id)
);
CREATE INDEX member_program_id_idx ON member (program_id, id DESC);
CREATE INDEX member_program_phone_idx ON member (program_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX member_program_email_idx ON member (program_id, lower(email)) WHERE email IS NOT NULL;

-- One row per member: the only row a ledger write locks. There is deliberately no per-programme
-- balance row: system accounts (issued, redeemed, expired, ...) are sums over ledger_entry.
CREATE TABLE member_account (
  member_id        text PRIMARY KEY REFERENCES member (id),
  program_id       text NOT NULL REFERENCES program (id),
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
  CHECK (balance <= 9007199254740991)
);

-- Members in debt, for the sweep's repayment (few rows: debt is rare and short-lived).
CREATE INDEX member_account_in_debt_idx ON member_account (member_id) WHERE debt > 0;

CREATE TABLE api_key (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  prefix       text NOT NULL,
  secret_hash  text NOT NULL UNIQUE,
  scopes       text[] NOT NULL CHECK (scopes <@ ARRAY['admin', 'integration', 'read']::text[] AND cardinality(scopes) > 0),
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);

-- Remembered results of writes made with an Idempotency-Key (or a natural source id).
CREATE TABLE idempotency_key (
  scope         text NOT NULL,
  key           text NOT NULL,
  request_hash  text NOT NULL,
  status_code   integer NOT NULL,
  response      jsonb NOT NULL,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_key_created_at_idx ON idempotency_key (created_at);
