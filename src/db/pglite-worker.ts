/**
 * The embedded database in a worker thread (started by db.ts): PGlite's WebAssembly runs here, so a
 * long query does not block the server's event loop. Messages in, answers out; see db.ts for the
 * other side. Every value is parsed here exactly as in process (PGlite's own parsers) and crosses
 * by structured clone, which keeps numbers, BigInts, Dates, Uint8Arrays, nulls and nested JSON as
 * they are. Errors cross as plain objects with every field (code, detail, constraint, …).
 *
 * One transaction is a PGlite transaction held open across messages: `begin` opens it and answers
 * with its id, queries name it, `commit` or `rollback` ends it. PGlite's own mutex keeps every other
 * query out of it meanwhile (db.ts sends one thing at a time anyway).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';

export type Request =
  | { id: number; op: 'query'; text: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'exec'; text: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit' | 'rollback'; tx: number }
  | { id: number; op: 'close' };

export type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: SerializedError };

/** An Error's name, message and stack, and every own field (PostgreSQL's code, detail, …). */
export type SerializedError = Record<string, unknown> & { name: string; message: string; stack?: string };

export interface WorkerData {
  dataDir?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const out: SerializedError = { name: err.name, message: err.message, stack: err.stack };
  for (const [k, v] of Object.entries(err)) {
    // query params came from the other side; everything else PGlite sets is text or a number
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out[k] = v;
  }
  return out;
}

interface OpenTx {
  tx: Transaction;
  finish: (commit: boolean) => void;
  /** Settles when PGlite has committed (or rolled back) and released the database. */
  done: Promise<void>;
}

const ROLLBACK = Symbol('rollback');

async function main() {
  const port = parentPort!;
  const { dataDir } = workerData as WorkerData;
  const txs = new Map<number, OpenTx>();
  let nextTx = 1;
  let pg: PGlite;
  try {
    pg = new PGlite(dataDir);
    await pg.waitReady;
    await pg.exec(`SET TimeZone TO 'UTC'`);
  } catch (err) {
    port.postMessage({ id: 0, ok: false, error: serializeError(err) } satisfies Reply);
    return;
  }

  const handle = async (req: Request): Promise<unknown> => {
    switch (req.op) {
      case 'query': {
        const q = req.tx === undefined ? pg : txOf(req.tx).tx;
        return (await q.query(req.text, req.params)).rows;
      }
      case 'exec': {
        const q = req.tx === undefined ? pg : txOf(req.tx).tx;
        await q.exec(req.text);
        return undefined;
      }
      case 'begin': {
        let opened!: (tx: Transaction) => void;
        let finish!: (commit: boolean) => void;
        const open = new Promise<Transaction>((resolve) => (opened = resolve));
        const done = pg.transaction(async (tx) => {
          const decision = new Promise<boolean>((resolve) => (finish = resolve));
          opened(tx);
          if (!(await decision)) throw ROLLBACK;
        });
        done.catch(() => {}); // awaited by commit/rollback; never unhandled meanwhile
        // BEGIN itself failing settles done before the transaction opens
        const tx = await Promise.race([open, done.then(() => Promise.reject(new Error('The transaction ended before it began')))]);
        const id = nextTx++;
        txs.set(id, { tx, finish, done });
        return id;
      }
      case 'commit':
      case 'rollback': {
        const open = txOf(req.tx);
        txs.delete(req.tx);
        open.finish(req.op === 'commit');
        try {
          await open.done;
        } catch (err) {
          if (err !== ROLLBACK) throw err;
        }
        return undefined;
      }
      case 'close':
        for (const open of txs.values()) open.finish(false);
        await Promise.allSettled([...txs.values()].map((t) => t.done));
        txs.clear();
        await pg.close();
        setImmediate(() => port.close());
        return undefined;
    }
  };

  const txOf = (id: number): OpenTx => {
    const open = txs.get(id);
    if (!open) throw new Error('Transaction is closed');
    return open;
  };

  port.on('message', (req: Request) => {
    // not awaited: queries of one transaction may be in flight together (PGlite serialises them)
    handle(req).then(
      (value) => {
        try {
          port.postMessage({ id: req.id, ok: true, value } satisfies Reply);
        } catch (err) {
          port.postMessage({ id: req.id, ok: false, error: serializeError(err) } satisfies Reply);
        }
      },
      (err) => port.postMessage({ id: req.id, ok: false, error: serializeError(err) } satisfies Reply),
    );
  });
  port.postMessage({ id: 0, ok: true } satisfies Reply);
}

if (parentPort) void main();
