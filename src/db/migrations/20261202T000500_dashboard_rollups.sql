-- Dashboard rollups (ledger module; docs/ledger.md, "Dashboard rollups"). What flowed into each of a
-- program's system accounts per calendar day in the program's time zone, kept as the ledger is
-- written, so the dashboard never scans ledger_entry.
--
-- Writes never update a shared row: the ledger's functions (jf_post for each entry, the sweep and
-- events_commit once per batch; src/db/functions/) append ledger_daily_delta rows, and
-- ledger_compact_daily (the sweep, and the dashboard before it reads) folds the deltas into
-- ledger_daily, one row per program and day. A day's figures are ledger_daily + its deltas.
-- Columns (each the net flow of points into that system account, in points):
--   issued      earn entries (issued → member), pending points included, at earning
--   redeemed    spend and capture entries (→ redeemed)
--   expired     expire entries, less expired points re-labelled by a refund (expired → reversed)
--   reversed    points taken back by refunds (→ reversed), written-off parts included
--   adjusted    net operator adjustments (adjusted → member positive, member → adjusted negative)
--   written_off refunds of spent points not recovered and debts forgiven (written_off → …)
--   forfeited   points lost when a member was closed
CREATE TABLE ledger_daily (
  program_id  text COLLATE "C" NOT NULL,
  day         date NOT NULL,
  issued      bigint NOT NULL DEFAULT 0,
  redeemed    bigint NOT NULL DEFAULT 0,
  expired     bigint NOT NULL DEFAULT 0,
  reversed    bigint NOT NULL DEFAULT 0,
  adjusted    bigint NOT NULL DEFAULT 0,
  written_off bigint NOT NULL DEFAULT 0,
  forfeited   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (program_id, day)
);

-- Append-only: inserted by the ledger's functions, deleted by the compaction that moves them into ledger_daily.
-- No index: compaction keeps it short, and both readers take all of it.
CREATE TABLE ledger_daily_delta (
  program_id  text COLLATE "C" NOT NULL,
  day         date NOT NULL,
  issued      bigint NOT NULL DEFAULT 0,
  redeemed    bigint NOT NULL DEFAULT 0,
  expired     bigint NOT NULL DEFAULT 0,
  reversed    bigint NOT NULL DEFAULT 0,
  adjusted    bigint NOT NULL DEFAULT 0,
  written_off bigint NOT NULL DEFAULT 0,
  forfeited   bigint NOT NULL DEFAULT 0
);

-- The program-local day of the member's latest earn entry (earning members of the last 30 days);
-- set by the function that credits the account, at most once per member and day. Active members are counted from
-- last_activity_at (the ledger's qualifying activity).
ALTER TABLE member_account ADD COLUMN earned_day date;
-- The dashboard's member counts and point sums read a program's accounts (no scan of other programs').
CREATE INDEX member_account_program_idx ON member_account (program_id);

-- What expires soon and what is still pending, per program, from lots with points left. Lots that
-- never expire (resp. have no pending period) are not in the index.
CREATE INDEX lot_program_expiry_idx ON lot (program_id, expires_at) INCLUDE (remaining)
  WHERE remaining > 0 AND expires_at IS NOT NULL;
CREATE INDEX lot_program_pending_idx ON lot (program_id, available_at) INCLUDE (remaining, expires_at)
  WHERE remaining > 0 AND available_at > earned_at;

-- Backfill from the entries written before this migration (once; later writes go through the functions).
INSERT INTO ledger_daily (program_id, day, issued, redeemed, expired, reversed, adjusted, written_off, forfeited)
SELECT e.program_id, (e.occurred_at AT TIME ZONE p.time_zone)::date,
       coalesce(sum(e.amount) FILTER (WHERE e.debit_account = 'issued'), 0),
       coalesce(sum(e.amount) FILTER (WHERE e.credit_account = 'redeemed'), 0),
       coalesce(sum(CASE WHEN e.credit_account = 'expired' THEN e.amount WHEN e.debit_account = 'expired' THEN -e.amount END), 0),
       coalesce(sum(e.amount) FILTER (WHERE e.credit_account = 'reversed'), 0),
       coalesce(sum(CASE WHEN e.debit_account = 'adjusted' THEN e.amount WHEN e.credit_account = 'adjusted' THEN -e.amount END), 0),
       coalesce(sum(e.amount) FILTER (WHERE e.debit_account = 'written_off'), 0),
       coalesce(sum(e.amount) FILTER (WHERE e.credit_account = 'forfeited'), 0)
  FROM ledger_entry e JOIN program p ON p.id = e.program_id
 GROUP BY 1, 2;

UPDATE member_account a SET earned_day = x.day
  FROM (SELECT e.member_id, max((e.occurred_at AT TIME ZONE p.time_zone)::date) AS day
          FROM ledger_entry e JOIN program p ON p.id = e.program_id
         WHERE e.kind = 'earn' GROUP BY e.member_id) x
 WHERE a.member_id = x.member_id;
