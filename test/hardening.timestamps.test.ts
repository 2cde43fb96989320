import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runAudit } from '../src/modules/audit/index.ts';
import { isDateTime, MAX_TIMESTAMP, normalizeDateTime, parseDateTime } from '../src/shared/formats.ts';
import { coffeeChain } from './fixtures/seed-programs.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { assertProblem, balance, createMember, createProgram, type Json, ok } from './http/support.ts';

// Issue 8, item 2: instants are validated after normalising to UTC (src/shared/formats.ts), every
// instant the system computes stays within 1970-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z,
// and every timestamp the API returns matches its declared date-time format.

const YEAR_10000 = '9999-12-31T23:59:59.999-14:00'; // 10000-01-01T13:59:59.999Z
const YEAR_10000_S = '9999-12-31T23:59:59-14:00';

/** Every string of the body that looks like a timestamp is one the API accepts (four-digit year, in range). */
function assertTimestamps(body: unknown, where = ''): void {
  if (typeof body === 'string') {
    if (/^[+-]?\d{4,}-\d\d-\d\d[Tt]/.test(body)) assert.ok(isDateTime(body), `${where}: ${body} is not an API date-time`);
  } else if (Array.isArray(body)) {
    body.forEach((v, i) => {
      assertTimestamps(v, `${where}/${i}`);
    });
  } else if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body)) assertTimestamps(v, `${where}/${k}`);
  }
}

describe('the date-time format', () => {
  it('accepts RFC 3339 instants from 1970 to 9999 in UTC, whatever the offset', () => {
    for (const [given, utc] of [
      ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
      ['1969-12-31T20:00:00-04:00', '1970-01-01T00:00:00.000Z'],
      ['9999-12-31T23:59:59.999Z', MAX_TIMESTAMP],
      ['9999-12-31T09:59:59.999-14:00', MAX_TIMESTAMP],
      ['2026-11-23t08:00:00.5z', '2026-11-23T08:00:00.500Z'],
      ['2026-11-23T16:00:00+08:00', '2026-11-23T08:00:00.000Z'],
      ['2028-02-29T00:00:00-00:00', '2028-02-29T00:00:00.000Z'],
      // finer than a millisecond: truncated, as Date does (and then stored so by the database too)
      ['9999-12-31T23:59:59.999999999Z', MAX_TIMESTAMP],
      ['2026-11-23T08:00:00.123456+00:00', '2026-11-23T08:00:00.123Z'],
    ]) {
      assert.equal(normalizeDateTime(given!), utc, given);
    }
  });

  it('refuses instants outside the range once in UTC, and what Date cannot represent exactly', () => {
    for (const s of [
      YEAR_10000,
      YEAR_10000_S,
      '1969-12-31T23:59:59.999Z',
      '1970-01-01T00:00:00+00:01',
      '0001-01-01T00:00:00Z',
      '2026-01-01T23:59:60Z',
      '2016-12-31T23:59:60Z', // leap seconds
      '2026-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:60:00Z',
      '2026-01-01T00:00:00+14:01',
      '2026-01-01T00:00:00-23:59',
      '2026-01-01T00:00:00+05:60',
      '2026-01-01T00:00:00+0800',
      '2026-01-01 00:00:00Z',
      '2026-01-01T00:00:00',
      '2026-01-01',
      '+010000-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.Z',
      '2026-01-01T00:00:00.1234567891Z',
      ' 2026-01-01T00:00:00Z',
      '2026-01-01T00:00:00Z ',
    ]) {
      assert.equal(parseDateTime(s), undefined, s);
      assert.equal(isDateTime(s), false, s);
    }
  });
});

