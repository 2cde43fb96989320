/**
 * The OpenAPI fuzzer's long mode (test/fuzz/): many more cases than `npm test` runs, on PGlite and
 * PostgreSQL, bounded by count and by time, then a summary: requests, by status, distinct failures
 * with a reproduction each. Exit code 1 if anything failed.
 *
 *   node bench/fuzz.ts                                  # 20,000 cases per database, at most 10 minutes each
 *   FUZZ_RUNS=100000 FUZZ_MINUTES=30 node bench/fuzz.ts
 *   FUZZ_SEED=123 FUZZ_DATABASES=pglite FUZZ_OPS=creditPoints,sendEvent node bench/fuzz.ts
 *
 * FUZZ_SEED defaults to a random seed (printed); the same seed and FUZZ_RUNS replay a run.
 * FUZZ_RAW=false leaves out the raw malformed HTTP cases. TEST_DATABASE_URL as in the tests.
 */

import { formatReport, runFuzz } from '../test/fuzz/fuzzer.ts';
import { formatRawReport, runRawHttp } from '../test/fuzz/raw-http.ts';
import { createTestApp } from '../test/helpers/app.ts';
import { createTestDb, DB_KINDS, type DbKind } from '../test/helpers/db.ts';
import { envNumber } from './lib.ts';

const seed = process.env.FUZZ_SEED ? envNumber('FUZZ_SEED', 0) : Math.floor(Math.random() * 2 ** 31);
const runs = envNumber('FUZZ_RUNS', 20_000);
const minutes = envNumber('FUZZ_MINUTES', 10);
const ops = process.env.FUZZ_OPS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const raw = (process.env.FUZZ_RAW ?? 'true') !== 'false';
const kinds = (process.env.FUZZ_DATABASES?.split(',').map((s) => s.trim()) ?? DB_KINDS).filter((k): k is DbKind => DB_KINDS.includes(k as DbKind));

process.stdout.write(`fuzz: seed ${seed}, ${runs} cases and at most ${minutes} min per database, databases ${kinds.join(', ')}\n`);
let failed = 0;
const summary: string[] = [];
for (const kind of kinds) {
  const testDb = await createTestDb(kind);
  const t = await createTestApp(testDb);
  try {
    const report = await runFuzz(t, testDb, {
      seed,
      runs,
      ops,
      maxMs: minutes * 60_000,
      // a 10 MiB body every few thousand cases
      hugeBodies: Math.max(2, Math.floor(runs / 5_000)),
      log: (l) => process.stdout.write(`${l}\n`),
    });
    const text = formatReport(
      report,
      `fuzz [${kind}]`,
      `FUZZ_SEED={seed} FUZZ_RUNS=${runs} FUZZ_DATABASES=${kind} node bench/fuzz.ts   (or alone: FUZZ_SEED={seed} FUZZ_ONLY={case} node --test test/fuzz/openapi.fuzz.test.ts)`,
    );
    process.stdout.write(`${text}\n`);
    summary.push(text.split('\n')[0]!);
    failed += report.failures.length;
    if (raw) {
      const r = await runRawHttp(t);
      const rawText = formatRawReport(r, `raw HTTP [${kind}]`);
      process.stdout.write(`${rawText}\n`);
      summary.push(rawText.split('\n')[0]!);
      failed += r.failures.length;
    }
  } finally {
    await t.close();
    await testDb.close();
  }
}
process.stdout.write(`\nsummary (seed ${seed}):\n${summary.map((s) => `  ${s}`).join('\n')}\n`);
process.exit(failed > 0 ? 1 : 0);
