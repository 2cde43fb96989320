/**
 * bench/tiers: the tier review of 1,000,000 members due on one day on PostgreSQL (reviewDue:
 * tiers_review in batches of 5,000, each its own transaction), seconds and members/s, printed beside
 * the expiry sweep's rows/s and pgbench TPC-B tps measured in the same run on the same server.
 * Target (issue 11): members/s ≥ 10 × pgbench TPC-B tps.
 *
 *   node bench/tiers.ts
 *   BENCH_TIERS_MEMBERS=100000 BENCH_SECONDS=10 node bench/tiers.ts     quick check
 *   BENCH_WALINSPECT=1 node bench/tiers.ts      also the review's WAL by record type and its full-page images by relation (pg_walinspect)
 *
 * The members are made with set-based SQL as the ladder's writers would have left them: the seed
 * ladder (青铜 / 白银 ¥1,000 / 黄金 ¥5,000 a calendar year, kept through the next, retention
 * ¥800 / ¥4,000, one step down at most), half of the members silver and half gold (the base tier
 * has no status to review), all valid until 1 January 2027 (Asia/Shanghai), each
 * with 3 days of qualifying spend in 2026 spread so about half keep their tier. The review runs at
 * 2027-01-01; then it must have reviewed every member once (a second run reviews none), written one
 * history row each, and every tier must be what the spend says.
 */
import { type Db, openDb } from '../src/db/db.ts';
import { sweep } from '../src/modules/ledger/index.ts';
import { REVIEW_BATCH, reviewDue } from '../src/modules/tiers/index.ts';
import {
  awaitQuiet,
  checkpoint,
  cpuLine,
  diskReadBytes,
  dropDatabase,
  envNumber,
  fmt,
  freshDatabase,
  log,
  prepareSchema,
  settings,
  startCpu,
  table,
  tpcbOnFreshDatabase,
} from './lib.ts';
import { loadDueLots, SWEEP_AT } from './sweep.ts';

const MEMBERS = envNumber('BENCH_TIERS_MEMBERS', 1_000_000);
const SWEEP_LOTS = envNumber('BENCH_TIERS_SWEEP_LOTS', 300_000);
const PROGRAM = 'prg_00000000000000000000000tiers';
const BATCH = envNumber('BENCH_TIERS_BATCH', REVIEW_BATCH);
const REVIEW_AT = new Date('2026-12-31T16:00:00.000Z'); // 2027-01-01 00:00 in Shanghai

const name = (zh: string, en: string) => ({ 'zh-CN': zh, en });
const LADDER = [
  { code: 'bronze', name: name('青铜', 'Bronze'), entry: 0, retention: 0, multiplier: '1', birthday_points: 0, welcome_points: 0, grants: [], perks: [] },
  {
    code: 'silver',
    name: name('白银', 'Silver'),
    entry: 100_000,
    retention: 80_000,
    multiplier: '1.2',
    birthday_points: 0,
    welcome_points: 0,
    grants: [],
    perks: [],
  },
  {
    code: 'gold',
    name: name('黄金', 'Gold'),
    entry: 500_000,
    retention: 400_000,
    multiplier: '1.5',
    birthday_points: 0,
    welcome_points: 0,
    grants: [],
    perks: [],
  },
];

async function step(db: Db, what: string, sql: string, params: unknown[] = []): Promise<void> {
  const t = performance.now();
  await db.query(sql, params);
  log(`  ${what} in ${fmt((performance.now() - t) / 1000, 1)} s`);
}

