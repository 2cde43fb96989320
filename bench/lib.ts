/**
 * Shared pieces of the benchmarks: settings from the environment, databases of our own on the
 * local PostgreSQL server, pgbench, the Jifen server as a child process, an HTTP load generator
 * (node:http with a keep-alive agent), CPU accounting from /proc, and table formatting.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import postgres from 'postgres';
import type { Db } from '../src/db/db.ts';
import { migrate } from '../src/db/migrate.ts';

const run = promisify(execFile);

export const ROOT = join(import.meta.dirname, '..');

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${JSON.stringify(raw)}: must be a non-negative number`);
  return n;
}

function envBool(name: string, fallback: boolean): boolean {
  const raw = process.env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  return ['1', 'true', 'yes', 'on'].includes(raw);
}

/** Every knob of the benchmarks; the defaults are the figures in bench/README.md. */
export const settings = {
  /** Length of each timed phase: pgbench -T, HTTP credits, HTTP debits. */
  seconds: envNumber('BENCH_SECONDS', 30),
  /** Unmeasured warm-up before each HTTP measurement. */
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 5),
  clients: envNumber('BENCH_CLIENTS', 16),
  members: envNumber('BENCH_MEMBERS', 1000),
  pgbenchScale: envNumber('BENCH_PGBENCH_SCALE', 16),
  pgbenchThreads: envNumber('BENCH_PGBENCH_THREADS', 2),
  /** The PostgreSQL server: a URL without a database name. */
  serverUrl: (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, ''),
  pglite: envBool('BENCH_PGLITE', true),
  /** Also run pgbench with the ledger functions themselves (no HTTP) on the HTTP benchmark's database. */
  sqlBaseline: envBool('BENCH_SQL', true),
  sweepLots: envNumber('BENCH_SWEEP_LOTS', 1_000_000),
  sweepLotsPerMember: envNumber('BENCH_SWEEP_LOTS_PER_MEMBER', 10),
  /** Lots for the PGlite sweep (0 skips it). */
  sweepPgliteLots: envNumber('BENCH_SWEEP_PGLITE_LOTS', 100_000),
  /** Run the Jifen server with --cpu-prof (profiles land in bench/.profiles/). */
  cpuProf: envBool('BENCH_CPU_PROF', false),
  keep: envBool('BENCH_KEEP', false),
  /**
   * EXPERIMENTS ONLY: a SQL file applied to every benchmark database right after migrating, to
   * measure a proposed change to the ledger functions (e.g. bench/experiments/*.sql) in this harness.
   */
  sqlPatch: process.env.BENCH_SQL_PATCH?.trim() || undefined,
  /** Before each measurement, wait up to this many seconds for the machine to be quiet (0: don't). */
  quietWait: envNumber('BENCH_QUIET_WAIT', 20),
};