forEachDatabase('timestamps within 1970–9999', (getDb) => {
  let t: TestApp;
  let program: Json;
  before(async () => {
    t = await createTestApp(getDb(), '2026-06-10T06:00:00.000Z');
    program = await createProgram(t, { name: 'Timestamps', pending_days: 0 });
  });
  after(() => t.close());

  const post = (url: string, body: unknown, idem: string | true = true) => t.call('POST', url, { body, idem });
  const get = async (url: string): Promise<Json> => ok(await t.call('GET', url), 200);
  const entries = async (memberId: string) => (await get(`/v1/members/${memberId}/entries`)).data as Json[];
  const lots = async (memberId: string, state = 'all') => (await get(`/v1/members/${memberId}/lots?state=${state}`)).data as Json[];

  describe("the issue's reproductions", () => {
    it(`refuses a credit expiring at ${YEAR_10000} (year 10000 in UTC) with 400, writes nothing, and the member stays healthy`, async () => {
      const m = await createMember(t, program.id);
      ok(await post(`/v1/members/${m.id}/credits`, { points: 200 }), 201);
      const before = await balance(t, m.id);
      const key = unique('idem');
      assertProblem(await post(`/v1/members/${m.id}/credits`, { points: 5, expires_at: YEAR_10000 }, key), 400, 'VALIDATION_FAILED', { path: '/expires_at' });
      // the replay is refused the same way: nothing was stored under the key
      assertProblem(await post(`/v1/members/${m.id}/credits`, { points: 5, expires_at: YEAR_10000 }, key), 400, 'VALIDATION_FAILED', { path: '/expires_at' });
      assertProblem(await post(`/v1/members/${m.id}/credits`, { points: 5, available_at: YEAR_10000, expires_at: null }), 400, 'VALIDATION_FAILED', {
        path: '/available_at',
      });
      assert.equal((await entries(m.id)).length, 1);
      assert.deepEqual(await balance(t, m.id), before);
      // and everything else still works for this member
      ok(await post(`/v1/members/${m.id}/credits`, { points: 5 }), 201);
      ok(await post(`/v1/members/${m.id}/holds`, { points: 10 }), 201);
      ok(await post(`/v1/members/${m.id}/debits`, { points: 1 }), 201);
      assert.equal((await balance(t, m.id)).available, 194);
      assert.ok((await runAudit(getDb().db, t.clock.now(), program.id)).ok);
    });

    it(`refuses an event and a rule at ${YEAR_10000_S} with 400`, async () => {
      const m = await createMember(t, program.id);
      const event = {
        id: unique('evt'),
        type: 'order.paid',
        program_id: program.id,
        member_id: m.id,
        occurred_at: YEAR_10000_S,
        data: { order_id: unique('o'), amount: 100, currency: 'CNY' },
      };
      assertProblem(await t.call('POST', '/v1/events', { body: event, key: t.keys.integration }), 400, 'VALIDATION_FAILED', { path: '/occurred_at' });
      assertProblem(await t.call('POST', '/v1/events/batch', { body: { events: [event] }, key: t.keys.integration }), 400, 'VALIDATION_FAILED', {
        path: '/events/0/occurred_at',
      });
      assertProblem(await t.call('POST', '/v1/events/preview', { body: event, key: t.keys.integration }), 400, 'VALIDATION_FAILED', { path: '/occurred_at' });
      assertProblem(await post(`/v1/programs/${program.id}/rules`, { definition: coffeeChain[0], effective_from: YEAR_10000_S }), 400, 'VALIDATION_FAILED', {
        path: '/effective_from',
      });
      const rule = ok(await post(`/v1/programs/${program.id}/rules`, { definition: coffeeChain[0] }), 201);
      assertProblem(await post(`/v1/rules/${rule.id}/versions`, { definition: coffeeChain[0], effective_from: YEAR_10000_S }), 400, 'VALIDATION_FAILED', {
        path: '/effective_from',
      });
      assertProblem(await post(`/v1/rules/${rule.id}/archive`, { effective_from: YEAR_10000_S }), 400, 'VALIDATION_FAILED', { path: '/effective_from' });
      assertProblem(
        await post(`/v1/programs/${program.id}/rules`, { definition: { ...coffeeChain[0], schedule: { start: YEAR_10000_S } } }),
        400,
        'VALIDATION_FAILED',
        { path: '/definition/schedule/start' },
      );
      assert.equal((await get(`/v1/members/${m.id}/events`)).data.length, 0);
      ok(await post(`/v1/rules/${rule.id}/archive`, {}), 200);
    });

    it('checks date-times inside event payloads (custom event types) the same way', async () => {
      const p = await createProgram(t, { name: 'Payload dates' });
      ok(
        await post(
          `/v1/programs/${p.id}/event-types`,
          { type: 'trip.booked', schema: { type: 'object', properties: { departs_at: { type: 'string', format: 'date-time' } }, required: ['departs_at'] } },
          true,
        ),
        201,
      );
      const m = await createMember(t, p.id);
      const send = (departs_at: string) =>
        t.call('POST', '/v1/events', {
          body: { id: unique('trip'), type: 'trip.booked', program_id: p.id, member_id: m.id, data: { departs_at } },
          key: t.keys.integration,
        });
      assertProblem(await send(YEAR_10000_S), 400, 'VALIDATION_FAILED', { path: '/data/departs_at' });
      assertProblem(await send('2026-06-10T23:59:60Z'), 400, 'VALIDATION_FAILED', { path: '/data/departs_at' });
      assert.equal((await send('9999-12-31T09:59:59.999-14:00')).statusCode, 201);
    });
  });

  it('answers with timestamps in range for a value stored before validation was fixed (year 10000, 1969)', async () => {
    // what the bug wrote: a committed lot expiring in year 10000, one available since 1969 (in UTC)
    const m = await createMember(t, program.id);
    ok(await post(`/v1/members/${m.id}/credits`, { points: 7, expires_at: '9999-06-01T00:00:00Z' }), 201);
    ok(await post(`/v1/members/${m.id}/credits`, { points: 3, expires_at: null }), 201);
    await getDb().db.query(`UPDATE lot SET expires_at = '10000-01-01T13:59:59.999Z' WHERE member_id = $1 AND expires_at IS NOT NULL`, [m.id]);
    await getDb().db.query(`UPDATE lot SET available_at = '1969-12-31T10:00:00Z' WHERE member_id = $1 AND expires_at IS NULL`, [m.id]);
    const b = await balance(t, m.id);
    assert.deepEqual(b.next_expiry, { at: MAX_TIMESTAMP, points: 7 });
    assertTimestamps(b);
    const all = await lots(m.id);
    assert.deepEqual(all.map((l: Json) => l.expires_at).sort(), [MAX_TIMESTAMP, null].sort());
    assert.ok(all.some((l: Json) => l.available_at === '1970-01-01T00:00:00.000Z'));
    assertTimestamps(all);
    // later writes answer normally
    assertTimestamps(ok(await post(`/v1/members/${m.id}/credits`, { points: 1 }), 201));
    assertTimestamps(ok(await post(`/v1/members/${m.id}/holds`, { points: 2 }), 201));
    assert.equal((await balance(t, m.id)).available, 9);
  });

  describe('the edges, just inside the range, end to end', () => {
    it(`credits a lot expiring at ${MAX_TIMESTAMP} (however written): balance, replay and, at that instant, the sweep`, async () => {
      const p = await createProgram(t, { name: 'Far future' });
      const m = await createMember(t, p.id);
      const key = unique('idem');
      const first = ok(await post(`/v1/members/${m.id}/credits`, { points: 30, expires_at: '9999-12-31T09:59:59.999-14:00' }, key), 201);
      assert.equal(first.lot.expires_at, MAX_TIMESTAMP);
      const again = await post(`/v1/members/${m.id}/credits`, { points: 30, expires_at: '9999-12-31T09:59:59.999-14:00' }, key);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(ok(again, 201), first);
      ok(await post(`/v1/members/${m.id}/credits`, { points: 12, expires_at: '9999-12-31T23:59:59.999999Z' }), 201);
      ok(await post(`/v1/members/${m.id}/credits`, { points: 8, available_at: '9999-12-31T23:59:59.998Z', expires_at: null }), 201);
      ok(await post(`/v1/members/${m.id}/credits`, { points: 1, available_at: '1969-12-31T20:00:00-04:00', expires_at: null }), 201);
      let b = await balance(t, m.id);
      assert.deepEqual([b.available, b.pending], [43, 8]);
      assert.deepEqual(b.next_expiry, { at: MAX_TIMESTAMP, points: 42 });
      assertTimestamps(b);
      const all = await lots(m.id);
      assert.deepEqual(all.map((l: Json) => l.expires_at).sort(), [MAX_TIMESTAMP, MAX_TIMESTAMP, null, null].sort());
      assert.ok(all.some((l: Json) => l.available_at === '9999-12-31T23:59:59.998Z'));
      assert.ok(all.some((l: Json) => l.available_at === '1970-01-01T00:00:00.000Z'));
      assertTimestamps(all);
      ok(await post(`/v1/members/${m.id}/holds`, { points: 5 }), 201);

      // the last instant: the lots are due, the pending one is not available yet
      const was = t.clock.now();
      try {
        t.clock.set(MAX_TIMESTAMP);
        b = await balance(t, m.id);
        // the lots of 9999-12-31T23:59:59.999Z have expired; the one available from …998 is available
        assert.deepEqual([b.available, b.pending, b.next_expiry], [9, 0, null]);
        assertTimestamps(b);
        ok(await t.call('POST', '/v1/jobs/sweep', { body: {} }), 200);
        b = await balance(t, m.id);
        assert.equal(b.lifetime_expired, 42);
        assert.equal(b.available, 9);
        assert.equal((await lots(m.id, 'open')).length, 2);
        assertTimestamps(await entries(m.id));
        assertTimestamps(await lots(m.id));
        assert.ok((await runAudit(getDb().db, t.clock.now(), p.id)).ok);
      } finally {
        t.clock.set(was);
      }
    });

    it('keeps every computed instant at most 9999-12-31T23:59:59.999Z: expiry by policy and its cap, pending periods, hold deadlines, activity extension', async () => {
      const was = t.clock.now();
      try {
        t.clock.set('9999-06-01T00:00:00.000Z');
        const rolling = await createProgram(t, { name: 'Rolling', expiry_policy: { type: 'rolling', months: 240 } });
        const m = await createMember(t, rolling.id);
        const c = ok(await post(`/v1/members/${m.id}/credits`, { points: 10 }), 201);
        assert.equal(c.lot.expires_at, MAX_TIMESTAMP);
        // a pending period that would end after it: expiry must come after availability
        assertProblem(await post(`/v1/members/${m.id}/credits`, { points: 10, pending_days: 3650 }), 422, 'INVALID_EXPIRY');
        const hold = ok(await post(`/v1/members/${m.id}/holds`, { points: 3, expires_in_seconds: 2_592_000 }), 201);
        assert.ok(Date.parse(hold.hold.expires_at) <= Date.parse(MAX_TIMESTAMP));

        const yearly = await createProgram(t, { name: 'Yearly', expiry_policy: { type: 'end_of_period', unit: 'year', offset: 20 } });
        const y = await createMember(t, yearly.id);
        assert.equal(ok(await post(`/v1/members/${y.id}/credits`, { points: 10 }), 201).lot.expires_at, MAX_TIMESTAMP);

        const active = await createProgram(t, { name: 'Active', expiry_policy: { type: 'activity_extended', months: 240, hard_cap_months: 600 } });
        const a = await createMember(t, active.id);
        const lot = ok(await post(`/v1/members/${a.id}/credits`, { points: 10 }), 201).lot;
        assert.equal(lot.expires_at, MAX_TIMESTAMP);
        assert.equal(lot.expiry_cap, MAX_TIMESTAMP);
        t.clock.advanceDays(30);
        assertTimestamps(ok(await t.call('POST', `/v1/members/${a.id}/activity`, { body: {} }), 200));
        assert.equal((await lots(a.id))[0].expires_at, MAX_TIMESTAMP);

        t.clock.set('9999-12-31T00:00:00.000Z');
        const never = await createProgram(t, { name: 'Never', pending_days: 3650 });
        const n = await createMember(t, never.id);
        const pending = ok(await post(`/v1/members/${n.id}/credits`, { points: 10 }), 201);
        assert.equal(pending.lot.available_at, MAX_TIMESTAMP);
        assert.equal(pending.lot.state, 'pending');
        ok(await post(`/v1/members/${n.id}/credits`, { points: 20, pending_days: 0 }), 201);
        const h = ok(await post(`/v1/members/${n.id}/holds`, { points: 5, expires_in_seconds: 2_592_000 }), 201);
        assert.equal(h.hold.expires_at, MAX_TIMESTAMP);

        // events: an order.paid earning with a 10-year pending period
        ok(await post(`/v1/programs/${never.id}/rules`, { definition: { ...coffeeChain[0], pending_days: 3650 } }), 201);
        const ev = ok(
          await t.call('POST', '/v1/events', {
            key: t.keys.integration,
            body: {
              id: unique('late'),
              type: 'order.paid',
              program_id: never.id,
              member_id: n.id,
              data: { order_id: unique('o'), amount: 1_000, currency: 'CNY' },
            },
          }),
          201,
        );
        assert.equal(ev.awards[0].available_at, MAX_TIMESTAMP);
        assert.equal((await get(`/v1/events/${ev.id}`)).awards[0].available_at, MAX_TIMESTAMP);
        const preview = ok(
          await t.call('POST', '/v1/events/preview', {
            key: t.keys.integration,
            body: { id: unique('preview'), type: 'order.paid', program_id: never.id, member_id: n.id, data: { order_id: 'x', amount: 1_000, currency: 'CNY' } },
          }),
          200,
        );
        assert.equal(preview.awards[0].available_at, MAX_TIMESTAMP);
        for (const id of [m.id, y.id, a.id, n.id]) {
          assertTimestamps(await balance(t, id));
          assertTimestamps(await lots(id));
          assertTimestamps(await entries(id));
          assertTimestamps(await get(`/v1/members/${id}/holds`));
        }
        assertTimestamps(ev);
      } finally {
        t.clock.set(was);
      }
    });

    it('processes an event at 9999-12-31T23:59:59.999Z in a program at UTC+14 with capped and budgeted rules', async () => {
      const p = await createProgram(t, { name: 'Line Islands', time_zone: 'Pacific/Kiritimati', pending_days: 0 });
      const capped = { ...coffeeChain[0], caps: { per_member: { day: 1_000, month: 5_000 } } };
      const budgeted = { name: 'launch', triggers: ['order.paid'], effect: { type: 'fixed', points: 5 }, caps: { budget: { period: 'month', points: 100 } } };
      for (const definition of [capped, budgeted]) ok(await post(`/v1/programs/${p.id}/rules`, { definition }), 201);
      ok(
        await post(`/v1/programs/${p.id}/rules`, {
          definition: { name: 'announced', triggers: ['order.paid'], effect: { type: 'fixed', points: 1 } },
          effective_from: '9999-12-31T23:59:59.999Z',
        }),
        201,
      );
      const m = await createMember(t, p.id);
      const body = {
        id: unique('last'),
        type: 'order.paid',
        program_id: p.id,
        member_id: m.id,
        occurred_at: '9999-12-31T23:59:59.999Z',
        data: { order_id: unique('o'), amount: 10_000, currency: 'CNY' },
      };
      const first = ok(await t.call('POST', '/v1/events', { body, key: t.keys.integration }), 201);
      assert.equal(first.occurred_at, MAX_TIMESTAMP);
      assert.equal(first.points, 100 + 5 + 1);
      assertTimestamps(first);
      const replay = ok(await t.call('POST', '/v1/events', { body, key: t.keys.integration }), 200);
      assert.deepEqual(replay, first);
      const second = ok(
        await t.call('POST', '/v1/events', { body: { ...body, id: unique('last'), occurred_at: '9999-12-31T09:59:59.999-14:00' }, key: t.keys.integration }),
        201,
      );
      assert.equal(second.points, 100 + 5 + 1);
      const early = ok(
        await t.call('POST', '/v1/events', { body: { ...body, id: unique('first'), occurred_at: '1970-01-01T00:00:00Z' }, key: t.keys.integration }),
        201,
      );
      assert.equal(early.occurred_at, '1970-01-01T00:00:00.000Z');
      assert.equal(early.points, 0, 'no rule was in force in 1970');
      assertTimestamps((await get(`/v1/members/${m.id}/events`)).data);
      assert.equal((await balance(t, m.id)).available, 2 * 106);
      assert.ok((await runAudit(getDb().db, t.clock.now(), p.id)).ok);
    });
  });
});
