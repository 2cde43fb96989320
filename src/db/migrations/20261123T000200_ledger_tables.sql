-- The ledger: immutable entries, lots (one per credit), holds and their lot allocations.

CREATE TABLE ledger_entry (
  id                     text PRIMARY KEY,
  -- insertion order, for stable history ordering within one instant
  seq                    bigint GENERATED ALWAYS AS IDENTITY,
  program_id             text NOT NULL,
  member_id              text NOT NULL,
  -- one operation (request) may write several entries; they share txn_id
  txn_id                 text NOT NULL,
  kind                   text NOT NULL CHECK (kind IN ('earn', 'spend', 'hold', 'capture', 'release', 'expire',
                           'reverse', 'adjust', 'transfer_out', 'transfer_in', 'forfeit', 'write_off')),
  -- double entry: amount moves from debit_account to credit_account. 'member' and 'member_held' are
  -- the accounts of member_id; the others are the programme's system accounts.
  debit_account          text NOT NULL,
  credit_account         text NOT NULL,
  amount                 bigint NOT NULL CHECK (amount > 0),
  delta                  bigint GENERATED ALWAYS AS (
                           CASE WHEN credit_account = 'member' THEN amount
                                WHEN debit_account = 'member' THEN -amount ELSE 0 END) STORED,
  held_delta             bigint GENERATED ALWAYS AS (
                           CASE WHEN credit_account = 'member_held' THEN amount
                                WHEN debit_account = 'member_held' THEN -amount ELSE 0 END) STORED,
  lot_id                 text,
  hold_id                text,
  reverses_entry_id      text,
  counterparty_member_id text,
  reason                 text,
  reason_code            text,
  reference              text,
  actor                  text,
  metadata               jsonb NOT NULL DEFAULT '{}',
  occurred_at            timestamptz NOT NULL,
  CHECK (debit_account <> credit_account),
  CHECK (debit_account IN ('member', 'member_held', 'issued', 'redeemed', 'expired', 'reversed', 'adjusted',
                           'written_off', 'forfeited', 'transfer')),
  CHECK (credit_account IN ('member', 'member_held', 'issued', 'redeemed', 'expired', 'reversed', 'adjusted',
                            'written_off', 'forfeited', 'transfer'))
);
CREATE INDEX ledger_entry_member_idx ON ledger_entry (member_id, occurred_at DESC, seq DESC);
-- The sweep writes one expire entry per lot, never twice (released holds that land in an already
-- expired lot write their own expire entry, tagged with hold_id).
CREATE UNIQUE INDEX ledger_entry_one_sweep_expiry_per_lot ON ledger_entry (lot_id)
  WHERE kind = 'expire' AND hold_id IS NULL;

-- Entries are immutable: corrections are new entries.
CREATE FUNCTION jf_entry_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entry is append-only (% refused)', TG_OP USING ERRCODE = 'JF001';
END $$;
CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE OR DELETE ON ledger_entry
  FOR EACH ROW EXECUTE FUNCTION jf_entry_immutable();
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry
  FOR EACH STATEMENT EXECUTE FUNCTION jf_entry_immutable();

-- A lot is the unit of expiry: every credit creates one. Its columns always add up:
-- amount = remaining + held + spent + expired + reversed.
CREATE TABLE lot (
  id             text PRIMARY KEY,
  program_id     text NOT NULL,
  member_id      text NOT NULL,
  entry_id       text NOT NULL,
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
  CHECK (reversal_held <= held)
);
CREATE INDEX lot_member_open_idx ON lot (member_id, expires_at, earned_at) WHERE remaining > 0;
CREATE INDEX lot_due_idx ON lot (expires_at) WHERE remaining > 0;

CREATE TABLE hold (
  id           text PRIMARY KEY,
  program_id   text NOT NULL,
  member_id    text NOT NULL,
  amount       bigint NOT NULL CHECK (amount > 0),
  captured     bigint NOT NULL DEFAULT 0 CHECK (captured BETWEEN 0 AND amount),
  status       text NOT NULL CHECK (status IN ('open', 'captured', 'voided', 'expired')),
  reference    text,
  description  text,
  metadata     jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  resolved_at  timestamptz,
  CHECK ((status = 'open') = (resolved_at IS NULL))
);
CREATE INDEX hold_member_idx ON hold (member_id, created_at DESC);
CREATE INDEX hold_open_due_idx ON hold (expires_at) WHERE status = 'open';

CREATE TABLE hold_allocation (
  hold_id text NOT NULL REFERENCES hold (id),
  lot_id  text NOT NULL REFERENCES lot (id),
  amount  bigint NOT NULL CHECK (amount > 0),
  PRIMARY KEY (hold_id, lot_id)
);
