import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runSegmentJob } from '../src/jobs/scheduler.ts';
import { segmentIdsOfMembers } from '../src/modules/segments/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { makeProgram, unique } from './helpers/factories.ts';
import { assertProblem, createMember, createProgram, credit, type Json, ok } from './http/support.ts';

const DAY = 86_400_000;

forEachDatabase('segments', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), '2025-01-01T00:00:00.000Z');
  });
  after(() => t.close());

  const at = (iso: string) => t.clock.set(iso);
  const preview = async (programId: string, condition: unknown) =>
    ok(await t.call('POST', `/v1/programs/${programId}/segments/preview`, { body: { condition } }), 200);
  const create = async (programId: string, condition: unknown, name = unique('seg')) =>
    ok(await t.call('POST', `/v1/programs/${programId}/segments`, { body: { name: { 'zh-CN': name, en: name }, condition }, idem: true }), 201);
  const refresh = async (id: string) => ok(await t.call('POST', `/v1/segments/${id}/refresh`), 200);
  const order = async (programId: string, memberId: string, orderId: string, amount: number) =>
    ok(
      await t.call('POST', '/v1/events', {
        body: { id: unique('evt'), type: 'order.paid', program_id: programId, member_id: memberId, data: { order_id: orderId, amount, currency: 'CNY' } },
      }),
      201,
    );
  const refund = async (programId: string, memberId: string, data: Json) =>
    ok(await t.call('POST', '/v1/events', { body: { id: unique('evt'), type: 'order.refunded', program_id: programId, member_id: memberId, data } }), 201);
  const builtInOf = async (programId: string) =>
    ok(await t.call('GET', `/v1/programs/${programId}/segments?limit=100`), 200).data.find((s: Json) => s.built_in_key === 'at_risk');

  describe('conditions', () => {
    let programId: string;
    before(async () => {
      programId = (await createProgram(t)).id;
    });

    it('refuses an unknown operator, an unknown variable and a non-condition with a 400 at its path', async () => {
      const body = (condition: unknown) => ({ name: { 'zh-CN': '坏', en: 'Bad' }, condition });
      const url = `/v1/programs/${programId}/segments`;
      assertProblem(await t.call('POST', url, { body: body({ and: [{ nope: [1, 2] }] }), idem: true }), 400, 'VALIDATION_FAILED', {
        path: '/condition/and/0/nope',
      });
      assertProblem(await t.call('POST', url, { body: body({ '>=': [{ var: 'stats.points_balanse' }, 1] }), idem: true }), 400, 'VALIDATION_FAILED', {
        path: '/condition/>=/0/var',
      });
      assertProblem(await t.call('POST', url, { body: body({ '>': [{ var: ['member.tier', 'x'] }, 1], x: 1 }), idem: true }), 400, 'VALIDATION_FAILED', {
        path: '/condition',
      });
      assertProblem(await t.call('POST', `${url}/preview`, { body: { condition: { '==': [{ var: { cat: ['a'] } }, 1] } } }), 400, 'VALIDATION_FAILED', {
        path: '/condition/==/0/var',
      });
      assertProblem(await t.call('POST', url, { body: { name: { 'zh-CN': '缺英文' }, condition: true }, idem: true }), 400, 'VALIDATION_FAILED');
      // member.attributes.<key> is a variable; nothing was saved by the refusals
      ok(await t.call('POST', `${url}/preview`, { body: { condition: { '==': [{ var: 'member.attributes.city' }, '杭州'] } } }), 200);
      const list = ok(await t.call('GET', url), 200);
      assert.deepEqual(
        list.data.map((s: Json) => s.built_in_key),
        ['at_risk'],
      );
    });
  });

  describe('stats of a constructed member', () => {
    let programId: string;
    let a: Json;
    let b: Json;
    before(async () => {
      at('2025-01-01T00:00:00.000Z');
      programId = (await createProgram(t)).id;
      a = await createMember(t, programId, { tier: 'gold', tags: ['vip'], attributes: { city: '杭州' }, birthday: '1990-05-20' });
      await order(programId, a.id, 'o1', 9999); // 396 days before: outside every window
      at('2025-10-15T00:00:00.000Z');
      b = await createMember(t, programId);
      ok(await t.call('POST', `/v1/members/${b.id}/freeze`, { idem: true }), 200);
      await order(programId, a.id, 'o2', 3000); // 109 days before
      at('2026-01-22T00:00:00.000Z');
      await order(programId, a.id, 'o3', 5000); // 10 days before
      at('2026-01-23T00:00:00.000Z');
      await order(programId, a.id, 'o4', 2000);
      at('2026-01-25T00:00:00.000Z');
      await refund(programId, a.id, { order_id: 'o3', amount: 1000 });
      await refund(programId, a.id, { order_id: 'o4' }); // full refund: the whole order
      at('2026-01-26T00:00:00.000Z');
      const now = Date.parse('2026-02-01T00:00:00.000Z');
      await credit(t, a.id, 100, { expires_at: new Date(now + 20 * DAY).toISOString() });
      await credit(t, a.id, 50, { expires_at: new Date(now + 40 * DAY).toISOString() });
      await credit(t, a.id, 30, { expires_at: new Date(now + 80 * DAY).toISOString() });
      await credit(t, a.id, 20, { available_at: new Date(now + 5 * DAY).toISOString(), expires_at: new Date(now + 200 * DAY).toISOString() });
      at('2026-02-01T00:00:00.000Z');
    });

    const expected: [string, unknown][] = [
      ['member.tier', 'gold'],
      ['member.birthday_month', 5],
      ['member.days_since_joined', 396],
      ['member.attributes.city', '杭州'],
      ['member.status', 'active'],
      ['stats.points_balance', 180],
      ['stats.points_pending', 20],
      ['stats.points_expiring_30d', 100],
      ['stats.points_expiring_45d', 150],
      ['stats.points_expiring_90d', 180],
      ['stats.days_since_last_activity', 6],
      ['stats.days_since_last_order', 9],
      ['stats.orders_90d', 2],
      ['stats.orders_365d', 3],
      // 3000 + 5000 + 2000 − 1000 − 2000 (o1 is outside the window)
      ['stats.spend_365d', 7000],
    ];
    for (const [name, value] of expected) {
      it(`reads ${name} = ${JSON.stringify(value)} for the member and not for an empty one`, async () => {
        const p = await preview(programId, { '===': [{ var: name }, value] });
        assert.equal(p.member_count, 1, JSON.stringify(p));
        assert.equal(p.sample[0].member_id, a.id);
        assert.equal(p.evaluated, 2);
      });
    }

    it('reads tags, and null recency for a member without activity or orders', async () => {
      assert.equal((await preview(programId, { in: ['vip', { var: 'member.tags' }] })).sample[0].member_id, a.id);
      const empty = await preview(programId, {
        and: [
          { '===': [{ var: 'stats.days_since_last_activity' }, null] },
          { '===': [{ var: 'stats.days_since_last_order' }, null] },
          { '===': [{ var: 'stats.points_balance' }, 0] },
          { '===': [{ var: 'stats.spend_365d' }, 0] },
          { '===': [{ var: 'member.birthday_month' }, null] },
        ],
      });
      assert.deepEqual(
        empty.sample.map((m: Json) => m.member_id),
        [b.id],
      );
      assert.equal(empty.sample[0].points_balance, 0);
    });
  });

  describe('the built-in at-risk segment', () => {
    let programId: string;
    let quiet: Json;
    let busy: Json;
    let seg: Json;
    before(async () => {
      at('2026-03-01T00:00:00.000Z');
      programId = (await createProgram(t)).id;
      quiet = await createMember(t, programId);
      busy = await createMember(t, programId);
      const lapsed = await createMember(t, programId);
      await credit(t, quiet.id, 40, { expires_at: '2026-07-20T00:00:00.000Z' });
      await credit(t, lapsed.id, 40, { expires_at: '2026-12-31T00:00:00.000Z' }); // quiet, but nothing expiring soon
      at('2026-06-15T00:00:00.000Z');
      await credit(t, busy.id, 40, { expires_at: '2026-07-20T00:00:00.000Z' }); // expiring, but active
      seg = await builtInOf(programId);
    });

    it('exists with every new program, named in both languages', () => {
      assert.ok(seg, 'no at_risk segment');
      assert.deepEqual(seg.name, { 'zh-CN': '流失风险', en: 'At risk' });
      assert.equal(seg.built_in, true);
      assert.equal(seg.refreshed_at, null);
    });

    it('holds the members with no activity for 90 days and points expiring within 45 days', async () => {
      const r = await refresh(seg.id);
      assert.equal(r.member_count, 1);
      assert.equal(r.added, 1);
      assert.equal(r.evaluated, 3);
      const members = ok(await t.call('GET', `/v1/segments/${seg.id}/members`), 200);
      assert.deepEqual(
        members.data.map((m: Json) => [m.member_id, m.points_balance, m.since]),
        [[quiet.id, 40, '2026-06-15T00:00:00.000Z']],
      );
      const mine = ok(await t.call('GET', `/v1/members/${quiet.id}/segments`), 200);
      assert.deepEqual(
        mine.data.map((s: Json) => s.segment_id),
        [seg.id],
      );
      assert.equal(ok(await t.call('GET', `/v1/members/${busy.id}/segments`), 200).data.length, 0);
      assert.deepEqual(await segmentIdsOfMembers(getDb().db, [quiet.id, busy.id]), new Map([[quiet.id, [seg.id]]]));
    });

    it('cannot be edited or archived (409 SEGMENT_BUILT_IN), only refreshed', async () => {
      assertProblem(await t.call('PATCH', `/v1/segments/${seg.id}`, { body: { name: { 'zh-CN': '改', en: 'Changed' } } }), 409, 'SEGMENT_BUILT_IN');
      assertProblem(await t.call('POST', `/v1/segments/${seg.id}/archive`), 409, 'SEGMENT_BUILT_IN');
      assert.deepEqual(ok(await t.call('GET', `/v1/segments/${seg.id}`), 200).name, { 'zh-CN': '流失风险', en: 'At risk' });
    });

    it('lets a member go when they are active again, keeping the others', async () => {
      at('2026-06-16T00:00:00.000Z');
      ok(await t.call('POST', `/v1/members/${quiet.id}/debits`, { body: { points: 1 }, idem: true }), 201);
      const r = await refresh(seg.id);
      assert.deepEqual([r.added, r.removed, r.member_count], [0, 1, 0]);
    });
  });

  describe('refresh, counts and pages', () => {
    let programId: string;
    let seg: Json;
    const ids: string[] = [];
    before(async () => {
      at('2026-04-01T00:00:00.000Z');
      programId = (await createProgram(t)).id;
      for (let i = 0; i < 25; i++) ids.push((await createMember(t, programId, { tags: ['coffee'] })).id);
      await createMember(t, programId, { tags: ['tea'] });
      seg = await create(programId, { in: ['coffee', { var: 'member.tags' }] });
    });

    it('counts the members at creation and pages through them newest first, each once', async () => {
      assert.equal(seg.member_count, 25);
      assert.equal(seg.last_refresh.added, 25);
      assert.equal(seg.refreshed_at, '2026-04-01T00:00:00.000Z');
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Json = ok(await t.call('GET', `/v1/segments/${seg.id}/members?limit=10${cursor ? `&cursor=${cursor}` : ''}`), 200);
        seen.push(...page.data.map((m: Json) => m.member_id));
        cursor = page.next_cursor;
        pages += 1;
      } while (cursor);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...ids].sort().reverse());
      assertProblem(await t.call('GET', `/v1/segments/${seg.id}/members?cursor=nonsense`), 400, 'INVALID_CURSOR', { location: 'querystring' });
    });

    it('is idempotent: a second refresh changes nothing, and two at once agree', async () => {
      const again = await refresh(seg.id);
      assert.deepEqual([again.added, again.removed, again.member_count], [0, 0, 25]);
      // a member leaves (tags change) and another joins, then two refreshes race
      ok(await t.call('PATCH', `/v1/members/${ids[0]}`, { body: { tags: ['tea'] } }), 200);
      await createMember(t, programId, { tags: ['coffee'] });
      const [r1, r2] = await Promise.all([refresh(seg.id), refresh(seg.id)]);
      assert.equal(r1.member_count, 25);
      assert.equal(r2.member_count, 25);
      assert.equal(r1.added + r2.added, 1);
      assert.equal(r1.removed + r2.removed, 1);
      const members = ok(await t.call('GET', `/v1/segments/${seg.id}/members?limit=100`), 200);
      assert.equal(members.data.length, 25);
      assert.ok(!members.data.some((m: Json) => m.member_id === ids[0]));
    });

    it('refreshes at once when the condition changes, and lists the program segments with their counts', async () => {
      const updated = ok(
        await t.call('PATCH', `/v1/segments/${seg.id}`, { body: { condition: { in: ['tea', { var: 'member.tags' }] }, description: 'tea' } }),
        200,
      );
      assert.equal(updated.member_count, 2);
      assert.equal(updated.description, 'tea');
      const list = ok(await t.call('GET', `/v1/programs/${programId}/segments`), 200);
      assert.deepEqual(
        list.data.map((s: Json) => [s.built_in_key, s.member_count]),
        [
          [null, 2],
          ['at_risk', 0],
        ],
      );
    });
  });

  describe('archived segments and program isolation', () => {
    let a: string;
    let b: string;
    let segB: Json;
    let memberB: Json;
    let keyA: string;
    before(async () => {
      at('2026-05-01T00:00:00.000Z');
      a = (await createProgram(t)).id;
      b = (await createProgram(t)).id;
      memberB = await createMember(t, b);
      segB = await create(b, true);
      keyA = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'a only', scopes: ['admin'], program_ids: [a] } }), 201).secret;
    });

    it("gives a key of another program 404 on the program's segments, segment and members", async () => {
      const as = (method: string, url: string, body?: unknown) => t.call(method, url, { key: keyA, body, idem: true });
      assertProblem(await as('GET', `/v1/programs/${b}/segments`), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await as('POST', `/v1/programs/${b}/segments/preview`, { condition: true }), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await as('POST', `/v1/programs/${b}/segments`, { name: { 'zh-CN': 'x', en: 'x' }, condition: true }), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await as('GET', `/v1/segments/${segB.id}`), 404, 'SEGMENT_NOT_FOUND');
      assertProblem(await as('GET', `/v1/segments/${segB.id}/members`), 404, 'SEGMENT_NOT_FOUND');
      assertProblem(await as('POST', `/v1/segments/${segB.id}/refresh`), 404, 'SEGMENT_NOT_FOUND');
      assertProblem(await as('PATCH', `/v1/segments/${segB.id}`, { description: 'x' }), 404, 'SEGMENT_NOT_FOUND');
      assertProblem(await as('POST', `/v1/segments/${segB.id}/archive`), 404, 'SEGMENT_NOT_FOUND');
      assertProblem(await as('GET', `/v1/members/${memberB.id}/segments`), 404, 'MEMBER_NOT_FOUND');
      assert.equal(ok(await t.call('GET', `/v1/segments/${segB.id}`), 200).description, null);
      // a read key reads; an integration key previews too; refreshing takes an admin key
      ok(await t.call('GET', `/v1/segments/${segB.id}/members`, { key: t.keys.read }), 200);
      assertProblem(await t.call('POST', `/v1/programs/${b}/segments/preview`, { key: t.keys.read, body: { condition: true } }), 403, 'FORBIDDEN');
      ok(await t.call('POST', `/v1/programs/${b}/segments/preview`, { key: t.keys.integration, body: { condition: true } }), 200);
      assertProblem(await t.call('POST', `/v1/segments/${segB.id}/refresh`, { key: t.keys.integration }), 403, 'FORBIDDEN');
    });

    it('archives: no members, not refreshed, not changed, not among the member segments', async () => {
      assert.equal(segB.member_count, 1);
      const archived = ok(await t.call('POST', `/v1/segments/${segB.id}/archive`, { idem: true }), 200);
      assert.deepEqual([archived.status, archived.member_count], ['archived', 0]);
      assertProblem(await t.call('POST', `/v1/segments/${segB.id}/refresh`), 409, 'SEGMENT_ARCHIVED');
      assertProblem(await t.call('PATCH', `/v1/segments/${segB.id}`, { body: { description: 'x' } }), 409, 'SEGMENT_ARCHIVED');
      assertProblem(await t.call('POST', `/v1/segments/${segB.id}/archive`), 409, 'SEGMENT_ARCHIVED');
      assert.equal(ok(await t.call('GET', `/v1/segments/${segB.id}/members`), 200).data.length, 0);
      assert.equal(ok(await t.call('GET', `/v1/members/${memberB.id}/segments`), 200).data.length, 0);
      assert.equal((await segmentIdsOfMembers(getDb().db, [memberB.id])).size, 0);
      const listed = ok(await t.call('GET', `/v1/programs/${b}/segments?status=archived`), 200);
      assert.deepEqual(
        listed.data.map((s: Json) => s.id),
        [segB.id],
      );
      assertProblem(await t.call('GET', '/v1/segments/seg_doesnotexist'), 404, 'SEGMENT_NOT_FOUND');
    });
  });

  describe('the job', () => {
    it('gives programs made without the hook their built-in, refreshes due segments once, and skips fresh ones', async () => {
      at('2026-08-01T00:00:00.000Z');
      const db = getDb().db;
      const p = await makeProgram(db, t.clock.now());
      await createMember(t, p.id);
      assert.equal(await builtInOf(p.id), undefined);
      const first = await runSegmentJob(db, t.clock.now(), 3600);
      assert.ok(first.refreshed >= 1, JSON.stringify(first));
      const seg = await builtInOf(p.id);
      assert.equal(seg.refreshed_at, '2026-08-01T00:00:00.000Z');
      assert.equal(seg.last_refresh.evaluated, 1);
      // nothing is due again within the interval; after it, every active segment is
      const second = await runSegmentJob(db, t.clock.now(), 3600);
      assert.equal(second.refreshed, 0);
      t.clock.advance(3600_000);
      const third = await runSegmentJob(db, t.clock.now(), 3600);
      const active = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM segment WHERE status = 'active'`);
      assert.equal(third.refreshed, active[0]!.n);
      assert.equal(third.added, 0);
    });

    it('refreshes each due segment once when two instances run it at the same time', async () => {
      t.clock.advance(2 * 3600_000);
      const db = getDb().db;
      const due = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM segment WHERE status = 'active'`))[0]!.n;
      const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM segment_member');
      const [a, b] = await Promise.all([runSegmentJob(db, t.clock.now(), 3600), runSegmentJob(db, t.clock.now(), 3600)]);
      assert.equal(a.refreshed + b.refreshed, due, JSON.stringify({ a, b }));
      // each instance skips what the other holds or has just refreshed; one that listed the due segments after the
      // other had refreshed some lists fewer, so only each instance's own total is bounded
      assert.ok(a.refreshed + a.skipped <= due && b.refreshed + b.skipped <= due, JSON.stringify({ a, b, due }));
      const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM segment_member');
      assert.deepEqual(after, before);
      const stamps = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM segment WHERE status = 'active' AND refreshed_at = $1`, [
        t.clock.now().toISOString(),
      ]);
      assert.equal(stamps[0]!.n, due);
    });
  });
});
