import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { coffeeChain } from './fixtures/seed-programs.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';

// The activity-extended policy through event ingestion (events_commit extends a batch's active
// members in one statement): the airline's "logging in extends by 6 months", at most once a month.
forEachDatabase('activity extension through events', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), '2026-03-01T00:00:00.000Z');
  });
  after(() => t.close());

  it('adds extend_by_months to live lots on the first event of each period, once, never past the hard cap', async () => {
    t.clock.set('2026-03-01T00:00:00.000Z');
    const program = (
      await t.call('POST', '/v1/programs', {
        body: {
          name: 'Airline',
          time_zone: 'UTC',
          pending_days: 0,
          expiry_policy: { type: 'activity_extended', months: 12, extend_by_months: 6, extend_once_per: 'month', hard_cap_months: 24 },
        },
      })
    ).json();
    assert.equal((await t.call('POST', `/v1/programs/${program.id}/rules`, { body: { definition: coffeeChain[0] } })).statusCode, 201);
    const memberId = (await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id: unique('m') } })).json().id as string;
    const send = (type: string, data: Record<string, unknown>) =>
      t.call('POST', '/v1/events', {
        body: { id: unique('ev'), type, program_id: program.id, member_id: memberId, occurred_at: t.clock.now().toISOString(), data },
        key: t.keys.integration,
      });
    const expiries = async () =>
      (await t.call('GET', `/v1/members/${memberId}/lots`))
        .json()
        .data.map((l: { expires_at: string }) => l.expires_at)
        .sort();

    assert.equal((await send('order.paid', { order_id: unique('o'), amount: 10_000, currency: 'CNY' })).statusCode, 201);
    assert.deepEqual(await expiries(), ['2027-03-01T00:00:00.000Z'], 'a lot is not extended by the event that earned it');

    t.clock.set('2026-04-15T00:00:00.000Z');
    assert.equal((await send('app.opened', {})).statusCode, 201);
    assert.deepEqual(await expiries(), ['2027-09-01T00:00:00.000Z'], 'April: +6 months');
    t.clock.set('2026-04-20T00:00:00.000Z');
    assert.equal((await send('app.opened', {})).statusCode, 201);
    assert.deepEqual(await expiries(), ['2027-09-01T00:00:00.000Z'], 'April again: nothing more');

    // May: an order extends the older lot and earns a new one with its own 12 months
    t.clock.set('2026-05-02T00:00:00.000Z');
    assert.equal((await send('order.paid', { order_id: unique('o'), amount: 5_000, currency: 'CNY' })).statusCode, 201);
    assert.deepEqual(await expiries(), ['2027-05-02T00:00:00.000Z', '2028-03-01T00:00:00.000Z'], 'the hard cap (24 months) stops the first lot');

    // a refund is not activity: July's refund extends nothing, July's check-in does
    t.clock.set('2026-06-03T00:00:00.000Z');
    const orderId = unique('o');
    assert.equal((await send('order.paid', { order_id: orderId, amount: 20_000, currency: 'CNY' })).statusCode, 201);
    assert.deepEqual(await expiries(), ['2027-06-03T00:00:00.000Z', '2027-11-02T00:00:00.000Z', '2028-03-01T00:00:00.000Z']);
    t.clock.set('2026-07-01T00:00:00.000Z');
    const refund = await send('order.refunded', { order_id: orderId, amount: 10_000 });
    assert.equal(refund.statusCode, 201, refund.body);
    assert.deepEqual(await expiries(), ['2027-06-03T00:00:00.000Z', '2027-11-02T00:00:00.000Z', '2028-03-01T00:00:00.000Z']);
    assert.equal((await send('checkin', {})).statusCode, 201);
    assert.deepEqual(await expiries(), ['2027-12-03T00:00:00.000Z', '2028-03-01T00:00:00.000Z', '2028-05-02T00:00:00.000Z']);
  });
});
