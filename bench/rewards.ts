/**
 * bench/rewards: redemptions per second through the HTTP API on PostgreSQL
 * (POST /v1/members/{memberId}/redemptions, each with its Idempotency-Key), spread over 1,000
 * rewards with stock and all on one hot reward with stock, beside pgbench TPC-B tps measured in the
 * same run on the same server.
 *
 *   node bench/rewards.ts                   BENCH_SECONDS=10 for a quick check
 *   BENCH_REWARDS=1000 BENCH_MEMBERS=1000
 *
 * Targets (issue 12): spread ≥ 0.5× pgbench TPC-B; the hot reward not below a third of the spread
 * figure (stock contention must not serialise the whole program). Afterwards the stock of every
 * reward must be what was put on sale less the redemptions made of it, and the audit clean.
 */
import { randomBytes } from 'node:crypto';
import { openDb } from '../src/db/db.ts';
import {
  awaitQuiet,
  checkpoint,
  cpuLine,
  dropDatabase,
  envNumber,
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

const REWARDS = envNumber('BENCH_REWARDS', 1000);
/** Stock of each reward: far more than a phase redeems, so no request is refused for stock. */
const STOCK = 1_000_000_000;

export interface RewardsResult {
  pgbench: TpcbResult;
  spread: PhaseResult;
  hot: PhaseResult;
  stockOk: boolean;
  auditOk: boolean;
}

export async function benchRewards(baseline?: TpcbResult): Promise<RewardsResult> {
  let tpcb = baseline;
  if (!tpcb) {
    tpcb = await tpcbOnFreshDatabase('jifen_pgbench_rewards');
    log(`pgbench: ${fmt(tpcb.tps, 1)} tps`);
  }
  const dbName = 'jifen_bench_rewards';
  const url = await freshDatabase(dbName);
  if (settings.sqlPatch) {
    const db = await openDb({ databaseUrl: url, poolSize: 1 });
    await prepareSchema(db).finally(() => db.close());
  }
  const key = `bench_${randomBytes(18).toString('base64url')}`;
  const server = await startJifen({ DATABASE_URL: url, JIFEN_BOOTSTRAP_ADMIN_KEY: key }, 'rewards');
  const client = new HttpClient(server.url, key, settings.clients);
  try {
    const post = async (path: string, body: unknown, expect = 201) => {
      const res = await client.post(path, body, randomBytes(12).toString('hex'));
      if (res.status !== expect) throw new Error(`${path}: ${res.status} ${res.body.slice(0, 300)}`);
      return JSON.parse(res.body) as { id: string };
    };
    const program = await post('/v1/programs', { name: 'rewards bench', pending_days: 0 });
    const members = await pool(
      Array.from({ length: settings.members }, (_, i) => i),
      settings.clients,
      async (i) => {
        const m = await post(`/v1/programs/${program.id}/members`, { external_id: `rw-${i}` });
        await post(`/v1/members/${m.id}/credits`, { points: 1_000_000_000 });
        return m.id;
      },
    );
    const reward = (i: number) =>
      post(`/v1/programs/${program.id}/rewards`, {
        type: 'physical',
        name: { 'zh-CN': `礼品 ${i}`, en: `Gift ${i}` },
        category: `c${i % 20}`,
        points_cost: 1 + (i % 50),
        stock: STOCK,
        limit: { per_member: 1_000_000, period: 'day' },
        status: 'active',
      });
    const rewards = (
      await pool(
        Array.from({ length: REWARDS }, (_, i) => i),
        settings.clients,
        reward,
      )
    ).map((r) => r.id);
    const hot = (await reward(REWARDS)).id;
    log(`rewards: program ${program.id}, ${members.length} members, ${rewards.length} rewards and a hot one, stock ${fmt(STOCK)} each`);

    const runId = randomBytes(4).toString('hex');
    let n = 0;
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
    const redeem = (rewardId: string) => () => client.post(`/v1/members/${pick(members)}/redemptions`, { reward_id: rewardId }, `${runId}-${n++}`);
    const spread = () => redeem(pick(rewards))();
    const hotOne = redeem(hot);

    if (settings.warmupSeconds > 0) await runPhase('spread warm-up', settings.clients, settings.warmupSeconds, 201, spread);
    const phase = async (name: string, fn: () => Promise<{ status: number; body: string }>) => {
      await checkpoint();
      await awaitQuiet();
      log(`rewards: ${name} ${settings.seconds} s with ${settings.clients} clients`);
      const r = await runPhase(name, settings.clients, settings.seconds, 201, fn, { pids: [server.pid], database: dbName });
      log(
        `rewards: ${name} ${fmt(r.rps, 0)}/s, p50 ${fmt(r.p50Ms, 1)} ms, p99 ${fmt(r.p99Ms, 1)} ms, errors ${r.errors}${r.firstError ? `, first ${r.firstError}` : ''}`,
      );
      return r;
    };
    const s = await phase('spread', spread);
    const h = await phase('hot', hotOne);

    // every reward's stock is what was on sale less what was redeemed of it
    const db = await openDb({ databaseUrl: url, poolSize: 1 });
    let stockOk: boolean;
    try {
      const [row] = await db.query<{ wrong: number }>(
        `SELECT count(*)::int AS wrong FROM reward r
          WHERE r.program_id = $1
            AND r.stock_left <> r.stock - (SELECT coalesce(sum(quantity), 0) FROM redemption d WHERE d.reward_id = r.id AND d.status = 'confirmed')`,
        [program.id],
      );
      stockOk = row!.wrong === 0;
    } finally {
      await db.close();
    }
    const audit = JSON.parse((await client.get(`/v1/audit?program_id=${program.id}`)).body) as { ok: boolean };
    return { pgbench: tpcb, spread: s, hot: h, stockOk, auditOk: audit.ok };
  } finally {
    client.close();
    await server.stop();
    if (!settings.keep) await dropDatabase(dbName);
  }
}

export function formatRewards(r: RewardsResult): string {
  const tps = r.pgbench.tps;
  const row = (label: string, p: PhaseResult) => [label, fmt(p.rps, 0), `${fmt(p.rps / tps, 2)}×`, fmt(p.p50Ms, 1), fmt(p.p99Ms, 1), fmt(p.requests), p.errors];
  const spreadRatio = r.spread.rps / tps;
  const hotRatio = r.hot.rps / r.spread.rps;
  return [
    ...(settings.sqlPatch ? [`EXPERIMENT: ${settings.sqlPatch} applied after migrating (not the shipped schema)`] : []),
    table(
      ['redemptions through HTTP, PostgreSQL', 'per s', 'vs pgbench', 'p50 ms', 'p99 ms', 'requests', 'errors'],
      [
        ['pgbench TPC-B', fmt(tps, 0), '1.00×', '', '', '', 0],
        row(`spread over ${fmt(REWARDS)} rewards (${settings.clients} clients)`, r.spread),
        row(`one hot reward (${settings.clients} clients)`, r.hot),
      ],
    ),
    '',
    `target: spread ≥ 0.5× pgbench TPC-B: ${spreadRatio >= 0.5 ? 'MET' : 'NOT MET'} (${fmt(spreadRatio, 2)}×)`,
    `target: hot ≥ 1/3 of spread: ${hotRatio >= 1 / 3 ? 'MET' : 'NOT MET'} (${fmt(hotRatio, 2)})`,
    `spread ${cpuLine(r.spread.cpu, r.spread.ok)}`,
    `hot    ${cpuLine(r.hot.cpu, r.hot.ok)}`,
    `stock after the run: ${r.stockOk ? 'ok (each reward: on sale − redeemed)' : 'WRONG'}; audit: ${r.auditOk ? 'ok' : 'FAILED'}`,
  ].join('\n');
}

if (import.meta.main) {
  const r = await benchRewards();
  process.stdout.write(`${formatRewards(r)}\n`);
  if (!r.stockOk || !r.auditOk || r.spread.errors > 0 || r.hot.errors > 0) process.exitCode = 1;
}
