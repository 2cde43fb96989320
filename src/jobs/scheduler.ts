import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/db.ts';
import { purgeEndedSessions } from '../modules/console-users/index.ts';
import { sweep } from '../modules/ledger/index.ts';
import type { Clock } from '../shared/clock.ts';
import { jobRuns } from '../shared/metrics.ts';

export interface Jobs {
  /** Runs the sweep once now (also what the timer does). */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the time-driven work on a timer: hold timeouts, lot expiry, idempotency key purge, ended
 * console sessions. Every
 * instance may run it; the sweep locks with SKIP LOCKED, so instances share the work without doing
 * any of it twice. Balances never depend on it having run: it only writes down what time already did.
 */
export function startJobs(db: Db, clock: Clock, options: { intervalSeconds: number; idempotencyRetentionDays: number }, log: FastifyBaseLogger): Jobs {
  let running: Promise<void> | undefined;
  const runOnce = () => {
    running ??= (async () => {
      try {
        const report = await sweep(db, clock.now(), { idempotencyRetentionDays: options.idempotencyRetentionDays });
        jobRuns.inc({ job: 'holds_released' }, report.holds_released);
        jobRuns.inc({ job: 'lots_expired' }, report.lots_expired);
        jobRuns.inc({ job: 'idempotency_keys_purged' }, report.idempotency_keys_purged);
        if (report.holds_released + report.lots_expired + report.idempotency_keys_purged > 0) log.info(report, 'sweep');
        jobRuns.inc({ job: 'console_sessions_purged' }, await purgeEndedSessions(db, clock.now()));
      } catch (err) {
        log.error({ err }, 'sweep failed; will retry');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timer = setInterval(() => void runOnce(), options.intervalSeconds * 1000);
  timer.unref();
  void runOnce();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
