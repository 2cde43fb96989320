import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runAudit } from '../src/modules/audit/index.ts';
import * as ledger from '../src/modules/ledger/index.ts';
import { DomainError } from '../src/shared/errors.ts';
import { forEachDatabase } from './helpers/db.ts';
import { makeMember, makeProgram, writeCtx } from './helpers/factories.ts';

// Time is moved, never waited for: every call takes its `now`, as the server's clock would give it.
const at = (iso: string) => new Date(iso);
const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);
const DAY = 86_400_000;

async function rejects(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (err: unknown) => err instanceof DomainError && err.code === code);
}

forEachDatabase('time: pending, expiry policies, hold timeouts', (getDb) => {
  it('makes pending points available exactly at available_at, with no job', async () => {
    const { db } = getDb();
    const t0 = at('2026-06-01T12:00:00.000Z');
    const program = await makeProgram(db, t0, { pending_days: 7 });
    const member = await makeMember(db, program.id, t0);
    const { body } = await ledger.credit(db, member.id, { points: 100 }, writeCtx(t0));
    assert.equal(body.lot.available_at, '2026-06-08T12:00:00.000Z');
    assert.equal(body.lot.state, 'pending');

    const justBefore = plus(t0, 7 * DAY - 1);
    assert.deepEqual((({ available, pending }) => ({ available, pending }))(await ledger.getBalance(db, member.id, justBefore)), {
      available: 0,
      pending: 100,
    });
    await rejects(ledger.debit(db, member.id, { points: 1 }, writeCtx(justBefore)), 'INSUFFICIENT_POINTS');

    const onTime = plus(t0, 7 * DAY);
    const balance = await ledger.getBalance(db, member.id, onTime);
    assert.equal(balance.available, 100);
    assert.equal(balance.pending, 0);
    await ledger.debit(db, member.id, { points: 100 }, writeCtx(onTime));
  });

  it('expires a rolling lot at earned_at + N months in the program time zone, before any sweep', async () => {
    const { db } = getDb();
    // 10:00 in Shanghai on 15 March 2026 is 02:00 UTC
    const t0 = at('2026-03-15T02:00:00.000Z');
    const program = await makeProgram(db, t0, { time_zone: 'Asia/Shanghai', expiry_policy: { type: 'rolling', months: 12 } });
    const member = await makeMember(db, program.id, t0);
    const { body } = await ledger.credit(db, member.id, { points: 80 }, writeCtx(t0));
    assert.equal(body.lot.expires_at, '2027-03-15T02:00:00.000Z');
    assert.deepEqual(body.balance.next_expiry, { at: '2027-03-15T02:00:00.000Z', points: 80 });

    const expiry = at('2027-03-15T02:00:00.000Z');
    assert.equal((await ledger.getBalance(db, member.id, plus(expiry, -1))).available, 80);
    const after = await ledger.getBalance(db, member.id, expiry);
    assert.equal(after.available, 0, 'an expired point is never available, sweep or not');
    assert.equal(after.next_expiry, null);
    await rejects(ledger.debit(db, member.id, { points: 1 }, writeCtx(expiry)), 'INSUFFICIENT_POINTS');

    const first = await ledger.sweep(db, expiry);
    assert.equal(first.lots_expired, 1);
    assert.equal((await ledger.sweep(db, plus(expiry, DAY))).lots_expired, 0, 'never twice');
    const entries = await ledger.listEntries(db, member.id, { kind: 'expire' });
    assert.equal(entries.data.length, 1);
    assert.equal(entries.data[0]!.amount, 80);
    assert.equal((await ledger.getBalance(db, member.id, expiry)).lifetime_expired, 80);
  });

  it('expires end-of-period lots at the end of the year after earning, in local time', async () => {
    const { db } = getDb();
    const t0 = at('2026-05-10T04:00:00.000Z');
    const program = await makeProgram(db, t0, { time_zone: 'Asia/Shanghai', expiry_policy: { type: 'end_of_period', unit: 'year', offset: 1 } });
    const member = await makeMember(db, program.id, t0);
    const may = await ledger.credit(db, member.id, { points: 10 }, writeCtx(t0));
    // end of 31 Dec 2027 in Shanghai = 2028-01-01T00:00+08:00
    assert.equal(may.body.lot.expires_at, '2027-12-31T16:00:00.000Z');
    // 23:30 on 31 Dec 2026 in Shanghai is still 2026 there (15:30 UTC)
    const nye = await ledger.credit(db, member.id, { points: 20 }, writeCtx(at('2026-12-31T15:30:00.000Z')));
    assert.equal(nye.body.lot.expires_at, '2027-12-31T16:00:00.000Z');
    // 00:30 on 1 Jan 2027 in Shanghai (16:30 UTC the day before) is already 2027: a year later
    const newYear = await ledger.credit(db, member.id, { points: 40 }, writeCtx(at('2026-12-31T16:30:00.000Z')));
    assert.equal(newYear.body.lot.expires_at, '2028-12-31T16:00:00.000Z');

    const cutoff = at('2027-12-31T16:00:00.000Z');
    assert.equal((await ledger.getBalance(db, member.id, plus(cutoff, -1))).available, 70);
    assert.equal((await ledger.getBalance(db, member.id, cutoff)).available, 40);
    const quarterly = await makeProgram(db, t0, { time_zone: 'UTC', expiry_policy: { type: 'end_of_period', unit: 'quarter', offset: 0 } });
    const q = await ledger.credit(db, (await makeMember(db, quarterly.id, t0)).id, { points: 1 }, writeCtx(t0));
    assert.equal(q.body.lot.expires_at, '2026-07-01T00:00:00.000Z');
  });

  it('pushes expiry on activity under activity_extended, never past the hard cap, never reviving expired lots', async () => {
    const { db } = getDb();
    const t0 = at('2026-01-10T00:00:00.000Z');
    const program = await makeProgram(db, t0, { expiry_policy: { type: 'activity_extended', months: 6, hard_cap_months: 12 } });
    const member = await makeMember(db, program.id, t0);
    const first = await ledger.credit(db, member.id, { points: 100 }, writeCtx(t0));
    assert.equal(first.body.lot.expires_at, '2026-07-10T00:00:00.000Z');
    assert.equal(first.body.lot.expiry_cap, '2027-01-10T00:00:00.000Z');

    // a login five months later pushes every live lot to +6 months from then
    await ledger.recordActivity(db, member.id, { now: at('2026-06-10T00:00:00.000Z') });
    let lots = await ledger.listLots(db, member.id, {}, t0);
    assert.equal(lots.data[0]!.expires_at, '2026-12-10T00:00:00.000Z');

    // a purchase (spend) in November would push to May 2027, but the cap is January 2027
    await ledger.debit(db, member.id, { points: 10 }, writeCtx(at('2026-11-10T00:00:00.000Z')));
    lots = await ledger.listLots(db, member.id, {}, t0);
    assert.equal(lots.data[0]!.expires_at, '2027-01-10T00:00:00.000Z');

    // after the cap the lot is expired; later activity does not bring it back
    const late = at('2027-02-01T00:00:00.000Z');
    assert.equal((await ledger.getBalance(db, member.id, late)).available, 0);
    await ledger.recordActivity(db, member.id, { now: late });
    assert.equal((await ledger.getBalance(db, member.id, late)).available, 0);
    assert.equal((await ledger.listLots(db, member.id, {}, late)).data[0]!.expires_at, '2027-01-10T00:00:00.000Z');
  });

  it('adds months to the current expiry at most once per quarter under activity_extended with extend_by_months (有效期12个月,每季度登录一次可延长3个月)', async () => {
    const { db } = getDb();
    const t0 = at('2026-01-10T00:00:00.000Z');
    const program = await makeProgram(db, t0, {
      time_zone: 'UTC',
      expiry_policy: { type: 'activity_extended', months: 12, extend_by_months: 3, extend_once_per: 'quarter', hard_cap_months: 18 },
    });
    const member = await makeMember(db, program.id, t0);
    // earning is activity too, but the lot it creates is not extended: it has just been given 12 months
    const first = await ledger.credit(db, member.id, { points: 100 }, writeCtx(t0));
    assert.equal(first.body.lot.expires_at, '2027-01-10T00:00:00.000Z');
    assert.equal(first.body.lot.expiry_cap, '2027-07-10T00:00:00.000Z');
    const expiry = async (now: Date) => (await ledger.listLots(db, member.id, {}, now)).data.map((l) => l.expires_at);

    // the first login of Q1 (the credit above was Q1's first activity: it extended nothing, no lot was live)
    await ledger.recordActivity(db, member.id, { now: at('2026-02-01T00:00:00.000Z') });
    assert.deepEqual(await expiry(t0), ['2027-01-10T00:00:00.000Z'], 'Q1 already had its extension (the credit)');

    // Q2: the first login adds 3 months; a second one in the same quarter adds nothing
    await ledger.recordActivity(db, member.id, { now: at('2026-04-02T00:00:00.000Z') });
    assert.deepEqual(await expiry(t0), ['2027-04-10T00:00:00.000Z']);
    await ledger.debit(db, member.id, { points: 10 }, writeCtx(at('2026-06-30T23:59:59.000Z')));
    assert.deepEqual(await expiry(t0), ['2027-04-10T00:00:00.000Z']);

    // Q3: a credit is the quarter's first activity: the older lot gets 3 months, the new one its 12
    const third = await ledger.credit(db, member.id, { points: 5 }, writeCtx(at('2026-07-01T00:00:00.000Z')));
    assert.equal(third.body.lot.expires_at, '2027-07-01T00:00:00.000Z');
    assert.deepEqual((await expiry(t0)).sort(), ['2027-07-01T00:00:00.000Z', '2027-07-10T00:00:00.000Z']);

    // Q4: +3 months would pass the first lot's hard cap (18 months after earning): it stops there
    await ledger.recordActivity(db, member.id, { now: at('2026-10-05T00:00:00.000Z') });
    assert.deepEqual((await expiry(t0)).sort(), ['2027-07-10T00:00:00.000Z', '2027-10-01T00:00:00.000Z']);
    assert.deepEqual((await runAudit(db, at('2026-10-05T00:00:00.000Z'), program.id)).ok, true);
  });

  it('refuses an add-months extension without its period, and a period without months', async () => {
    const { db } = getDb();
    const t0 = at('2026-01-10T00:00:00.000Z');
    await rejects(makeProgram(db, t0, { expiry_policy: { type: 'activity_extended', months: 12, extend_by_months: 3 } }), 'VALIDATION_FAILED');
    await rejects(makeProgram(db, t0, { expiry_policy: { type: 'activity_extended', months: 12, extend_once_per: 'year' } }), 'VALIDATION_FAILED');
    await rejects(makeProgram(db, t0, { expiry_policy: { type: 'rolling', months: 12, extend_by_months: 3, extend_once_per: 'year' } }), 'VALIDATION_FAILED');
  });

  it('never expires points under the never policy', async () => {
    const { db } = getDb();
    const t0 = at('2026-01-01T00:00:00.000Z');
    const program = await makeProgram(db, t0, { expiry_policy: { type: 'never' } });
    const member = await makeMember(db, program.id, t0);
    const { body } = await ledger.credit(db, member.id, { points: 5 }, writeCtx(t0));
    assert.equal(body.lot.expires_at, null);
    const far = at('2046-01-01T00:00:00.000Z');
    await ledger.sweep(db, far);
    assert.equal((await ledger.listEntries(db, member.id, { kind: 'expire' })).data.length, 0);
    const balance = await ledger.getBalance(db, member.id, far);
    assert.equal(balance.available, 5);
    assert.equal(balance.next_expiry, null);
  });

  it('reports points expiring within 30, 60 and 90 days and the next expiry', async () => {
    const { db } = getDb();
    const t0 = at('2026-01-01T00:00:00.000Z');
    const program = await makeProgram(db, t0, { expiry_policy: { type: 'never' } });
    const member = await makeMember(db, program.id, t0);
    for (const [points, days] of [
      [1, 10],
      [2, 45],
      [4, 80],
      [8, 200],
    ] as const) {
      await ledger.credit(db, member.id, { points, expires_at: plus(t0, days * DAY).toISOString() }, writeCtx(t0));
    }
    const balance = await ledger.getBalance(db, member.id, t0);
    assert.deepEqual(balance.expiring, { days_30: 1, days_60: 3, days_90: 7 });
    assert.deepEqual(balance.next_expiry, { at: plus(t0, 10 * DAY).toISOString(), points: 1 });
  });

  it('spends the soonest-expiring points first', async () => {
    const { db } = getDb();
    const t0 = at('2026-01-01T00:00:00.000Z');
    const program = await makeProgram(db, t0);
    const member = await makeMember(db, program.id, t0);
    const late = await ledger.credit(db, member.id, { points: 50, expires_at: plus(t0, 300 * DAY).toISOString() }, writeCtx(t0));
    const never = await ledger.credit(db, member.id, { points: 50, expires_at: null }, writeCtx(t0));
    const soon = await ledger.credit(db, member.id, { points: 50, expires_at: plus(t0, 30 * DAY).toISOString() }, writeCtx(t0));
    await ledger.debit(db, member.id, { points: 70 }, writeCtx(t0));
    const lots = new Map((await ledger.listLots(db, member.id, { state: 'all' }, t0)).data.map((l) => [l.id, l.remaining]));
    assert.equal(lots.get(soon.body.lot.id), 0);
    assert.equal(lots.get(late.body.lot.id), 30);
    assert.equal(lots.get(never.body.lot.id), 50);
  });

  it('times a hold out exactly at its deadline: the points come back, capture is refused, the job writes it down', async () => {
    const { db } = getDb();
    const t0 = at('2026-01-01T00:00:00.000Z');
    const program = await makeProgram(db, t0);
    const member = await makeMember(db, program.id, t0);
    await ledger.credit(db, member.id, { points: 100 }, writeCtx(t0));
    const { body } = await ledger.hold(db, member.id, { points: 40, expires_in_seconds: 60 }, writeCtx(t0));
    const before = await ledger.getBalance(db, member.id, plus(t0, 59_999));
    assert.deepEqual([before.available, before.held], [60, 40]);
    const deadline = plus(t0, 60_000);
    const after = await ledger.getBalance(db, member.id, deadline);
    assert.deepEqual([after.available, after.held], [100, 0]);
    assert.equal((await ledger.getHold(db, body.hold.id, deadline)).status, 'expired');
    await rejects(ledger.capture(db, body.hold.id, {}, writeCtx(deadline)), 'HOLD_EXPIRED');
    assert.equal((await ledger.sweep(db, deadline)).holds_released, 1);
    const releases = await ledger.listEntries(db, member.id, { kind: 'release' });
    assert.equal(releases.data.length, 1);
    assert.equal(releases.data[0]!.amount, 40);
    assert.ok((await runAudit(db, deadline, program.id)).ok);
  });

  it('expires at once the held points of a lot that expired while they were held', async () => {
    const { db } = getDb();
    const t0 = at('2026-01-01T00:00:00.000Z');
    const program = await makeProgram(db, t0);
    const member = await makeMember(db, program.id, t0);
    await ledger.credit(db, member.id, { points: 100, expires_at: plus(t0, DAY).toISOString() }, writeCtx(t0));
    const { body } = await ledger.hold(db, member.id, { points: 100, expires_in_seconds: 2 * 86_400 }, writeCtx(t0));
    const later = plus(t0, DAY + 1000);
    const voided = await ledger.voidHold(db, body.hold.id, {}, writeCtx(later));
    assert.deepEqual(
      voided.body.entries.map((e) => [e.kind, e.amount]),
      [
        ['release', 100],
        ['expire', 100],
      ],
    );
    assert.equal(voided.body.balance.available, 0);
    assert.equal(voided.body.balance.lifetime_expired, 100);
    assert.equal((await ledger.sweep(db, later)).lots_expired, 0);
    assert.ok((await runAudit(db, later, program.id)).ok);
  });
});
