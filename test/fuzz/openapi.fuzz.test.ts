/**
 * The OpenAPI fuzzer in `npm test`: a bounded, seeded run on each database (see fuzzer.ts for what
 * it sends and oracle.ts for what it checks). FUZZ_SEED, FUZZ_RUNS, FUZZ_ONLY (one case) and
 * FUZZ_OPS (operationIds, comma-separated) replay or narrow it; bench/fuzz.ts is the long mode.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { formatReport, runFuzz } from './fuzzer.ts';
import { formatRawReport, runRawHttp } from './raw-http.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20261201);
const runs = Number(process.env.FUZZ_RUNS ?? 1500);
const only = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
const ops = process.env.FUZZ_OPS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);

forEachDatabase('OpenAPI fuzzer', (getDb, kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb());
  });
  after(async () => {
    await t.close();
  });

  test(`every operation, valid and mutated requests: no 5xx, declared statuses and bodies, problem+json, refused writes change nothing (seed ${seed}, ${runs} cases)`, {
    timeout: 300_000,
  }, async () => {
    const report = await runFuzz(t, getDb(), {
      seed,
      runs,
      only,
      ops,
      maxMs: 240_000,
      verbose: process.env.FUZZ_VERBOSE === '1',
      log: (l) => process.stderr.write(`${l}\n`),
    });
    const text = formatReport(
      report,
      `fuzz [${kind}]`,
      `FUZZ_SEED={seed} FUZZ_RUNS=${runs} node --test test/fuzz/openapi.fuzz.test.ts   (or alone: FUZZ_SEED={seed} FUZZ_ONLY={case})`,
    );
    process.stderr.write(`${text}\n`);
    assert.equal(report.failures.length, 0, text);
  });

  test('raw malformed HTTP on a listening server: a 4xx problem+json or a closed connection, never a 5xx, and the server still answers', {
    timeout: 120_000,
  }, async () => {
    const report = await runRawHttp(t);
    const text = formatRawReport(report, `raw HTTP [${kind}]`);
    process.stderr.write(`${text}\n`);
    assert.equal(report.failures.length, 0, text);
  });
});
