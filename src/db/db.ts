import { Worker } from 'node:worker_threads';
import { messages } from '@electric-sql/pglite';
import postgres from 'postgres';
import { DomainError } from '../shared/errors.ts';
import type { Queryable } from '../shared/sql.ts';
import type { Reply, Request, SerializedError, WorkerData } from './pglite-worker.ts';

/** A handle that can run SQL: the database itself or an open transaction (defined in shared/, where idempotency needs it). */
export type { Queryable } from '../shared/sql.ts';

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs fn in one transaction; it commits when fn resolves and rolls back when it throws. A
   * transaction that fails with a serialization failure (40001) or a deadlock (40P01) is rolled
   * back and fn is run again from the start (a few times, with a short random pause), so fn must
   * keep nothing from an attempt but what it returns.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** postgres://… for a PostgreSQL server; absent for the embedded PGlite database. */
  databaseUrl?: string;
  /** PGlite data directory; absent means in memory (tests). */
  dataDir?: string;
  poolSize?: number;
  /**
   * How long a query or transaction waits for a connection (PostgreSQL) or for its turn (PGlite)
   * before it is refused with 503 SERVICE_UNAVAILABLE, having started nothing.
   */
  acquireTimeoutMs?: number;
  /** How many times a transaction or statement that hit a deadlock or serialization failure is run again. */
  conflictRetries?: number;
}

export const DEFAULT_ACQUIRE_TIMEOUT_MS = 5000;
export const DEFAULT_CONFLICT_RETRIES = 4;
/** What a 503 tells the client to wait (the Retry-After header, in seconds). */
export const RETRY_AFTER_SECONDS = 1;

export async function openDb(options: DbOptions): Promise<Db> {
  const tuning: Tuning = {
    acquireTimeoutMs: options.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS,
    conflictRetries: options.conflictRetries ?? DEFAULT_CONFLICT_RETRIES,
  };
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.poolSize ?? 20, tuning) : openPglite(options.dataDir, tuning);
}

interface Tuning {
  acquireTimeoutMs: number;
  conflictRetries: number;
}

// ---------------------------------------------------------------------------------------------
// Overload and conflicts: which failures are the database's state rather than the request's

/** Serialization failure and deadlock: the transaction was rolled back and can be run again. */
export function isConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

const CONNECTION_CODES = new Set([
  // postgres.js
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  // the socket
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  // PostgreSQL: admin shutdown, crash shutdown, cannot connect now (starting up, shutting down)
  '57P01',
  '57P02',
  '57P03',
  // the embedded database's worker is gone, or the database was closed
  'PGLITE_WORKER_EXITED',
  'DATABASE_CLOSED',
]);

/**
 * The database cannot be reached or is refusing work: connection exceptions (class 08),
 * insufficient resources (class 53: too many connections 53300, out of memory, disk full),
 * shutdowns (57P01–57P03), sockets that failed, the embedded database's worker gone.
 */
export function isConnectionFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return CONNECTION_CODES.has(code) || /^(08|53)[0-9A-Z]{3}$/.test(code);
}

function unavailable(detail: string, reason: string, cause?: unknown): DomainError {
  const err = new DomainError('SERVICE_UNAVAILABLE', detail, { retry_after_seconds: RETRY_AFTER_SECONDS, reason });
  if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return err;
}

/** The error a caller sees for a failure of the database's state; anything else unchanged. */
function translate(err: unknown, attempts: number): unknown {
  if (err instanceof DomainError) return err;
  if (isConflict(err)) {
    return unavailable(
      `The write conflicted with concurrent writes (${(err as { code: string }).code === '40P01' ? 'deadlock' : 'serialization failure'}) ${attempts} times and was rolled back; nothing was written. Retry after ${RETRY_AFTER_SECONDS} s.`,
      'conflict',
      err,
    );
  }
  if (isConnectionFailure(err)) {
    return unavailable(
      `The database is unavailable (${(err as { code: string }).code}). Retry after ${RETRY_AFTER_SECONDS} s with the same Idempotency-Key: a write that was applied is then answered from its record.`,
      'database_unavailable',
      err,
    );
  }
  return err;
}

