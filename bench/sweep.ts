/**
 * bench/sweep: the expiry sweep of 1,000,000 due lots on PostgreSQL (and of fewer on PGlite):
 * seconds and rows/s, then proof that the ledger still holds (runAudit) and that exactly one expire
 * entry was written per lot.
 *
 *   node bench/sweep.ts
 *   BENCH_SWEEP_LOTS=100000 node bench/sweep.ts     quick check
 *
 * The lots are made with set-based SQL, consistent with the schema and what ledger_credit would
 * have written: per lot an earn entry (issued → member) and a lot of the same amount, and per
 * member an account row whose balance and lifetime_earned are the sum of its lots. Earning is
 * spread over 2024 under a rolling 12-month policy; the sweep runs at 2026-01-01, after all expire.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Db, openDb } from '../src/db/db.ts';
import { runAudit } from '../src/modules/audit/index.ts';
import { sweep } from '../src/modules/ledger/index.ts';
import { awaitQuiet, type CpuReport, checkpoint, cpuLine, dropDatabase, fmt, freshDatabase, log, prepareSchema, settings, startCpu, table } from './lib.ts';

export interface SweepRun {
  kind: 'postgres' | 'pglite';
  lots: number;
  members: number;
  loadSeconds: number;
  seconds: number;
  rowsPerSecond: number;
  lotsExpired: number;
  expireEntries: number;
  openLotsAfter: number;
  secondSweepExpired: number;
  auditOk: boolean;
  auditSeconds: number;
  auditSummary: string;
  cpu?: CpuReport;
}

export interface SweepResult {
  postgres?: SweepRun;
  pglite?: SweepRun;
}

const PROGRAM = 'prg_0000000000000000000000sweep';
const EARN_FROM = '2024-01-01T00:00:00.000Z';
export const SWEEP_AT = new Date('2026-01-01T00:00:00.000Z');
const YEAR_SECONDS = 31_536_000;

/**
 * Members m = 1..M, lots n = 1..M×L (lot n belongs to member (n-1)/L+1). Ids have the shape of
 * jf_id (prefix, 28 hex digits). Lot n is earned at 2024-01-01 + (n × 7919 mod one year) seconds,
 * a permutation, so the sweep's expiry order interleaves members as real earning would; its amount
 * is 1..500 points.
 */
