/**
 * bench/ledger: credits/s and debits/s through the HTTP API with 16 concurrent clients, beside
 * pgbench's TPC-B tps measured in the same run on the same PostgreSQL server, as a ratio; then the
 * same HTTP workload on the embedded PGlite database.
 *
 *   node bench/ledger.ts                  full run (30 s phases)
 *   BENCH_SECONDS=5 node bench/ledger.ts  quick check
 *
 * See bench/README.md for what is measured and the figures.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../src/db/db.ts';
import {
  awaitQuiet,
  checkpoint,
  cpuLine,
  dropDatabase,
  fmt,
  freshDatabase,
  HttpClient,
  log,
  type PgbenchResult,
  type PhaseResult,
  pgbench,
  pool,
  prepareSchema,
  runPhase,
  serverInfo,
  settings,
  startJifen,
  type TpcbResult,
  table,
  tpcbOnFreshDatabase,
} from './lib.ts';

export interface HttpRun {
  kind: 'postgres' | 'pglite';
  programId: string;
  setupSeconds: number;
  credits: PhaseResult;
  debits: PhaseResult;
  auditOk: boolean;
  auditSummary: string;
}

export interface LedgerResult {
  pgServer: Record<string, string>;
  pgbench: TpcbResult;
  postgres: HttpRun;
  /** The same ledger functions called straight from pgbench (no HTTP, no Node): the database's share. */
  sql?: { credits: PgbenchResult; debits: PgbenchResult };
  pglite?: HttpRun;
}

/** Credits are 10 points, debits 1 point; every member is first given a lot of 1,000,000 points. */
const CREDIT_POINTS = 10;
const DEBIT_POINTS = 1;
const SEED_POINTS = 1_000_000;

async function expect201(p: Promise<{ status: number; body: string }>, what: string): Promise<{ id: string }> {
  const res = await p;
  if (res.status !== 201) throw new Error(`${what}: expected 201, got ${res.status} ${res.body.slice(0, 500)}`);
  return JSON.parse(res.body) as { id: string };
}

/**
 * A pgbench script that makes the same call the API makes for a credit or debit (the same JSON
 * parameter object, a fresh idempotency key each time) for a random member of the program.
 */
function sqlScript(fn: 'ledger_credit' | 'ledger_debit', programId: string, points: number): string {
  return `\\set m random(0, ${settings.members - 1})
SELECT ${fn}(jsonb_build_object('member_id', (SELECT id FROM member WHERE program_id = '${programId}' AND external_id = 'bench-' || :m), 'points', ${points}, 'actor', 'api_key_pgbench', 'now', now(), 'idem_scope', 'pgbench', 'idem_key', gen_random_uuid()::text, 'idem_hash', md5(random()::text)));
`;
}