export const log = (line: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// ---------------------------------------------------------------------------------------------
// PostgreSQL: our own databases, pgbench

export function dbUrl(name: string): string {
  return `${settings.serverUrl}/${name}`;
}

/** Runs fn with a one-connection pool on the maintenance database `postgres`. */
async function withAdmin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(dbUrl('postgres'), { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Drops (if there) and creates a database of ours. Names must start with jifen_bench or jifen_pgbench. */
export async function freshDatabase(name: string): Promise<string> {
  assertOurs(name);
  await withAdmin(async (sql) => {
    await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await sql.unsafe(`CREATE DATABASE ${name}`);
  });
  return dbUrl(name);
}

export async function dropDatabase(name: string): Promise<void> {
  assertOurs(name);
  if (settings.keep) return log(`BENCH_KEEP: keeping database ${name}`);
  await withAdmin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

function assertOurs(name: string) {
  if (!/^jifen_(bench|pgbench)[a-z0-9_]*$/.test(name)) throw new Error(`refusing to touch database ${name}`);
}

/** Flushes dirty buffers so that one phase's checkpoint does not land in the next one's timing. */
export async function checkpoint(): Promise<void> {
  await withAdmin((sql) => sql.unsafe('CHECKPOINT'));
}

export async function serverInfo(): Promise<Record<string, string>> {
  return withAdmin(async (sql) => {
    const rows = await sql.unsafe<{ name: string; setting: string; unit: string | null }[]>(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('server_version', 'shared_buffers', 'synchronous_commit', 'fsync', 'wal_level', 'max_wal_size', 'autovacuum', 'work_mem')`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]));
  });
}

function pgArgs(): string[] {
  const u = new URL(settings.serverUrl);
  return ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')];
}

export interface PgbenchResult {
  /** 'TPC-B' for the built-in script, else the custom script's label. */
  script: string;
  clients: number;
  threads: number;
  seconds: number;
  tps: number;
  latencyAvgMs: number;
  transactions: number;
  failed: number;
  cpu: CpuReport;
}

export interface TpcbResult extends PgbenchResult {
  scale: number;
  initSeconds: number;
}

const pgEnv = () => ({ ...process.env, PGPASSWORD: decodeURIComponent(new URL(settings.serverUrl).password) });

/**
 * pgbench -c/-j/-T on db, either the built-in TPC-B-like script or a custom one (-f, prepared
 * statements, no vacuum); parses tps. Starts on a quiet machine after a checkpoint.
 */
export async function pgbench(db: string, custom?: { label: string; script: string }): Promise<PgbenchResult> {
  const { clients, pgbenchThreads: threads, seconds } = settings;
  const args = [...pgArgs(), '-c', String(clients), '-j', String(threads), '-T', String(seconds)];
  let scriptFile: string | undefined;
  if (custom) {
    const dir = await mkdtemp(join(tmpdir(), 'jifen-bench-'));
    scriptFile = join(dir, 'script.sql');
    await writeFile(scriptFile, custom.script);
    args.push('-n', '-M', 'prepared', '-f', scriptFile);
  }
  try {
    await checkpoint();
    await awaitQuiet();
    log(`pgbench ${args.slice(6).join(' ')} ${db}${custom ? ` (${custom.label})` : ''}`);
    const cpu = startCpu([], db);
    const { stdout } = await run('pgbench', [...args, db], { env: pgEnv(), maxBuffer: 1 << 24 });
    const cpuReport = await cpu.stop();
    const num = (re: RegExp) => {
      const m = re.exec(stdout);
      if (!m) throw new Error(`pgbench output did not match ${re}:\n${stdout}`);
      return Number(m[1]);
    };
    return {
      script: custom?.label ?? 'TPC-B',
      clients,
      threads,
      seconds,
      tps: num(/^tps = ([\d.]+) \(without initial connection time\)/m),
      latencyAvgMs: num(/^latency average = ([\d.]+) ms/m),
      transactions: num(/^number of transactions actually processed: (\d+)/m),
      failed: /^number of failed transactions: (\d+)/m.test(stdout) ? num(/^number of failed transactions: (\d+)/m) : 0,
      cpu: cpuReport,
    };
  } finally {
    if (scriptFile) await rm(dirname(scriptFile), { recursive: true, force: true });
  }
}

/** pgbench -i -s SCALE, then the standard TPC-B-like run. */
export async function runTpcb(db: string): Promise<TpcbResult> {
  const scale = settings.pgbenchScale;
  const t = performance.now();
  log(`pgbench -i -s ${scale} ${db}`);
  await run('pgbench', [...pgArgs(), '-i', '-q', '-s', String(scale), db], { env: pgEnv(), maxBuffer: 1 << 24 });
  const initSeconds = (performance.now() - t) / 1000;
  return { ...(await pgbench(db)), scale, initSeconds };
}

/** runTpcb on a database of its own, made for it and dropped after. */
export async function tpcbOnFreshDatabase(db: string): Promise<TpcbResult> {
  await freshDatabase(db);
  try {
    return await runTpcb(db);
  } finally {
    await dropDatabase(db);
  }
}

/** Migrates db and applies BENCH_SQL_PATCH if set (an experiment, reported as such). */
export async function prepareSchema(db: Db): Promise<void> {
  await migrate(db);
  if (settings.sqlPatch) {
    log(`EXPERIMENT: applying ${settings.sqlPatch}`);
    await db.exec(await readFile(settings.sqlPatch, 'utf8'));
  }
}

// ---------------------------------------------------------------------------------------------
// The Jifen server as a child process

export interface ServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `node src/cli.ts serve` on a free port, as an operator would start it, with the demo and the
 * background jobs off and a known bootstrap admin key. Resolves once it listens.
 */
export async function startJifen(env: Record<string, string>, label: string): Promise<ServerProcess> {
  const profDir = join(ROOT, 'bench', '.profiles');
  const args = ['src/cli.ts', 'serve'];
  if (settings.cpuProf) {
    await mkdir(profDir, { recursive: true });
    args.unshift('--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${label}-${Date.now()}.cpuprofile`);
  }
  const childEnv: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('JIFEN_') || k === 'DATABASE_URL') delete childEnv[k];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    // benchmarks measure the engine, not the rate limiter: both limits off (0) unless a run sets them
    env: {
      ...childEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JIFEN_DEMO: 'false',
      JIFEN_JOBS: 'false',
      JIFEN_RATE_LIMIT_API_KEY: '0',
      JIFEN_RATE_LIMIT_MEMBER: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${label}: server did not start in 60 s\n${out}\n${stderr}`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /API (http:\/\/[^\s/]+)\/v1/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${label}: server exited with ${code} before listening\n${out}\n${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
      if (stderr.trim()) log(`${label} server stderr (last lines):\n${stderr.trim().split('\n').slice(-5).join('\n')}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP load

export interface HttpResponse {
  status: number;
  body: string;
}

export class HttpClient {
  readonly #agent: http.Agent;
  readonly #host: string;
  readonly #port: number;
  readonly #auth: string;

  constructor(baseUrl: string, key: string, sockets: number) {
    const u = new URL(baseUrl);
    this.#host = u.hostname;
    this.#port = Number(u.port);
    this.#auth = `Bearer ${key}`;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  get(path: string): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { agent: this.#agent, host: this.#host, port: this.#port, method: 'GET', path, headers: { authorization: this.#auth } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  post(path: string, payload: unknown, idempotencyKey?: string): Promise<HttpResponse> {
    return this.postJson(path, JSON.stringify(payload), idempotencyKey);
  }

  /**
   * POSTs a body serialized already. With `keep`, only the first `keep` bytes of the response body
   * are kept and decoded (a load generator that checks a count at the head of a large response
   * need not copy and decode all of it; it still reads every byte).
   */
  /** PUTs a JSON body (a whole resource, e.g. a tier ladder). */
  put(path: string, payload: unknown): Promise<HttpResponse> {
    return this.postJson(path, JSON.stringify(payload), undefined, undefined, 'PUT');
  }

  postJson(path: string, body: string, idempotencyKey?: string, keep?: number, method: 'POST' | 'PUT' = 'POST'): Promise<HttpResponse> {
    const headers: http.OutgoingHttpHeaders = {
      authorization: this.#auth,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    return new Promise((resolve, reject) => {
      const req = http.request({ agent: this.#agent, host: this.#host, port: this.#port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (keep === undefined) chunks.push(c);
          else if (kept < keep) {
            chunks.push(c.subarray(0, keep - kept));
            kept += Math.min(c.length, keep - kept);
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close() {
    this.#agent.destroy();
  }
}

export interface PhaseResult {
  name: string;
  clients: number;
  seconds: number;
  requests: number;
  ok: number;
  errors: number;
  /** Status (or 'network') → count, for everything that was not the expected status. */
  errorKinds: Record<string, number>;
  firstError?: string;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  cpu?: CpuReport;
}

/**
 * `clients` concurrent loops, each issuing one request at a time until `seconds` have passed.
 * Requests that complete after the deadline are counted (the rate divides by the real elapsed
 * time, which includes draining them).
 */
export async function runPhase(
  name: string,
  clients: number,
  seconds: number,
  expectStatus: number,
  request: (worker: number, seq: number) => Promise<HttpResponse>,
  watch: { pids?: number[]; database?: string } = {},
): Promise<PhaseResult> {
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  let ok = 0;
  let seq = 0;
  const errorKinds: Record<string, number> = {};
  let firstError: string | undefined;
  const cpu = startCpu(watch.pids ?? [], watch.database);
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async (w: number) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      let kind: string | undefined;
      try {
        const res = await request(w, seq++);
        if (res.status !== expectStatus) {
          kind = String(res.status);
          firstError ??= `${res.status} ${res.body.slice(0, 300)}`;
        }
      } catch (err) {
        kind = 'network';
        firstError ??= String(err);
      }
      const dt = performance.now() - t0;
      if (n === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[n++] = dt;
      if (kind) errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      else ok++;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, w) => worker(w)));
  const elapsed = (performance.now() - start) / 1000;
  const cpuReport = await cpu.stop();
  const sorted = latencies.slice(0, n).sort();
  const pct = (p: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)]!);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    name,
    clients,
    seconds: elapsed,
    requests: n,
    ok,
    errors: n - ok,
    errorKinds,
    firstError,
    rps: ok / elapsed,
    p50Ms: pct(50),
    p90Ms: pct(90),
    p99Ms: pct(99),
    maxMs: n ? sorted[n - 1]! : 0,
    meanMs: n ? sum / n : 0,
    cpu: cpuReport,
  };
}

/** Runs fn over items with at most `concurrency` in flight. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: where the machine's two cores went during a phase

export interface CpuReport {
  /** Wall seconds of the phase. */
  wall: number;
  cores: number;
  /** Core-seconds busy on the whole machine (all processes), from /proc/stat. */
  machine: number;
  /** Of those, core-seconds the hypervisor gave to other guests (steal): the machine was slower by that much. */
  steal: number;
  /** Core-seconds of this (load generator) process. */
  loadgen: number;
  /** Core-seconds of the Jifen server process (or other pids given). */
  server: number;
  /** Core-seconds of the PostgreSQL backends connected to the benchmark's database (and pgbench's). */
  postgres: number;
  /** Core-seconds of every other PostgreSQL process: background workers, other databases' backends. */
  postgresOther: number;
  /** The busiest other processes, by name: anything else running on the machine. */
  others: { comm: string; seconds: number }[];
}

const TICKS = 100; // USER_HZ on Linux

interface ProcSample {
  comm: string;
  ticks: number;
  /** For postgres processes: the database named in the process title, if a backend. */
  group: string;
}

function procSample(pid: string, database: string | undefined): ProcSample | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    // fields after comm: state(0) ... utime(11) stime(12)
    const ticks = Number(f[11]) + Number(f[12]);
    let group = comm;
    if (comm === 'postgres' || comm.startsWith('postgres:')) {
      // title: "postgres: 15/main: user database host(port) state"
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      group = database && title.split(' ').includes(database) ? 'postgres:ours' : 'postgres:other';
    }
    return { comm, ticks, group };
  } catch {
    return undefined;
  }
}

/** Synchronous on purpose: a snapshot must be taken now, even if the event loop is about to block. */
function sampleAll(database: string | undefined): Map<number, ProcSample> {
  const m = new Map<number, ProcSample>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = procSample(d, database);
    if (s) m.set(Number(d), s);
  }
  return m;
}

function machineTicks(): { busy: number; steal: number; cores: number } {
  const s = readFileSync('/proc/stat', 'utf8');
  const f = s.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  const cores = s.split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
  return { busy, steal: f[7]!, cores };
}

function childTicks(): number {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[13]) + Number(f[14]);
}

/**
 * Samples every process's CPU counters every 500 ms until stop(), and reports the core-seconds each
 * group used in between. A process that starts during the phase counts from zero; one that exits
 * loses at most its last half second. pgbench, a child of this process, is counted exactly from
 * this process's children counters. `database` names the PostgreSQL database whose backends are ours.
 */
export function startCpu(pids: number[], database?: string) {
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const children0 = childTicks();
  const first = new Map<number, number>();
  const last = new Map<number, ProcSample>();
  const sample = (initial: boolean) => {
    for (const [pid, p] of sampleAll(database)) {
      const seen = last.get(pid);
      if (seen && seen.comm !== p.comm && !seen.comm.startsWith('postgres')) continue; // pid reuse: ignore
      if (!first.has(pid)) first.set(pid, initial ? p.ticks : 0);
      // an exiting backend's title is gone (its cmdline reads empty): once ours, always ours
      last.set(pid, seen?.group === 'postgres:ours' ? { ...p, group: seen.group } : p);
    }
  };
  const m0 = machineTicks();
  sample(true);
  const timer = setInterval(() => sample(false), 500);
  return {
    async stop(): Promise<CpuReport> {
      clearInterval(timer);
      const wall = (performance.now() - t0) / 1000;
      const self = process.cpuUsage(self0);
      const children = childTicks() - children0;
      sample(false);
      const m1 = machineTicks();
      const groups = new Map<string, number>();
      let server = 0;
      for (const [pid, p] of last) {
        if (pid === process.pid) continue;
        const d = p.ticks - (first.get(pid) ?? 0);
        if (pids.includes(pid)) server += d;
        else groups.set(p.group, (groups.get(p.group) ?? 0) + d);
      }
      if (children > 0) groups.set('pgbench', (groups.get('pgbench') ?? 0) + children);
      const take = (g: string) => {
        const v = groups.get(g) ?? 0;
        groups.delete(g);
        return v / TICKS;
      };
      const postgres = take('postgres:ours');
      const postgresOther = take('postgres:other');
      return {
        wall,
        cores: m1.cores,
        machine: (m1.busy - m0.busy) / TICKS,
        steal: (m1.steal - m0.steal) / TICKS,
        loadgen: (self.user + self.system) / 1e6,
        server: server / TICKS,
        postgres,
        postgresOther,
        others: [...groups]
          .filter(([, t]) => t >= 10)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([comm, t]) => ({ comm, seconds: t / TICKS })),
      };
    },
  };
}

