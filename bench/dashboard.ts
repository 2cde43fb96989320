/**
 * bench/dashboard: GET /v1/programs/{id}/dashboard over HTTP on PostgreSQL with 1,000,000 ledger
 * entries in the program, one request at a time: p50/p95/max over BENCH_DASHBOARD_REQUESTS
 * requests (default 60), beside a baseline measured the same way in the same run against the same
 * server and database (GET /v1/programs/{id}: authentication, one primary-key read, JSON).
 *
 *   node bench/dashboard.ts
 *   BENCH_DASHBOARD_ENTRIES=200000 node bench/dashboard.ts     quick check
 *
 * The ledger is made with set-based SQL, consistent with what the ledger functions would have
 * written (the audit proves it afterwards), over the 400 days before now in a program on
 * Asia/Shanghai time with a 12-month rolling expiry and a 7-day pending period: per member, lots
 * earned on a spread of days (an earn entry and its lot each); every third lot half spent some
 * days later (a spend entry); lots past their expiry expired an hour after it (an expire entry);
 * accounts whose balance, lifetime totals, last activity and last earning day are the sums of
 * their lots. The rollups are what the ledger's writers would have appended for those entries
 * (jf_post one entry at a time, ledger_expire_due per batch): their flows per program-local day,
 * in one statement. After loading, the rollups are compared with a full recount from ledger_entry
 * and the audit (which checks rollups = system accounts) must pass.
 */
import { randomBytes } from 'node:crypto';
import { type Db, openDb } from '../src/db/db.ts';
import { runAudit } from '../src/modules/audit/index.ts';
import {
  awaitQuiet,
  checkpoint,
  dropDatabase,
  envNumber,
  fmt,
  freshDatabase,
  HttpClient,
  log,
  prepareSchema,
  serverInfo,
  settings,
  startJifen,
  table,
} from './lib.ts';