/** Program, members and a seed credit each (unmeasured), warm-up, then the timed credit and debit phases. */
async function httpWorkload(kind: HttpRun['kind'], env: Record<string, string>, database?: string): Promise<HttpRun> {
  const key = `bench_${randomBytes(18).toString('base64url')}`;
  const runId = randomBytes(4).toString('hex');
  const server = await startJifen({ ...env, JIFEN_BOOTSTRAP_ADMIN_KEY: key }, kind);
  log(`${kind}: Jifen server pid ${server.pid} at ${server.url}`);
  const client = new HttpClient(server.url, key, settings.clients);
  try {
    const t0 = performance.now();
    const program = await expect201(client.post('/v1/programs', { name: `bench ${runId}` }), 'create program');
    const indexes = Array.from({ length: settings.members }, (_, i) => i);
    const members = (
      await pool(indexes, settings.clients, (i) => expect201(client.post(`/v1/programs/${program.id}/members`, { external_id: `bench-${i}` }), 'create member'))
    ).map((m) => m.id);
    await pool(members, settings.clients, (m, i) =>
      expect201(client.post(`/v1/members/${m}/credits`, { points: SEED_POINTS, reason: 'bench seed' }, `${runId}-seed-${i}`), 'seed credit'),
    );
    const setupSeconds = (performance.now() - t0) / 1000;
    log(`${kind}: program ${program.id}, ${members.length} members seeded in ${fmt(setupSeconds, 1)} s`);

    const member = () => members[Math.floor(Math.random() * members.length)]!;
    const credit = (tag: string) => (w: number, seq: number) =>
      client.post(`/v1/members/${member()}/credits`, { points: CREDIT_POINTS }, `${runId}-${tag}-${w}-${seq}`);
    const debit = (tag: string) => (w: number, seq: number) =>
      client.post(`/v1/members/${member()}/debits`, { points: DEBIT_POINTS }, `${runId}-${tag}-${w}-${seq}`);

    const phase = async (name: string, fn: (tag: string) => (w: number, seq: number) => Promise<{ status: number; body: string }>) => {
      if (settings.warmupSeconds > 0) {
        log(`${kind}: ${name} warm-up ${settings.warmupSeconds} s`);
        const warm = await runPhase(`${name} warm-up`, settings.clients, settings.warmupSeconds, 201, fn(`w${name}`));
        if (warm.errors) throw new Error(`${kind} ${name} warm-up: ${warm.errors} errors, first: ${warm.firstError}`);
      }
      if (kind === 'postgres') await checkpoint();
      log(`${kind}: ${name} ${settings.seconds} s with ${settings.clients} clients`);
      await awaitQuiet();
      const r = await runPhase(name, settings.clients, settings.seconds, 201, fn(name), { pids: [server.pid], database });
      log(`${kind}: ${name} ${fmt(r.rps, 0)}/s, p50 ${fmt(r.p50Ms, 1)} ms, p99 ${fmt(r.p99Ms, 1)} ms, errors ${r.errors}`);
      log(`${kind}: ${cpuLine(r.cpu, r.ok)}`);
      if (r.errors) log(`${kind}: ${name} errors ${JSON.stringify(r.errorKinds)}; first: ${r.firstError}`);
      return r;
    };
    const credits = await phase('credits', credit);
    const debits = await phase('debits', debit);

    log(`${kind}: audit`);
    const audit = await client.get('/v1/audit');
    const report = JSON.parse(audit.body) as { ok: boolean; checked: Record<string, number>; violations: unknown[] };
    const auditSummary = `${audit.status} ok=${report.ok} checked=${JSON.stringify(report.checked)} violations=${report.violations?.length}`;
    log(`${kind}: audit ${auditSummary}`);
    return { kind, programId: program.id, setupSeconds, credits, debits, auditOk: audit.status === 200 && report.ok === true, auditSummary };
  } finally {
    client.close();
    await server.stop();
  }
}

export async function benchLedger(): Promise<LedgerResult> {
  const pgServer = await serverInfo();
  log(`PostgreSQL ${pgServer.server_version}: ${JSON.stringify(pgServer)}`);

  const pgbenchDb = 'jifen_pgbench';
  const tpcb = await tpcbOnFreshDatabase(pgbenchDb);
  log(`pgbench: ${fmt(tpcb.tps, 1)} tps, latency avg ${tpcb.latencyAvgMs} ms (init ${fmt(tpcb.initSeconds, 1)} s)`);
  log(`pgbench: ${cpuLine(tpcb.cpu, tpcb.transactions)}`);

  const httpDb = 'jifen_bench_ledger';
  const url = await freshDatabase(httpDb);
  if (settings.sqlPatch) {
    const db = await openDb({ databaseUrl: url, poolSize: 1 });
    await prepareSchema(db).finally(() => db.close());
  }
  let postgres: HttpRun;
  let sql: LedgerResult['sql'];
  try {
    postgres = await httpWorkload('postgres', { DATABASE_URL: url }, httpDb);
    if (settings.sqlBaseline) {
      const credits = await pgbench(httpDb, { label: 'ledger_credit', script: sqlScript('ledger_credit', postgres.programId, CREDIT_POINTS) });
      log(`sql: ledger_credit ${fmt(credits.tps, 0)}/s; ${cpuLine(credits.cpu, credits.transactions)}`);
      const debits = await pgbench(httpDb, { label: 'ledger_debit', script: sqlScript('ledger_debit', postgres.programId, DEBIT_POINTS) });
      log(`sql: ledger_debit ${fmt(debits.tps, 0)}/s; ${cpuLine(debits.cpu, debits.transactions)}`);
      sql = { credits, debits };
    }
  } finally {
    await dropDatabase(httpDb);
  }

  let pglite: HttpRun | undefined;
  if (settings.pglite) {
    const dir = await mkdtemp(join(tmpdir(), 'jifen-bench-pglite-'));
    try {
      if (settings.sqlPatch) {
        const db = await openDb({ dataDir: join(dir, 'pglite') }); // where the server keeps it
        await prepareSchema(db).finally(() => db.close());
      }
      pglite = await httpWorkload('pglite', { JIFEN_DATA_DIR: dir });
    } finally {
      if (!settings.keep) await rm(dir, { recursive: true, force: true });
    }
  }
  return { pgServer, pgbench: tpcb, postgres, sql, pglite };
}

