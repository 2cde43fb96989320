/**
 * Overload and conflicts (issue 8 items 3 and 5): a request that cannot get a database connection
 * (or, on PGlite, its turn) within DATABASE_ACQUIRE_TIMEOUT_MS is answered 503 SERVICE_UNAVAILABLE
 * with Retry-After before it started anything, never 500; deadlocks and serialization failures are
 * run again from the start a bounded number of times, then 503; a database that is gone is 503.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Db, openDb, type Queryable } from '../src/db/db.ts';
import { migrate } from '../src/db/migrate.ts';
import { runAudit } from '../src/modules/audit/index.ts';
import { DomainError } from '../src/shared/errors.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { createTestDb, DB_KINDS, type DbKind, TEST_DATABASE_URL, type TestDb } from './helpers/db.ts';
import { assertProblem, type Json } from './http/support.ts';

const T0 = new Date('2026-01-01T00:00:00.000Z');

/** A test database of the kind, opened with the given pool and tuning (a PGlite of its own; a PostgreSQL database with a second pool). */
async function tunedDb(kind: DbKind, options: { poolSize?: number; acquireTimeoutMs: number; conflictRetries?: number }): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = await openDb(options);
    await migrate(db);
    return { kind, db, close: () => db.close() };
  }
  const base = await createTestDb('postgres', { poolSize: 1 });
  const db = await openDb({ databaseUrl: base.url, ...options });
  return {
    kind,
    db,
    url: base.url,
    async close() {
      await db.close();
      await base.close();
    },
  };
}

/** Rows as plain objects in a plain array (postgres.js returns a Result array with extra fields). */
async function rows(p: Promise<Record<string, unknown>[]>): Promise<Record<string, unknown>[]> {
  return (await p).map((r) => ({ ...r }));
}

/** Runs fn again while it is shed (how a patient client behaves), for reads the test itself makes. */
async function patiently<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'SERVICE_UNAVAILABLE') || i >= 200) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/**
 * The same handle, with its queries run one after the other, each patiently: the audit sends several
 * queries at once, and with one connection and a 5 ms wait one of them would be shed every time on a
 * busy machine, however often the whole audit were tried again.
 */
