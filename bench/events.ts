/**
 * bench/events: order.paid events ingested per second end-to-end through the HTTP API on
 * PostgreSQL — one event per request (16 clients) and batches (POST /v1/events/batch) — with the
 * 50 rules of bench/rules-engine.ts (conditions, multipliers, caps), beside pgbench TPC-B tps
 * measured in the same run on the same server.
 *
 *   node bench/events.ts                    BENCH_SECONDS=10 for a quick check
 *   BENCH_EVENT_BATCH=1000 BENCH_EVENT_BATCH_CLIENTS=4
 *
 * Target (issue 3): batch ingestion ≥ 5× pgbench TPC-B tps.
 */
import { randomBytes } from 'node:crypto';
import { openDb } from '../src/db/db.ts';
import type { RuleDefinition } from '../src/modules/rules/index.ts';
import {
  awaitQuiet,
  checkpoint,
  cpuLine,
  dropDatabase,
  fmt,
  freshDatabase,
  HttpClient,
  log,
  type PhaseResult,
  pool,
  prepareSchema,
  runPhase,
  settings,
  startJifen,
  type TpcbResult,
  table,
  tpcbOnFreshDatabase,
} from './lib.ts';
import { fiftyRules } from './rules-engine.ts';

const BATCH = Number(process.env.BENCH_EVENT_BATCH ?? 500);
/** BENCH_EVENT_LADDER=true: the program has a tier ladder (the cost of tier upkeep on ingestion). */
const LADDER = process.env.BENCH_EVENT_LADDER === 'true';

/** The seed articles' coffee chain: ¥1 = 1 point, tier multipliers — one award per order, as most programs. */
const COFFEE_CHAIN: RuleDefinition[] = [
  {
    name: '消费积分',
    triggers: ['order.paid'],
    effect: { type: 'rate', points: 1, per_amount: 100, rounding: 'floor' },
    multipliers: [{ type: 'tier', values: { bronze: '1', silver: '1.2', gold: '1.5', diamond: '2' } }],
  },
];

export type RuleSetName = 'coffee' | 'fifty';
const BATCH_CLIENTS = Number(process.env.BENCH_EVENT_BATCH_CLIENTS ?? 4);
/** Which phases to run (profiling one: `BENCH_EVENT_PHASES=batch BENCH_CPU_PROF=true`). */
const PHASES = new Set((process.env.BENCH_EVENT_PHASES ?? 'single,batch').split(','));

export interface EventsResult {
  rules: RuleSetName;
  pgbench: TpcbResult;
  single: PhaseResult;
  batch: PhaseResult & { eventsPerSecond: number; batchSize: number };
  auditOk: boolean;
}