/**
 * A counting semaphore with a bounded, first-come first-served wait: at most `permits` operations
 * hold the database at once (the pool's connections; one for PGlite); the others wait their turn
 * up to the acquire timeout and are then refused, before anything of theirs ran.
 */
class Gate {
  #free: number;
  readonly #queue: { grant: () => void; timer?: NodeJS.Timeout }[] = [];
  #closed = false;

  constructor(permits: number) {
    this.#free = permits;
  }

  acquire(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#free > 0 && this.#queue.length === 0) {
      this.#free--;
      return Promise.resolve();
    }
    if (timeoutMs <= 0) return Promise.reject(shed(timeoutMs));
    return new Promise((resolve, reject) => {
      const waiter: { grant: () => void; timer?: NodeJS.Timeout } = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
      };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(shed(timeoutMs));
        }, timeoutMs);
      }
      this.#queue.push(waiter);
    });
  }

  release(): void {
    const next = this.#queue.shift();
    if (next) next.grant();
    else this.#free++;
  }

  /** No new acquisitions; those already waiting still get their turn. */
  close(): void {
    this.#closed = true;
  }
}

function shed(timeoutMs: number): DomainError {
  return unavailable(
    `The database is busy: no connection became free within ${timeoutMs} ms, so the request was not started and nothing was written. Retry after ${RETRY_AFTER_SECONDS} s.`,
    'database_busy',
  );
}

function closedError(): Error {
  return Object.assign(new Error('The database is closed'), { code: 'DATABASE_CLOSED' });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Full jitter around an exponential step: ~10, 20, 40, 80 ms for the 1st to 4th retry. */
const backoff = (retry: number) => Math.round(10 * 2 ** retry * (0.5 + Math.random()));

/**
 * Waits for a turn (or is shed), then runs `attempt`, again from the start when it failed with a
 * conflict (the whole statement or transaction was rolled back), up to `conflictRetries` times.
 */
async function admitted<T>(gate: Gate, tuning: Tuning, attempt: () => Promise<T>): Promise<T> {
  try {
    await gate.acquire(tuning.acquireTimeoutMs);
  } catch (err) {
    throw translate(err, 0);
  }
  try {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt();
      } catch (err) {
        if (isConflict(err) && retry < tuning.conflictRetries) {
          await sleep(backoff(retry));
          continue;
        }
        throw translate(err, retry + 1);
      }
    }
  } finally {
    gate.release();
  }
}

// ---------------------------------------------------------------------------------------------
// PGlite, in a worker thread

/** The worker's answers, matched to the calls by id. */
class WorkerClient {
  readonly ready: Promise<void>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #seq = 1;
  #gone: Error | undefined;

