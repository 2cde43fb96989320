import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db, Queryable } from './db.ts';

/** Tables, types and indexes: numbered, forward-only, frozen once applied. */
export const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');
/** Functions, views and trigger bindings: each defined once, re-applied when a file changes. */
export const FUNCTIONS_DIR = join(import.meta.dirname, 'functions');
// Any constant: serialises migrations across server instances starting at once.
const MIGRATION_LOCK = 7_262_311;

export interface MigrationResult {
  /** Migrations applied by this run, in order. */
  applied: string[];
  /** Function files applied by this run (all of them, in order, when any had changed; else none). */
  functions: string[];
  /** Migrations there are. */
  total: number;
}

export interface MigrateOptions {
  migrationsDir?: string;
  functionsDir?: string;
  /** Apply migrations up to and including this id only (tests of step-by-step upgrades). */
  until?: string;
  /** Apply the function files (default true). */
  functions?: boolean;
}

/** The database and this version's SQL files disagree: the server must not start on it. */
export class MigrationError extends Error {
  readonly code: 'MIGRATION_CHANGED' | 'MIGRATION_UNKNOWN';
  readonly files: string[];
  constructor(code: MigrationError['code'], files: string[], message: string) {
    super(message);
    this.name = 'MigrationError';
    this.code = code;
    this.files = files;
  }
}

interface SqlFile {
  id: string;
  file: string;
  text: string;
  checksum: string;
}

/** sha256 of a file's text with line endings normalised (a checkout with CRLF is the same file). */
export function checksumOf(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

async function sqlFiles(dir: string): Promise<SqlFile[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (file) => {
      const text = await readFile(join(dir, file), 'utf8');
      return { id: file.replace(/\.sql$/, ''), file, text, checksum: checksumOf(text) };
    }),
  );
}

/**
 * Brings the database to this version's schema, in one transaction under an advisory lock (several
 * instances starting together apply each file exactly once; a failure leaves nothing half done):
 *   1. checks that every migration the database has applied is one of ours, unchanged (its stored
 *      checksum): otherwise MigrationError, naming the files, and nothing is changed;
 *   2. applies the pending migrations in name order (timestamp-named, forward-only);
 *   3. if any function file is new, changed or gone since the last run, applies every one of them
 *      again in name order (each is CREATE OR REPLACE, so order across files is the only
 *      dependency) — Flyway's repeatable migrations, run after the versioned ones.
 */
export async function migrate(db: Db, options: MigrateOptions = {}): Promise<MigrationResult> {
  const migrations = await sqlFiles(options.migrationsDir ?? MIGRATIONS_DIR);
  const functionFiles = options.functions === false ? [] : await sqlFiles(options.functionsDir ?? FUNCTIONS_DIR);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migration (
                     id text PRIMARY KEY, checksum text, applied_at timestamptz NOT NULL DEFAULT now());
                   ALTER TABLE schema_migration ADD COLUMN IF NOT EXISTS checksum text;
                   CREATE TABLE IF NOT EXISTS schema_function_file (
                     file text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());`);
    const done = new Map((await tx.query<{ id: string; checksum: string | null }>('SELECT id, checksum FROM schema_migration ORDER BY id')).map((r) => [r.id, r.checksum]));
    verifyApplied(migrations, done);

    const applied: string[] = [];
    for (const m of migrations) {
      if (options.until !== undefined && m.id > options.until) break;
      if (done.has(m.id)) continue;
      await tx.exec(m.text);
      await tx.query('INSERT INTO schema_migration (id, checksum) VALUES ($1, $2)', [m.id, m.checksum]);
      applied.push(m.id);
    }

    const functions = options.functions === false ? [] : await applyFunctions(tx, functionFiles);
    return { applied, functions, total: migrations.length };
  });
}

function verifyApplied(migrations: SqlFile[], done: Map<string, string | null>) {
  const ours = new Map(migrations.map((m) => [m.id, m]));
  const unknown = [...done.keys()].filter((id) => !ours.has(id));
  if (unknown.length > 0) {
    throw new MigrationError(
      'MIGRATION_UNKNOWN',
      unknown.map((id) => `${id}.sql`),
      `The database has migrations applied that this version of Jifen does not have: ${unknown.map((id) => `${id}.sql`).join(', ')}. ` +
        'It was made by another version (a newer one, or a development version before the 0.1.0 baseline). ' +
        'Run the version that made it, or start from an empty database (embedded: remove the data directory).',
    );
  }
  const changed = migrations.filter((m) => done.has(m.id) && done.get(m.id) !== m.checksum);
  if (changed.length > 0) {
    throw new MigrationError(
      'MIGRATION_CHANGED',
      changed.map((m) => m.file),
      `Migration ${changed.map((m) => `src/db/migrations/${m.file}`).join(', ')} changed after it was applied to this database ` +
        `(checksum ${changed.map((m) => `${(done.get(m.id) ?? 'none').slice(0, 12)}… stored, ${m.checksum.slice(0, 12)}… now`).join('; ')}). ` +
        'Applied migrations are frozen: undo the edit and make the change in a new migration.',
    );
  }
}

async function applyFunctions(tx: Queryable, files: SqlFile[]): Promise<string[]> {
  const stored = new Map((await tx.query<{ file: string; checksum: string }>('SELECT file, checksum FROM schema_function_file')).map((r) => [r.file, r.checksum]));
  const same = stored.size === files.length && files.every((f) => stored.get(f.file) === f.checksum);
  if (same) return [];
  for (const f of files) await tx.exec(f.text);
  await tx.query('DELETE FROM schema_function_file');
  for (const f of files) await tx.query('INSERT INTO schema_function_file (file, checksum) VALUES ($1, $2)', [f.file, f.checksum]);
  return files.map((f) => f.file);
}
