import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { type Db, openDb, type Queryable } from '../../src/db/db.ts';
import { migrate } from '../../src/db/migrate.ts';

export type DbKind = 'pglite' | 'postgres';

/**
 * The PostgreSQL server the tests use: TEST_DATABASE_URL, or the local server. Each test file gets a
 * database of its own, created here and dropped afterwards. TEST_DATABASE_URL=none runs PGlite only
 * (and says so): CI always runs both.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const DB_KINDS: DbKind[] = TEST_DATABASE_URL === 'none' ? ['pglite'] : ['pglite', 'postgres'];
if (TEST_DATABASE_URL === 'none') process.stderr.write('TEST_DATABASE_URL=none: PostgreSQL tests are skipped\n');

export interface TestDb {
  kind: DbKind;
  db: Db;
  /** postgres:// URL of this test database (postgres only), for a second connection pool. */
  url?: string;
  close(): Promise<void>;
}

export async function createTestDb(kind: DbKind, options: { poolSize?: number } = {}): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = await openDb({});
    await migrate(db);
    return { kind, db, close: () => db.close() };
  }
  const name = `jifen_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await openDb({ databaseUrl: TEST_DATABASE_URL, poolSize: 1 });
  await admin.exec(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const db = await openDb({ databaseUrl: url.toString(), poolSize: options.poolSize ?? 10 });
  await migrate(db);
  return {
    kind,
    db,
    url: url.toString(),
    async close() {
      await db.close();
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

/**
 * Declares the same suite once per database kind. The suite body gets a getter (the database is
 * opened in a before hook, so it is not there yet while tests are being declared).
 */
export function forEachDatabase(name: string, body: (get: () => TestDb, kind: DbKind) => void, options: { kinds?: DbKind[]; poolSize?: number } = {}) {
  for (const kind of (options.kinds ?? DB_KINDS).filter((k) => DB_KINDS.includes(k))) {
    describe(`${name} [${kind}]`, () => {
      let testDb: TestDb | undefined;
      before(async () => {
        testDb = await createTestDb(kind, { poolSize: options.poolSize });
      });
      after(async () => {
        await testDb?.close();
      });
      body(() => {
        if (!testDb) throw new Error('test database not open yet');
        return testDb;
      }, kind);
    });
  }
}

/**
 * Runs work in a transaction of its own and keeps that transaction open, its locks held, until
 * release() (which waits for the commit): for PostgreSQL tests of who waits for whom. Resolves
 * once work has run.
 */
export async function holdOpen(db: Db, work: (tx: Queryable) => Promise<unknown>): Promise<{ release: () => Promise<void> }> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let ran!: () => void;
  const workDone = new Promise<void>((resolve) => (ran = resolve));
  const transaction = db.transaction(async (tx) => {
    await work(tx);
    ran();
    await gate;
  });
  await Promise.race([workDone, transaction]);
  return {
    release: async () => {
      open();
      await transaction;
    },
  };
}