function oneAtATime(db: Db): Queryable {
  let chain: Promise<unknown> = Promise.resolve();
  const next = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(() => patiently(fn));
    chain = run.catch(() => undefined);
    return run;
  };
  return {
    query: (text, params) => next(() => db.query(text, params)),
    exec: (text) => next(() => db.exec(text)),
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

function assertUnavailable(err: unknown, reason: string): DomainError {
  assert.ok(err instanceof DomainError, `a DomainError, got ${String(err)}`);
  assert.equal(err.code, 'SERVICE_UNAVAILABLE');
  assert.equal(err.status, 503);
  assert.deepEqual(err.details, { retry_after_seconds: 1, reason });
  return err;
}

const FORCE = (code: string) => `DO $$ BEGIN RAISE EXCEPTION 'forced %', '${code}' USING ERRCODE = '${code}'; END $$`;

for (const kind of DB_KINDS) {
  describe(`the database under overload and conflicts [${kind}]`, () => {
    let t: TestDb;
    before(async () => {
      t = await tunedDb(kind, { poolSize: 1, acquireTimeoutMs: 80, conflictRetries: 2 });
      await t.db.exec('CREATE TABLE h2_probe (id serial PRIMARY KEY, what text NOT NULL); CREATE SEQUENCE h2_calls');
    });
    after(() => t?.close());

    it('sheds a query that waited longer than the acquire timeout, before it ran (503 database_busy)', async () => {
      const { db } = t;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const holder = db.transaction(async (tx) => {
        await tx.query(`INSERT INTO h2_probe (what) VALUES ('holder')`);
        entered();
        await held;
      });
      await inside;
      const t0 = performance.now();
      const err = await rejection(db.query(`INSERT INTO h2_probe (what) VALUES ('shed')`));
      const waited = performance.now() - t0;
      assertUnavailable(err, 'database_busy');
      assert.ok(waited >= 70 && waited < 5000, `waited ${Math.round(waited)} ms`);
      const shedTx = await rejection(db.transaction((tx) => tx.query(`INSERT INTO h2_probe (what) VALUES ('shed tx')`)));
      assertUnavailable(shedTx, 'database_busy');
      release();
      await holder;
      assert.deepEqual(
        (await db.query<{ what: string }>(`SELECT what FROM h2_probe ORDER BY id`)).map((r) => r.what),
        ['holder'],
        'nothing of the shed ones ran',
      );
      await db.query('DELETE FROM h2_probe');
    });

    it('runs a transaction that hit a serialization failure or deadlock again from the start', async () => {
      const { db } = t;
      for (const code of ['40001', '40P01']) {
        let attempts = 0;
        const value = await db.transaction(async (tx) => {
          attempts++;
          await tx.query('INSERT INTO h2_probe (what) VALUES ($1)', [`${code} attempt ${attempts}`]);
          if (attempts < 3) await tx.exec(FORCE(code));
          return attempts;
        });
        assert.equal(value, 3);
        assert.equal(attempts, 3);
      }
      assert.deepEqual(
        (await db.query<{ what: string }>('SELECT what FROM h2_probe ORDER BY id')).map((r) => r.what),
        ['40001 attempt 3', '40P01 attempt 3'],
        'only the last attempts were kept',
      );
      await db.query('DELETE FROM h2_probe');
    });

    it('gives up after 1 + DATABASE_CONFLICT_RETRIES attempts with 503 conflict, nothing written', async () => {
      const { db } = t;
      let attempts = 0;
      const err = await rejection(
        db.transaction(async (tx) => {
          attempts++;
          await tx.query(`INSERT INTO h2_probe (what) VALUES ('doomed')`);
          await tx.exec(FORCE('40P01'));
        }),
      );
      const domain = assertUnavailable(err, 'conflict');
      assert.equal(attempts, 3);
      assert.equal((domain.cause as { code?: string }).code, '40P01');
      assert.deepEqual(await rows(db.query('SELECT what FROM h2_probe')), []);
    });

    it('runs a single statement that hit a deadlock again (it was rolled back whole)', async () => {
      const { db } = t;
      await db.exec(`CREATE FUNCTION h2_flaky() RETURNS int LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO h2_probe (what) VALUES ('flaky');
          IF nextval('h2_calls') < 3 THEN RAISE EXCEPTION 'forced deadlock' USING ERRCODE = '40P01'; END IF;
          RETURN currval('h2_calls');
        END $$`);
      assert.deepEqual(await rows(db.query('SELECT h2_flaky() AS n')), [{ n: 3 }]);
      assert.deepEqual(await rows(db.query('SELECT what FROM h2_probe')), [{ what: 'flaky' }]);
      await db.query('DELETE FROM h2_probe');
    });

    it('does not run again what is not a conflict (a constraint violation stays as it is)', async () => {
      const { db } = t;
      let attempts = 0;
      const err = await rejection(
        db.transaction(async (tx) => {
          attempts++;
          await tx.query('INSERT INTO h2_probe (what) VALUES (NULL)');
        }),
      );
      assert.equal(attempts, 1);
      assert.equal((err as { code?: string }).code, '23502');
    });
  });

  describe(`HTTP under overload [${kind}]`, () => {
    let t: TestDb;
    let api: TestApp;
    let programId = '';
    before(async () => {
      // one connection, and almost no patience: most of a burst is shed
      t = await tunedDb(kind, { poolSize: 1, acquireTimeoutMs: 5 });
      api = await createTestApp(t);
    });
    after(async () => {
      await api?.close();
      await t?.close();
    });

    it('answers a burst with 201 or 503 + Retry-After problem+json, never 500, and a shed write leaves no trace', async () => {
      // set up with patience: creating the fixtures must not be shed
      const patient = kind === 'pglite' ? t.db : await openDb({ databaseUrl: t.url, poolSize: 2 });
      const program = (await callPatiently(api, 'POST', '/v1/programs', { name: 'overload' })).json() as Json;
      programId = program.id;
      const members: string[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await callPatiently(api, 'POST', `/v1/programs/${program.id}/members`, { external_id: `m${i}` });
        members.push((res.json() as Json).id);
      }
      const keys = Array.from({ length: 40 }, (_, i) => `burst-${kind}-${i}`);
      const burst = await Promise.all(
        keys.map((key, i) => api.call('POST', `/v1/members/${members[i % members.length]}/credits`, { body: { points: 10 }, idem: key })),
      );
      const statuses = burst.map((r) => r.statusCode);
      assert.ok(
        statuses.every((s) => s === 201 || s === 503),
        `only 201 and 503: ${statuses.join(' ')}`,
      );
      const shed = burst.filter((r) => r.statusCode === 503);
      assert.ok(shed.length > 0, 'the burst overloaded one connection with a 5 ms wait');
      for (const res of shed) {
        const body = assertProblem(res, 503, 'SERVICE_UNAVAILABLE');
        assert.equal(res.headers['retry-after'], '1');
        assert.equal(body.retry_after_seconds, 1);
        assert.match(body.reason, /^database_busy$/);
      }
      const okCount = statuses.filter((s) => s === 201).length;
      const total = async () => {
        let sum = 0;
        for (const m of members)
          sum += (await patiently(() => patient.query<{ n: number }>('SELECT coalesce(sum(amount), 0)::int8 AS n FROM lot WHERE member_id = $1', [m])))[0]!.n;
        return sum;
      };
      assert.equal(await total(), 10 * okCount, 'exactly the acknowledged credits were written');
      // the shed ones, sent again with their keys, run now: nothing of them was stored
      for (const [i, res] of burst.entries()) {
        if (res.statusCode !== 503) continue;
        const again = await callPatiently(api, 'POST', `/v1/members/${members[i % members.length]}/credits`, { points: 10 }, keys[i]);
        assert.equal(again.statusCode, 201, again.body);
        assert.notEqual(again.headers['idempotent-replayed'], 'true');
      }
      assert.equal(await total(), 10 * keys.length);
      assert.ok((await runAudit(oneAtATime(patient), T0, program.id)).ok);
      if (patient !== t.db) await patient.close();
    });

    it('answers a burst of event batches with 200 or 503, never 500, and a shed batch leaves no event', async () => {
      const patient = kind === 'pglite' ? t.db : await openDb({ databaseUrl: t.url, poolSize: 2 });
      const member = (await callPatiently(api, 'POST', `/v1/programs/${programId}/members`, { external_id: 'batcher' })).json() as Json;
      const batches = Array.from({ length: 20 }, (_, b) => ({
        program_id: programId,
        events: Array.from({ length: 3 }, (_, k) => ({
          id: `b${b}-e${k}`,
          type: 'order.paid',
          member_id: member.id,
          data: { order_id: `o${b}-${k}`, amount: 1000, currency: 'CNY' },
        })),
      }));
      const answers = await Promise.all(batches.map((body) => api.call('POST', '/v1/events/batch', { body })));
      const statuses = answers.map((r) => r.statusCode);
      assert.ok(
        statuses.every((s) => s === 200 || s === 503),
        statuses.join(' '),
      );
      for (const res of answers.filter((r) => r.statusCode === 503)) {
        assertProblem(res, 503, 'SERVICE_UNAVAILABLE');
        assert.equal(res.headers['retry-after'], '1');
      }
      const stored = new Set(
        (await patiently(() => patient.query<{ external_id: string }>('SELECT external_id FROM event WHERE program_id = $1', [programId]))).map(
          (r) => r.external_id,
        ),
      );
      answers.forEach((res, b) => {
        for (let k = 0; k < 3; k++) assert.equal(stored.has(`b${b}-e${k}`), res.statusCode === 200, `batch ${b} (${res.statusCode}) event ${k}`);
      });
      if (patient !== t.db) await patient.close();
    });
  });
}

/** A request sent again (after its Retry-After) until it is not shed: how a client should behave. */
async function callPatiently(api: TestApp, method: string, url: string, body: unknown, idem?: string) {
  for (let i = 0; ; i++) {
    const res = await api.call(method, url, { body, idem: idem ?? `patient-${url}-${JSON.stringify(body)}` });
    if (res.statusCode !== 503 || i >= 50) return res;
    await new Promise((r) => setTimeout(r, 10));
  }
}

if (DB_KINDS.includes('postgres')) {
  describe('PostgreSQL: real deadlocks and lost connections', () => {
    let t: TestDb;
    before(async () => {
      t = await tunedDb('postgres', { poolSize: 4, acquireTimeoutMs: 2000 });
      await t.db.exec(`CREATE TABLE h2_pair (id int PRIMARY KEY, n int NOT NULL); INSERT INTO h2_pair VALUES (1, 0), (2, 0)`);
    });
    after(() => t?.close());

    it('retries the loser of a real deadlock (two transactions locking two rows in opposite order): both commit', async () => {
      const { db } = t;
      let arrived = 0;
      let bothIn!: () => void;
      const barrier = new Promise<void>((r) => (bothIn = r));
      let attempts = 0;
      const cross = (first: number, second: number) =>
        db.transaction(async (tx) => {
          attempts++;
          await tx.query(`SET LOCAL deadlock_timeout = '50ms'`);
          await tx.query('UPDATE h2_pair SET n = n + 1 WHERE id = $1', [first]);
          if (++arrived === 2) bothIn();
          await barrier;
          await tx.query('UPDATE h2_pair SET n = n + 10 WHERE id = $1', [second]);
        });
      await Promise.all([cross(1, 2), cross(2, 1)]);
      assert.equal(attempts, 3, 'one of the two ran again');
      assert.deepEqual(await rows(db.query('SELECT id, n FROM h2_pair ORDER BY id')), [
        { id: 1, n: 11 },
        { id: 2, n: 11 },
      ]);
    });

    it('answers 503 when the server ends the connection (57P01 admin shutdown)', async () => {
      const { db } = t;
      const running = rejection(db.query(`SELECT pg_sleep(5) FROM (SELECT set_config('application_name', 'h2_victim', false)) s`));
      const killer = await openDb({ databaseUrl: t.url, poolSize: 1 });
      try {
        for (let i = 0; i < 100; i++) {
          const [row] = await killer.query<{ n: number }>(
            `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'h2_victim'`,
          );
          if (row!.n > 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await killer.close();
      }
      const err = assertUnavailable(await running, 'database_unavailable');
      // PostgreSQL sends 57P01 as it ends the backend; postgres.js may see the socket close first
      assert.match(String((err.cause as { code?: string }).code), /^(57P01|CONNECTION_CLOSED)$/);
      assert.deepEqual(await rows(db.query('SELECT 1 AS one')), [{ one: 1 }], 'the pool connects again');
    });

    it('answers 503 when the server cannot be reached (connection refused)', async () => {
      // a TCP proxy in front of the server, closed mid-way
      const target = new URL(t.url!);
      const sockets = new Set<net.Socket>();
      const proxy = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      const port = (proxy.address() as net.AddressInfo).port;
      const url = new URL(t.url!);
      url.host = `127.0.0.1:${port}`;
      const stop = () =>
        new Promise<void>((r) => {
          proxy.close(() => r());
          for (const s of sockets) s.destroy();
        });
      const db = await openDb({ databaseUrl: url.toString(), poolSize: 1, acquireTimeoutMs: 1000 }).catch(async (err) => {
        await stop();
        throw err;
      });
      try {
        assert.deepEqual(await rows(db.query('SELECT 1 AS one')), [{ one: 1 }]);
        await stop();
        const first = await rejection(db.query('SELECT 1 AS one'));
        assertUnavailable(first, 'database_unavailable');
        const refused = await rejection(db.query('SELECT 1 AS one'));
        assert.equal((assertUnavailable(refused, 'database_unavailable').cause as { code?: string }).code, 'ECONNREFUSED');
      } finally {
        await db.close();
        if (proxy.listening) await stop();
      }
    });

    it('answers 503 when the server has no connection left (53300 too many connections)', async () => {
      const role = `jifen_h2_limited_${process.pid}`;
      const admin = await openDb({ databaseUrl: TEST_DATABASE_URL, poolSize: 1 });
      await admin.exec(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`);
      const url = new URL(t.url!);
      url.username = role;
      const db = await openDb({ databaseUrl: url.toString(), poolSize: 2, acquireTimeoutMs: 1000 });
      try {
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let entered!: () => void;
        const inside = new Promise<void>((r) => (entered = r));
        const holder = db.transaction(async (tx) => {
          await tx.query('SELECT 1');
          entered();
          await held;
        });
        await inside;
        const err = await rejection(db.query('SELECT 1'));
        assert.equal((assertUnavailable(err, 'database_unavailable').cause as { code?: string }).code, '53300');
        release();
        await holder;
      } finally {
        await db.close();
        await admin.exec(`DROP ROLE IF EXISTS ${role}`);
        await admin.close();
      }
    });
  });
}
