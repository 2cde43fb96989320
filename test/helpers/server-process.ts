/**
 * Real server processes for tests: `node src/cli.ts serve` in a child process, on PORT=0, with the
 * URL it prints on stdout. Every child is remembered, so a test's after hook can make sure none
 * survives (`killAllServers`), and as a last resort they are killed when the test process exits.
 *
 *   const server = await startServer({ JIFEN_DATA_DIR: dir });   // or { DATABASE_URL: url }
 *   const res = await server.request('GET', '/v1/audit');
 *   await server.kill('SIGKILL');
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** A fixed admin key for test servers (JIFEN_BOOTSTRAP_ADMIN_KEY), unless the env given says otherwise. */
export const TEST_ADMIN_KEY = 'jf_test_admin_key_for_server_processes_0001';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the base URL (`http://127.0.0.1:PORT`) once the server prints it; rejects if it exits first. */
  readonly ready: Promise<string>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** What it printed so far. */
  stdout(): string;
  stderr(): string;
  /** The admin key: printed on a first start, else JIFEN_BOOTSTRAP_ADMIN_KEY from its env. */
  adminKey(): string | undefined;
  /** Sends a signal (if it still runs) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
}

export interface StartedServer extends ServerProcess {
  readonly url: string;
  /** fetch against the server with the admin key (or `key`), a JSON body and an optional Idempotency-Key. */
  request(method: string, path: string, options?: RequestOptions): Promise<HttpResult>;
}

export interface RequestOptions {
  body?: unknown;
  key?: string | null;
  idem?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body (undefined when it is not JSON). */
  json: any;
}

const running = new Set<ServerProcess>();

process.once('exit', () => {
  for (const server of running) {
    try {
      server.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * The environment a test server runs with: PATH and HOME of this process only (nothing else
 * leaks in, e.g. a DATABASE_URL of the developer's shell), then quiet test defaults, then `env`.
 * A key set to undefined in `env` is left out.
 */
export function serverEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const merged: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TZ: process.env.TZ,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    JIFEN_JOBS: 'false',
    JIFEN_DEMO: 'false',
    JIFEN_BOOTSTRAP_ADMIN_KEY: TEST_ADMIN_KEY,
    ...env,
  };
  return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
}

/** Spawns `node src/cli.ts <args>` (serve by default) without waiting for anything. */
export function spawnServer(env: Record<string, string | undefined> = {}, args: string[] = ['serve']): ServerProcess {
  const fullEnv = serverEnv(env);
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: string) => {
      out += chunk;
      const m = /API (http:\/\/\S+?)\/v1\b/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: string) => {
      err += chunk;
    });
    void exited.then((exit) => reject(new Error(`server exited (${exit.signal ?? exit.code}) before it was ready:\n${err || out}`)));
  });
  ready.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  const server: ServerProcess = {
    child,
    pid: child.pid!,
    ready,
    exited,
    stdout: () => out,
    stderr: () => err,
    adminKey: () => /export JIFEN_KEY=(\S+)/.exec(out)?.[1] ?? fullEnv.JIFEN_BOOTSTRAP_ADMIN_KEY,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  running.add(server);
  void exited.then(() => running.delete(server));
  return server;
}

/** Spawns a server and waits until it listens (default 120 s: a first start on PGlite creates and migrates the database; killed if it does not). */
export async function startServer(env: Record<string, string | undefined> = {}, options: { timeoutMs?: number } = {}): Promise<StartedServer> {
  const server = spawnServer(env);
  const timeoutMs = options.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await Promise.race([
      server.ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${server.stderr() || server.stdout()}`)), timeoutMs);
      }),
    ]);
    return { ...server, url, request: (method, path, opts) => httpRequest(url, method, path, { key: server.adminKey(), ...opts }) };
  } catch (err) {
    await server.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** One HTTP request; rejects on a network error (refused, reset, the server died mid-request). */
export async function httpRequest(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.idem) headers['idempotency-key'] = options.idem;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const res = await fetch(new URL(path, baseUrl), { method, headers, body, signal: options.signal });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Kills (SIGKILL) every server process this test process started that still runs, and waits for them. */
export async function killAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.kill('SIGKILL')));
}