/**
 * Bytes read from the machine's disks so far (/proc/diskstats, whole disks only: vda, sda, nvme0n1),
 * 0 where it cannot be read. A phase that reads its data back from disk instead of the page cache
 * is slower for it: on the 2026-12-04 machine the kernel paged out page cache untouched for about
 * a minute (DAMON, bench/README.md "The machine").
 */
export function diskReadBytes(): number {
  try {
    let sectors = 0;
    for (const line of readFileSync('/proc/diskstats', 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length > 5 && /^(vd[a-z]|sd[a-z]|xvd[a-z]|nvme\d+n\d+)$/.test(f[2]!)) sectors += Number(f[5]);
    }
    return sectors * 512;
  } catch {
    return 0;
  }
}

/** Core-seconds of everything that is not this benchmark (other PostgreSQL databases and processes). */
export function foreignCpu(c: CpuReport): number {
  return c.postgresOther + c.others.filter((o) => o.comm !== 'pgbench').reduce((s, o) => s + o.seconds, 0);
}

/**
 * Waits (up to maxSeconds) until the machine is quiet: under `threshold` of one core busy over a
 * 2-second window. Other people's test runs on the same two cores would otherwise skew the figures.
 */
export async function awaitQuiet(maxSeconds = settings.quietWait, threshold = 0.3): Promise<number> {
  if (maxSeconds <= 0) return 0;
  const start = performance.now();
  for (;;) {
    const a = machineTicks();
    await new Promise((r) => setTimeout(r, 2000));
    const b = machineTicks();
    const busy = (b.busy - a.busy) / TICKS / 2;
    if (busy < threshold) return busy;
    if ((performance.now() - start) / 1000 > maxSeconds) {
      log(`machine still busy (${Math.round(busy * 100)}% of a core used by others) after ${maxSeconds} s; measuring anyway`);
      return busy;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Output

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function cpuLine(c: CpuReport | undefined, requests?: number): string {
  if (!c) return '';
  const pct = (x: number) => `${Math.round((100 * x) / c.wall)}%`;
  const parts = [
    `machine ${pct(c.machine)}${c.steal >= 0.01 * c.wall ? ` (of which stolen by the hypervisor ${pct(c.steal)})` : ''}`,
    `postgres ${pct(c.postgres)}`,
    `jifen server ${pct(c.server)}`,
    `load generator ${pct(c.loadgen)}`,
  ];
  for (const o of c.others) parts.push(`${o.comm} ${pct(o.seconds)}`);
  if (c.postgresOther >= 0.1) parts.push(`other postgres ${pct(c.postgresOther)}`);
  let line = `cpu (100% = one core of ${c.cores}): ${parts.join(', ')}`;
  if (requests) {
    // µs below a tenth of a millisecond (batched events), where two decimals of ms say little
    const small = (1000 * Math.max(c.postgres, c.server)) / requests < 0.1;
    const ms = (x: number) => (small ? `${fmt((1e6 * x) / requests, 1)} µs` : `${fmt((1000 * x) / requests, 2)} ms`);
    line += `; per request: postgres ${ms(c.postgres)}, server ${ms(c.server)}, load generator ${ms(c.loadgen)}`;
  }
  return line;
}