export interface Timing {
  label: string;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface DashboardResult {
  entries: number;
  members: number;
  lots: number;
  loadSeconds: number;
  rollupsEqualRecount: boolean;
  auditOk: boolean;
  baseline: Timing;
  dashboard: Timing;
  dashboard30: Timing;
  sample: Record<string, unknown>;
  pgServer: Record<string, string>;
}

const PROGRAM = 'prg_000000000000000000dashboard';
const DAY = 86_400;
const HISTORY_DAYS = 400;

/**
 * Members m = 1..M with L lots each (lot n of member (n-1)/L+1), ids shaped like jf_id. Lot n is
 * earned (n × 7919 mod HISTORY_DAYS×86400) seconds after now − HISTORY_DAYS days, 1..500 points.
 * Every third lot is half spent 3 days after earning (if that is before now); lots whose expiry
 * (12 months, Asia/Shanghai) has passed expire an hour after it, what is left of them.
 */
export async function loadLedger(db: Db, members: number, perMember: number, now: Date): Promise<{ entries: number; lots: number }> {
  const lots = members * perMember;
  const from = new Date(now.getTime() - HISTORY_DAYS * DAY * 1000).toISOString();
  const hex = (prefix: string, col: string) => `'${prefix}_' || lpad(to_hex(${col}), 28, '0')`;
  // one row per lot with everything the entries, the lot and the account need
  const plan = `SELECT n, ${hex('mbr', '(n - 1) / $2 + 1')} AS member_id, ${hex('lot', 'n')} AS lot_id, amount, earned_at,
                       earned_at + interval '7 days' AS available_at, expires_at,
                       CASE WHEN n % 3 = 0 AND earned_at + interval '7 days' + interval '3 days' <= $4::timestamptz
                              AND (expires_at > earned_at + interval '10 days')
                            THEN amount / 2 ELSE 0 END AS spent,
                       earned_at + interval '10 days' AS spent_at,
                       expires_at <= $4::timestamptz - interval '1 hour' AS expired
                  FROM (SELECT n, (1 + (n * 37) % 500)::bigint AS amount,
                               $3::timestamptz + make_interval(secs => (n * 7919) % ${HISTORY_DAYS * DAY}) AS earned_at
                          FROM generate_series(1::bigint, $1::bigint) n) s,
                       LATERAL (SELECT ((s.earned_at AT TIME ZONE 'Asia/Shanghai') + interval '12 months') AT TIME ZONE 'Asia/Shanghai' AS expires_at) e`;
  const step = async (what: string, sql: string, params: unknown[]) => {
    const t = performance.now();
    await db.query(sql, params);
    log(`  ${what} in ${fmt((performance.now() - t) / 1000, 1)} s`);
  };
  const params = [lots, perMember, from, now.toISOString()];
  await step(
    'program',
    `INSERT INTO program (id, name, time_zone, currency, redemption_rate, expiry_policy, pending_days, created_at, updated_at)
     VALUES ($1, 'dashboard bench', 'Asia/Shanghai', 'CNY', 100, '{"type":"rolling","months":12}', 7, $2, $2)`,
    [PROGRAM, from],
  );
  await step(
    `${fmt(members)} members and accounts`,
    `WITH m AS (INSERT INTO member (id, program_id, external_id, created_at, updated_at)
                SELECT ${hex('mbr', 'm')}, $1, 'dash-' || m, $3, $3 FROM generate_series(1, $2::int) m RETURNING id)
     INSERT INTO member_account (member_id, program_id, updated_at) SELECT id, $1, $3 FROM m`,
    [PROGRAM, members, from],
  );
  // the lots first (an entry's lot_id is not a foreign key, but a lot names its entry): then the
  // entries, in one statement per kind, each firing the rollup trigger like any ledger write
  await step(
    `${fmt(lots)} lots`,
    `INSERT INTO lot (id, program_id, member_id, entry_id, amount, remaining, spent, expired, earned_at, available_at, expires_at)
     SELECT lot_id, '${PROGRAM}', member_id, 'ent_' || substr(lot_id, 5), amount,
            CASE WHEN expired THEN 0 ELSE amount - spent END, spent, CASE WHEN expired THEN amount - spent ELSE 0 END,
            earned_at, available_at, expires_at
       FROM (${plan}) p`,
    params,
  );
  await step(
    `${fmt(lots)} earn entries`,
    `INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount, lot_id, actor, occurred_at)
     SELECT 'ent_' || substr(lot_id, 5), '${PROGRAM}', member_id, 'txn_' || substr(lot_id, 5), 'earn', 'issued', 'member', amount, lot_id, 'bench', earned_at
       FROM (${plan}) p`,
    params,
  );
  await step(
    'spend entries',
    `INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount, actor, occurred_at)
     SELECT 'ent_s' || substr(lot_id, 6), '${PROGRAM}', member_id, 'txn_s' || substr(lot_id, 6), 'spend', 'member', 'redeemed', spent, 'bench', spent_at
       FROM (${plan}) p WHERE spent > 0`,
    params,
  );
  await step(
    'expire entries',
    `INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount, lot_id, occurred_at)
     SELECT 'ent_x' || substr(lot_id, 6), '${PROGRAM}', member_id, 'txn_x' || substr(lot_id, 6), 'expire', 'member', 'expired', amount - spent, lot_id,
            expires_at + interval '1 hour'
       FROM (${plan}) p WHERE expired AND amount - spent > 0`,
    params,
  );
  // the dashboard rollups: what jf_post and ledger_expire_due append for these entries, summed per
  // program-local day in one statement (compaction would fold them to the same ledger_daily rows)
  await step(
    'dashboard rollups',
    `INSERT INTO ledger_daily_delta (program_id, day, issued, redeemed, expired)
     SELECT program_id, (occurred_at AT TIME ZONE 'Asia/Shanghai')::date,
            coalesce(sum(amount) FILTER (WHERE debit_account = 'issued'), 0),
            coalesce(sum(amount) FILTER (WHERE credit_account = 'redeemed'), 0),
            coalesce(sum(amount) FILTER (WHERE credit_account = 'expired'), 0)
       FROM ledger_entry WHERE program_id = $1 GROUP BY 1, 2`,
    [PROGRAM],
  );
  await step(
    'account totals',
    `UPDATE member_account a SET balance = l.remaining, lifetime_earned = l.earned, lifetime_spent = l.spent, lifetime_expired = l.expired,
                                last_activity_at = l.last_at, updated_at = l.last_at, earned_day = l.earned_day
       FROM (SELECT member_id, sum(remaining) AS remaining, sum(amount) AS earned, sum(spent) AS spent, sum(expired) AS expired,
                    max(greatest(earned_at, CASE WHEN spent > 0 THEN earned_at + interval '10 days' END)) AS last_at,
                    max((earned_at AT TIME ZONE 'Asia/Shanghai')::date) AS earned_day
               FROM lot WHERE program_id = $1 GROUP BY member_id) l
      WHERE a.member_id = l.member_id`,
    [PROGRAM],
  );
  // as a database a year old would be after autovacuum (off on the bench server): statistics and the visibility map
  await step('vacuum analyze', 'VACUUM ANALYZE', []);
  const [c] = await db.query<{ entries: number }>('SELECT count(*)::float8 AS entries FROM ledger_entry WHERE program_id = $1', [PROGRAM]);
  return { entries: c!.entries, lots };
}

/** The rollups against a full recount from ledger_entry (the one time the benchmark scans it). */
async function rollupsEqualRecount(db: Db): Promise<boolean> {
  const [row] = await db.query<{ diff: number }>(
    `WITH recount AS (
       SELECT (e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
              sum(e.amount) FILTER (WHERE e.kind = 'earn') AS issued,
              sum(e.amount) FILTER (WHERE e.kind IN ('spend', 'capture')) AS redeemed,
              sum(e.amount) FILTER (WHERE e.kind = 'expire') AS expired
         FROM ledger_entry e WHERE e.program_id = $1 GROUP BY 1
     ), r AS (
       SELECT day, sum(issued) AS issued, sum(redeemed) AS redeemed, sum(expired) AS expired
         FROM (SELECT * FROM ledger_daily WHERE program_id = $1 UNION ALL SELECT * FROM ledger_daily_delta WHERE program_id = $1) x GROUP BY day
     )
     SELECT count(*)::float8 AS diff FROM recount FULL JOIN r USING (day)
      WHERE coalesce(recount.issued, 0) <> coalesce(r.issued, 0) OR coalesce(recount.redeemed, 0) <> coalesce(r.redeemed, 0)
         OR coalesce(recount.expired, 0) <> coalesce(r.expired, 0)`,
    [PROGRAM],
  );
  return row!.diff === 0;
}

async function time(label: string, client: HttpClient, path: string, requests: number): Promise<Timing> {
  for (let i = 0; i < 5; i++) {
    const r = await client.get(path);
    if (r.status !== 200) throw new Error(`${label}: GET ${path} answered ${r.status}: ${r.body.slice(0, 300)}`);
  }
  const ms: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t = performance.now();
    const r = await client.get(path);
    ms.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`${label}: GET ${path} answered ${r.status}: ${r.body.slice(0, 300)}`);
  }
  ms.sort((a, b) => a - b);
  const pct = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)]!;
  const timing = { label, requests, p50Ms: pct(50), p95Ms: pct(95), maxMs: ms.at(-1)!, meanMs: ms.reduce((s, x) => s + x, 0) / ms.length };
  log(`${label}: p50 ${fmt(timing.p50Ms, 1)} ms, p95 ${fmt(timing.p95Ms, 1)} ms, max ${fmt(timing.maxMs, 1)} ms over ${requests} requests`);
  return timing;
}

