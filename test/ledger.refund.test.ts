import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runAudit } from '../src/modules/audit/index.ts';
import * as ledger from '../src/modules/ledger/index.ts';
import { forEachDatabase } from './helpers/db.ts';
import { makeMember, makeProgram, writeCtx } from './helpers/factories.ts';

const t0 = new Date('2026-02-01T00:00:00.000Z');

// The worked example of docs/ledger.md: earn 100 for an order, spend 80, earn 30 elsewhere, refund the order.
async function scenario(db: Parameters<typeof makeProgram>[0], policy: 'write_off' | 'allow_negative') {
  const program = await makeProgram(db, t0, { negative_balance_policy: policy });
  const member = await makeMember(db, program.id, t0);
  const order = await ledger.credit(db, member.id, { points: 100, reference: 'order-1' }, writeCtx(t0));
  await ledger.debit(db, member.id, { points: 80 }, writeCtx(t0));
  await ledger.credit(db, member.id, { points: 30 }, writeCtx(t0));
  const refund = await ledger.reverse(db, order.body.entry.id, {}, writeCtx(t0));
  return { program, member, refund };
}

forEachDatabase('refunds', (getDb) => {
  it('takes back what is left, then other points, and writes off the rest under write_off', async () => {
    const { db } = getDb();
    const { program, member, refund } = await scenario(db, 'write_off');
    assert.deepEqual(refund.body.reversal, {
      entry_id: refund.body.reversal.entry_id,
      requested: 100,
      from_lot: 20,
      from_expired: 0,
      from_balance: 30,
      to_debt: 0,
      on_hold: 0,
      written_off: 50,
    });
    assert.equal(refund.body.balance.available, 0);
    assert.equal(refund.body.balance.debt, 0);
    assert.deepEqual(
      refund.body.entries.map((e) => [e.kind, e.debit_account, e.credit_account, e.amount]),
      [
        ['reverse', 'member', 'reversed', 50],
        ['write_off', 'written_off', 'reversed', 50],
      ],
    );
    assert.ok((await runAudit(db, t0, program.id)).ok);
    assert.equal(member.program_id, program.id);
  });

  it('records a debt repaid by later points under allow_negative', async () => {
    const { db } = getDb();
    const { program, member, refund } = await scenario(db, 'allow_negative');
    assert.equal(refund.body.reversal.to_debt, 80);
    assert.equal(refund.body.balance.available, -50);
    assert.equal(refund.body.balance.debt, 50);
    const later = await ledger.credit(db, member.id, { points: 70 }, writeCtx(t0));
    assert.equal(later.body.balance.available, 20);
    assert.equal(later.body.balance.debt, 0);
    assert.ok((await runAudit(db, t0, program.id)).ok);
  });

  it('does not charge again for points of the credit that already expired', async () => {
    const { db } = getDb();
    const program = await makeProgram(db, t0, { expiry_policy: { type: 'rolling', months: 1 } });
    const member = await makeMember(db, program.id, t0);
    const order = await ledger.credit(db, member.id, { points: 100 }, writeCtx(t0));
    const later = new Date('2026-04-01T00:00:00.000Z');
    await ledger.sweep(db, later);
    await ledger.credit(db, member.id, { points: 40 }, writeCtx(later));
    const refund = await ledger.reverse(db, order.body.entry.id, { points: 60 }, writeCtx(later));
    assert.equal(refund.body.reversal.from_expired, 60);
    assert.equal(refund.body.balance.available, 40, 'the member keeps the points they earned since');
    assert.equal(refund.body.balance.lifetime_expired, 40);
    await assert.rejects(
      ledger.reverse(db, order.body.entry.id, { points: 41 }, writeCtx(later)),
      (e: { code?: string }) => e.code === 'REVERSAL_EXCEEDS_CREDIT',
    );
    assert.ok((await runAudit(db, later, program.id)).ok);
  });
});

forEachDatabase('refunds of held points', (getDb) => {
  it('takes back held points of a refunded credit when their hold is voided, and writes off those it captures', async () => {
    const { db } = getDb();
    const program = await makeProgram(db, t0, { negative_balance_policy: 'write_off' });
    const member = await makeMember(db, program.id, t0);
    const order = await ledger.credit(db, member.id, { points: 100 }, writeCtx(t0));
    const hold = await ledger.hold(db, member.id, { points: 100 }, writeCtx(t0));
    const refund = await ledger.reverse(db, order.body.entry.id, {}, writeCtx(t0));
    assert.equal(refund.body.reversal.on_hold, 100);
    assert.equal(refund.body.reversal.written_off, 0);
    const voided = await ledger.voidHold(db, hold.body.hold.id, {}, writeCtx(t0));
    assert.deepEqual(
      voided.body.entries.map((e) => [e.kind, e.debit_account, e.credit_account, e.amount]),
      [['reverse', 'member_held', 'reversed', 100]],
    );
    assert.equal(voided.body.balance.available, 0, 'a fully refunded credit does not come back with its hold');
    assert.ok((await runAudit(db, t0, program.id)).ok);

    const second = await ledger.credit(db, member.id, { points: 50 }, writeCtx(t0));
    const h2 = await ledger.hold(db, member.id, { points: 50 }, writeCtx(t0));
    await ledger.reverse(db, second.body.entry.id, { points: 30 }, writeCtx(t0));
    const captured = await ledger.capture(db, h2.body.hold.id, { points: 40 }, writeCtx(t0));
    assert.deepEqual(
      captured.body.entries.map((e) => [e.kind, e.amount]),
      [
        ['capture', 40],
        ['reverse', 10],
        ['write_off', 20],
      ],
    );
    assert.equal(captured.body.balance.available, 0);
    assert.ok((await runAudit(db, t0, program.id)).ok);
  });
});
