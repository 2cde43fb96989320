import type { Queryable } from '../../db/db.ts';

/**
 * Opens the accounts of members just made, in one statement (members' addMembers calls it in the
 * transaction that inserts them: a member never exists without an account). Empty, it does nothing.
 */
export async function openAccounts(db: Queryable, accounts: { member_id: string; program_id: string }[], now: Date): Promise<void> {
  if (accounts.length === 0) return;
  await db.query('INSERT INTO member_account (member_id, program_id, updated_at) SELECT unnest($1::text[]), unnest($2::text[]), $3', [
    accounts.map((a) => a.member_id),
    accounts.map((a) => a.program_id),
    now.toISOString(),
  ]);
}

/**
 * What event ingestion reads of accounts and credits. An account's award version counts the
 * credits rules gave the member: evaluation reads it with the member's usage, and events_commit
 * writes only if it has not moved since (someone else awarded the member meanwhile).
 */

/** Award versions of these members' accounts. */
export async function awardVersions(db: Queryable, memberIds: string[]): Promise<{ member_id: string; award_version: number }[]> {
  if (memberIds.length === 0) return [];
  return db.query('SELECT member_id, award_version FROM member_account WHERE member_id = ANY ($1::text[])', [memberIds]);
}

/**
 * Locks these members' accounts, in id order (the order every ledger write locks them in), and
 * returns their award versions as of the lock. Within a transaction.
 */
export async function lockAwardVersions(db: Queryable, memberIds: string[]): Promise<{ member_id: string; award_version: number }[]> {
  return db.query('SELECT member_id, award_version FROM member_account WHERE member_id = ANY ($1::text[]) ORDER BY member_id FOR UPDATE', [memberIds]);
}

/** Per credit (entry id): its lot's amount and the points already reversed of it. */
export async function creditReversals(db: Queryable, entryIds: string[]): Promise<{ entry_id: string; amount: number; reversal_total: number }[]> {
  if (entryIds.length === 0) return [];
  return db.query('SELECT l.entry_id, l.amount, l.reversal_total FROM ledger_entry e JOIN lot l ON l.id = e.lot_id WHERE e.id = ANY ($1::text[])', [entryIds]);
}
