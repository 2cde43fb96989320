/**
 * bench/load: the server under overload. ~200 concurrent connections write as fast as they can
 * (credits, and event batches over the same few members) for a bounded time, while /healthz is
 * probed every 100 ms on a connection of its own. Reports /healthz latency (p50/p99/max, probes
 * over 1 s and 2 s), the writes' throughput and latency, every status that came back (5xx and 503
 * apart, 503s without Retry-After), and after the run whether the points written equal the points
 * acknowledged (a 503 must leave nothing behind) and the audit. On PGlite and on PostgreSQL.
 *
 *   node bench/load.ts                          both databases, 20 s each
 *   BENCH_LOAD_SECONDS=10 BENCH_LOAD_CLIENTS=200 BENCH_LOAD_DBS=pglite node bench/load.ts
 *
 * Knobs: BENCH_LOAD_CLIENTS (200), BENCH_LOAD_SECONDS (20), BENCH_LOAD_MEMBERS (50),
 * BENCH_LOAD_BATCH (events per batch, 20), BENCH_LOAD_BATCH_SHARE (one client in N sends batches, 4),
 * BENCH_LOAD_DBS (pglite,postgres), BENCH_LOAD_POOL (DATABASE_POOL_SIZE for PostgreSQL, 20), and
 * BENCH_LOAD_ENV (extra server environment, e.g. "DATABASE_ACQUIRE_TIMEOUT_MS=2000").
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awaitQuiet, dropDatabase, fmt, freshDatabase, HttpClient, log, pool, settings, startJifen, table } from './lib.ts';

const num = (name: string, fallback: number) => {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${JSON.stringify(raw)}: must be a positive number`);
  return n;
};

const CLIENTS = num('BENCH_LOAD_CLIENTS', 200);
const SECONDS = num('BENCH_LOAD_SECONDS', 20);
const MEMBERS = num('BENCH_LOAD_MEMBERS', 50);
const BATCH = num('BENCH_LOAD_BATCH', 20);
const BATCH_SHARE = num('BENCH_LOAD_BATCH_SHARE', 4);
const POOL = num('BENCH_LOAD_POOL', 20);
const PROBE_MS = 100;
const CREDIT_POINTS = 10;
const EXTRA_ENV = Object.fromEntries(
  (process.env.BENCH_LOAD_ENV ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

export interface LoadResult {
  kind: 'pglite' | 'postgres';
  clients: number;
  seconds: number;
  healthz: { probes: number; p50Ms: number; p99Ms: number; maxMs: number; over1s: number; over2s: number; failed: number };
  writes: { requests: number; ok: number; rps: number; eventsPerSecond: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Status (or 'network') → count. */
  statuses: Record<string, number>;
  status5xx: number;
  status503: number;
  missingRetryAfter: number;
  firstError?: string;
  acknowledgedPoints: number;
  storedPoints: number;
  auditOk: boolean;
}

const pct = (sorted: number[], p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);

/** One GET /healthz on a fresh connection: its latency in ms, or -1 when it failed. */
function probe(baseUrl: string): Promise<number> {
  const u = new URL(baseUrl);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host: u.hostname, port: Number(u.port), path: '/healthz', agent: false, timeout: 60_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t0 : -1));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(-1));
    req.end();
  });
}