export function formatLedger(r: LedgerResult): string {
  const tps = r.pgbench.tps;
  const ratio = (x: number) => `${fmt(x / tps, 2)}×`;
  const pgCpu = (c: PgbenchResult['cpu'] | undefined, n: number) => (c && n ? fmt((1000 * c.postgres) / n, 2) : '');
  const httpRow = (db: string, p: PhaseResult) => [
    `HTTP ${db} ${p.name}`,
    fmt(p.rps, 0),
    ratio(p.rps),
    fmt(p.meanMs, 1),
    fmt(p.p50Ms, 1),
    fmt(p.p99Ms, 1),
    fmt(p.requests),
    p.errors,
    pgCpu(p.cpu, p.ok),
  ];
  const benchRow = (label: string, p: PgbenchResult) => [
    label,
    fmt(p.tps, 0),
    ratio(p.tps),
    fmt(p.latencyAvgMs, 1),
    '',
    '',
    fmt(p.transactions),
    p.failed,
    pgCpu(p.cpu, p.transactions),
  ];
  const rows: (string | number)[][] = [
    benchRow(`pgbench TPC-B (-s ${r.pgbench.scale} -c ${r.pgbench.clients} -j ${r.pgbench.threads} -T ${r.pgbench.seconds})`, r.pgbench),
    httpRow('PostgreSQL', r.postgres.credits),
    httpRow('PostgreSQL', r.postgres.debits),
  ];
  if (r.sql) rows.push(benchRow('SQL only: pgbench -f ledger_credit', r.sql.credits), benchRow('SQL only: pgbench -f ledger_debit', r.sql.debits));
  if (r.pglite) rows.push(httpRow('PGlite', r.pglite.credits), httpRow('PGlite', r.pglite.debits));
  const earn = r.postgres.credits.rps / tps;
  const lines = [
    table(['ledger, 16 clients', 'per s', 'vs pgbench', 'mean ms', 'p50 ms', 'p99 ms', 'requests', 'errors', 'pg cpu ms/op'], rows),
    '',
    `target: HTTP earn ≥ 0.50× pgbench TPC-B tps: ${earn >= 0.5 ? 'MET' : 'NOT MET'} (${fmt(earn, 2)}×)`,
    `pgbench TPC-B          ${cpuLine(r.pgbench.cpu, r.pgbench.transactions)}`,
    `HTTP PostgreSQL credits ${cpuLine(r.postgres.credits.cpu, r.postgres.credits.ok)}`,
    `HTTP PostgreSQL debits  ${cpuLine(r.postgres.debits.cpu, r.postgres.debits.ok)}`,
  ];
  if (r.sql) {
    lines.push(`SQL only ledger_credit ${cpuLine(r.sql.credits.cpu, r.sql.credits.transactions)}`);
    lines.push(`SQL only ledger_debit  ${cpuLine(r.sql.debits.cpu, r.sql.debits.transactions)}`);
  }
  if (r.pglite) {
    lines.push(`HTTP PGlite credits     ${cpuLine(r.pglite.credits.cpu, r.pglite.credits.ok)}`);
    lines.push(`HTTP PGlite debits      ${cpuLine(r.pglite.debits.cpu, r.pglite.debits.ok)}`);
  }
  lines.push(`audit after the run: PostgreSQL ${r.postgres.auditOk ? 'ok' : 'FAILED'}${r.pglite ? `, PGlite ${r.pglite.auditOk ? 'ok' : 'FAILED'}` : ''}`);
  return lines.join('\n');
}

export function ledgerFailures(r: LedgerResult): string[] {
  const f: string[] = [];
  for (const run of [r.postgres, r.pglite]) {
    if (!run) continue;
    for (const p of [run.credits, run.debits])
      if (p.errors) f.push(`${run.kind} ${p.name}: ${p.errors} errors (${JSON.stringify(p.errorKinds)}), first: ${p.firstError}`);
    if (!run.auditOk) f.push(`${run.kind}: audit failed: ${run.auditSummary}`);
  }
  return f;
}

if (import.meta.main) {
  const t0 = performance.now();
  const result = await benchLedger();
  process.stdout.write(`\n${formatLedger(result)}\n\nbench/ledger wall time ${fmt((performance.now() - t0) / 1000, 0)} s\n`);
  const failures = ledgerFailures(result);
  if (failures.length) {
    process.stderr.write(`${failures.join('\n')}\n`);
    process.exitCode = 1;
  }
}