export async function loadDueLots(db: Db, members: number, perMember: number): Promise<void> {
  const lots = members * perMember;
  const hex = (prefix: string, col: string) => `'${prefix}_' || lpad(to_hex(${col}), 28, '0')`;
  const lotRows = `SELECT n, ${hex('mbr', '(n - 1) / $2 + 1')} AS member_id, ${hex('lot', 'n')} AS lot_id, ${hex('ent', 'n')} AS entry_id,
                          ${hex('txn', 'n')} AS txn_id, (1 + (n * 37) % 500)::bigint AS amount,
                          $3::timestamptz + make_interval(secs => (n * 7919) % ${YEAR_SECONDS}) AS earned_at
                     FROM generate_series(1::bigint, $1::bigint) n`;
  const step = async (what: string, sql: string, params: unknown[]) => {
    const t = performance.now();
    await db.query(sql, params);
    log(`  ${what} in ${fmt((performance.now() - t) / 1000, 1)} s`);
  };
  await step(
    'program',
    `INSERT INTO program (id, name, expiry_policy, created_at, updated_at)
                           VALUES ($1, 'sweep bench', '{"type":"rolling","months":12}', $2, $2)`,
    [PROGRAM, EARN_FROM],
  );
  await step(
    `${fmt(members)} members`,
    `INSERT INTO member (id, program_id, external_id, created_at, updated_at)
                           SELECT ${hex('mbr', 'm')}, $1, 'sweep-' || m, $3, $3 FROM generate_series(1, $2::int) m`,
    [PROGRAM, members, EARN_FROM],
  );
  await step(
    `${fmt(lots)} earn entries`,
    `INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount, lot_id, actor, occurred_at)
                           SELECT entry_id, $4, member_id, txn_id, 'earn', 'issued', 'member', amount, lot_id, 'bench', earned_at FROM (${lotRows}) x`,
    [lots, perMember, EARN_FROM, PROGRAM],
  );
  await step(
    `${fmt(lots)} lots`,
    `INSERT INTO lot (id, program_id, member_id, entry_id, amount, remaining, earned_at, available_at, expires_at)
                           SELECT lot_id, $4, member_id, entry_id, amount, amount, earned_at, earned_at,
                                  ((earned_at AT TIME ZONE 'Asia/Shanghai') + interval '12 months') AT TIME ZONE 'Asia/Shanghai'
                             FROM (${lotRows}) x`,
    [lots, perMember, EARN_FROM, PROGRAM],
  );
  await step(
    `${fmt(members)} member accounts`,
    `INSERT INTO member_account (member_id, program_id, balance, lifetime_earned, last_activity_at, updated_at)
                           SELECT member_id, program_id, sum(amount), sum(amount), max(earned_at), max(earned_at)
                             FROM lot WHERE program_id = $1 GROUP BY member_id, program_id`,
    [PROGRAM],
  );
  // the dashboard rollups of those credits, as the ledger's writers append them (per program-local day)
  await step(
    'dashboard rollups',
    `INSERT INTO ledger_daily_delta (program_id, day, issued)
     SELECT program_id, (occurred_at AT TIME ZONE 'Asia/Shanghai')::date, sum(amount) FROM ledger_entry WHERE program_id = $1 GROUP BY 1, 2`,
    [PROGRAM],
  );
  // Autovacuum would long since have visited these tables (and is off on the bench server): give
  // the planner statistics and the visibility map as a database a year old would have them.
  await step('vacuum analyze', 'VACUUM ANALYZE', []);
}

async function sweepOn(kind: SweepRun['kind'], db: Db, members: number, perMember: number, database?: string): Promise<SweepRun> {
  const lots = members * perMember;
  log(`${kind}: loading ${fmt(lots)} due lots (${fmt(members)} members × ${perMember})`);
  let t = performance.now();
  await prepareSchema(db);
  await loadDueLots(db, members, perMember);
  const loadSeconds = (performance.now() - t) / 1000;

  if (kind === 'postgres') await checkpoint();
  await awaitQuiet();
  log(`${kind}: sweep at ${SWEEP_AT.toISOString()}`);
  const cpu = kind === 'postgres' ? startCpu([], database) : startCpu([]);
  t = performance.now();
  const report = await sweep(db, SWEEP_AT);
  const seconds = (performance.now() - t) / 1000;
  const cpuReport = await cpu.stop();
  log(`${kind}: expired ${fmt(report.lots_expired)} lots in ${fmt(seconds, 1)} s = ${fmt(report.lots_expired / seconds)} rows/s`);
  log(`${kind}: ${cpuLine(cpuReport)}`);

  const again = await sweep(db, SWEEP_AT);
  const [counts] = await db.query<{ expire_entries: number; open_lots: number; expired_points: number; lot_points: number }>(
    `SELECT (SELECT count(*) FROM ledger_entry WHERE kind = 'expire' AND hold_id IS NULL)::int AS expire_entries,
            (SELECT count(*) FROM lot WHERE remaining > 0)::int AS open_lots,
            (SELECT coalesce(sum(amount), 0) FROM ledger_entry WHERE kind = 'expire')::bigint AS expired_points,
            (SELECT coalesce(sum(amount), 0) FROM lot)::bigint AS lot_points`,
  );
  t = performance.now();
  const audit = await runAudit(db, SWEEP_AT);
  const auditSeconds = (performance.now() - t) / 1000;
  const auditSummary =
    `ok=${audit.ok} checked=${JSON.stringify(audit.checked)} violations=${audit.violations.length}` +
    ` expired=${audit.accounts.find((a) => a.account === 'expired')?.balance ?? 0} points (lots hold ${counts!.lot_points})`;
  log(`${kind}: audit in ${fmt(auditSeconds, 1)} s: ${auditSummary}`);
  if (!audit.ok) log(`${kind}: violations ${JSON.stringify(audit.violations.slice(0, 5))}`);
  return {
    kind,
    lots,
    members,
    loadSeconds,
    seconds,
    rowsPerSecond: report.lots_expired / seconds,
    lotsExpired: report.lots_expired,
    expireEntries: counts!.expire_entries,
    openLotsAfter: counts!.open_lots,
    secondSweepExpired: again.lots_expired,
    auditOk: audit.ok && counts!.expired_points === counts!.lot_points,
    auditSeconds,
    auditSummary,
    cpu: cpuReport,
  };
}

