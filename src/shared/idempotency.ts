/**
 * Idempotency keys: this file owns the idempotency_key table (the ledger functions in SQL claim and
 * store keys with the same jf_idem_* functions; see src/db/functions/).
 */
import { createHash } from 'node:crypto';
import { DomainError, fromDatabaseError } from './errors.ts';
import type { Queryable, Transactional } from './sql.ts';

export interface IdempotencyContext {
  /** Keys are unique per scope: the program the write belongs to, or `deployment`. */
  scope: string;
  key: string;
  /** Hash of what the request asks for; the same key with another hash is IDEMPOTENCY_KEY_REUSED. */
  hash: string;
}

export interface WriteResult<T = unknown> {
  status: number;
  body: T;
  replayed: boolean;
}

/** JSON with object keys sorted, so that equal payloads hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(operation: string, payload: unknown): string {
  return createHash('sha256').update(operation).update('\n').update(canonicalJson(payload)).digest('base64url');
}

/** The fields the ledger functions read to claim and store a key (see jf_idem_claim). */
export function idempotencyParams(ctx: IdempotencyContext | undefined): Record<string, string> {
  return ctx ? { idem_scope: ctx.scope, idem_key: ctx.key, idem_hash: ctx.hash } : {};
}

/**
 * A unique violation on the idempotency key: another request with the same key committed first
 * (see jf_idem_claim). This attempt was rolled back; running it again replays the first result.
 */
export function isIdempotencyRace(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; constraint_name?: string; message?: string } | undefined;
  return e?.code === '23505' && /idempotency_key_pkey/.test(`${e.constraint ?? e.constraint_name ?? ''} ${e.message ?? ''}`);
}

/**
 * The stored answer of the context's key, as a replay, or undefined if the key is not stored
 * (jf_idem_claim; a key stored for another request raises IDEMPOTENCY_KEY_REUSED).
 */
export async function storedResult<T>(q: Queryable, ctx: IdempotencyContext): Promise<WriteResult<T> | undefined> {
  const [claim] = await q.query<{ r: WriteResult<T> | null }>('SELECT jf_idem_claim($1::text::jsonb) AS r', [JSON.stringify(idempotencyParams(ctx))]);
  return claim?.r ?? undefined;
}

/**
 * A write that failed with a domain error (409, 422: the hold was resolved, the credit reversed, the
 * rule archived…) may have failed because a twin request with the same key committed the very change
 * while this one waited for its lock. Its key is then stored: answer the first result, as a replay
 * would, instead of an error the first request caused. Looked up after the failed transaction ended.
 */
export async function replayAfterConflict<T>(db: Queryable, ctx: IdempotencyContext | undefined, err: unknown): Promise<WriteResult<T> | undefined> {
  if (!ctx || !(err instanceof DomainError) || (err.status !== 409 && err.status !== 422) || err.code.startsWith('IDEMPOTENCY_')) return undefined;
  return storedResult<T>(db, ctx);
}

/**
 * A write whose SQL function claims and stores its own key (rewards, lotteries, checkout): run again
 * once if it lost the race for its key (the retry replays), its database error made a domain error,
 * and a refusal that a twin request's committed change caused answered with that change's result.
 */
export async function idempotentWrite<T>(db: Queryable, ctx: IdempotencyContext | undefined, attempt: () => Promise<WriteResult<T>>): Promise<WriteResult<T>> {
  try {
    return await retryingIdempotencyRace(attempt);
  } catch (err) {
    const domain = err instanceof DomainError ? err : fromDatabaseError(err);
    const replay = await replayAfterConflict<T>(db, ctx, domain);
    if (replay) return replay;
    throw domain ?? err;
  }
}

/** Runs an attempt again (once) when it lost an idempotency race. */
export async function retryingIdempotencyRace<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    if (!isIdempotencyRace(err)) throw err;
    return attempt();
  }
}

/**
 * Runs a write at most once per key, for writes done in TypeScript (the ledger functions do the same
 * in SQL with the same table and functions): look the key up, do the work, store the result with the
 * key, in one transaction. A replay returns the stored status and body. Failures are not remembered:
 * nothing changed, so a retry with the same key runs again.
 */
export async function withIdempotency<T>(
  db: Transactional,
  ctx: IdempotencyContext | undefined,
  now: Date,
  work: (tx: Queryable) => Promise<{ status: number; body: T }>,
): Promise<WriteResult<T>> {
  const attempt = () =>
    db.transaction(async (tx) => {
      if (ctx) {
        const stored = await storedResult<T>(tx, ctx);
        if (stored) return stored;
      }
      const result = await work(tx);
      if (ctx) {
        await tx.query('SELECT jf_idem_store($1::text::jsonb, $2::text::jsonb)', [
          JSON.stringify({ ...idempotencyParams(ctx), now: now.toISOString() }),
          JSON.stringify(result),
        ]);
      }
      return { ...result, replayed: false };
    });
  try {
    return await retryingIdempotencyRace(attempt);
  } catch (err) {
    const domain = err instanceof DomainError ? err : (fromDatabaseError(err) ?? err);
    const replay = await replayAfterConflict<T>(db, ctx, domain);
    if (replay) return replay;
    throw domain;
  }
}

export function requireKey(ctx: IdempotencyContext | undefined): IdempotencyContext {
  if (!ctx)
    throw new DomainError('IDEMPOTENCY_KEY_REQUIRED', undefined, {}, [
      { path: '/Idempotency-Key', location: 'headers', message: 'is required for this operation', rule: 'required' },
    ]);
  return ctx;
}

/** Forgets keys stored before `before`, at most `batch` of them; returns how many (the sweep job repeats it). */
export async function purgeIdempotencyKeys(db: Queryable, before: Date, batch: number): Promise<number> {
  const rows = await db.query(`DELETE FROM idempotency_key WHERE ctid IN (SELECT ctid FROM idempotency_key WHERE created_at < $1 LIMIT $2) RETURNING 1`, [
    before.toISOString(),
    batch,
  ]);
  return rows.length;
}