export async function benchDashboard(): Promise<DashboardResult> {
  const target = envNumber('BENCH_DASHBOARD_ENTRIES', 1_000_000);
  const requests = Math.max(50, envNumber('BENCH_DASHBOARD_REQUESTS', 60));
  // per member 14 lots: 14 earn entries, ~4.7 spend, expire entries for the lots older than a year: ≈ 19.7 entries
  const perMember = 14;
  const members = Math.max(1, Math.round(target / 19.7));
  const name = 'jifen_bench_dashboard';
  const url = await freshDatabase(name);
  const db = await openDb({ databaseUrl: url, poolSize: 4 });
  const now = new Date();
  try {
    const pgServer = await serverInfo();
    log(`dashboard: loading ~${fmt(target)} entries (${fmt(members)} members × ${perMember} lots)`);
    const t = performance.now();
    await prepareSchema(db);
    const { entries, lots } = await loadLedger(db, members, perMember, now);
    const loadSeconds = (performance.now() - t) / 1000;
    log(`dashboard: ${fmt(entries)} entries, ${fmt(lots)} lots in ${fmt(loadSeconds, 1)} s`);
    const equal = await rollupsEqualRecount(db);
    log(`dashboard: rollups ${equal ? '=' : '≠'} recount from ledger_entry`);
    const audit = await runAudit(db, new Date(), PROGRAM);
    log(`dashboard: audit ok=${audit.ok}${audit.ok ? '' : ` ${JSON.stringify(audit.violations.slice(0, 3))}`}`);

    const key = `bench_${randomBytes(18).toString('base64url')}`;
    const server = await startJifen({ DATABASE_URL: url, JIFEN_BOOTSTRAP_ADMIN_KEY: key }, 'dashboard');
    const client = new HttpClient(server.url, key, 1);
    try {
      await checkpoint();
      await awaitQuiet();
      const baseline = await time('baseline GET /v1/programs/{id}', client, `/v1/programs/${PROGRAM}`, requests);
      const dashboard = await time('GET /v1/programs/{id}/dashboard (90 days)', client, `/v1/programs/${PROGRAM}/dashboard?days=90`, requests);
      const dashboard30 = await time('GET /v1/programs/{id}/dashboard?days=30', client, `/v1/programs/${PROGRAM}/dashboard?days=30`, requests);
      const body = JSON.parse((await client.get(`/v1/programs/${PROGRAM}/dashboard`)).body) as Record<string, unknown>;
      const sample = { totals: body.totals, window: body.window, members: body.members, expiring: body.expiring };
      log(`dashboard: ${JSON.stringify(sample)}`);
      return { entries, members, lots, loadSeconds, rollupsEqualRecount: equal, auditOk: audit.ok, baseline, dashboard, dashboard30, sample, pgServer };
    } finally {
      client.close();
      await server.stop();
    }
  } finally {
    await db.close();
    await dropDatabase(name);
  }
}

