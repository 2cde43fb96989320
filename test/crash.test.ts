/**
 * Crash durability, on both databases: a real server process takes concurrent writes with
 * idempotency keys (credits, debits, holds) and event batches (idempotent on their event ids), is
 * killed with SIGKILL at a random moment, and is restarted on the same database or data directory.
 * After each restart:
 *   - the audit is clean;
 *   - the balances are exactly the acknowledged writes plus those in-flight writes whose retry
 *     shows they had committed (a retry replays or applies: all or nothing, never part);
 *   - every in-flight write, retried with its key and body, either replays or applies once;
 *   - every acknowledged write replays with its original status and body (Idempotent-Replayed: true);
 *   - the balances are then exactly all the writes sent.
 *
 * Seeded: the operations, their mix and the moment of each kill come from CRASH_SEED (printed in
 * the test names). Timing still varies from run to run, so a seed replays the plan, not the exact
 * interleaving. CRASH_CYCLES and CRASH_OPS make longer runs (defaults: 3 cycles, 120 operations
 * planned per cycle, 8 at a time).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDb, DB_KINDS, type TestDb } from './helpers/db.ts';
import { type HttpResult, killAllServers, type StartedServer, startServer } from './helpers/server-process.ts';

const SEED = Number(process.env.CRASH_SEED ?? randomInt(2 ** 31));
const CYCLES = Number(process.env.CRASH_CYCLES ?? 3);
const OPS_PER_CYCLE = Number(process.env.CRASH_OPS ?? 120);
const CONCURRENCY = 8;
const MEMBERS = 4;
const INITIAL = 1_000_000;
const EVENT_POINTS = 3;
const REQUEST_TIMEOUT_MS = 30_000;
process.stderr.write(`crash test: CRASH_SEED=${SEED} CRASH_CYCLES=${CYCLES} CRASH_OPS=${OPS_PER_CYCLE}\n`);

/** mulberry32: small, fast, good enough to plan a workload from a seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)) };
}

interface Effect {
  available: number;
  held: number;
  earned: number;
}

interface Op {
  kind: 'credit' | 'debit' | 'hold' | 'batch';
  path: string;
  body: any;
  /** Idempotency-Key (ledger writes); event batches are idempotent on their event ids instead. */
  idem?: string;
  effects: Map<string, Effect>;
}

interface Outcome {
  op: Op;
  /** The answer that counts: the first one, or the retry's for a write whose first answer was lost. */
  status: number;
  json: any;
}

function effect(effects: Map<string, Effect>, member: string, delta: Partial<Effect>) {
  const e = effects.get(member) ?? { available: 0, held: 0, earned: 0 };
  e.available += delta.available ?? 0;
  e.held += delta.held ?? 0;
  e.earned += delta.earned ?? 0;
  effects.set(member, e);
}

function totals(ops: Iterable<Op>, members: string[]): Map<string, Effect> {
  const sum = new Map(members.map((m) => [m, { available: 0, held: 0, earned: 0 }]));
  for (const op of ops) {
    for (const [m, e] of op.effects) {
      const s = sum.get(m)!;
      s.available += e.available;
      s.held += e.held;
      s.earned += e.earned;
    }
  }
  return sum;
}

/** Plans one cycle's operations: every one of them succeeds whatever the order (the members hold plenty). */
function plan(random: ReturnType<typeof rng>, cycle: number, members: string[], programId: string): Op[] {
  const ops: Op[] = [];
  const tag = `${SEED}-${cycle}`;
  for (let i = 0; i < OPS_PER_CYCLE; i++) {
    const member = members[random.int(0, members.length - 1)]!;
    const effects = new Map<string, Effect>();
    const r = random.next();
    const idem = `crash-${tag}-${i}`;
    if (r < 0.35) {
      const points = random.int(1, 50);
      effect(effects, member, { available: points, earned: points });
      ops.push({ kind: 'credit', path: `/v1/members/${member}/credits`, body: { points, reason: `crash ${tag}-${i}` }, idem, effects });
    } else if (r < 0.6) {
      const points = random.int(1, 20);
      effect(effects, member, { available: -points });
      ops.push({ kind: 'debit', path: `/v1/members/${member}/debits`, body: { points }, idem, effects });
    } else if (r < 0.8) {
      const points = random.int(1, 20);
      effect(effects, member, { available: -points, held: points });
      ops.push({ kind: 'hold', path: `/v1/members/${member}/holds`, body: { points, expires_in_seconds: 86_400 }, idem, effects });
    } else {
      const events = Array.from({ length: random.int(1, 5) }, (_, j) => {
        const who = members[random.int(0, members.length - 1)]!;
        effect(effects, who, { available: EVENT_POINTS, earned: EVENT_POINTS });
        return { id: `evt-${tag}-${i}-${j}`, type: 'checkin', member_id: who };
      });
      ops.push({ kind: 'batch', path: '/v1/events/batch', body: { program_id: programId, events }, effects });
    }
  }
  return ops;
}

