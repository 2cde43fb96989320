import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/db.ts';
import { purgeEndedSessions } from '../modules/console-users/index.ts';
import { sweep } from '../modules/ledger/index.ts';
import { listPrograms } from '../modules/programs/index.ts';
import { createBuiltInSegments, refreshDueSegments } from '../modules/segments/index.ts';
import { runTierJobs } from '../modules/tiers/index.ts';
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
/**
 * The segments job: gives programs made without createProgram's hook (the demo's) their built-in
 * segments, then refreshes every active segment not refreshed within the interval (the oldest
 * first), each in its own transaction under its advisory lock: an instance skips a segment another
 * is refreshing, and a rerun after a crash redoes only what did not commit.
 */
export async function runSegmentJob(db: Db, now: Date, refreshSeconds: number) {
  let after: string | undefined;
  for (;;) {
    const page = await listPrograms(db, 100, after);
    if (page.length > 0)
      await db.transaction(async (tx) => {
        for (const p of page) await createBuiltInSegments(tx, p.id, now);
      });
    if (page.length < 100) break;
    after = page[page.length - 1]!.id;
  }
  // half an interval of slack: a segment refreshed by the previous run (which took some time) is due again in this one
  return refreshDueSegments(db, now, new Date(now.getTime() - (refreshSeconds * 1000) / 2));
}

export function startJobs(
  db: Db,
  clock: Clock,
  options: { intervalSeconds: number; idempotencyRetentionDays: number; segmentRefreshSeconds?: number; tierJobSeconds?: number },
  log: FastifyBaseLogger,
): Jobs {
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

  const segmentSeconds = options.segmentRefreshSeconds ?? 3600;
  let segmentsRunning: Promise<void> | undefined;
  const runSegments = () => {
    segmentsRunning ??= (async () => {
      try {
        const report = await runSegmentJob(db, clock.now(), segmentSeconds);
        jobRuns.inc({ job: 'segments_refreshed' }, report.refreshed);
        if (report.refreshed > 0) log.info(report, 'segments refreshed');
      } catch (err) {
        log.error({ err }, 'segment refresh failed; will retry');
      } finally {
        segmentsRunning = undefined;
      }
    })();
    return segmentsRunning;
  };
  const segmentTimer = setInterval(() => void runSegments(), segmentSeconds * 1000);
  segmentTimer.unref();
  void runSegments();

  // tiers: reviews due, at-risk warnings, ended overrides, birthday and periodic grants (each set-based,
  // SKIP LOCKED, exactly once: docs/tiers.md, "Jobs")
  let tiersRunning: Promise<void> | undefined;
  const runTiers = () => {
    tiersRunning ??= (async () => {
      try {
        const report = await runTierJobs(db, clock.now());
        for (const [job, n] of Object.entries(report)) jobRuns.inc({ job: `tiers_${job}` }, n);
        if (Object.values(report).some((n) => n > 0)) log.info(report, 'tier jobs');
      } catch (err) {
        log.error({ err }, 'tier jobs failed; will retry');
      } finally {
        tiersRunning = undefined;
      }
    })();
    return tiersRunning;
  };
  const tierTimer = setInterval(() => void runTiers(), (options.tierJobSeconds ?? 900) * 1000);
  tierTimer.unref();
  void runTiers();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      clearInterval(segmentTimer);
      clearInterval(tierTimer);
      await running;
      await segmentsRunning;
      await tiersRunning;
    },
  };
}
