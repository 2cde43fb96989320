/**
 * The program's event log (GET /v1/programs/{programId}/events, listProgramEvents) and a member's
 * expiry forecast by member id (GET /v1/members/{memberId}/expiry-forecast, getExpiryForecast):
 * newest first, cursor pages that add up to the whole, every filter, another program's events never
 * shown, keys limited to another program answered as for an unknown program.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { coffeeChain } from './fixtures/seed-programs.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers
type Json = any;

forEachDatabase('the event log and the expiry forecast', (getDb) => {
  let t: TestApp;
  let programA: string;
  let programB: string;
  let alice: Json;
  let bob: Json;
  let carol: Json;
  /** Every event of A as sent: [Jifen's id, the sender's id, type, member, occurred_at, points]. */
  const sent: { id: string; eventId: string; type: string; memberId: string; at: string; points: number }[] = [];
  let eventOfB: string;

  const ok = (res: { statusCode: number; body: string; json: () => Json }, status = 200): Json => {
    assert.equal(res.statusCode, status, res.body);
    return res.json();
  };
  const list = async (programId: string, query: Record<string, string | number> = {}, key?: string) =>
    t.call('GET', `/v1/programs/${programId}/events?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`, { key });
  const ids = (page: Json) => page.data.map((e: Json) => e.id);
  /** Sent events, newest first as the log orders them (occurred_at, then id). */
  const newestFirst = (filter: (e: (typeof sent)[number]) => boolean = () => true) =>
    sent
      .filter(filter)
      .sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1))
      .map((e) => e.id);

  async function send(programId: string, type: string, memberId: string, at: string, data: Record<string, unknown> = {}) {
    const eventId = unique('evt');
    const result = ok(
      await t.call('POST', '/v1/events', {
        key: t.keys.integration,
        body: { id: eventId, type, program_id: programId, member_id: memberId, occurred_at: at, data },
      }),
      201,
    );
    if (programId === programA) sent.push({ id: result.id, eventId, type, memberId, at: new Date(at).toISOString(), points: result.points });
    return result;
  }

  before(async () => {
    t = await createTestApp(getDb(), '2026-05-01T00:00:00.000Z');
    programA = ok(await t.call('POST', '/v1/programs', { body: { name: 'A', pending_days: 0, expiry_policy: { type: 'rolling', months: 12 } } }), 201).id;
    programB = ok(await t.call('POST', '/v1/programs', { body: { name: 'B', pending_days: 0 } }), 201).id;
    for (const definition of coffeeChain) ok(await t.call('POST', `/v1/programs/${programA}/rules`, { body: { definition } }), 201);
    const member = async (programId: string, extra: Record<string, unknown> = {}) =>
      ok(await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id: unique('m'), ...extra } }), 201);
    alice = await member(programA, { tier: 'gold' });
    bob = await member(programA, { tier: 'silver' });
    carol = await member(programB);
    // the rules are in force from May: the events happen in June
    t.clock.set('2026-06-30T00:00:00.000Z');
    await send(programA, 'order.paid', alice.id, '2026-06-01T02:00:00Z', { order_id: 'o-1', amount: 10_000, currency: 'CNY' });
    await send(programA, 'order.paid', bob.id, '2026-06-02T02:00:00Z', { order_id: 'o-2', amount: 5_000, currency: 'CNY' });
    await send(programA, 'order.refunded', alice.id, '2026-06-03T02:00:00Z', { order_id: 'o-1', amount: 2_000 });
    // no rule of the coffee chain takes app.opened: processed, no points
    await send(programA, 'app.opened', bob.id, '2026-06-04T02:00:00Z');
    // three at one instant: the id breaks the tie, and pages must not lose or repeat one
    for (const m of [alice, bob, alice]) await send(programA, 'app.opened', m.id, '2026-06-05T02:00:00Z');
    await send(programA, 'order.paid', alice.id, '2026-06-06T02:00:00Z', { order_id: 'o-3', amount: 3_000, currency: 'CNY' });
    eventOfB = (await send(programB, 'app.opened', carol.id, '2026-06-07T02:00:00Z')).id;
  });
  after(() => t.close());

  describe('listProgramEvents', () => {
    it("lists the program's events newest first, each with its outcome, points, awards and member's external id", async () => {
      const page = ok(await list(programA, { limit: 100 }));
      assert.deepEqual(ids(page), newestFirst());
      assert.equal(page.has_more, false);
      assert.equal(page.next_cursor, null);
      assert.ok(!ids(page).includes(eventOfB), "B's event is not in A's log");
      const byId = new Map(page.data.map((e: Json) => [e.id, e]));
      for (const s of sent) {
        const e: Json = byId.get(s.id);
        assert.equal(e.event_id, s.eventId);
        assert.equal(e.type, s.type);
        assert.equal(e.member_id, s.memberId);
        assert.equal(e.member_external_id, s.memberId === alice.id ? alice.external_id : bob.external_id);
        assert.equal(e.points, s.points);
        assert.equal(e.status, 'processed');
        assert.equal(e.outcome, s.points > 0 ? 'awarded' : s.points < 0 ? 'reversed' : 'no_points');
        // the stored result, as getEvent answers it
        const { status: _s, outcome: _o, member_external_id: _m, ...result } = e;
        assert.deepEqual(result, ok(await t.call('GET', `/v1/events/${s.id}`)));
      }
      const gold = page.data.find((e: Json) => e.event_id === sent[0]!.eventId);
      assert.equal(gold.points, 150);
      assert.equal(gold.awards[0].text, '150 = ¥100 × 1 pt/¥ × 1.5 (金卡)');
      assert.deepEqual(
        ['awarded', 'reversed', 'no_points'].map((o) => sent.filter((s) => (s.points > 0 ? 'awarded' : s.points < 0 ? 'reversed' : 'no_points') === o).length),
        [3, 1, 4],
      );
    });

    it('pages by cursor: pages of 1, 2 and 3 add up to the whole list, in order, with no event twice', async () => {
      for (const limit of [1, 2, 3]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = ok(await list(programA, cursor ? { limit, cursor } : { limit }));
          assert.ok(page.data.length <= limit);
          seen.push(...ids(page));
          assert.equal(page.has_more, page.next_cursor !== null);
          cursor = page.next_cursor ?? undefined;
          pages += 1;
        } while (cursor);
        assert.deepEqual(seen, newestFirst(), `limit ${limit}`);
        assert.equal(pages, Math.ceil(sent.length / limit));
      }
      const first = ok(await list(programA));
      assert.equal(first.data.length, sent.length, 'default limit 20');
    });

    it('filters by type, outcome, member, external id and date range, alone and together', async () => {
      const check = async (query: Record<string, string>, filter: (e: (typeof sent)[number]) => boolean) =>
        assert.deepEqual(ids(ok(await list(programA, { limit: 100, ...query }))), newestFirst(filter), JSON.stringify(query));
      await check({ type: 'order.paid' }, (e) => e.type === 'order.paid');
      await check({ type: 'checkin' }, () => false);
      await check({ outcome: 'awarded' }, (e) => e.points > 0);
      await check({ outcome: 'reversed' }, (e) => e.points < 0);
      await check({ outcome: 'no_points' }, (e) => e.points === 0);
      await check({ member_id: alice.id }, (e) => e.memberId === alice.id);
      await check({ member_external_id: bob.external_id }, (e) => e.memberId === bob.id);
      await check({ member_external_id: 'nobody-has-this' }, () => false);
      // a member of another program: nothing (not B's events)
      await check({ member_id: carol.id }, () => false);
      await check({ member_external_id: carol.external_id }, () => false);
      await check({ member_id: alice.id, member_external_id: bob.external_id }, () => false);
      await check({ external_id: sent[2]!.eventId }, (e) => e.eventId === sent[2]!.eventId);
      await check({ from: '2026-06-03T02:00:00Z' }, (e) => e.at >= '2026-06-03T02:00:00.000Z');
      await check({ to: '2026-06-03T02:00:00Z' }, (e) => e.at < '2026-06-03T02:00:00.000Z');
      await check(
        { from: '2026-06-02T00:00:00+08:00', to: '2026-06-05T02:00:00.000Z' },
        (e) => e.at >= '2026-06-01T16:00:00.000Z' && e.at < '2026-06-05T02:00:00.000Z',
      );
      await check({ member_id: alice.id, outcome: 'awarded', type: 'order.paid' }, (e) => e.memberId === alice.id && e.points > 0);
      // filters and a cursor together
      const firstPage = ok(await list(programA, { member_id: alice.id, limit: 2 }));
      const next = ok(await list(programA, { member_id: alice.id, limit: 2, cursor: firstPage.next_cursor }));
      assert.deepEqual([...ids(firstPage), ...ids(next)], newestFirst((e) => e.memberId === alice.id).slice(0, 4));
    });

    it('refuses a forged cursor, an unknown outcome and a bad date; an unknown program is 404', async () => {
      const forged = Buffer.from(JSON.stringify(['yesterday', 'evt_x'])).toString('base64url');
      assert.equal(ok(await list(programA, { cursor: forged }), 400).code, 'INVALID_CURSOR');
      assert.equal(ok(await list(programA, { outcome: 'failed' }), 400).code, 'VALIDATION_FAILED');
      assert.equal(ok(await list(programA, { from: 'June' }), 400).code, 'VALIDATION_FAILED');
      assert.equal(ok(await list(programA, { limit: 101 }), 400).code, 'VALIDATION_FAILED');
      assert.equal(ok(await list('prg_nowhere'), 404).code, 'PROGRAM_NOT_FOUND');
    });

    it('answers a key limited to another program as for an unknown program, and a read key of the program sees its log', async () => {
      const keyOfB = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'B reader', scopes: ['read'], program_ids: [programB] } }), 201).secret;
      const refused = ok(await list(programA, {}, keyOfB), 404);
      const unknown = ok(await list('prg_nowhere', {}, keyOfB), 404);
      assert.equal(refused.code, 'PROGRAM_NOT_FOUND');
      assert.equal(refused.detail.replace(programA, '<p>'), unknown.detail.replace('prg_nowhere', '<p>'));
      assert.deepEqual(ids(ok(await list(programB, {}, keyOfB))), [eventOfB]);
      assert.equal(ok(await list(programA, {}, t.keys.read)).data.length, sent.length);
    });
  });

  describe('getExpiryForecast', () => {
    it("answers what the member's own /v1/me/expiry-forecast answers", async () => {
      const forecast = ok(await t.call('GET', `/v1/members/${alice.id}/expiry-forecast`, { key: t.keys.read }));
      assert.equal(forecast.object, 'expiry_forecast');
      assert.equal(forecast.member_id, alice.id);
      const balance = ok(await t.call('GET', `/v1/members/${alice.id}/balance`));
      // every point alice has expires under the coffee chain's policy
      assert.equal(forecast.total, balance.available);
      assert.ok(forecast.total > 0);
      assert.equal(
        forecast.by_month.reduce((s: number, m: Json) => s + m.points, 0),
        forecast.total,
      );
      const token = ok(await t.call('POST', `/v1/programs/${programA}/member-tokens`, { key: t.keys.integration, body: { member_id: alice.id } }), 201).token;
      assert.deepEqual(ok(await t.call('GET', '/v1/me/expiry-forecast', { key: token })), forecast);
    });

    it('is 404 for an unknown member and for a member of a program the key does not reach', async () => {
      assert.equal(ok(await t.call('GET', '/v1/members/mbr_nobody/expiry-forecast'), 404).code, 'MEMBER_NOT_FOUND');
      const keyOfB = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'B reader 2', scopes: ['read'], program_ids: [programB] } }), 201).secret;
      assert.equal(ok(await t.call('GET', `/v1/members/${alice.id}/expiry-forecast`, { key: keyOfB }), 404).code, 'MEMBER_NOT_FOUND');
      assert.equal(ok(await t.call('GET', `/v1/members/${carol.id}/expiry-forecast`, { key: keyOfB })).member_id, carol.id);
    });
  });
});
