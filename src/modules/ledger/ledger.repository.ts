import type { Queryable } from '../../db/db.ts';
import type { WriteResult } from '../../shared/idempotency.ts';

/** The ledger's write operations, each one PL/pgSQL function (src/db/functions/11_ledger_operations.sql). */
export type LedgerFunction =
  | 'ledger_credit'
  | 'ledger_debit'
  | 'ledger_hold'
  | 'ledger_hold_resolve'
  | 'ledger_reverse'
  | 'ledger_adjust'
  | 'ledger_transfer'
  | 'ledger_record_activity';

/** One round trip: the function claims the idempotency key, locks the member, writes and answers. */
export async function callLedger<T>(db: Queryable, fn: LedgerFunction, p: Record<string, unknown>): Promise<WriteResult<T>> {
  const [row] = await db.query<{ r: WriteResult<T> }>(`SELECT ${fn}($1::text::jsonb) AS r`, [JSON.stringify(p)]);
  return row!.r;
}

export async function balanceOf<T>(db: Queryable, memberId: string, now: Date): Promise<T | undefined> {
  const [row] = await db.query<{ b: T | null }>('SELECT jf_balance($1, $2) AS b', [memberId, now.toISOString()]);
  return row?.b ?? undefined;
}

export async function findEntry<T>(db: Queryable, id: string): Promise<T | undefined> {
  const [row] = await db.query<{ e: T }>('SELECT jf_entry_json(e) AS e FROM ledger_entry e WHERE e.id = $1', [id]);
  return row?.e;
}

export interface EntryRow<T> {
  e: T;
  at: string;
  seq: number;
}

/** Newest first; the cursor is (occurred_at, seq) of the last row. */
export async function listEntries<T>(
  db: Queryable,
  memberId: string,
  kind: string | undefined,
  limit: number,
  before: [string, number] | undefined,
): Promise<EntryRow<T>[]> {
  return db.query<EntryRow<T>>(
    `SELECT jf_entry_json(e) AS e, e.occurred_at::text AS at, e.seq
       FROM ledger_entry e
      WHERE e.member_id = $1 AND ($2::text IS NULL OR e.kind = $2)
        AND ($3::timestamptz IS NULL OR (e.occurred_at, e.seq) < ($3::timestamptz, $4::bigint))
      ORDER BY e.occurred_at DESC, e.seq DESC
      LIMIT $5`,
    [memberId, kind ?? null, before?.[0] ?? null, before?.[1] ?? null, limit + 1],
  );
}

export interface LotRow<T> {
  l: T;
  at: string;
  id: string;
}

export async function listLots<T>(
  db: Queryable,
  memberId: string,
  openOnly: boolean,
  now: Date,
  limit: number,
  before: [string, string] | undefined,
): Promise<LotRow<T>[]> {
  return db.query<LotRow<T>>(
    `SELECT jf_lot_json(l, $2) AS l, l.earned_at::text AS at, l.id
       FROM lot l
      WHERE l.member_id = $1 AND (NOT $3 OR l.remaining > 0 OR l.held > 0)
        AND ($4::timestamptz IS NULL OR (l.earned_at, l.id) < ($4::timestamptz, $5::text))
      ORDER BY l.earned_at DESC, l.id DESC
      LIMIT $6`,
    [memberId, now.toISOString(), openOnly, before?.[0] ?? null, before?.[1] ?? null, limit + 1],
  );
}

export async function findHold<T>(db: Queryable, id: string, now: Date): Promise<T | undefined> {
  const [row] = await db.query<{ h: T }>('SELECT jf_hold_json(h, $2) AS h FROM hold h WHERE h.id = $1', [id, now.toISOString()]);
  return row?.h;
}

export interface HoldRow<T> {
  h: T;
  id: string;
}

export async function listHolds<T>(
  db: Queryable,
  memberId: string,
  status: string | undefined,
  now: Date,
  limit: number,
  before: string | undefined,
): Promise<HoldRow<T>[]> {
  // 'expired' includes open holds past their deadline that the timeout job has not released yet
  return db.query<HoldRow<T>>(
    `SELECT jf_hold_json(h, $2) AS h, h.id
       FROM hold h
      WHERE h.member_id = $1
        AND ($3::text IS NULL
             OR ($3 = 'open' AND h.status = 'open' AND h.expires_at > $2)
             OR ($3 = 'expired' AND (h.status = 'expired' OR (h.status = 'open' AND h.expires_at <= $2)))
             OR ($3 NOT IN ('open', 'expired') AND h.status = $3))
        AND ($4::text IS NULL OR h.id < $4)
      ORDER BY h.id DESC
      LIMIT $5`,
    [memberId, now.toISOString(), status ?? null, before ?? null, limit + 1],
  );
}

/**
 * The program of a member, from the member's account (every member has one, made with it), or
 * undefined if there is no such member: the ledger reads its own table, not members'.
 */
export async function programOfMember(db: Queryable, memberId: string): Promise<string | undefined> {
  const [row] = await db.query<{ program_id: string }>('SELECT program_id FROM member_account WHERE member_id = $1', [memberId]);
  return row?.program_id;
}

export async function programOfHold(db: Queryable, holdId: string): Promise<string | undefined> {
  const [row] = await db.query<{ program_id: string }>('SELECT program_id FROM hold WHERE id = $1', [holdId]);
  return row?.program_id;
}

export async function programOfEntry(db: Queryable, entryId: string): Promise<string | undefined> {
  const [row] = await db.query<{ program_id: string }>('SELECT program_id FROM ledger_entry WHERE id = $1', [entryId]);
  return row?.program_id;
}

/** A member's status change, with what it does to the points (ledger_set_status: closing forfeits them). */
export async function setStatus(db: Queryable, memberId: string, status: string, reason: string | undefined, now: Date): Promise<void> {
  await db.query('SELECT ledger_set_status($1::text::jsonb)', [
    JSON.stringify({ member_id: memberId, status, reason: reason ?? null, now: now.toISOString() }),
  ]);
}

/** One batch of the expiry sweep; returns the number of lots expired. */
export async function expireDueLots(db: Queryable, now: Date, batch: number): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT ledger_expire_due($1, $2) AS n', [now.toISOString(), batch]);
  return row!.n;
}

/** One batch of the hold timeout job; returns the number of holds released. */
export async function releaseDueHolds(db: Queryable, now: Date, batch: number): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT ledger_release_due_holds($1, $2) AS n', [now.toISOString(), batch]);
  return row!.n;
}
