import type { Queryable } from '../../db/db.ts';

export interface Violation {
  check: string;
  member_id: string | null;
  detail: Record<string, unknown>;
}

/**
 * Every query is exact for any value the database can hold: sums are numeric (never cast to
 * bigint, which a sum of many bigints may pass), compared in SQL, and numbers in details are
 * jf_exact_json (a JSON number when exact, else a decimal string).
 */

/**
 * Per member: stored balance = sum of entries = sum of lots - debt; stored held = held entries =
 * open holds = points held in lots. Each query returns only the members where something disagrees.
 */
export async function memberViolations(db: Queryable, programId: string | null): Promise<Violation[]> {
  return db.query<Violation>(
    `WITH e AS (
       SELECT member_id, sum(delta) AS balance, sum(held_delta) AS held
         FROM ledger_entry WHERE ($1::text IS NULL OR program_id = $1) GROUP BY member_id
     ), l AS (
       SELECT member_id, sum(remaining) AS remaining, sum(held) AS held
         FROM lot WHERE ($1::text IS NULL OR program_id = $1) GROUP BY member_id
     ), h AS (
       SELECT member_id, sum(amount) AS held
         FROM hold WHERE status = 'open' AND ($1::text IS NULL OR program_id = $1) GROUP BY member_id
     ), m AS (
       SELECT a.member_id, a.balance, a.held, a.debt,
              coalesce(e.balance, 0)::numeric AS entry_balance, coalesce(e.held, 0)::numeric AS entry_held,
              coalesce(l.remaining, 0)::numeric AS lot_remaining, coalesce(l.held, 0)::numeric AS lot_held, coalesce(h.held, 0)::numeric AS hold_held
         FROM member_account a
         LEFT JOIN e USING (member_id) LEFT JOIN l USING (member_id) LEFT JOIN h USING (member_id)
        WHERE ($1::text IS NULL OR a.program_id = $1)
     )
     SELECT 'balance_equals_entries' AS check, member_id,
            jsonb_build_object('stored', jf_exact_json(balance), 'entries', jf_exact_json(entry_balance)) AS detail
       FROM m WHERE balance <> entry_balance
     UNION ALL
     SELECT 'balance_equals_lots', member_id,
            jsonb_build_object('stored', jf_exact_json(balance), 'lots_remaining', jf_exact_json(lot_remaining), 'debt', jf_exact_json(debt))
       FROM m WHERE balance <> lot_remaining - debt
     UNION ALL
     SELECT 'held_equals_entries_holds_and_lots', member_id,
            jsonb_build_object('stored', jf_exact_json(held), 'entries', jf_exact_json(entry_held), 'open_holds', jf_exact_json(hold_held),
                               'lots_held', jf_exact_json(lot_held))
       FROM m WHERE held <> entry_held OR held <> hold_held OR held <> lot_held`,
    [programId],
  );
}

/** Lots whose parts do not add up or are negative, and open holds whose allocations do not add up. */
export async function lotAndHoldViolations(db: Queryable, programId: string | null): Promise<Violation[]> {
  return db.query<Violation>(
    `SELECT 'lot_adds_up' AS check, member_id,
            jsonb_build_object('lot_id', id, 'amount', jf_exact_json(amount), 'remaining', jf_exact_json(remaining), 'held', jf_exact_json(held),
                               'spent', jf_exact_json(spent), 'expired', jf_exact_json(expired), 'reversed', jf_exact_json(reversed)) AS detail
       FROM lot
      WHERE ($1::text IS NULL OR program_id = $1)
        AND (remaining < 0 OR held < 0 OR spent < 0 OR expired < 0 OR reversed < 0
             OR amount::numeric <> remaining::numeric + held + spent + expired + reversed)
     UNION ALL
     SELECT 'hold_allocations_add_up', h.member_id,
            jsonb_build_object('hold_id', h.id, 'amount', jf_exact_json(h.amount), 'allocated', jf_exact_json(coalesce(sum(ha.amount), 0)))
       FROM hold h LEFT JOIN hold_allocation ha ON ha.hold_id = h.id
      WHERE h.status = 'open' AND ($1::text IS NULL OR h.program_id = $1)
      GROUP BY h.id, h.member_id, h.amount
     HAVING h.amount <> coalesce(sum(ha.amount), 0)
     UNION ALL
     SELECT 'transfer_clears', NULL, jsonb_build_object('txn_id', txn_id, 'residue', jf_exact_json(sum(CASE WHEN credit_account = 'transfer' THEN amount::numeric ELSE -amount::numeric END)))
       FROM ledger_entry
      WHERE (debit_account = 'transfer' OR credit_account = 'transfer') AND ($1::text IS NULL OR program_id = $1)
      GROUP BY txn_id
     HAVING sum(CASE WHEN credit_account = 'transfer' THEN amount::numeric ELSE -amount::numeric END) <> 0`,
    [programId],
  );
}