/** A POST on a keep-alive agent of CLIENTS sockets, with the Retry-After header of the answer. */
function post(
  agent: http.Agent,
  baseUrl: string,
  key: string,
  path: string,
  body: string,
  idem?: string,
): Promise<{ status: number; body: string; retryAfter?: string }> {
  const u = new URL(baseUrl);
  const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (idem) headers['idempotency-key'] = idem;
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: u.hostname, port: Number(u.port), method: 'POST', path, headers, timeout: 120_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retryAfter: res.headers['retry-after'] }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('client timeout (120 s)')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function benchLoad(kind: LoadResult['kind']): Promise<LoadResult> {
  const key = `bench_${randomBytes(18).toString('base64url')}`;
  let dataDir: string | undefined;
  let env: Record<string, string>;
  const dbName = 'jifen_bench_load';
  if (kind === 'pglite') {
    dataDir = await mkdtemp(join(tmpdir(), 'jifen-bench-load-'));
    env = { JIFEN_DATA_DIR: dataDir };
  } else {
    env = { DATABASE_URL: await freshDatabase(dbName), DATABASE_POOL_SIZE: String(POOL) };
  }
  const server = await startJifen({ ...env, ...EXTRA_ENV, JIFEN_BOOTSTRAP_ADMIN_KEY: key }, `load-${kind}`);
  const setup = new HttpClient(server.url, key, 16);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS, maxFreeSockets: CLIENTS });
  try {
    const created = async (path: string, body: unknown) => {
      const res = await setup.post(path, body);
      if (res.status !== 201) throw new Error(`${path}: ${res.status} ${res.body.slice(0, 300)}`);
      return JSON.parse(res.body) as { id: string };
    };
    const program = await created('/v1/programs', { name: 'load bench' });
    await created(`/v1/programs/${program.id}/rules`, {
      definition: { name: 'spend', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100, rounding: 'floor' } },
    });
    const members = (
      await pool(
        Array.from({ length: MEMBERS }, (_, i) => i),
        16,
        (i) => created(`/v1/programs/${program.id}/members`, { external_id: `load-${i}` }),
      )
    ).map((m) => m.id);
    log(`load ${kind}: program ${program.id}, ${members.length} members; ${CLIENTS} clients for ${SECONDS} s (1 in ${BATCH_SHARE} sends batches of ${BATCH})`);
    await awaitQuiet();

    const runId = randomBytes(4).toString('hex');
    const statuses: Record<string, number> = {};
    let firstError: string | undefined;
    let missingRetryAfter = 0;
    let acknowledged = 0;
    let events = 0;
    let seq = 0;
    const latencies: number[] = [];
    const probes: number[] = [];
    let probesFailed = 0;
    const pick = () => members[Math.floor(Math.random() * members.length)]!;
    const programJson = JSON.stringify(program.id);

    const start = performance.now();
    const deadline = start + SECONDS * 1000;
    const probing = (async () => {
      const pending: Promise<void>[] = [];
      while (performance.now() < deadline) {
        pending.push(probe(server.url).then((ms) => void (ms < 0 ? probesFailed++ : probes.push(ms))));
        await new Promise((r) => setTimeout(r, PROBE_MS));
      }
      await Promise.all(pending);
    })();
    const client = async (w: number) => {
      const batches = w % BATCH_SHARE === 0;
      while (performance.now() < deadline) {
        const i = seq++;
        const t0 = performance.now();
        let status: string;
        try {
          let res: Awaited<ReturnType<typeof post>>;
          if (batches) {
            const items: string[] = [];
            for (let k = 0; k < BATCH; k++) {
              items.push(
                `{"id":"${runId}-${i}-${k}","type":"order.paid","member_id":"${pick()}","data":{"order_id":"${runId}-${i}-${k}","amount":${500 + ((i * 31 + k * 7919) % 60_000)},"currency":"CNY"}}`,
              );
            }
            res = await post(agent, server.url, key, '/v1/events/batch', `{"program_id":${programJson},"events":[${items.join(',')}]}`);
            if (res.status === 200) {
              const head = /^\{"object":"batch","processed":(\d+),"duplicates":\d+,"rejected":(\d+),"points":(\d+),/.exec(res.body);
              acknowledged += Number(head?.[3] ?? 0);
              events += Number(head?.[1] ?? 0);
              if (Number(head?.[2] ?? 0) > 0) firstError ??= `batch item rejected: ${res.body.slice(0, 300)}`;
            }
          } else {
            res = await post(agent, server.url, key, `/v1/members/${pick()}/credits`, `{"points":${CREDIT_POINTS},"reason":"load"}`, `${runId}-${i}`);
            if (res.status === 201) {
              acknowledged += CREDIT_POINTS;
              events += 1;
            }
          }
          status = String(res.status);
          if (res.status >= 300) firstError ??= `${res.status} ${res.body.slice(0, 300)}`;
          if (res.status === 503 && !/^\d+$/.test(res.retryAfter ?? '')) missingRetryAfter++;
        } catch (err) {
          status = 'network';
          firstError ??= String(err);
        }
        latencies.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    };
    await Promise.all([probing, ...Array.from({ length: CLIENTS }, (_, w) => client(w))]);
    const elapsed = (performance.now() - start) / 1000;

    // what is stored: every member's lifetime earnings (nothing else earns in this program)
    let stored = 0;
    await pool(members, 8, async (m) => {
      const res = await setup.get(`/v1/members/${m}/balance`);
      stored += (JSON.parse(res.body) as { lifetime_earned: number }).lifetime_earned;
    });
    const audit = JSON.parse((await setup.get(`/v1/audit?program_id=${program.id}`)).body) as { ok: boolean };
    const sortedProbes = probes.sort((a, b) => a - b);
    const sortedLat = latencies.sort((a, b) => a - b);
    const ok = (statuses['200'] ?? 0) + (statuses['201'] ?? 0);
    const status5xx = Object.entries(statuses)
      .filter(([s]) => /^5/.test(s))
      .reduce((n, [, c]) => n + c, 0);
    return {
      kind,
      clients: CLIENTS,
      seconds: elapsed,
      healthz: {
        probes: probes.length + probesFailed,
        p50Ms: pct(sortedProbes, 50),
        p99Ms: pct(sortedProbes, 99),
        maxMs: sortedProbes.at(-1) ?? 0,
        over1s: probes.filter((p) => p > 1000).length,
        over2s: probes.filter((p) => p > 2000).length,
        failed: probesFailed,
      },
      writes: {
        requests: latencies.length,
        ok,
        rps: ok / elapsed,
        eventsPerSecond: events / elapsed,
        p50Ms: pct(sortedLat, 50),
        p99Ms: pct(sortedLat, 99),
        maxMs: sortedLat.at(-1) ?? 0,
      },
      statuses,
      status5xx,
      status503: statuses['503'] ?? 0,
      missingRetryAfter,
      firstError,
      acknowledgedPoints: acknowledged,
      storedPoints: stored,
      auditOk: audit.ok,
    };
  } finally {
    agent.destroy();
    setup.close();
    await server.stop();
    if (dataDir && !settings.keep) await rm(dataDir, { recursive: true, force: true });
    if (kind === 'postgres') await dropDatabase(dbName);
  }
}