function send(server: StartedServer, op: Op): Promise<HttpResult> {
  return server.request('POST', op.path, { body: op.body, idem: op.idem, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
}

/** An answer that acknowledges the write (it is committed). */
function assertApplied(op: Op, res: HttpResult, context: string) {
  if (op.kind === 'batch') {
    assert.equal(res.status, 200, `${context}: ${res.text}`);
    for (const r of res.json.results) assert.equal(r.status, 201, `${context}: event ${r.event_id}: ${JSON.stringify(r)}`);
    assert.equal(res.json.points, EVENT_POINTS * op.body.events.length, context);
  } else {
    assert.equal(res.status, 201, `${context}: ${res.text}`);
    assert.equal(res.headers.get('idempotent-replayed'), null, `${context}: a first answer is not a replay`);
  }
}

/** The answer to sending an acknowledged write again: the original one, marked as a replay, nothing changed. */
function assertReplay(original: Outcome, res: HttpResult, context: string) {
  if (original.op.kind === 'batch') {
    assert.equal(res.status, 200, `${context}: ${res.text}`);
    assert.deepEqual([res.json.processed, res.json.duplicates, res.json.points], [0, original.op.body.events.length, 0], `${context}: ${res.text}`);
    original.json.results.forEach((first: any, i: number) => {
      const again = res.json.results[i];
      assert.equal(again.status, 200, `${context}: event ${first.event_id} is a duplicate`);
      assert.deepEqual(again.result, first.result, `${context}: event ${first.event_id} answers its first result`);
    });
  } else {
    assert.equal(res.status, original.status, `${context}: ${res.text}`);
    assert.equal(res.headers.get('idempotent-replayed'), 'true', context);
    assert.deepEqual(res.json, original.json, `${context}: the replay is the original answer`);
  }
}

for (const kind of DB_KINDS) {
  describe(`crash durability [${kind}]`, { timeout: 300_000 }, () => {
    const random = rng(SEED ^ (kind === 'postgres' ? 0x9e3779b9 : 0));
    let dataDir: string | undefined;
    let testDb: TestDb | undefined;
    let env: Record<string, string>;
    let server: StartedServer | undefined;
    let programId = '';
    const members: string[] = [];
    /** Writes known to be committed, with the answer that counts. */
    const acked: Outcome[] = [];
    /** Writes sent whose answer was lost to the crash (or never reached the server). */
    let inFlight: Op[] = [];
    /** How many of `acked` (from the start) were replayed already. */
    let replayed = 0;
    const counts = { sent: 0, acked: 0, inFlight: 0, committedInFlight: 0, replays: 0, requests: 0, startMs: [] as number[] };

    const request = async (method: string, path: string, body?: unknown, idem?: string) => {
      counts.requests++;
      return server!.request(method, path, { body, idem, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    };
    const ok = async (method: string, path: string, body?: unknown, idem?: string) => {
      const res = await request(method, path, body, idem);
      assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
      return res.json;
    };
    const balances = async () => {
      const out = new Map<string, Effect>();
      for (const m of members) {
        const b = await ok('GET', `/v1/members/${m}/balance`);
        out.set(m, { available: b.available, held: b.held, earned: b.lifetime_earned });
      }
      return out;
    };
    const audit = async (context: string) => {
      const report = await ok('GET', '/v1/audit');
      assert.equal(report.ok, true, `${context}: audit: ${JSON.stringify(report.violations)}`);
    };

    before(async () => {
      if (kind === 'pglite') {
        dataDir = await mkdtemp(join(tmpdir(), 'jifen-crash-'));
        env = { JIFEN_DATA_DIR: dataDir };
      } else {
        testDb = await createTestDb('postgres', { poolSize: 1 });
        env = { DATABASE_URL: testDb.url!, JIFEN_DEMO: 'false' };
      }
      const t0 = Date.now();
      server = await startServer(env);
      counts.startMs.push(Date.now() - t0);
      const program = await ok('POST', '/v1/programs', { name: 'Crash test', time_zone: 'UTC' }, `crash-${SEED}-program`);
      programId = program.id;
      await ok(
        'POST',
        `/v1/programs/${programId}/rules`,
        {
          definition: { name: 'check-in', triggers: ['checkin'], effect: { type: 'fixed', points: EVENT_POINTS } },
        },
        `crash-${SEED}-rule`,
      );
      for (let i = 0; i < MEMBERS; i++) {
        members.push((await ok('POST', `/v1/programs/${programId}/members`, { external_id: `crash-${SEED}-${randomBytes(4).toString('hex')}` })).id);
      }
      for (const m of members) {
        const op: Op = { kind: 'credit', path: `/v1/members/${m}/credits`, body: { points: INITIAL }, idem: `crash-${SEED}-initial-${m}`, effects: new Map() };
        effect(op.effects, m, { available: INITIAL, earned: INITIAL });
        const res = await send(server, op);
        counts.requests++;
        assertApplied(op, res, 'initial credit');
        acked.push({ op, status: res.status, json: res.json });
      }
    });

    after(async () => {
      await killAllServers(); // nothing started here outlives the file, pass or fail
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      await testDb?.close();
      process.stderr.write(`crash test [${kind}]: ${JSON.stringify(counts)}\n`);
    });

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      it(`cycle ${cycle}/${CYCLES}: concurrent writes, kill -9 at a random moment, restart, nothing lost or half done (seed ${SEED})`, async () => {
        const context = `seed ${SEED}, ${kind}, cycle ${cycle}`;
        const ops = plan(random, cycle, members, programId);
        const killAfterAcks = random.int(1, 60);
        const killDelayMs = random.int(0, 20);

        // traffic, and the kill in the middle of it
        const victim = server!;
        let acksThisCycle = 0;
        let killed = false;
        let killing: Promise<unknown> | undefined;
        const kill = () => {
          if (!killing)
            killing = new Promise((resolve) => setTimeout(resolve, killDelayMs)).then(() => {
              killed = true;
              return victim.kill('SIGKILL');
            });
        };
        let next = 0;
        const worker = async () => {
          while (!killed && next < ops.length) {
            const op = ops[next++]!;
            counts.sent++;
            counts.requests++;
            let res: HttpResult;
            try {
              res = await send(victim, op);
            } catch {
              inFlight.push(op); // no answer: committed or not, nobody knows yet
              continue;
            }
            if (res.status === 503) {
              inFlight.push(op); // shed under load: not committed; the retry applies it
              continue;
            }
            assertApplied(op, res, context);
            acked.push({ op, status: res.status, json: res.json });
            counts.acked++;
            if (++acksThisCycle >= killAfterAcks) kill();
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
        kill(); // in case every planned write was answered before the target
        await killing;
        const exit = await victim.exited;
        assert.equal(exit.signal, 'SIGKILL', `${context}: the server was killed, it did not exit by itself`);
        counts.inFlight += inFlight.length;
        assert.ok(inFlight.length > 0, `${context}: the kill came while writes were in flight`);

        // restart on the same database
        const t0 = Date.now();
        server = await startServer(env);
        counts.startMs.push(Date.now() - t0);
        await audit(`${context}, after the restart`);

        // every in-flight write is all or nothing: retried, it replays (it had committed) or applies now
        const before = await balances();
        const committedEarlier: Op[] = [];
        for (const op of inFlight) {
          const res = await send(server, op);
          counts.requests++;
          if (op.kind === 'batch') {
            assert.equal(res.status, 200, `${context}: retry: ${res.text}`);
            // one batch of one program is written in one statement: all of its events committed, or none
            const statuses = [...new Set(res.json.results.map((r: any) => r.status))];
            assert.ok(statuses.length === 1 && (statuses[0] === 200 || statuses[0] === 201), `${context}: retry of a batch, all or nothing: ${res.text}`);
            if (statuses[0] === 200) committedEarlier.push(op);
            acked.push({ op, status: res.status, json: res.json });
          } else {
            assert.equal(res.status, 201, `${context}: retry of ${op.kind} ${op.idem}: ${res.text}`);
            if (res.headers.get('idempotent-replayed') === 'true') committedEarlier.push(op);
            acked.push({ op, status: res.status, json: res.json });
          }
        }
        counts.committedInFlight += committedEarlier.length;
        const expectedBefore = totals([...acked.filter((o) => !inFlight.includes(o.op)).map((o) => o.op), ...committedEarlier], members);
        assert.deepEqual(
          before,
          expectedBefore,
          `${context}: after the crash, balances are the acknowledged writes plus the in-flight ones that committed (${committedEarlier.length} of ${inFlight.length})`,
        );
        inFlight = [];

        // every write is now applied exactly once
        const expected = totals(
          acked.map((o) => o.op),
          members,
        );
        assert.deepEqual(await balances(), expected, `${context}: balances after the retries`);

        // every acknowledged write replays its original answer and changes nothing (each once, after
        // the first crash that followed it; CONCURRENCY at a time)
        const toReplay = acked.slice(replayed);
        replayed = acked.length;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            for (let original = toReplay.shift(); original; original = toReplay.shift()) {
              const res = await send(server!, original.op);
              counts.requests++;
              counts.replays++;
              assertReplay(original, res, `${context}: replay of ${original.op.kind} ${original.op.idem ?? original.op.body.events[0].id}`);
            }
          }),
        );
        assert.deepEqual(await balances(), expected, `${context}: replays change nothing`);
        await audit(`${context}, after the replays`);

        if (cycle === CYCLES) {
          const exit = await server.kill('SIGTERM');
          assert.equal(exit.code, 0, `${context}: a clean shutdown at the end`);
        }
      });
    }
  });
}