export async function benchSweep(): Promise<SweepResult> {
  const result: SweepResult = {};
  const per = settings.sweepLotsPerMember;
  if (settings.sweepLots > 0) {
    const name = 'jifen_bench_sweep';
    const url = await freshDatabase(name);
    const db = await openDb({ databaseUrl: url, poolSize: 4 });
    try {
      result.postgres = await sweepOn('postgres', db, Math.ceil(settings.sweepLots / per), per, name);
    } finally {
      await db.close();
      await dropDatabase(name);
    }
  }
  if (settings.pglite && settings.sweepPgliteLots > 0) {
    const dir = await mkdtemp(join(tmpdir(), 'jifen-bench-sweep-'));
    const db = await openDb({ dataDir: dir });
    try {
      result.pglite = await sweepOn('pglite', db, Math.ceil(settings.sweepPgliteLots / per), per);
    } finally {
      await db.close();
      if (!settings.keep) await rm(dir, { recursive: true, force: true });
    }
  }
  return result;
}

export function formatSweep(r: SweepResult): string {
  const rows = [r.postgres, r.pglite]
    .filter((x) => x !== undefined)
    .map((s) => [
      s.kind === 'postgres' ? 'PostgreSQL' : 'PGlite',
      fmt(s.lots),
      fmt(s.seconds, 1),
      fmt(s.rowsPerSecond),
      fmt(s.expireEntries),
      s.openLotsAfter,
      s.secondSweepExpired,
      s.auditOk ? 'ok' : 'FAILED',
      fmt(s.loadSeconds, 0),
    ]);
  const lines = [table(['expiry sweep', 'due lots', 'seconds', 'rows/s', 'expire entries', 'open after', '2nd sweep', 'audit', 'load s'], rows)];
  for (const s of [r.postgres, r.pglite]) if (s) lines.push(`${s.kind} sweep ${cpuLine(s.cpu, s.lotsExpired)}`);
  return lines.join('\n');
}

export function sweepFailures(r: SweepResult): string[] {
  const f: string[] = [];
  for (const s of [r.postgres, r.pglite]) {
    if (!s) continue;
    if (s.lotsExpired !== s.lots) f.push(`${s.kind}: sweep expired ${s.lotsExpired} of ${s.lots} lots`);
    if (s.expireEntries !== s.lots) f.push(`${s.kind}: ${s.expireEntries} expire entries for ${s.lots} lots`);
    if (s.openLotsAfter !== 0) f.push(`${s.kind}: ${s.openLotsAfter} lots still open after the sweep`);
    if (s.secondSweepExpired !== 0) f.push(`${s.kind}: a second sweep expired ${s.secondSweepExpired} more`);
    if (!s.auditOk) f.push(`${s.kind}: audit failed: ${s.auditSummary}`);
  }
  return f;
}

if (import.meta.main) {
  const t0 = performance.now();
  const result = await benchSweep();
  process.stdout.write(`\n${formatSweep(result)}\n\nbench/sweep wall time ${fmt((performance.now() - t0) / 1000, 0)} s\n`);
  const failures = sweepFailures(result);
  if (failures.length) {
    process.stderr.write(`${failures.join('\n')}\n`);
    process.exitCode = 1;
  }
}