export function formatLoad(results: LoadResult[]): string {
  const rows = results.map((r) => [
    r.kind,
    fmt(r.healthz.p50Ms, 1),
    fmt(r.healthz.p99Ms, 0),
    fmt(r.healthz.maxMs, 0),
    `${r.healthz.over1s}/${r.healthz.over2s}/${r.healthz.failed} of ${r.healthz.probes}`,
    fmt(r.writes.rps, 0),
    fmt(r.writes.eventsPerSecond, 0),
    fmt(r.writes.p50Ms, 0),
    fmt(r.writes.p99Ms, 0),
    r.status5xx - r.status503,
    r.status503,
    r.missingRetryAfter,
    r.acknowledgedPoints === r.storedPoints ? 'yes' : `NO (${r.storedPoints} stored, ${r.acknowledgedPoints} acknowledged)`,
    r.auditOk ? 'ok' : 'FAILED',
  ]);
  return [
    table(
      [
        `overload: ${results[0]?.clients ?? CLIENTS} connections of writes, /healthz every ${PROBE_MS} ms`,
        'healthz p50 ms',
        'p99 ms',
        'max ms',
        '>1s/>2s/failed',
        'writes/s',
        'credits+events/s',
        'write p50 ms',
        'p99 ms',
        '5xx (not 503)',
        '503',
        '503 w/o Retry-After',
        'stored = acknowledged',
        'audit',
      ],
      rows,
    ),
    ...results.map(
      (r) =>
        `${r.kind}: statuses ${JSON.stringify(r.statuses)} in ${fmt(r.seconds, 1)} s${r.firstError ? `; first non-2xx: ${r.firstError.replace(/\s+/g, ' ').slice(0, 240)}` : ''}`,
    ),
  ].join('\n');
}

/** What makes the run a failure: a 5xx other than 503, a 503 without Retry-After, a stall, a trace. */
export function loadFailures(results: LoadResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.status5xx - r.status503 > 0) out.push(`load ${r.kind}: ${r.status5xx - r.status503} answers 5xx other than 503`);
    if (r.missingRetryAfter > 0) out.push(`load ${r.kind}: ${r.missingRetryAfter} answers 503 without Retry-After`);
    if (r.healthz.over2s + r.healthz.failed > 0) out.push(`load ${r.kind}: /healthz over 2 s or failed in ${r.healthz.over2s + r.healthz.failed} probes`);
    if (r.acknowledgedPoints !== r.storedPoints) out.push(`load ${r.kind}: ${r.storedPoints} points stored, ${r.acknowledgedPoints} acknowledged`);
    if (!r.auditOk) out.push(`load ${r.kind}: audit failed`);
  }
  return out;
}

if (import.meta.main) {
  const kinds = (process.env.BENCH_LOAD_DBS ?? 'pglite,postgres').split(',').map((k) => k.trim()) as LoadResult['kind'][];
  const results: LoadResult[] = [];
  for (const kind of kinds) results.push(await benchLoad(kind));
  process.stdout.write(`\n${formatLoad(results)}\n`);
  const failures = loadFailures(results);
  if (failures.length) {
    process.stderr.write(`FAILED:\n  ${failures.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}