export async function loadMembers(db: Db, members: number): Promise<void> {
  // ids of jf_id's shape, offset by 2^40 from the sweep's members (same database); the low 32 bits are m
  const id = (prefix: string, col: string) => `'${prefix}_' || lpad(to_hex(${col}::bigint + 1099511627776), 28, '0')`;
  await step(
    db,
    'program and ladder',
    `WITH p AS (INSERT INTO program (id, name, time_zone, currency, created_at, updated_at)
                VALUES ($1, 'tiers bench', 'Asia/Shanghai', 'CNY', '2025-01-01', '2025-01-01') RETURNING id)
     INSERT INTO tier_ladder (program_id, metric, qualifying_window, validity, downgrade_policy, grace_days, tiers, created_at, updated_at)
     SELECT id, 'spend', '{"type":"calendar_year"}', '{"type":"period_and_next"}', 'one_step', 0, $2::text::jsonb, '2025-01-01', '2025-01-01' FROM p`,
    [PROGRAM, JSON.stringify(LADDER)],
  );
  await step(
    db,
    `${fmt(members)} members`,
    `INSERT INTO member (id, program_id, external_id, created_at, updated_at, tier)
     SELECT ${id('mbr', 'm')}, $1, 'tiers-' || m, '2025-01-01', '2025-01-01', (ARRAY['silver', 'gold'])[1 + m % 2]
       FROM generate_series(1, $2::int) m`,
    [PROGRAM, members],
  );
  await step(
    db,
    `${fmt(members)} accounts`,
    `INSERT INTO member_account (member_id, program_id, updated_at)
     SELECT ${id('mbr', 'm')}, $1, '2025-01-01' FROM generate_series(1, $2::int) m`,
    [PROGRAM, members],
  );
  await step(
    db,
    `${fmt(members)} tier statuses, all due at ${REVIEW_AT.toISOString()}`,
    `INSERT INTO member_tier (member_id, program_id, tier, since, valid_until, review_at, updated_at)
     SELECT ${id('mbr', 'm')}, $1, (ARRAY['silver', 'gold'])[1 + m % 2], '2025-06-01', $3, $3, '2025-06-01'
       FROM generate_series(1, $2::int) m`,
    [PROGRAM, members, REVIEW_AT.toISOString()],
  );
  // 3 days of 2026 spend per member, ¥0–¥7,000 in all (spread by a permutation of m)
  await step(
    db,
    `${fmt(members * 3)} days of qualifying spend`,
    `INSERT INTO tier_activity (member_id, day, spend, orders)
     SELECT ${id('mbr', 'm')}, '2026-01-01'::date + ((m::bigint * 7919 + d * 101) % 365)::int, ((m::bigint * 104729) % 700000) / 3, 1
       FROM generate_series(1, $1::int) m CROSS JOIN generate_series(0, 2) d`,
    [members],
  );
  await step(db, 'vacuum analyze', 'VACUUM ANALYZE');
}

/** The server's WAL written so far and checkpoints so far (pg_stat_wal, pg_stat_bgwriter). */
async function walStats(db: Db): Promise<{ bytes: number; fpi: number; checkpoints: number }> {
  const [w] = await db.query<{ bytes: string; fpi: string; checkpoints: string }>(
    `SELECT w.wal_bytes::text AS bytes, w.wal_fpi::text AS fpi, (b.checkpoints_timed + b.checkpoints_req)::text AS checkpoints
       FROM pg_stat_wal w, pg_stat_bgwriter b`,
  );
  return { bytes: Number(w!.bytes), fpi: Number(w!.fpi), checkpoints: Number(w!.checkpoints) };
}

export interface TiersResult {
  members: number;
  tps: number;
  sweepRowsPerSecond: number;
  seconds: number;
  membersPerSecond: number;
  reviewed: number;
  downgraded: number;
  renewed: number;
  secondRun: number;
  historyRows: number;
  wrongTiers: number;
}

