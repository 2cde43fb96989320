import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pinoPretty from 'pino-pretty';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { type DataDirLock, DataDirLockedError, lockDataDir as takeDataDirLock } from './db/data-dir-lock.ts';
import { openDb } from './db/db.ts';
import { migrate } from './db/migrate.ts';
import { seedDemo } from './demo/seed-demo.ts';
import { startJobs } from './jobs/scheduler.ts';
import { ensureBootstrapKey } from './modules/api-keys/index.ts';
import { ensureBootstrapOwner } from './modules/console-users/index.ts';
import { systemClock } from './shared/clock.ts';

/** An expected reason not to start, reported without a stack trace. */
export class StartupError extends Error {}

/**
 * The embedded database is a single-process database: two processes opening the same files would
 * corrupt them. An OS-level lock on the data directory (src/db/data-dir-lock.ts) keeps a second
 * process (a second server, or `jifen audit` while the server runs) out, with a message saying what
 * to do instead; the kernel releases it when the process dies.
 */
function lockDataDir(dataDir: string): DataDirLock {
  try {
    return takeDataDirLock(dataDir);
  } catch (err) {
    if (err instanceof DataDirLockedError) throw new StartupError(err.message);
    throw err;
  }
}

export async function openConfiguredDb(config: Readonly<Config>) {
  const tuning = { acquireTimeoutMs: config.databaseAcquireTimeoutMs, conflictRetries: config.databaseConflictRetries };
  if (config.databaseUrl) return openDb({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, ...tuning });
  const dir = join(config.dataDir, 'pglite');
  const lock = lockDataDir(config.dataDir);
  try {
    await mkdir(dir, { recursive: true });
    const db = await openDb({ dataDir: dir, ...tuning });
    const close = db.close;
    return {
      ...db,
      close: async () => {
        try {
          await close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** Opens the database, migrates, makes sure there is an admin key, listens, and runs the jobs. */
export async function startServer(config: Readonly<Config>) {
  const db = await openConfiguredDb(config);
  const { applied, functions } = await migrate(db);
  const clock = systemClock;
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
  const logger = pretty
    ? { level: config.logLevel, stream: pinoPretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) }
    : { level: config.logLevel };
  const app = await buildApp({ config, db, clock, logger });
  if (applied.length > 0) app.log.info({ applied }, 'migrations applied');
  if (functions.length > 0) app.log.info({ functions }, 'SQL function files applied');

  const bootstrap = await ensureBootstrapKey(db, config.bootstrapAdminKey, clock.now());
  if (bootstrap.secret) {
    process.stdout.write(
      `\n  Jifen bootstrap admin API key (shown once, store it now):\n\n    ${bootstrap.secret}\n\n` + `  export JIFEN_KEY=${bootstrap.secret}\n\n`,
    );
  } else if (bootstrap.created) {
    app.log.info('bootstrap admin key created from JIFEN_BOOTSTRAP_ADMIN_KEY');
  }
  const owner = await ensureBootstrapOwner(db, config.bootstrapOwnerPassword, clock.now());
  if (owner.password) {
    process.stdout.write(
      `\n  Jifen console owner (shown once, store it now; change it under Account after signing in):\n\n    email     ${owner.email}\n    password  ${owner.password}\n\n`,
    );
  } else if (owner.created) {
    app.log.info({ email: owner.email }, 'console owner created with JIFEN_BOOTSTRAP_OWNER_PASSWORD');
  }
  if (config.demo && (await seedDemo(db, clock.now()))) app.log.info('demo programs prg_demo (coffee chain) and prg_demo_beauty (beauty shop) created');

  await app.listen({ host: config.host, port: config.port });
  const jobs = config.jobs
    ? startJobs(
        db,
        clock,
        {
          intervalSeconds: config.jobIntervalSeconds,
          idempotencyRetentionDays: config.idempotencyRetentionDays,
          segmentRefreshSeconds: config.segmentRefreshSeconds,
          tierJobSeconds: config.tierJobSeconds,
        },
        app.log,
      )
    : undefined;
  const where = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${(app.server.address() as { port: number }).port}`;
  process.stdout.write(
    `  Jifen is running on ${db.kind === 'pglite' ? `the embedded database in ${config.dataDir}` : 'PostgreSQL'}\n  API ${where}/v1   docs ${where}/docs\n\n`,
  );

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
      close().then(
        () => process.exit(0),
        (err) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  return { app, db, close, url: where };
}
