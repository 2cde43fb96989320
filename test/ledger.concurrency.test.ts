import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runAudit } from '../src/modules/audit/index.ts';
import * as ledger from '../src/modules/ledger/index.ts';
import { DomainError } from '../src/shared/errors.ts';
import { forEachDatabase } from './helpers/db.ts';
import { makeMember, makeProgram, unique, writeCtx } from './helpers/factories.ts';

// Real concurrency needs real connections: these run on PostgreSQL only, with a pool big enough
// that every request of a burst is in flight at once.
const T0 = new Date('2026-03-01T00:00:00.000Z');

function codeOf(reason: unknown): string {
  return reason instanceof DomainError ? reason.code : `unexpected: ${String(reason)}`;
}

forEachDatabase(
  'concurrency',
  (getDb) => {
    it('never lets 50 parallel debits on one member overdraw: exactly the affordable ones succeed', async () => {
      const { db } = getDb();
      const program = await makeProgram(db, T0);
      const member = await makeMember(db, program.id, T0);
      await ledger.credit(db, member.id, { points: 1000 }, writeCtx(T0));

      const results = await Promise.allSettled(Array.from({ length: 50 }, () => ledger.debit(db, member.id, { points: 30 }, writeCtx(T0))));
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(ok.length, 33, '1000 / 30 = 33 debits are affordable');
      assert.deepEqual([...new Set(failed.map((r) => codeOf(r.reason)))], ['INSUFFICIENT_POINTS']);
      const balance = await ledger.getBalance(db, member.id, T0);
      assert.equal(balance.available, 10);
      assert.equal(balance.lifetime_spent, 990);
      assert.ok((await runAudit(db, T0, program.id)).ok);
    });

    it('gives one effect for 20 concurrent replays of one idempotency key', async () => {
      const { db } = getDb();
      const program = await makeProgram(db, T0);
      const member = await makeMember(db, program.id, T0);
      const ctx = writeCtx(T0, unique('same-key'));
      const results = await Promise.all(Array.from({ length: 20 }, () => ledger.credit(db, member.id, { points: 70, reference: 'order-1' }, ctx)));
      assert.equal(results.filter((r) => !r.replayed).length, 1, 'exactly one request did the work');
      const first = results.find((r) => !r.replayed)!;
      for (const r of results) assert.deepEqual(r.body, first.body, 'every replay returns the original body');
      const balance = await ledger.getBalance(db, member.id, T0);
      assert.equal(balance.available, 70);
      const entries = await ledger.listEntries(db, member.id, { limit: 100 });
      assert.equal(entries.data.length, 1);
    });

    it('rejects, under concurrency, the same key with a different payload', async () => {
      const { db } = getDb();
      const program = await makeProgram(db, T0);
      const member = await makeMember(db, program.id, T0);
      const key = unique('k');
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          ledger.credit(db, member.id, { points: 10 + (i % 2) }, { now: T0, idempotency: { scope: 'test', key, hash: `h${i % 2}` } }),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof ledger.credit>>>[];
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.ok(ok.length >= 1);
      assert.ok(rejected.every((r) => codeOf(r.reason) === 'IDEMPOTENCY_KEY_REUSED'));
      assert.equal(new Set(ok.map((r) => r.value.body.entry.id)).size, 1);
      const balance = await ledger.getBalance(db, member.id, T0);
      assert.ok(balance.available === 10 || balance.available === 11);
    });

    it('resolves a hold exactly once when capture, void and the timeout job race', async () => {
      const { db } = getDb();
      const program = await makeProgram(db, T0);
      const member = await makeMember(db, program.id, T0);
      await ledger.credit(db, member.id, { points: 10_000 }, writeCtx(T0));
      const deadline = new Date(T0.getTime() + 60_000);
      const justBefore = new Date(deadline.getTime() - 1);
      const outcomes = new Map<string, number>();
      for (let round = 0; round < 15; round++) {
        const { body } = await ledger.hold(db, member.id, { points: 100, expires_in_seconds: 60 }, writeCtx(T0));
        const holdId = body.hold.id;
        const [capture, voided, swept] = await Promise.allSettled([
          ledger.capture(db, holdId, { points: 60 }, writeCtx(justBefore)),
          ledger.voidHold(db, holdId, {}, writeCtx(justBefore)),
          ledger.sweep(db, deadline),
        ]);
        const winners = [capture.status === 'fulfilled', voided.status === 'fulfilled', swept.status === 'fulfilled' && swept.value.holds_released === 1];
        assert.equal(winners.filter(Boolean).length, 1, `round ${round}: exactly one resolution wins`);
        for (const r of [capture, voided]) {
          if (r.status === 'rejected') assert.ok(['HOLD_ALREADY_RESOLVED', 'HOLD_EXPIRED'].includes(codeOf(r.reason)), codeOf(r.reason));
        }
        const status = (await ledger.getHold(db, holdId, deadline)).status;
        outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
        assert.equal(status, winners[0] ? 'captured' : winners[1] ? 'voided' : 'expired');
      }
      const captured = outcomes.get('captured') ?? 0;
      const balance = await ledger.getBalance(db, member.id, deadline);
      assert.equal(balance.held, 0);
      assert.equal(balance.available, 10_000 - 60 * captured);
      assert.ok((await runAudit(db, deadline, program.id)).ok);
    });

    it('expires every lot exactly once with four sweepers running at the same time', async () => {
      const { db } = getDb();
      const program = await makeProgram(db, T0, { expiry_policy: { type: 'rolling', months: 1 } });
      const members = await Promise.all(Array.from({ length: 40 }, () => makeMember(db, program.id, T0)));
      for (const m of members) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.credit(db, m.id, { points: 10 + i }, writeCtx(T0))));
      }
      const later = new Date('2026-05-01T00:00:00.000Z');
      const reports = await Promise.all(Array.from({ length: 4 }, () => ledger.sweep(db, later, { batch: 37 })));
      const rest = await ledger.sweep(db, later); // whatever SKIP LOCKED left for later
      const expired = reports.reduce((s, r) => s + r.lots_expired, 0) + rest.lots_expired;
      assert.equal(expired, 400);
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_entry WHERE program_id = $1 AND kind = 'expire'`, [program.id]);
      assert.equal(row!.n, 400);
      assert.equal((await ledger.sweep(db, later)).lots_expired, 0);
      const audit = await runAudit(db, later, program.id);
      assert.ok(audit.ok, JSON.stringify(audit.violations));
      assert.equal(audit.accounts.find((a) => a.account === 'expired')?.balance, 40 * (10 * 10 + 45));
    });

    it('does not deadlock when members transfer to each other at the same time', async () => {
      const { db } = getDb();
      const program = await makeProgram(db, T0);
      const a = await makeMember(db, program.id, T0);
      const b = await makeMember(db, program.id, T0);
      await ledger.credit(db, a.id, { points: 1000 }, writeCtx(T0));
      await ledger.credit(db, b.id, { points: 1000 }, writeCtx(T0));
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          ledger.transfer(
            db,
            i % 2 ? { from_member_id: a.id, to_member_id: b.id, points: 7 } : { from_member_id: b.id, to_member_id: a.id, points: 5 },
            writeCtx(T0),
          ),
        ),
      );
      assert.equal((await ledger.getBalance(db, a.id, T0)).available, 1000 - 15 * 7 + 15 * 5);
      assert.equal((await ledger.getBalance(db, b.id, T0)).available, 1000 + 15 * 7 - 15 * 5);
      assert.ok((await runAudit(db, T0, program.id)).ok);
    });

    it('keeps balances whole when debits, credits, holds and the sweep interleave on the same members', async () => {
      const { db } = getDb();
      const program = await makeProgram(db, T0, { expiry_policy: { type: 'rolling', months: 1 } });
      const members = await Promise.all(Array.from({ length: 5 }, () => makeMember(db, program.id, T0)));
      for (const m of members) await ledger.credit(db, m.id, { points: 500 }, writeCtx(T0));
      const later = new Date('2026-04-15T00:00:00.000Z');
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 60; i++) {
        const m = members[i % members.length]!;
        work.push(ledger.credit(db, m.id, { points: 3 }, writeCtx(later)));
        work.push(ledger.debit(db, m.id, { points: 2 }, writeCtx(later)).catch((e) => assert.equal(codeOf(e), 'INSUFFICIENT_POINTS')));
        work.push(ledger.hold(db, m.id, { points: 1, expires_in_seconds: 1 }, writeCtx(later)).catch((e) => assert.equal(codeOf(e), 'INSUFFICIENT_POINTS')));
        if (i % 10 === 0) work.push(ledger.sweep(db, later, { batch: 3 }));
      }
      await Promise.all(work);
      await ledger.sweep(db, new Date(later.getTime() + 5_000));
      const audit = await runAudit(db, later, program.id);
      assert.ok(audit.ok, JSON.stringify(audit.violations));
    });
  },
  { kinds: ['postgres'], poolSize: 60 },
);
