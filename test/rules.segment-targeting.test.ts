/**
 * Rule targeting by segment (rules.schemas targeting.segments, docs/segments.md): a rule that
 * targets a segment awards only its members, as of the segment's last refresh, whether the rule
 * was compiled before the batch's snapshot or just created; an archived segment has no members.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers
type Json = any;

forEachDatabase('rule targeting by segment', (getDb) => {
  let t: TestApp;
  const ok = (res: { statusCode: number; body: string; json: () => Json }, status = 200): Json => {
    assert.equal(res.statusCode, status, res.body);
    return res.json();
  };
  before(async () => {
    t = await createTestApp(getDb(), '2026-05-01T00:00:00.000Z');
  });

  it('awards a segment-targeted rule to the segment members only, and to nobody once the segment is archived', async () => {
    const p = ok(await t.call('POST', '/v1/programs', { body: { name: unique('seg'), pending_days: 0 } }), 201).id;
    const vip = ok(await t.call('POST', `/v1/programs/${p}/members`, { body: { external_id: unique('m'), tags: ['vip'] } }), 201).id;
    const other = ok(await t.call('POST', `/v1/programs/${p}/members`, { body: { external_id: unique('m') } }), 201).id;
    const seg = ok(
      await t.call('POST', `/v1/programs/${p}/segments`, {
        body: { name: { 'zh-CN': '贵宾', en: 'VIP' }, condition: { in: ['vip', { var: 'member.tags' }] } },
      }),
      201,
    ).id;
    ok(
      await t.call('POST', `/v1/programs/${p}/rules`, {
        body: { definition: { name: '贵宾签到', triggers: ['checkin'], effect: { type: 'fixed', points: 10 }, targeting: { segments: [seg] } } },
      }),
      201,
    );
    const checkin = async (memberId: string) =>
      ok(
        await t.call('POST', '/v1/events', {
          key: t.keys.integration,
          body: { id: unique('evt'), type: 'checkin', program_id: p, member_id: memberId, occurred_at: t.clock.now().toISOString(), data: {} },
        }),
        201,
      ).points;
    assert.equal(await checkin(vip), 10);
    assert.equal(await checkin(other), 0);
    // again, with the rule compiled before the snapshot this time
    assert.equal(await checkin(vip), 10);
    ok(await t.call('POST', `/v1/segments/${seg}/archive`, { idem: true }));
    assert.equal(await checkin(vip), 0);
  });

  it('refuses a targeting segment that is not a segment id, at its path', async () => {
    const p = ok(await t.call('POST', '/v1/programs', { body: { name: unique('seg'), pending_days: 0 } }), 201).id;
    const res = await t.call('POST', `/v1/programs/${p}/rules`, {
      body: { definition: { name: 'x', triggers: ['checkin'], effect: { type: 'fixed', points: 1 }, targeting: { segments: ['vip'] } } },
    });
    assert.equal(res.statusCode, 400);
    assert.ok(JSON.stringify(res.json()).includes('/definition/targeting/segments/0'), res.body);
  });
});
