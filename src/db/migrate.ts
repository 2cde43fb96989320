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
    const done = new Map(
      (await tx.query<{ id: string; checksum: string | null }>('SELECT id, checksum FROM schema_migration ORDER BY id')).map((r) => [r.id, r.checksum]),
    );
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

/** What the database has of this version's SQL, as migrate would find it. */
export interface SchemaStatus {
  /** This version's migrations the database has not applied, in the order migrate would apply them. */
  pending: string[];
  /** The function files last applied are not this version's (a file new, changed or gone): migrate would apply them again. */
  functionsStale: boolean;
}

/** This version's SQL files, read once (their names and checksums are all schemaStatus needs). */
export interface SchemaFiles {
  migrations: { id: string; checksum: string }[];
  functions: { file: string; checksum: string }[];
}

export async function readSchemaFiles(options: Pick<MigrateOptions, 'migrationsDir' | 'functionsDir'> = {}): Promise<SchemaFiles> {
  const [migrations, functions] = await Promise.all([sqlFiles(options.migrationsDir ?? MIGRATIONS_DIR), sqlFiles(options.functionsDir ?? FUNCTIONS_DIR)]);
  return { migrations: migrations.map(({ id, checksum }) => ({ id, checksum })), functions: functions.map(({ file, checksum }) => ({ file, checksum })) };
}

/**
 * Compares the database with this version's SQL files (`files`, or those of this version read now)
 * without changing anything: no advisory lock, no write, no table created (a database never
 * migrated has every migration pending). For /readyz: an instance is not ready on a database that
 * migrate has not brought to its version. A migration applied that this version lacks is not
 * pending (a newer instance may have applied it); one changed after it was applied is migrate's to
 * refuse, at start.
 */
export async function schemaStatus(db: Queryable, files?: SchemaFiles): Promise<SchemaStatus> {
  const ours = files ?? (await readSchemaFiles());
  const [tables] = await db.query<{ migrations: boolean; functions: boolean }>(
    `SELECT to_regclass('schema_migration') IS NOT NULL AS migrations, to_regclass('schema_function_file') IS NOT NULL AS functions`,
  );
  let applied = new Set<string>();
  let stored = new Map<string, string>();
  if (tables?.migrations || tables?.functions) {
    const [row] = await db.query<{ ids: string[] | null; functions: Record<string, string> | null }>(
      `SELECT ${tables.migrations ? '(SELECT json_agg(id) FROM schema_migration)' : 'NULL::json'} AS ids,
              ${tables.functions ? '(SELECT json_object_agg(file, checksum) FROM schema_function_file)' : 'NULL::json'} AS functions`,
    );
    applied = new Set(row?.ids ?? []);
    stored = new Map(Object.entries(row?.functions ?? {}));
  }
  return {
    pending: ours.migrations.filter((m) => !applied.has(m.id)).map((m) => m.id),
    functionsStale: !sameFunctions(stored, ours.functions),
  };
}

/** The function files stored as applied are exactly these (same names, same checksums). */
function sameFunctions(stored: Map<string, string>, files: { file: string; checksum: string }[]): boolean {
  return stored.size === files.length && files.every((f) => stored.get(f.file) === f.checksum);
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
  const stored = new Map(
    (await tx.query<{ file: string; checksum: string }>('SELECT file, checksum FROM schema_function_file')).map((r) => [r.file, r.checksum]),
  );
  if (sameFunctions(stored, files)) return [];
  for (const f of files) await tx.exec(f.text);
  await tx.query('DELETE FROM schema_function_file');
  for (const f of files) await tx.query('INSERT INTO schema_function_file (file, checksum) VALUES ($1, $2)', [f.file, f.checksum]);
  return files.map((f) => f.file);
}