export async function benchEvents(baseline?: TpcbResult, ruleSet: RuleSetName = 'fifty'): Promise<EventsResult> {
  let tpcb = baseline;
  if (!tpcb) {
    tpcb = await tpcbOnFreshDatabase('jifen_pgbench_events');
    log(`pgbench: ${fmt(tpcb.tps, 1)} tps`);
  }
  const dbName = 'jifen_bench_events';
  const url = await freshDatabase(dbName);
  if (settings.sqlPatch) {
    const db = await openDb({ databaseUrl: url, poolSize: 1 });
    await prepareSchema(db).finally(() => db.close());
  }
  const key = `bench_${randomBytes(18).toString('base64url')}`;
  const server = await startJifen({ DATABASE_URL: url, JIFEN_BOOTSTRAP_ADMIN_KEY: key }, 'events');
  const client = new HttpClient(server.url, key, Math.max(settings.clients, BATCH_CLIENTS));
  try {
    const post = async (path: string, body: unknown) => {
      const res = await client.post(path, body);
      if (res.status !== 201) throw new Error(`${path}: ${res.status} ${res.body.slice(0, 300)}`);
      return JSON.parse(res.body) as { id: string };
    };
    const program = await post('/v1/programs', { name: 'events bench', pending_days: 7 });
    for (const definition of ruleSet === 'fifty' ? fiftyRules() : COFFEE_CHAIN) await post(`/v1/programs/${program.id}/rules`, { definition });
    const tiers = ['bronze', 'silver', 'gold', 'diamond'];
    const members = (
      await pool(
        Array.from({ length: settings.members }, (_, i) => i),
        settings.clients,
        (i) =>
          post(`/v1/programs/${program.id}/members`, { external_id: `ev-${i}`, tier: tiers[i % 4], tags: [...new Set([`seg${i % 7}`, `seg${(i * 3) % 7}`])] }),
      )
    ).map((m) => m.id);
    if (LADDER) {
      // the seed ladder (年消费 ¥1,000 / ¥5,000 / ¥20,000), the members' tiers kept as overrides: every
      // order then also pays for tier upkeep (the snapshot's tier states, qualifying activity, upgrades)
      const name = (zh: string, en: string) => ({ 'zh-CN': zh, en });
      const res = await client.put(`/v1/programs/${program.id}/tier-ladder`, {
        metric: 'spend',
        qualifying_window: { type: 'calendar_year' },
        validity: { type: 'period_and_next' },
        downgrade_policy: 'one_step',
        tiers: [
          { code: 'bronze', name: name('青铜', 'Bronze'), entry: 0 },
          { code: 'silver', name: name('白银', 'Silver'), entry: 100_000, multiplier: '1.2' },
          { code: 'gold', name: name('黄金', 'Gold'), entry: 500_000, multiplier: '1.5' },
          { code: 'diamond', name: name('钻石', 'Diamond'), entry: 2_000_000, multiplier: '2' },
        ],
        keep_current_tiers_until: new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10),
      });
      if (res.status !== 201) throw new Error(`tier ladder: ${res.status} ${res.body.slice(0, 300)}`);
    }
    log(
      `events: program ${program.id} with ${ruleSet === 'fifty' ? '50 rules' : 'the coffee-chain rule'}, ${members.length} members${LADDER ? ', a tier ladder' : ''}`,
    );

    const runId = randomBytes(4).toString('hex');
    let n = 0;
    const event = (member: string) => ({
      id: `${runId}-${n++}`,
      type: 'order.paid',
      member_id: member,
      data: { order_id: `${runId}-o${n}`, amount: 500 + ((n * 7919) % 60_000), currency: 'CNY', channel: n % 3 === 0 ? 'store' : 'online' },
    });
    const single = (_w: number) => client.post('/v1/events', { ...event(members[Math.floor(Math.random() * members.length)]!), program_id: program.id });
    // each batch client sends events of its own members, as one importer per store would; the
    // body is put together as text (the load generator shares the two cores with what it measures,
    // as pgbench's client does, and pgbench's costs it little)
    const programJson = JSON.stringify(program.id);
    const batch = (w: number) => {
      const items: string[] = [];
      for (let k = 0; k < BATCH; k++) {
        const member = members[(Math.floor(Math.random() * (members.length / BATCH_CLIENTS)) * BATCH_CLIENTS + w) % members.length]!;
        const i = n++;
        items.push(
          `{"id":"${runId}-${i}","type":"order.paid","member_id":"${member}","data":{"order_id":"${runId}-o${i + 1}","amount":${500 + (((i + 1) * 7919) % 60_000)},"currency":"CNY","channel":"${(i + 1) % 3 === 0 ? 'store' : 'online'}"}}`,
        );
      }
      // the count is at the start of the body: the load generator does not decode 600 KB of results
      // per batch (pgbench does not parse either)
      return client.postJson('/v1/events/batch', `{"program_id":${programJson},"events":[${items.join(',')}]}`, undefined, 200).then((res) => {
        if (res.status !== 200) return res;
        const processed = /^\{"object":"batch","processed":(\d+),/.exec(res.body)?.[1];
        return Number(processed) === BATCH ? res : { status: 207, body: res.body };
      });
    };

    if (settings.warmupSeconds > 0) await runPhase('single warm-up', settings.clients, settings.warmupSeconds, 201, single);
    let s = skipped(settings.clients);
    if (PHASES.has('single')) {
      await checkpoint();
      await awaitQuiet();
      log(`events: single ${settings.seconds} s with ${settings.clients} clients`);
      s = await runPhase('single', settings.clients, settings.seconds, 201, single, { pids: [server.pid], database: dbName });
      log(`events: single ${fmt(s.rps, 0)}/s, p50 ${fmt(s.p50Ms, 1)} ms, errors ${s.errors}${s.firstError ? `, first ${s.firstError}` : ''}`);
    }
    await checkpoint();
    await awaitQuiet();
    log(`events: batch of ${BATCH}, ${settings.seconds} s with ${BATCH_CLIENTS} clients`);
    const b = PHASES.has('batch')
      ? await runPhase('batch', BATCH_CLIENTS, settings.seconds, 200, batch, { pids: [server.pid], database: dbName })
      : skipped(BATCH_CLIENTS);
    const eventsPerSecond = b.rps * BATCH;
    log(
      `events: batch ${fmt(eventsPerSecond, 0)} events/s (${fmt(b.rps, 1)} batches/s), p50 ${fmt(b.p50Ms, 0)} ms, errors ${b.errors}${b.firstError ? `, first ${b.firstError}` : ''}`,
    );
    const audit = JSON.parse((await client.get(`/v1/audit?program_id=${program.id}`)).body) as { ok: boolean };
    return { rules: ruleSet, pgbench: tpcb, single: s, batch: { ...b, eventsPerSecond, batchSize: BATCH }, auditOk: audit.ok };
  } finally {
    client.close();
    await server.stop();
    await dropDatabase(dbName);
  }
}

