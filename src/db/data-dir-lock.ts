import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';

/**
 * One process per embedded data directory.
 *
 * The lock is an OS-level lock, not a pid check: `<dataDir>/jifen.lock` is opened with Node's
 * built-in SQLite (`node:sqlite`, no native add-on) in exclusive locking mode, and a write
 * transaction (`BEGIN IMMEDIATE`) is opened on it and kept open for as long as the process holds
 * the lock. SQLite takes it with POSIX `fcntl` locks (`LockFileEx` on Windows): the deciding step is
 * one atomic write lock on SQLite's RESERVED byte, which only one process can hold; a second process
 * is refused at once (busy timeout 0); and the kernel releases it when the holder dies, however it
 * dies (`kill -9` included). So a stale `jifen.pid`, a pid since reused by an unrelated process, or
 * a pid file holding garbage never blocks a start, and of several processes starting at the same
 * moment exactly one gets it.
 *
 * Why not `BEGIN EXCLUSIVE`: its last step upgrades to an exclusive lock, which fails while any other
 * process holds a shared lock, even one that is itself about to be refused. Racing starters then
 * refuse each other and none starts (measured: 6 processes started together, no winner in 23 of 40
 * rounds). RESERVED is compatible with the others' shared locks, so the winner never waits on them.
 * Nothing is ever written to the file, so it stays empty and no journal is created.
 *
 * `jifen.pid` is still written, after the lock is taken, but only as information: it names the
 * holder in the refusal message. It is never read to decide anything.
 *
 * Rules that keep the lock sound: the lock file is never deleted (a process that deleted it could
 * let the next one lock a new file while an old holder still locks the unlinked one), and nothing
 * else in the process opens it (closing any descriptor of a file drops the process's POSIX locks on
 * it; SQLite guards against that only for its own connections).
 */

export const LOCK_FILE = 'jifen.lock';
export const PID_FILE = 'jifen.pid';

/** The data directory is locked by another process (or another lock in this process). */
export class DataDirLockedError extends Error {
  readonly dataDir: string;
  /** The holder's pid as it wrote it in jifen.pid, when that is readable and names a live process. */
  readonly holderPid: number | undefined;

  constructor(dataDir: string, holderPid: number | undefined) {
    super(
      `The embedded database in ${dataDir} is in use by ${holderPid ? `process ${holderPid}` : 'another process'}. ` +
        'Stop it first, or use its API (e.g. GET /v1/audit), or set DATABASE_URL to share a PostgreSQL server between processes.',
    );
    this.dataDir = dataDir;
    this.holderPid = holderPid;
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  /** Removes jifen.pid and releases the lock. Safe to call more than once. */
  release(): void;
}

// Held connections, so that a lock whose handle the caller dropped is not closed (and released)
// by the garbage collector while the process still relies on it.
const held = new Set<DatabaseSync>();

let sqliteModule: typeof import('node:sqlite') | undefined;

/**
 * node:sqlite, loaded on first use. Some Node 24 releases print an ExperimentalWarning when it is
 * loaded; that one warning (and only it) is kept off stderr: the module is used for its file lock only.
 */
function sqlite(): typeof import('node:sqlite') {
  if (sqliteModule) return sqliteModule;
  const emitWarning = process.emitWarning;
  process.emitWarning = function filtered(this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : ((rest[0] as { type?: string } | undefined)?.type ?? (warning as Error).name);
    if (type === 'ExperimentalWarning' && /sqlite/i.test(String((warning as Error).message ?? warning))) return;
    return (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    sqliteModule = process.getBuiltinModule('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
  return sqliteModule;
}

function isBusy(err: unknown): boolean {
  const e = err as { errcode?: number; code?: string; message?: string };
  // SQLITE_BUSY (5) or SQLITE_LOCKED (6); extended codes keep the primary code in the low byte.
  return typeof e?.errcode === 'number' ? [5, 6].includes(e.errcode & 0xff) : /database is locked|busy/i.test(String(e?.message));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in jifen.pid, for the message only; undefined if missing, garbage, or not a live process. */
function readHolder(dataDir: string): number | undefined {
  try {
    const text = readFileSync(join(dataDir, PID_FILE), 'utf8').trim();
    if (!/^\d{1,10}$/.test(text)) return undefined;
    const pid = Number(text);
    return pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the data directory's lock (creating the directory if needed), or throws DataDirLockedError
 * at once if another process holds it. The lock lasts until release() or the end of the process.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const { DatabaseSync } = sqlite();
  const conn = new DatabaseSync(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    // Exclusive locking mode: the locks taken by the transaction are kept until the connection closes.
    conn.exec('PRAGMA locking_mode = EXCLUSIVE');
    conn.exec('BEGIN IMMEDIATE');
  } catch (err) {
    conn.close();
    if (isBusy(err)) throw new DataDirLockedError(dataDir, readHolder(dataDir));
    throw err;
  }
  held.add(conn);
  const pidFile = join(dataDir, PID_FILE);
  try {
    writeFileSync(pidFile, `${process.pid}\n`);
  } catch {
    // Information only: a read-only pid file does not weaken the lock.
  }
  let released = false;
  return {
    dataDir,
    release() {
      if (released) return;
      released = true;
      try {
        rmSync(pidFile, { force: true });
      } finally {
        held.delete(conn);
        conn.close();
      }
    },
  };
}
