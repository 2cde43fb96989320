/**
 * The embedded database runs in a worker thread (src/db/pglite-worker.ts): what comes back across
 * the thread boundary — values, errors with every PostgreSQL field, transactions — must be what
 * PGlite gives in process, and the server's event loop must stay free while a query runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messages, PGlite } from '@electric-sql/pglite';
import { type Db, openDb } from '../src/db/db.ts';
import { DomainError, fromDatabaseError } from '../src/shared/errors.ts';
import { createTestDb, DB_KINDS, type TestDb } from './helpers/db.ts';

/** The fields of a database error that callers read (fromDatabaseError, isIdempotencyRace, logs). */
const FIELDS = [
  'name',
  'message',
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'routine',
  'query',
  'params',
] as const;

async function failure(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  assert.fail('expected the query to fail');
}

describe('PGlite in a worker thread', () => {
  let db: Db;
  let local: PGlite;
  before(async () => {
    db = await openDb({});
    local = new PGlite();
    await local.waitReady;
    await local.exec(`SET TimeZone TO 'UTC'`);
    for (const q of [db, local]) {
      await q.exec(`
        CREATE TABLE w (id int PRIMARY KEY, v text NOT NULL CHECK (v <> ''), n int8, j jsonb);
        CREATE FUNCTION raise_domain() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'INSUFFICIENT_POINTS' USING ERRCODE = 'P0001', DETAIL = '{"available": 5, "requested": 9, "field": "points"}'; END $$;
      `);
    }
  });
  after(async () => {
    await db?.close();
    await local?.close();
  });

  it('returns the values PGlite parses in process: int8 (number, BigInt past 2^53), numeric, json, timestamptz, bytea, arrays, null', async () => {
    const sql = `SELECT 42::int8 AS small, 9007199254740993::int8 AS big, -9007199254740991::int8 AS min_safe, 12.50::numeric AS num,
      '{"a":[1,{"b":null}],"c":"✓"}'::jsonb AS jb, '[1,2]'::json AS js, timestamptz '2026-03-01 12:34:56.789+08' AS ts, date '2026-03-01' AS d,
      '\\x00ff10'::bytea AS bytes, ARRAY[1,2,3]::int8[] AS arr, ARRAY['a', NULL, 'b"c'] AS texts, NULL::text AS nothing, true AS yes,
      1.5::float8 AS f, interval '1 day 2 hours' AS iv, 'x'::char(3) AS ch, $1::text AS param_text, $2::int AS param_int, $3::jsonb AS param_json,
      $4::timestamptz AS param_ts, current_setting('TimeZone') AS tz`;
    const params = ['héllo', 7, JSON.stringify({ k: [1, 2] }), new Date('2026-01-02T03:04:05.678Z')];
    const across = await db.query(sql, params);
    const inProcess = (await local.query(sql, params)).rows;
    assert.deepStrictEqual(across, inProcess);
    const row = across[0]!;
    assert.equal(row.small, 42);
    assert.equal(row.big, 9007199254740993n);
    assert.ok(row.ts instanceof Date);
    assert.ok(row.bytes instanceof Uint8Array);
    assert.equal(row.tz, 'UTC');
  });

  it('returns errors with every PostgreSQL field, as a DatabaseError, as PGlite throws them in process', async () => {
    const cases: [string, unknown[]?][] = [['SELECT 1/0'], ['INSERT INTO w (id, v) VALUES (1, $1)', ['']], ['SELECT nope FROM w'], ['SELECT raise_domain()']];
    await db.query(`INSERT INTO w (id, v) VALUES (100, 'x')`);
    await local.query(`INSERT INTO w (id, v) VALUES (100, 'x')`);
    cases.push([`INSERT INTO w (id, v) VALUES (100, 'y')`]);
    for (const [sql, params] of cases) {
      const across = await failure(db.query(sql, params));
      const inProcess = await failure(local.query(sql, params));
      assert.ok(across instanceof messages.DatabaseError, `${sql}: a DatabaseError`);
      for (const f of FIELDS) assert.deepStrictEqual(across[f], inProcess[f], `${sql}: ${f}`);
      assert.deepStrictEqual(fromDatabaseError(across), fromDatabaseError(inProcess), `${sql}: the same API error`);
    }
    const unique = await failure(db.query(`INSERT INTO w (id, v) VALUES (100, 'y')`));
    assert.equal(unique.code, '23505');
    assert.equal(unique.constraint, 'w_pkey');
    assert.equal(unique.detail, 'Key (id)=(100) already exists.');
    const domain = fromDatabaseError(await failure(db.query('SELECT raise_domain()')));
    assert.ok(domain instanceof DomainError);
    assert.equal(domain.code, 'INSUFFICIENT_POINTS');
    assert.deepEqual(domain.details, { available: 5, requested: 9, field: 'points' });
  });

  it("commits a transaction when fn resolves, rolls it back when fn throws (with fn's own error)", async () => {
    const value = await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO w (id, v, n) VALUES (1, 'one', 1)`);
      const [row] = await tx.query<{ n: number }>('SELECT n FROM w WHERE id = 1');
      return row!.n;
    });
    assert.equal(value, 1);
    const boom = new Error('boom');
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO w (id, v) VALUES (2, 'two')`);
        await tx.exec(`UPDATE w SET v = 'changed' WHERE id = 1`);
        throw boom;
      }),
      (err) => err === boom,
    );
    assert.deepEqual(await db.query('SELECT id, v FROM w WHERE id IN (1, 2) ORDER BY id'), [{ id: 1, v: 'one' }]);
    // a failed statement that fn swallows: COMMIT rolls back, as PGlite says in process
    const aborted = await failure(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO w (id, v) VALUES (3, 'three')`);
        await tx.query('SELECT 1/0').catch(() => {});
      }),
    );
    assert.equal(aborted.code, '25P02');
    assert.deepEqual(await db.query('SELECT id FROM w WHERE id = 3'), []);
    // a handle kept past its transaction is closed
    let leaked: { query: Db['query'] } | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    await assert.rejects(leaked!.query('SELECT 1'), /Transaction is closed/);
  });

  it('runs one transaction at a time: others and plain queries wait until it ends', async () => {
    await db.query('DELETE FROM w');
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = db.transaction(async (tx) => {
      await tx.query(`INSERT INTO w (id, v) VALUES (10, 'a')`);
      order.push('first: one row');
      await gate;
      await tx.query(`INSERT INTO w (id, v) VALUES (11, 'b')`);
      order.push('first: two rows');
    });
    await new Promise((r) => setTimeout(r, 20));
    const second = db.transaction(async (tx) => {
      const [row] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM w');
      order.push(`second saw ${row!.n}`);
    });
    const plain = db.query<{ n: number }>('SELECT count(*)::int AS n FROM w').then(([row]) => order.push(`plain saw ${row!.n}`));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(order, ['first: one row'], 'nothing ran inside the open transaction');
    release();
    await Promise.all([first, second, plain]);
    assert.deepEqual(order, ['first: one row', 'first: two rows', 'second saw 2', 'plain saw 2']);
  });

  it('runs queries of one transaction issued together (Promise.all) one after the other', async () => {
    const rows = await db.transaction((tx) => Promise.all([1, 2, 3].map((i) => tx.query<{ i: number }>('SELECT $1::int AS i', [i]))));
    assert.deepEqual(
      rows.map((r) => r[0]!.i),
      [1, 2, 3],
    );
  });

  it('keeps the event loop free while a long query runs in the worker', async () => {
    let ticks = 0;
    let last = performance.now();
    let longestGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 10);
    const t0 = performance.now();
    await db.query('SELECT pg_sleep(0.6)');
    const took = performance.now() - t0;
    clearInterval(timer);
    assert.ok(took >= 550, `the query ran (${Math.round(took)} ms)`);
    // in process the timer cannot fire at all while the WebAssembly runs
    assert.ok(ticks >= 10, `the timer fired ${ticks} times during a ${Math.round(took)} ms query`);
    assert.ok(longestGap < took / 2, `longest gap between ticks ${Math.round(longestGap)} ms`);
  });

  it('refuses work after close, as a 503 (the database is gone), and closes once', async () => {
    const other = await openDb({});
    const running = other.query('SELECT pg_sleep(0.2), 1 AS one');
    const closing = other.close();
    assert.deepEqual(
      (await running).map((r) => r.one),
      [1],
      'what was in flight finishes',
    );
    await closing;
    await other.close();
    const err = await failure(other.query('SELECT 1'));
    assert.ok(err instanceof DomainError);
    assert.equal(err.code, 'SERVICE_UNAVAILABLE');
  });

  it('reports a data directory it cannot open as an error, not a hang', async () => {
    await assert.rejects(openDb({ dataDir: '/proc/version/not-a-dir' }));
  });
});

// The same worker path is what every PGlite test of the suite runs on (createTestDb opens it):
// one check that the helpers' database is the worker's.
if (DB_KINDS.includes('pglite')) {
  describe("the test helpers' PGlite", () => {
    let t: TestDb;
    before(async () => {
      t = await createTestDb('pglite');
    });
    after(() => t?.close());
    it('answers without blocking the event loop', async () => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      await t.db.query('SELECT pg_sleep(0.3)');
      clearInterval(timer);
      assert.ok(ticks >= 5, `${ticks} ticks`);
    });
  });
}