export interface AccountBalance {
  program_id: string;
  account: string;
  /** Exact, as decimal digits (a sum over a program may pass what a JSON number carries). */
  balance: string;
}

/**
 * Every account's balance from the entries (credits minus debits), per program. Member accounts
 * are summed over members. The whole ledger sums to zero.
 */
export async function accountBalances(db: Queryable, programId: string | null): Promise<AccountBalance[]> {
  return db.query<AccountBalance>(
    `SELECT program_id, account, sum(amount)::text AS balance FROM (
       SELECT program_id, credit_account AS account, amount FROM ledger_entry WHERE ($1::text IS NULL OR program_id = $1)
       UNION ALL
       SELECT program_id, debit_account, -amount::numeric FROM ledger_entry WHERE ($1::text IS NULL OR program_id = $1)
     ) x GROUP BY program_id, account ORDER BY program_id, account`,
    [programId],
  );
}

export interface RollupTotals {
  program_id: string;
  issued: string;
  redeemed: string;
  expired: string;
  reversed: string;
  adjusted: string;
  written_off: string;
  forfeited: string;
}

/**
 * The dashboard rollups summed over all days, per program (ledger_daily plus the deltas not yet
 * compacted; exact, as decimal digits): a few rows per program and day, no scan of the entries.
 */
export async function rollupTotals(db: Queryable, programId: string | null): Promise<RollupTotals[]> {
  return db.query<RollupTotals>(
    `SELECT program_id, sum(issued)::text AS issued, sum(redeemed)::text AS redeemed, sum(expired)::text AS expired,
            sum(reversed)::text AS reversed, sum(adjusted)::text AS adjusted, sum(written_off)::text AS written_off,
            sum(forfeited)::text AS forfeited
       FROM (SELECT * FROM ledger_daily WHERE ($1::text IS NULL OR program_id = $1)
             UNION ALL
             SELECT * FROM ledger_daily_delta WHERE ($1::text IS NULL OR program_id = $1)) r
      GROUP BY program_id ORDER BY program_id`,
    [programId],
  );
}

/** Sum of the stored member balances and held points, per program (exact, as decimal digits). */
export async function storedTotals(db: Queryable, programId: string | null): Promise<{ program_id: string; balance: string; held: string; members: number }[]> {
  return db.query(
    `SELECT program_id, sum(balance)::text AS balance, sum(held)::text AS held, count(*)::float8 AS members
       FROM member_account WHERE ($1::text IS NULL OR program_id = $1) GROUP BY program_id ORDER BY program_id`,
    [programId],
  );
}

export async function counts(db: Queryable, programId: string | null): Promise<{ members: number; lots: number; entries: number; holds: number }> {
  const [row] = await db.query<{ members: number; lots: number; entries: number; holds: number }>(
    // float8: a count of rows is far below 2^53 and arrives as a number from both drivers (a bigint
    // past 2^31 would not fit ::int)
    `SELECT (SELECT count(*) FROM member_account WHERE ($1::text IS NULL OR program_id = $1))::float8 AS members,
            (SELECT count(*) FROM lot WHERE ($1::text IS NULL OR program_id = $1))::float8 AS lots,
            (SELECT count(*) FROM ledger_entry WHERE ($1::text IS NULL OR program_id = $1))::float8 AS entries,
            (SELECT count(*) FROM hold WHERE ($1::text IS NULL OR program_id = $1))::float8 AS holds`,
    [programId],
  );
  return row!;
}