  constructor(dataDir: string | undefined) {
    this.#worker = new Worker(new URL('./pglite-worker.ts', import.meta.url), { workerData: { dataDir } satisfies WorkerData });
    let started!: { resolve: () => void; reject: (e: unknown) => void };
    this.ready = new Promise<void>((resolve, reject) => (started = { resolve, reject }));
    this.#pending.set(0, { resolve: () => started.resolve(), reject: (e) => started.reject(e) });
    this.#worker.on('message', (reply: Reply) => {
      const call = this.#pending.get(reply.id);
      if (!call) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (reply.ok) call.resolve(reply.value);
      else call.reject(toError(reply.error));
    });
    const fail = (why: string) => {
      if (this.#gone) return;
      this.#gone = Object.assign(new Error(`The embedded database stopped: ${why}`), { code: 'PGLITE_WORKER_EXITED' });
      for (const call of this.#pending.values()) call.reject(this.#gone);
      this.#pending.clear();
    };
    this.#worker.on('error', (err) => fail(String(err)));
    this.#worker.on('exit', (code) => fail(`its worker thread exited (${code})`));
  }

  call(req: DistributiveOmit<Request, 'id'>): Promise<unknown> {
    if (this.#gone) return Promise.reject(this.#gone);
    const id = this.#seq++;
    return new Promise((resolve, reject) => {
      try {
        this.#worker.postMessage({ ...req, id });
      } catch (err) {
        reject(err); // a parameter that cannot be cloned (a function, a symbol)
        return;
      }
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
    });
  }

  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The error as PGlite threw it in the worker: a DatabaseError with every PostgreSQL field. */
function toError(e: SerializedError): Error {
  const { name, message, stack, ...fields } = e;
  const err: Error =
    typeof fields.severity === 'string' ? new messages.DatabaseError(message, Number(fields.length ?? 0), name as 'error') : new Error(message);
  Object.assign(err, fields, { name });
  if (stack) err.stack = stack;
  return err;
}

async function openPglite(dataDir: string | undefined, tuning: Tuning): Promise<Db> {
  const client = new WorkerClient(dataDir);
  try {
    await client.ready;
  } catch (err) {
    await client.terminate();
    throw err;
  }
  // one thing at a time, as PGlite's own mutex does: a transaction holds the database until it ends
  const gate = new Gate(1);
  const handle = (tx?: number): Queryable => ({
    async query<T>(text: string, params?: unknown[]) {
      return (await client.call({ op: 'query', text, params, tx })) as T[];
    },
    async exec(text: string) {
      await client.call({ op: 'exec', text, tx });
    },
  });
  const top = handle();
  let closing: Promise<void> | undefined;
  return {
    kind: 'pglite',
    query: <T>(text: string, params?: unknown[]) => admitted(gate, tuning, () => top.query<T>(text, params)),
    exec: (text: string) => admitted(gate, tuning, () => top.exec(text)),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      admitted(gate, tuning, async () => {
        const tx = (await client.call({ op: 'begin' })) as number;
        let result: T;
        try {
          result = await fn(handle(tx));
        } catch (err) {
          // fn's error is the answer; a failed ROLLBACK means the worker is gone anyway
          await client.call({ op: 'rollback', tx }).catch(() => {});
          throw err;
        }
        await client.call({ op: 'commit', tx });
        return result;
      }),
    close: () =>
      (closing ??= (async () => {
        // what is already waiting runs first; nothing new is let in
        const last = gate.acquire(Number.POSITIVE_INFINITY);
        gate.close();
        await last;
        try {
          await client.call({ op: 'close' });
        } finally {
          await client.terminate();
        }
      })()),
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

async function openPostgres(url: string, max: number, tuning: Tuning): Promise<Db> {
  const sql = postgres(url, {
    max,
    onnotice: () => {},
    connection: { TimeZone: 'UTC', application_name: 'jifen' },
    // Points fit in 2^53 (enforced by the schema), so int8 is safe as a JS number.
    types: { bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) } },
  });
  const wrap = (q: postgres.Sql | postgres.TransactionSql): Queryable => ({
    async query<T>(text: string, params?: unknown[]) {
      return (await q.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[];
    },
    async exec(text: string) {
      await q.unsafe(text);
    },
  });
  await sql`select 1`;
  // as many at once as the pool has connections: postgres.js would queue the rest without a bound
  const gate = new Gate(max);
  const top = wrap(sql);
  return {
    kind: 'postgres',
    query: <T>(text: string, params?: unknown[]) => admitted(gate, tuning, () => top.query<T>(text, params)),
    exec: (text: string) => admitted(gate, tuning, () => top.exec(text)),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => admitted(gate, tuning, () => sql.begin((tx) => fn(wrap(tx))) as Promise<T>),
    close: () => {
      gate.close();
      return sql.end({ timeout: 5 });
    },
  };
}

/** The first row, or undefined. */
export async function one<T>(q: Queryable, text: string, params?: unknown[]): Promise<T | undefined> {
  const rows = await q.query<T>(text, params);
  return rows[0];
}
