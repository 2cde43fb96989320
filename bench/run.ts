/**
 * npm run bench: bench/ledger then bench/sweep (and bench/rules-engine.ts when it is there), event
 * ingestion, the server under overload (bench/load.ts), the dashboard with 1,000,000 entries
 * (bench/dashboard.ts; BENCH_DASHBOARD_ENTRIES=0 skips it), and one summary at the end.
 * Environment knobs are in bench/lib.ts (BENCH_SECONDS=5 for a quick check); see bench/README.md.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchDashboard, type DashboardResult, dashboardFailures, formatDashboard } from './dashboard.ts';
import { benchEvents, formatEvents } from './events.ts';
import { benchLedger, formatLedger, ledgerFailures } from './ledger.ts';
import { envNumber, fmt, log, settings } from './lib.ts';
import { benchLoad, formatLoad, type LoadResult, loadFailures } from './load.ts';
import { benchSweep, formatSweep, sweepFailures } from './sweep.ts';

const t0 = performance.now();
log(`settings ${JSON.stringify(settings)}`);
const ledger = await benchLedger();
const tLedger = (performance.now() - t0) / 1000;
const sweepResult = await benchSweep();
const tSweep = (performance.now() - t0) / 1000;

/** bench/rules-engine.ts (the rule engine alone, in process), if present: its one JSON line. */
async function rulesEngine(): Promise<string | undefined> {
  const file = join(import.meta.dirname, 'rules-engine.ts');
  if (!existsSync(file)) return undefined;
  log('bench/rules-engine.ts');
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { maxBuffer: 1 << 20 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    return (
      `rule engine (bench/rules-engine.ts, one thread, no database): ${fmt(Number(r.evaluations_per_second))} evaluations/s with ${r.rules} rules` +
      ` (target ${fmt(Number(r.target))}: ${r.meets_target ? 'met' : 'NOT met'})`
    );
  } catch (err) {
    return `rule engine (bench/rules-engine.ts): failed: ${String(err).split('\n')[0]}`;
  }
}
const rules = await rulesEngine();
log("bench/events.ts (against the ledger benchmark's pgbench baseline)");
const eventsCoffee = await benchEvents(ledger.pgbench, 'coffee');
const eventsResult = await benchEvents(ledger.pgbench, 'fifty');
log('bench/load.ts (200 connections of writes, /healthz every 100 ms)');
const load: LoadResult[] = [];
for (const kind of settings.pglite ? (['pglite', 'postgres'] as const) : (['postgres'] as const)) load.push(await benchLoad(kind));
let dashboard: DashboardResult | undefined;
if (envNumber('BENCH_DASHBOARD_ENTRIES', 1_000_000) > 0) {
  log('bench/dashboard.ts (GET /v1/programs/{id}/dashboard with 1,000,000 entries, beside a trivial GET)');
  dashboard = await benchDashboard();
}
const wall = (performance.now() - t0) / 1000;

const machine =
  `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}, PostgreSQL ${ledger.pgServer.server_version}` +
  ` (shared_buffers ${ledger.pgServer.shared_buffers}, synchronous_commit ${ledger.pgServer.synchronous_commit}, fsync ${ledger.pgServer.fsync})`;
const out = [
  '',
  `Jifen benchmarks, ${new Date().toISOString()}`,
  machine,
  settings.sqlPatch ? `EXPERIMENT: ${settings.sqlPatch} applied to the benchmark databases after migrating (not the shipped schema)` : '',
  '',
  formatLedger(ledger),
  '',
  formatSweep(sweepResult),
  '',
  rules ?? '',
  '',
  formatEvents(eventsCoffee),
  '',
  formatEvents(eventsResult),
  '',
  formatLoad(load),
  '',
  dashboard ? formatDashboard(dashboard) : '',
  '',
  `wall time: ${fmt(wall, 0)} s (ledger ${fmt(tLedger, 0)} s, sweep ${fmt(tSweep - tLedger, 0)} s)`,
  '',
].filter((l, i, a) => l !== '' || a[i - 1] !== '');
process.stdout.write(`${out.join('\n')}\n`);

const failures = [...ledgerFailures(ledger), ...sweepFailures(sweepResult), ...loadFailures(load), ...(dashboard ? dashboardFailures(dashboard) : [])];
if (failures.length) {
  process.stderr.write(`FAILED:\n  ${failures.join('\n  ')}\n`);
  process.exitCode = 1;
}