export function formatEvents(r: EventsResult): string {
  const tps = r.pgbench.tps;
  const rows = [
    ['pgbench TPC-B', fmt(tps, 0), '1.00×', '', '', '', 0],
    [
      'HTTP POST /v1/events (16 clients)',
      fmt(r.single.rps, 0),
      `${fmt(r.single.rps / tps, 2)}×`,
      fmt(r.single.p50Ms, 1),
      fmt(r.single.p99Ms, 1),
      fmt(r.single.requests),
      r.single.errors,
    ],
    [
      `HTTP POST /v1/events/batch ×${r.batch.batchSize} (${r.batch.clients} clients)`,
      fmt(r.batch.eventsPerSecond, 0),
      `${fmt(r.batch.eventsPerSecond / tps, 2)}×`,
      fmt(r.batch.p50Ms, 0),
      fmt(r.batch.p99Ms, 0),
      fmt(r.batch.requests),
      r.batch.errors,
    ],
  ];
  const ratio = r.batch.eventsPerSecond / tps;
  return [
    ...(settings.sqlPatch ? [`EXPERIMENT: ${settings.sqlPatch} applied after migrating (not the shipped schema)`] : []),
    table(
      [
        `order.paid events, ${r.rules === 'fifty' ? '50 rules (5.4 awards/order)' : 'coffee-chain rule (1 award/order)'}, PostgreSQL`,
        'events/s',
        'vs pgbench',
        'p50 ms',
        'p99 ms',
        'requests',
        'errors',
      ],
      rows,
    ),
    '',
    `target: batch ingestion ≥ 5× pgbench TPC-B tps: ${ratio >= 5 ? 'MET' : 'NOT MET'} (${fmt(ratio, 2)}×)`,
    `single ${cpuLine(r.single.cpu, r.single.ok)}`,
    `batch  ${cpuLine(r.batch.cpu, r.batch.ok * r.batch.batchSize)}`,
    `audit after the run: ${r.auditOk ? 'ok' : 'FAILED'}`,
  ].join('\n');
}

if (import.meta.main) {
  const names = (process.env.BENCH_EVENT_RULES ?? 'coffee,fifty').split(',') as RuleSetName[];
  let baseline: TpcbResult | undefined;
  for (const name of names) {
    const result = await benchEvents(baseline, name);
    baseline = result.pgbench;
    process.stdout.write(`\n${formatEvents(result)}\n`);
    if (!result.auditOk || result.single.errors || result.batch.errors) process.exitCode = 1;
  }
}

/** A phase not run (BENCH_EVENT_PHASES): zeros. */
function skipped(clients: number): PhaseResult {
  return { name: 'skipped', clients, seconds: 0, requests: 0, ok: 0, errors: 0, errorKinds: {}, rps: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };
}
