import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { type Db, openDb } from '../src/db/db.ts';
import { checksumOf, FUNCTIONS_DIR, MIGRATIONS_DIR, MigrationError, migrate, readSchemaFiles, schemaStatus } from '../src/db/migrate.ts';
import { forEachDatabase } from './helpers/db.ts';
import { schemaFingerprint } from './helpers/schema-fingerprint.ts';

const reset = (db: Db) => db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');

/** A copy of the SQL folders to edit: the real ones plus what a test adds. */
async function sqlCopy(): Promise<{ migrations: string; functions: string; done(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'jifen-sql-'));
  await cp(MIGRATIONS_DIR, join(root, 'migrations'), { recursive: true });
  await cp(FUNCTIONS_DIR, join(root, 'functions'), { recursive: true });
  return { migrations: join(root, 'migrations'), functions: join(root, 'functions'), done: () => rm(root, { recursive: true, force: true }) };
}

it('a checksum does not depend on line endings', () => {
  assert.equal(checksumOf('SELECT 1;\r\nSELECT 2;\r\n'), checksumOf('SELECT 1;\nSELECT 2;\n'));
  assert.notEqual(checksumOf('SELECT 1;\n'), checksumOf('SELECT 2;\n'));
});

forEachDatabase('migrations', (getDb, kind) => {
  it('applies nothing the second time', async () => {
    const { applied, functions, total } = await migrate(getDb().db);
    assert.deepEqual(applied, []);
    assert.deepEqual(functions, []);
    assert.ok(total >= 1);
  });

  it('a database upgraded one migration at a time is identical to a fresh one', async () => {
    const { db } = getDb();
    await reset(db);
    await migrate(db);
    const fresh = await schemaFingerprint(db);
    assert.ok(fresh.functions!.length >= 40 && fresh.columns!.length >= 150, 'the fingerprint sees the schema');

    // every migration in a run of its own, the function files applied only by the last run (an
    // older database had the function files of its own time; today's are applied once it is current)
    await reset(db);
    const ids = (await readdir(MIGRATIONS_DIR))
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => f.replace(/\.sql$/, ''));
    for (const id of ids) assert.deepEqual((await migrate(db, { until: id, functions: false })).applied, [id]);
    assert.deepEqual((await migrate(db)).applied, []);
    assert.deepEqual(await schemaFingerprint(db), fresh);

    // a database whose functions are older versions gets today's when a file's checksum changes
    const sql = await sqlCopy();
    try {
      const events = join(sql.functions, '20_events.sql');
      const text = await readFile(events, 'utf8');
      const older = text.replace(
        /CREATE OR REPLACE FUNCTION jf_event_view\(e event\) RETURNS json LANGUAGE sql STABLE AS \$\$[\s\S]*?\$\$;/,
        () => 'CREATE OR REPLACE FUNCTION jf_event_view(e event) RETURNS json LANGUAGE sql STABLE AS $$ SELECT NULL::json $$;',
      );
      assert.notEqual(older, text);
      await writeFile(events, older);
      await reset(db);
      await migrate(db, { functionsDir: sql.functions });
      assert.notDeepEqual((await schemaFingerprint(db)).functions, fresh.functions);
      assert.deepEqual((await migrate(db)).functions, (await readdir(FUNCTIONS_DIR)).filter((f) => f.endsWith('.sql')).sort());
      assert.deepEqual(await schemaFingerprint(db), fresh);
      assert.deepEqual((await migrate(db)).functions, [], 'applied once: nothing changed since');
    } finally {
      await sql.done();
    }
  });

  it('refuses to start on a database whose applied migration has changed, or that has one this version lacks', async () => {
    const { db } = getDb();
    const sql = await sqlCopy();
    await reset(db);
    await migrate(db);
    try {
      const file = join(sql.migrations, '29991231T000000_fixture.sql');
      await writeFile(file, 'CREATE TABLE fixture_thing (id text PRIMARY KEY);\n');
      assert.deepEqual((await migrate(db, { migrationsDir: sql.migrations })).applied, ['29991231T000000_fixture']);

      await writeFile(file, 'CREATE TABLE fixture_thing (id text PRIMARY KEY, extra integer);\n');
      const before = await schemaFingerprint(db);
      await assert.rejects(migrate(db, { migrationsDir: sql.migrations }), (err: unknown) => {
        assert.ok(err instanceof MigrationError);
        assert.equal(err.code, 'MIGRATION_CHANGED');
        assert.deepEqual(err.files, ['29991231T000000_fixture.sql']);
        assert.match(err.message, /src\/db\/migrations\/29991231T000000_fixture\.sql changed after it was applied/);
        return true;
      });
      // CRLF line endings are the same file
      await writeFile(file, 'CREATE TABLE fixture_thing (id text PRIMARY KEY);\r\n');
      assert.deepEqual((await migrate(db, { migrationsDir: sql.migrations })).applied, []);

      await assert.rejects(migrate(db), (err: unknown) => {
        assert.ok(err instanceof MigrationError);
        assert.equal(err.code, 'MIGRATION_UNKNOWN');
        assert.match(err.message, /29991231T000000_fixture\.sql/);
        return true;
      });
      assert.deepEqual(await schemaFingerprint(db), before, 'a refused start changes nothing');
    } finally {
      await sql.done();
      await reset(db);
      await migrate(db);
    }
  });

  it('reports pending migrations and stale function files as migrate would find them, reading only', async () => {
    const { db } = getDb();
    const ids = (await readdir(MIGRATIONS_DIR))
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => f.replace(/\.sql$/, ''));
    /** The status from inside a read-only transaction, with the advisory locks it took (none). */
    const readOnly = (files?: Awaited<ReturnType<typeof readSchemaFiles>>) =>
      db.transaction(async (tx) => {
        await tx.exec('SET TRANSACTION READ ONLY');
        const status = await schemaStatus(tx, files);
        const [locks] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`);
        return { ...status, advisoryLocks: locks!.n };
      });
    const sql = await sqlCopy();
    try {
      // never migrated: everything pending, and no table made
      await reset(db);
      assert.deepEqual(await readOnly(), { pending: ids, functionsStale: true, advisoryLocks: 0 });
      const [made] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
      assert.equal(made!.n, 0);

      // part way, without the function files
      await migrate(db, { until: ids[0], functions: false });
      assert.deepEqual(await readOnly(), { pending: ids.slice(1), functionsStale: true, advisoryLocks: 0 });

      await migrate(db);
      assert.deepEqual(await readOnly(), { pending: [], functionsStale: false, advisoryLocks: 0 });

      // another version's files: a new migration, a function file changed, added or gone
      await writeFile(join(sql.migrations, '29991231T000000_fixture.sql'), 'CREATE TABLE fixture_thing (id text PRIMARY KEY);\n');
      assert.deepEqual(await readOnly(await readSchemaFiles({ migrationsDir: sql.migrations })), {
        pending: ['29991231T000000_fixture'],
        functionsStale: false,
        advisoryLocks: 0,
      });
      const events = join(sql.functions, '20_events.sql');
      const text = await readFile(events, 'utf8');
      await writeFile(events, `${text}\n-- an edit\n`);
      assert.equal((await readOnly(await readSchemaFiles({ functionsDir: sql.functions }))).functionsStale, true);
      await writeFile(events, text.replace(/\n/g, '\r\n'));
      assert.equal((await readOnly(await readSchemaFiles({ functionsDir: sql.functions }))).functionsStale, false, 'CRLF line endings are the same file');
      await writeFile(join(sql.functions, '90_fixture.sql'), 'SELECT 1;\n');
      assert.equal((await readOnly(await readSchemaFiles({ functionsDir: sql.functions }))).functionsStale, true);
      await rm(join(sql.functions, '90_fixture.sql'));
      await rm(events);
      assert.equal((await readOnly(await readSchemaFiles({ functionsDir: sql.functions }))).functionsStale, true);

      // what migrate finds is what the status said: it applies the pending migration, then nothing
      assert.deepEqual((await migrate(db, { migrationsDir: sql.migrations })).applied, ['29991231T000000_fixture']);
      assert.deepEqual((await schemaStatus(db, await readSchemaFiles({ migrationsDir: sql.migrations }))).pending, []);
      // a migration this version lacks is not pending (a newer instance applied it)
      assert.deepEqual(await schemaStatus(db), { pending: [], functionsStale: false });
    } finally {
      await sql.done();
      await reset(db);
      await migrate(db);
    }
  });

  if (kind === 'postgres') {
    it('reports the status while another instance holds the migration lock', async () => {
      const { url } = getDb();
      const other = await openDb({ databaseUrl: url!, poolSize: 1 });
      try {
        await other.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock(7262311)');
          assert.deepEqual(await schemaStatus(getDb().db), { pending: [], functionsStale: false });
        });
      } finally {
        await other.close();
      }
    });

    it('applies each migration once when several instances start together', async () => {
      const { db, url } = getDb();
      await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      const pools = await Promise.all([1, 2, 3].map(() => openDb({ databaseUrl: url!, poolSize: 2 })));
      try {
        const results = await Promise.all(pools.map((p) => migrate(p)));
        const applied = results.flatMap((r) => r.applied);
        assert.equal(applied.length, results[0]!.total, 'every migration applied exactly once in total');
        assert.equal(new Set(applied).size, applied.length);
        assert.equal(results.filter((r) => r.functions.length > 0).length, 1, 'the function files applied by one instance');
      } finally {
        await Promise.all(pools.map((p) => p.close()));
      }
    });
  }

  it('refuses to update, delete or truncate ledger entries', async () => {
    const { db } = getDb();
    await db.query(`INSERT INTO program (id, name, created_at, updated_at) VALUES ('prg_immut', 'x', now(), now())`);
    await db.query(`INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount, occurred_at)
                    VALUES ('ent_immut', 'prg_immut', 'mbr_x', 'txn_x', 'earn', 'issued', 'member', 1, now())`);
    await assert.rejects(db.query(`UPDATE ledger_entry SET amount = 2 WHERE id = 'ent_immut'`), /append-only/);
    await assert.rejects(db.query(`DELETE FROM ledger_entry WHERE id = 'ent_immut'`), /append-only/);
    await assert.rejects(db.exec(`TRUNCATE ledger_entry`), /append-only/);
    const [row] = await db.query<{ amount: number }>(`SELECT amount FROM ledger_entry WHERE id = 'ent_immut'`);
    assert.equal(row!.amount, 1);
  });
});
