import assert from 'node:assert/strict';
import { it } from 'node:test';
import { openDb } from '../src/db/db.ts';
import { ingestEvents } from '../src/flows/ingest-events/index.ts';
import { runAudit } from '../src/modules/audit/index.ts';
import type { EventInput } from '../src/modules/events/events.schemas.ts';
import * as ledger from '../src/modules/ledger/index.ts';
import { createRule, RuleCache, type RuleDefinition } from '../src/modules/rules/index.ts';
import { coffeeChain } from './fixtures/seed-programs.ts';
import { forEachDatabase } from './helpers/db.ts';
import { makeMember, makeProgram, unique } from './helpers/factories.ts';

// Issue 8, item 3: event batches that share members used to deadlock (40P01) on member_account
// inside events_commit, whose UPDATE locked the batch's members in whatever order its plan visited
// them (16 concurrent batches over the same 4 members: 29 of 480 events failed). Every write path
// now locks members in one global order (member id, bytewise), then program budgets.
//
// On PostgreSQL the batches run through a pool of their own with conflict retries turned off
// (conflictRetries: 0): a deadlock, were one still possible, would fail the batch here instead of
// being retried away. On PGlite the batches are serialised; the same checks hold.

const T0 = new Date('2026-03-01T00:00:00.000Z');
const CLIENTS = 16;
const BATCHES = 48;
const EVENTS_PER_MEMBER = 8;

/** What a failed batch threw: a PostgreSQL error with its code and where it happened. */
function failureOf(reason: unknown): string {
  // with no retries allowed, a conflict is answered as 503 with the PostgreSQL error as its cause
  const e = ((reason as { cause?: unknown })?.cause ?? reason) as { code?: string; message?: string; where?: string };
  return `${e?.code ?? ''} ${e?.message ?? String(reason)}${e?.where ? ` (${e.where.split('\n')[0]})` : ''}`;
}

