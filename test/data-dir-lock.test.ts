/**
 * One process per embedded data directory (issue 8, item 1). The lock is an OS-level lock the kernel
 * releases when its holder dies; jifen.pid is information only. These tests start real server
 * processes (`node src/cli.ts serve`), so they are PGlite-only by nature: on PostgreSQL, processes
 * share the database server and there is no directory to lock.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DataDirLockedError, LOCK_FILE, lockDataDir, PID_FILE } from '../src/db/data-dir-lock.ts';
import { killAllServers, type ServerProcess, spawnServer, startServer } from './helpers/server-process.ts';

const SLOW_PID_FILE = fileURLToPath(new URL('./helpers/slow-pid-file.ts', import.meta.url));
const REFUSAL =
  /The embedded database in .+ is in use by (process \d+|another process)\. Stop it first, or use its API \(e\.g\. GET \/v1\/audit\), or set DATABASE_URL/;

/** The pid of a process that has exited (the kernel may hand it out again later: that is the point). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

async function pidFile(dir: string): Promise<string> {
  return (await readFile(join(dir, PID_FILE), 'utf8')).trim();
}

/** Waits for a process that must refuse to start, and returns what it printed. */
async function refused(server: ServerProcess): Promise<string> {
  const exit = await server.exited;
  assert.equal(exit.code, 1, `expected exit code 1, got ${JSON.stringify(exit)}\nstdout: ${server.stdout()}\nstderr: ${server.stderr()}`);
  assert.match(server.stderr(), REFUSAL);
  assert.doesNotMatch(server.stderr(), /\n\s+at /, 'a refusal is a message, not a stack trace');
  return server.stderr();
}

describe('data directory lock (in process)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jifen-lock-unit-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second lock at once, writes jifen.pid as information, and can be taken again after release', async () => {
    const first = lockDataDir(dir);
    assert.equal(await pidFile(dir), String(process.pid));
    const t0 = Date.now();
    assert.throws(
      () => lockDataDir(dir),
      (err) => err instanceof DataDirLockedError && REFUSAL.test(err.message),
    );
    assert.ok(Date.now() - t0 < 1000, 'no waiting for the holder');
    first.release();
    first.release(); // twice is harmless
    assert.deepEqual((await readdir(dir)).sort(), [LOCK_FILE], 'the pid file is removed, the lock file is kept (never deleted)');
    const again = lockDataDir(dir);
    again.release();
  });

  for (const content of ['-1', '0', '', 'garbage', '99999999999', `${process.pid}`, `${process.ppid}`]) {
    it(`does not read jifen.pid to decide: ${JSON.stringify(content)} does not block`, async () => {
      await writeFile(join(dir, PID_FILE), content);
      const lock = lockDataDir(dir);
      assert.equal(await pidFile(dir), String(process.pid));
      lock.release();
    });
  }
});

describe('data directory lock (server processes) [pglite]', { timeout: 120_000 }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jifen-lock-'));
    // the first start creates and migrates the database; later starts only open it
    const first = await startServer({ JIFEN_DATA_DIR: dir });
    await first.kill('SIGTERM');
  });
  afterEach(async () => {
    await killAllServers();
  });
  after(async () => {
    await killAllServers();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts over a stale jifen.pid left by a dead process', async () => {
    await writeFile(join(dir, PID_FILE), String(await deadPid()));
    const server = await startServer({ JIFEN_DATA_DIR: dir });
    assert.equal(await pidFile(dir), String(server.pid));
    assert.equal((await server.request('GET', '/v1/audit')).json.ok, true);
  });

  it('starts over a jifen.pid naming a live, unrelated process (pid reuse)', async () => {
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await writeFile(join(dir, PID_FILE), String(sleeper.pid));
      const server = await startServer({ JIFEN_DATA_DIR: dir });
      assert.equal(await pidFile(dir), String(server.pid));
      assert.equal(sleeper.exitCode, null, 'the unrelated process is left alone');
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('starts over a jifen.pid holding -1', async () => {
    await writeFile(join(dir, PID_FILE), '-1');
    const server = await startServer({ JIFEN_DATA_DIR: dir });
    assert.equal(await pidFile(dir), String(server.pid));
  });

  it('refuses a second server, and jifen audit, migrate and sweep, while a server holds the directory', async () => {
    const holder = await startServer({ JIFEN_DATA_DIR: dir });
    const second = await refused(spawnServer({ JIFEN_DATA_DIR: dir }));
    assert.match(second, new RegExp(`in use by process ${holder.pid}\\.`), 'the message names the holder');
    for (const command of ['audit', 'migrate', 'sweep']) {
      const stderr = await refused(spawnServer({ JIFEN_DATA_DIR: dir }, [command]));
      assert.match(stderr, new RegExp(`in use by process ${holder.pid}\\.`), command);
    }
    assert.equal(await pidFile(dir), String(holder.pid), 'a refused process does not touch jifen.pid');
    assert.equal((await holder.request('GET', '/v1/audit')).json.ok, true, 'the holder still works');
  });

  it('is released by the kernel when the holder is killed with SIGKILL', async () => {
    const holder = await startServer({ JIFEN_DATA_DIR: dir });
    const exit = await holder.kill('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(await pidFile(dir), String(holder.pid), 'the dead holder left its pid file behind');
    const next = await startServer({ JIFEN_DATA_DIR: dir });
    assert.equal(await pidFile(dir), String(next.pid));
    assert.equal((await next.request('GET', '/v1/audit')).json.ok, true);
  });

  for (const slowPidReads of [false, true]) {
    it(`lets exactly one of several servers started at the same moment over a stale jifen.pid start${slowPidReads ? ' (pid file reads slowed by 500 ms)' : ''}`, async () => {
      const N = 5;
      await writeFile(join(dir, PID_FILE), String(await deadPid()));
      // Slowed reads widen a check-then-write lock's window so that the race is lost every time.
      const env = { JIFEN_DATA_DIR: dir, NODE_OPTIONS: slowPidReads ? `--import ${SLOW_PID_FILE}` : undefined };
      const servers = Array.from({ length: N }, () => spawnServer(env));
      // each either becomes ready or exits; a ready one keeps running
      const outcomes = await Promise.all(servers.map((s) => Promise.race([s.ready.then(() => 'ready' as const), s.exited.then(() => 'exited' as const)])));
      const winners = servers.filter((_, i) => outcomes[i] === 'ready');
      assert.equal(winners.length, 1, `exactly one starts: ${outcomes.join(', ')}\n${servers.map((s) => s.stderr()).join('\n')}`);
      for (const loser of servers.filter((_, i) => outcomes[i] !== 'ready')) await refused(loser);
      const winner = winners[0]!;
      assert.equal(await pidFile(dir), String(winner.pid));
      const url = await winner.ready;
      const audit = await fetch(`${url}/v1/audit`, { headers: { authorization: `Bearer ${winner.adminKey()}` } });
      assert.equal(((await audit.json()) as { ok: boolean }).ok, true);
    });
  }
});
