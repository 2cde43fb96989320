/**
 * What code above the database layer needs of a database handle. db/db.ts implements these (its
 * Db is Transactional); they live here so shared/ (idempotency) needs nothing above it.
 */

/** A handle that can run SQL: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
}

/** A handle that can also open a transaction (db/db.ts's Db: see there for retries after conflicts). */
export interface Transactional extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}