export function formatDashboard(r: DashboardResult): string {
  const row = (t: Timing) => [t.label, t.requests, fmt(t.p50Ms, 1), fmt(t.p95Ms, 1), fmt(t.maxMs, 1), fmt(t.meanMs, 1)];
  return [
    `dashboard (bench/dashboard.ts): PostgreSQL, ${fmt(r.entries)} ledger entries, ${fmt(r.members)} members, ${fmt(r.lots)} lots (loaded in ${fmt(r.loadSeconds, 0)} s);` +
      ` rollups = recount: ${r.rollupsEqualRecount ? 'yes' : 'NO'}, audit: ${r.auditOk ? 'ok' : 'FAILED'}; one request at a time`,
    table(['request', 'n', 'p50 ms', 'p95 ms', 'max ms', 'mean ms'], [row(r.baseline), row(r.dashboard), row(r.dashboard30)]),
  ].join('\n');
}

export function dashboardFailures(r: DashboardResult): string[] {
  const f: string[] = [];
  if (!r.rollupsEqualRecount) f.push('dashboard: rollups differ from a recount of ledger_entry');
  if (!r.auditOk) f.push('dashboard: audit failed');
  return f;
}

if (import.meta.main) {
  log(`settings ${JSON.stringify(settings)}`);
  const r = await benchDashboard();
  process.stdout.write(`\n${formatDashboard(r)}\n`);
  const failures = dashboardFailures(r);
  if (failures.length) {
    process.stderr.write(`FAILED:\n  ${failures.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}
