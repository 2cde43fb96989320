/**
 * bench/tiers-pairs: two versions of the review's SQL, back to back, on copies of one loaded
 * database. The full bench/tiers moves by 10–20% between runs on a shared machine, more than most
 * changes are worth; this compares PostgreSQL CPU a member of two variants, alternating.
 *
 *   BENCH_PAIR_B=experiment.sql node bench/tiers-pairs.ts
 *   BENCH_PAIR_A=before.sql BENCH_PAIR_B=after.sql BENCH_PAIR_ROUNDS=3 BENCH_TIERS_MEMBERS=300000 node bench/tiers-pairs.ts
 *
 * A and B are SQL files applied over the shipped functions (unset: the shipped code itself). The
 * loaded database (jifen_bench_tiers_template_<members>) is kept between runs; BENCH_PAIR_RELOAD=1
 * makes it again. Each copy (CREATE DATABASE … TEMPLATE, FILE_COPY) is reviewed right after it is
 * made, so its pages are still in the page cache (bench/README.md, "The data goes cold").
 */
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { openDb } from '../src/db/db.ts';
import { reviewDue } from '../src/modules/tiers/index.ts';
import { awaitQuiet, checkpoint, dbUrl, diskReadBytes, envNumber, fmt, log, prepareSchema, startCpu } from './lib.ts';
import { loadMembers } from './tiers.ts';

const MEMBERS = envNumber('BENCH_TIERS_MEMBERS', 1_000_000);
const ROUNDS = envNumber('BENCH_PAIR_ROUNDS', 2);
const TEMPLATE = `jifen_bench_tiers_template_${MEMBERS}`;
const COPY = 'jifen_bench_tiers_pair';
const REVIEW_AT = new Date('2026-12-31T16:00:00.000Z');

const admin = postgres(dbUrl('postgres'), { max: 1, onnotice: () => {} });
try {
  const [exists] = await admin`SELECT 1 AS x FROM pg_database WHERE datname = ${TEMPLATE}`;
  if (!exists || process.env.BENCH_PAIR_RELOAD) {
    log(`loading ${fmt(MEMBERS)} members into ${TEMPLATE}`);
    await admin.unsafe(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${TEMPLATE}`);
    const db = await openDb({ databaseUrl: dbUrl(TEMPLATE), poolSize: 2 });
    await prepareSchema(db);
    await loadMembers(db, MEMBERS);
    await db.close();
  }
  const variants = [
    { label: 'A', file: process.env.BENCH_PAIR_A?.trim() || undefined },
    { label: 'B', file: process.env.BENCH_PAIR_B?.trim() || undefined },
  ];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of variants) {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${COPY} WITH (FORCE)`);
      await admin.unsafe(`CREATE DATABASE ${COPY} TEMPLATE ${TEMPLATE} STRATEGY FILE_COPY`);
      const db = await openDb({ databaseUrl: dbUrl(COPY), poolSize: 4 });
      try {
        // the tree's functions (the template may be older), then the variant's SQL
        await prepareSchema(db);
        if (v.file) await db.exec(await readFile(v.file, 'utf8'));
        await checkpoint();
        await awaitQuiet();
        const disk0 = diskReadBytes();
        const cpu = startCpu([], COPY);
        const t = performance.now();
        const r = await reviewDue(db, REVIEW_AT);
        const seconds = (performance.now() - t) / 1000;
        const c = await cpu.stop();
        console.log(
          `round ${round} ${v.label}${v.file ? ` (${v.file})` : ''}: ${fmt(r.reviewed)} members in ${fmt(seconds, 2)} s = ${fmt(r.reviewed / seconds)}/s; ` +
            `PostgreSQL ${fmt((c.postgres * 1e6) / Math.max(1, r.reviewed), 1)} µs a member; ${fmt((diskReadBytes() - disk0) / 1048576)} MB read from disk`,
        );
      } finally {
        await db.close();
      }
    }
  }
  await admin.unsafe(`DROP DATABASE IF EXISTS ${COPY} WITH (FORCE)`);
} finally {
  await admin.end({ timeout: 5 });
}