/** A deterministic shuffle (the same run every time). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

forEachDatabase(
  'concurrent event batches over shared members',
  (getDb, kind) => {
    /**
     * Runs BATCHES batches at once over the same 4 members: in each, every member EVENTS_PER_MEMBER
     * times (¥1–¥8 orders) in an order of its own, and, with `refunds`, the refund of one order paid
     * (¥10, by a member of the batch) before. Every batch must succeed and every event be processed.
     */
    async function run(rules: RuleDefinition[], refunds = false) {
      const testDb = getDb();
      const program = await makeProgram(testDb.db, T0, { pending_days: 0 });
      for (const definition of rules) await createRule(testDb.db, program.id, { definition }, T0, 'test');
      const members = await Promise.all([1, 2, 3, 4].map(() => makeMember(testDb.db, program.id, T0)));
      const memberIds = members.map((m) => m.id);
      // As in a database in use for a while: the accounts' rows are stored in another order than their
      // ids (a row that moves — an update that cannot stay on its page, one that changes an indexed
      // column such as the debt — goes where there is room). Here: in reverse id order.
      for (const memberId of [...memberIds].sort().reverse()) {
        await testDb.db.query('UPDATE member_account SET debt = debt + 1 WHERE member_id = $1', [memberId]);
        await testDb.db.query('UPDATE member_account SET debt = debt - 1 WHERE member_id = $1', [memberId]);
      }
      const deps0 = { db: testDb.db, rules: new RuleCache() };
      const paid = refunds
        ? Array.from(
            { length: BATCHES },
            (_, b): EventInput => ({
              id: unique(`paid${b}`),
              type: 'order.paid',
              program_id: program.id,
              member_id: memberIds[b % 4]!,
              data: { order_id: unique('prepaid'), amount: 1_000, currency: 'CNY' },
            }),
          )
        : [];
      const before =
        paid.length > 0
          ? await ingestEvents(
              deps0,
              program.id,
              paid.map((input, index) => ({ index, input, prefix: `/events/${index}` })),
              T0,
            )
          : [];
      assert.ok(before.every((o) => o.status === 201));
      const batches = Array.from({ length: BATCHES }, (_, b) => {
        const events = shuffled(
          memberIds.flatMap((memberId) =>
            Array.from(
              { length: EVENTS_PER_MEMBER },
              (_, k): EventInput => ({
                id: unique(`b${b}-e${k}`),
                type: 'order.paid',
                program_id: program.id,
                member_id: memberId,
                data: { order_id: unique('o'), amount: (k + 1) * 100, currency: 'CNY' },
              }),
            ),
          ),
          b + 1,
        );
        if (refunds) {
          const order = paid[b]!;
          events.splice(b % events.length, 0, {
            id: unique(`refund${b}`),
            type: 'order.refunded',
            program_id: program.id,
            member_id: order.member_id!,
            data: { order_id: order.data!.order_id },
          });
        }
        return events;
      });
      const db =
        kind === 'postgres' ? await openDb({ databaseUrl: testDb.url!, poolSize: CLIENTS + 4, conflictRetries: 0, acquireTimeoutMs: 60_000 }) : testDb.db;
      const deps = { db, rules: new RuleCache() };
      try {
        // CLIENTS importers at once, each sending its batches one after the other: first attempts
        // (evaluated outside a transaction, locking in events_commit) overlap retries (locking first)
        const settled: PromiseSettledResult<Awaited<ReturnType<typeof ingestEvents>>>[] = [];
        await Promise.all(
          Array.from({ length: CLIENTS }, async (_, c) => {
            for (let b = c; b < batches.length; b += CLIENTS) {
              const events = batches[b]!;
              settled[b] = await ingestEvents(
                deps,
                program.id,
                events.map((input, index) => ({ index, input, prefix: `/events/${index}` })),
                T0,
              ).then(
                (value) => ({ status: 'fulfilled' as const, value }),
                (reason: unknown) => ({ status: 'rejected' as const, reason }),
              );
            }
          }),
        );
        const failures = settled.flatMap((s) => (s.status === 'rejected' ? [failureOf(s.reason)] : []));
        assert.deepEqual(failures, [], `${failures.length} of ${BATCHES} batches failed`);
        const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
        const bad = outcomes.filter((o) => o.status !== 201);
        assert.deepEqual(
          bad.map((o) => `${o.event_id}: ${o.status} ${o.error?.code}`),
          [],
          'every event processed',
        );
        assert.equal(outcomes.length, batches.flat().length);
        // every event stored exactly once, with the points its result says
        const [stored] = await testDb.db.query<{ n: number; points: number }>(
          'SELECT count(*)::int AS n, coalesce(sum(points), 0)::bigint AS points FROM event WHERE program_id = $1',
          [program.id],
        );
        assert.equal(stored!.n, paid.length + batches.flat().length);
        const points = [...before, ...outcomes].reduce((s, o) => s + (o.result?.points ?? 0), 0);
        assert.equal(Number(stored!.points), points);
        let balances = 0;
        for (const memberId of memberIds) balances += (await ledger.getBalance(testDb.db, memberId, T0)).available;
        assert.equal(balances, points, 'the balances add up to the points of the events');
        const audit = await runAudit(testDb.db, T0, program.id);
        assert.ok(audit.ok, JSON.stringify(audit.violations));
        return { memberIds, balances };
      } finally {
        if (db !== testDb.db) await db.close();
      }
    }

    it(`processes ${BATCHES} batches from ${CLIENTS} concurrent importers over the same 4 members (${4 * EVENTS_PER_MEMBER} events each, members in different orders): no failure, every event once, balances exact`, async () => {
      const { memberIds } = await run(coffeeChain);
      // no tier: ¥1 = 1 point; each member earns 1 + 2 + … + 8 = 36 per batch
      for (const memberId of memberIds) {
        const b = await ledger.getBalance(getDb().db, memberId, T0);
        assert.equal(b.available, BATCHES * 36, memberId);
        assert.equal(b.lifetime_earned, BATCHES * 36);
      }
    });

    it('locks members, then the program budget, in every path: a budgeted rule and refunds in the same concurrent batches, budget used exactly', async () => {
      const budget = 1_000;
      const bonus: RuleDefinition = {
        name: 'launch bonus',
        triggers: ['order.paid'],
        effect: { type: 'fixed', points: 7 },
        caps: { budget: { period: 'total', points: budget } },
      };
      const { balances } = await run([...coffeeChain, bonus], true);
      const [used] = await getDb().db.query<{ used: number }>('SELECT sum(used)::bigint AS used FROM rule_budget');
      assert.equal(Number(used!.used), budget, 'the budget is used to its last point, never beyond');
      // the prepaid orders (10 points + a 7-point bonus each) are refunded whole; the budget they took stays used
      assert.equal(balances, 4 * BATCHES * 36 + budget - BATCHES * 7);
    });
  },
  { poolSize: CLIENTS + 4 },
);