export async function benchTiers(): Promise<TiersResult> {
  // pgbench TPC-B, the baseline
  const { tps } = await tpcbOnFreshDatabase('jifen_pgbench_tiers');
  log(`pgbench: ${fmt(tps, 1)} tps`);

  const dbName = 'jifen_bench_tiers';
  const url = await freshDatabase(dbName);
  const db = await openDb({ databaseUrl: url, poolSize: 4 });
  try {
    await prepareSchema(db);
    // the expiry sweep on the same server, for comparison
    log(`sweep: loading ${fmt(SWEEP_LOTS)} due lots`);
    await loadDueLots(db, Math.ceil(SWEEP_LOTS / 10), 10);
    await checkpoint();
    await awaitQuiet();
    let t = performance.now();
    const swept = await sweep(db, SWEEP_AT);
    const sweepRowsPerSecond = swept.lots_expired / ((performance.now() - t) / 1000);
    log(`sweep: ${fmt(swept.lots_expired)} lots in ${fmt((performance.now() - t) / 1000, 1)} s = ${fmt(sweepRowsPerSecond)} rows/s`);

    log(`tiers: loading ${fmt(MEMBERS)} members due for review`);
    await loadMembers(db, MEMBERS);
    await checkpoint();
    await awaitQuiet();
    const cpu = startCpu([], dbName);
    const wal0 = await walStats(db);
    const disk0 = diskReadBytes();
    const [lsn0] = await db.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l');
    t = performance.now();
    const r = await reviewDue(db, REVIEW_AT, BATCH);
    const seconds = (performance.now() - t) / 1000;
    const wal1 = await walStats(db);
    const diskRead = diskReadBytes() - disk0;
    if (process.env.BENCH_WALINSPECT) {
      await db.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
      const rows = await db.query<Record<string, unknown>>(
        `SELECT "resource_manager/record_type" AS t, count, round(combined_size / 1048576.0, 1) AS mb, round(fpi_size / 1048576.0, 1) AS fpi_mb
           FROM pg_get_wal_stats($1::pg_lsn, pg_current_wal_lsn(), true) WHERE count > 0 ORDER BY combined_size DESC LIMIT 25`,
        [lsn0!.l],
      );
      for (const r of rows) log(`  wal ${JSON.stringify(r)}`);
      // full-page images by relation: which tables' and indexes' pages the review touches again after a checkpoint
      const pages = await db.query<Record<string, unknown>>(
        `SELECT coalesce(c.relname, f.m[1]) AS relation, count(*) AS fpi
           FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_lsn()) r
          CROSS JOIN LATERAL regexp_matches(r.block_ref, 'rel \\d+/\\d+/(\\d+) fork main blk \\d+ \\(FPW\\)', 'g') AS f(m)
           LEFT JOIN pg_class c ON c.relfilenode = f.m[1]::oid
          GROUP BY 1 ORDER BY 2 DESC LIMIT 12`,
        [lsn0!.l],
      );
      for (const r of pages) log(`  fpi ${JSON.stringify(r)}`);
    }
    log(`tiers: reviewed ${fmt(r.reviewed)} members in ${fmt(seconds, 1)} s = ${fmt(r.reviewed / seconds)} members/s (batches of ${fmt(BATCH)})`);
    log(`tiers: ${cpuLine(await cpu.stop())}`);
    log(
      `tiers: WAL ${fmt((wal1.bytes - wal0.bytes) / 1048576)} MB (${fmt((wal1.bytes - wal0.bytes) / Math.max(1, r.reviewed))} bytes a member), ` +
        `${fmt(wal1.fpi - wal0.fpi)} full-page images, ${fmt(wal1.checkpoints - wal0.checkpoints)} checkpoints during the review; ` +
        `${fmt(diskRead / 1048576)} MB read from disk (data no longer in the page cache)`,
    );
    const again = await reviewDue(db, REVIEW_AT);
    // every tier as the 2026 spend says: kept at or above retention, else one step down (bronze stays)
    const [check] = await db.query<{ history: number; wrong: number }>(
      `SELECT (SELECT count(*) FROM tier_history WHERE program_id = $1)::int AS history,
              (SELECT count(*) FROM (
                 SELECT mt.tier, m.tier AS shown, s.spend,
                        CASE WHEN s.spend >= 400000 AND x.t = 'gold' THEN 'gold'
                             WHEN x.t = 'gold' THEN 'silver'
                             WHEN x.t = 'silver' AND s.spend >= 80000 THEN 'silver'
                             ELSE 'bronze' END AS expected
                   FROM member_tier mt JOIN member m ON m.id = mt.member_id
                   CROSS JOIN LATERAL (SELECT (ARRAY['silver', 'gold'])[1 + (('x' || right(mt.member_id, 8))::bit(32)::int) % 2] AS t) x
                   CROSS JOIN LATERAL (SELECT coalesce(sum(a.spend), 0) AS spend FROM tier_activity a WHERE a.member_id = mt.member_id) s
                  WHERE mt.program_id = $1) c
                WHERE c.tier <> c.expected OR c.shown <> c.expected)::int AS wrong`,
      [PROGRAM],
    );
    return {
      members: MEMBERS,
      tps,
      sweepRowsPerSecond,
      seconds,
      membersPerSecond: r.reviewed / seconds,
      reviewed: r.reviewed,
      downgraded: r.downgraded,
      renewed: r.renewed,
      secondRun: again.reviewed,
      historyRows: check!.history,
      wrongTiers: check!.wrong,
    };
  } finally {
    await db.close();
    if (!settings.keep) await dropDatabase(dbName);
  }
}

export function formatTiers(r: TiersResult): string {
  const ratio = r.membersPerSecond / r.tps;
  return [
    table(
      ['what', 'figure'],
      [
        ['members reviewed', fmt(r.reviewed)],
        ['seconds', fmt(r.seconds, 1)],
        ['members/s', fmt(r.membersPerSecond)],
        ['downgraded / renewed', `${fmt(r.downgraded)} / ${fmt(r.renewed)}`],
        ['expiry sweep rows/s (same run)', fmt(r.sweepRowsPerSecond)],
        ['pgbench TPC-B tps (same run)', fmt(r.tps, 1)],
        ['members/s ÷ TPC-B tps', `${fmt(ratio, 1)}× (target ≥ 10×: ${ratio >= 10 ? 'met' : 'NOT MET'})`],
        ['second run reviewed', fmt(r.secondRun)],
        ['history rows', fmt(r.historyRows)],
        ['tiers not as the spend says', fmt(r.wrongTiers)],
      ],
    ),
  ].join('\n');
}

if (import.meta.main) {
  const r = await benchTiers();
  console.log(formatTiers(r));
  console.log(JSON.stringify(r));
  if (r.wrongTiers > 0 || r.secondRun > 0 || r.historyRows !== r.reviewed) process.exitCode = 1;
}
