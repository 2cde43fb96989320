import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { openDb } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { seedDemo } from './demo/seed-demo.ts';
import { startJobs } from './jobs/scheduler.ts';
import { ensureBootstrapKey } from './modules/api-keys/index.ts';
import { systemClock } from './shared/clock.ts';

/** An expected reason not to start, reported without a stack trace. */
export class StartupError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded database is a single-process database: two processes opening the same files would
 * corrupt them. A pid file in the data directory keeps a second process (a second server, or
 * `jifen audit` while the server runs) out, with a message saying what to do instead.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = join(dataDir, 'jifen.pid');
  try {
    await writeFile(lockFile, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = Number(await readFile(lockFile, 'utf8').catch(() => '0'));
    if (holder && holder !== process.pid && alive(holder)) {
      throw new StartupError(
        `The embedded database in ${dataDir} is in use by process ${holder}. Stop it first, or use its API ` +
          '(e.g. GET /v1/audit), or set DATABASE_URL to share a PostgreSQL server between processes.',
      );
    }
    await writeFile(lockFile, String(process.pid));
  }
  return () => rm(lockFile, { force: true });
}

export async function openConfiguredDb(config: Readonly<Config>) {
  if (config.databaseUrl) return openDb({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize });
  const dir = join(config.dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  const unlock = await lockDataDir(config.dataDir);
  try {
    const db = await openDb({ dataDir: dir });
    const close = db.close;
    return { ...db, close: async () => { await close(); await unlock(); } };
  } catch (err) {
    await unlock();
    throw err;
  }
}

/** Opens the database, migrates, makes sure there is an admin key, listens, and runs the jobs. */
export async function startServer(config: Readonly<Config>) {
  const db = await openConfiguredDb(config);
  const { applied } = await migrate(db);
  const clock = systemClock;
  const app = await buildApp({ config, db, clock, logger: { level: config.logLevel } });
  if (applied.length > 0) app.log.info({ applied }, 'migrations applied');

  const bootstrap = await ensureBootstrapKey(db, config.bootstrapAdminKey, clock.now());
  if (bootstrap.secret) {
    process.stdout.write(
      `\n  Jifen bootstrap admin API key (shown once, store it now):\n\n    ${bootstrap.secret}\n\n` +
        `  export JIFEN_KEY=${bootstrap.secret}\n\n`,
    );
  } else if (bootstrap.created) {
    app.log.info('bootstrap admin key created from JIFEN_BOOTSTRAP_ADMIN_KEY');
  }
  if (config.demo && (await seedDemo(db, clock.now()))) app.log.info('demo programme prg_demo created');

  await app.listen({ host: config.host, port: config.port });
  const jobs = config.jobs
    ? startJobs(db, clock, { intervalSeconds: config.jobIntervalSeconds, idempotencyRetentionDays: config.idempotencyRetentionDays }, app.log)
    : undefined;
  const where = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${(app.server.address() as { port: number }).port}`;
  process.stdout.write(`  Jifen is running on ${db.kind === 'pglite' ? `the embedded database in ${config.dataDir}` : 'PostgreSQL'}\n  API ${where}/v1   docs ${where}/docs\n\n`);

  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await jobs?.stop();
    await app.close();
    await db.close();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down');
      close().then(() => process.exit(0), (err) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
    });
  }
  return { app, db, close, url: where };
}
