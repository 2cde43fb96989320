/**
 * Tiers on the ingestion path (docs/tiers.md, "Upgrades at once"): an event that crosses a
 * threshold upgrades the member in its own transaction; it earns at the old rate (or the new one,
 * by the ladder's setting) and every later event at the new one, within a batch too; refunds take
 * the qualifying metric down without downgrading; welcome points come once per member and tier; the
 * review (tiers_review) downgrades at most one step below retention, and renews a kept tier.
 * The ladder is written straight into tier_ladder here: the ladder API has its own tests.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { insertLadder } from './helpers/tiers.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers
type Json = any;

const name = (zh: string, en: string) => ({ 'zh-CN': zh, en });
const tier = (code: string, zh: string, en: string, entry: number, multiplier: string, extra: Record<string, unknown> = {}) => ({
  code,
  name: name(zh, en),
  entry,
  retention: entry,
  multiplier,
  birthday_points: 0,
  welcome_points: 0,
  grants: [],
  perks: [],
  ...extra,
});
/** The seed ladder (年消费 1,000 / 5,000 元), by spend over the calendar year, kept through the next year. */
const seedTiers = [
  tier('bronze', '青铜', 'Bronze', 0, '1'),
  tier('silver', '白银', 'Silver', 100_000, '1.2', { retention: 80_000 }),
  tier('gold', '黄金', 'Gold', 500_000, '1.5', { welcome_points: 500 }),
];

forEachDatabase('tiers on the ingestion path', (getDb) => {
  let t: TestApp;

  const ok = (res: { statusCode: number; body: string; json: () => Json }, status = 200): Json => {
    assert.equal(res.statusCode, status, res.body);
    return res.json();
  };
  async function program(rate: 'old' | 'new' = 'old'): Promise<string> {
    const id = ok(await t.call('POST', '/v1/programs', { body: { name: unique('tiers'), pending_days: 0, time_zone: 'Asia/Shanghai' } }), 201).id;
    ok(
      await t.call('POST', `/v1/programs/${id}/rules`, {
        body: { definition: { name: '消费积分', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } } },
      }),
      201,
    );
    await insertLadder(getDb().db, id, { window: { type: 'calendar_year' }, validity: { type: 'period_and_next' }, rate, tiers: seedTiers }, t.clock.now());
    return id;
  }
  const member = async (programId: string) => ok(await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id: unique('m') } }), 201);
  const order = (programId: string, memberId: string, orderId: string, amount: number, at = t.clock.now().toISOString()) => ({
    id: unique('evt'),
    type: 'order.paid',
    program_id: programId,
    member_id: memberId,
    occurred_at: at,
    data: { order_id: orderId, amount, currency: 'CNY' },
  });
  const send = async (body: Json, status = 201) => ok(await t.call('POST', '/v1/events', { key: t.keys.integration, body }), status);
  const memberRow = async (id: string) =>
    (
      await getDb().db.query<Json>(
        'SELECT m.tier, mt.tier AS earned, mt.valid_until, mt.review_at FROM member m LEFT JOIN member_tier mt ON mt.member_id = m.id WHERE m.id = $1',
        [id],
      )
    )[0];
  const history = async (id: string) =>
    getDb().db.query<Json>('SELECT type, from_tier, to_tier, payload FROM tier_history WHERE member_id = $1 ORDER BY at, id', [id]);
  const activity = async (id: string) =>
    (await getDb().db.query<Json>('SELECT day::text AS day, spend::int, points::int, orders FROM tier_activity WHERE member_id = $1 ORDER BY day', [id])).map(
      (r) => ({
        ...r,
      }),
    );
  const balance = async (id: string) => ok(await t.call('GET', `/v1/members/${id}/balance`)).available;

  before(async () => {
    t = await createTestApp(getDb(), '2026-03-01T02:00:00.000Z');
  });

  describe('upgrade at once', () => {
    it('upgrades in the transaction of the order that crosses the threshold, which earns at the old rate; the next order earns at the new one', async () => {
      const p = await program('old');
      const m = await member(p);
      assert.equal((await send(order(p, m.id, 'o1', 80_000))).points, 800);
      // a member made after the ladder starts at its base tier
      assert.equal((await memberRow(m.id)).tier, 'bronze');
      // ¥800 + ¥300 = ¥1,100 ≥ ¥1,000: silver, at once; this order still earns 1×
      const crossing = await send(order(p, m.id, 'o2', 30_000));
      assert.equal(crossing.points, 300);
      const row = await memberRow(m.id);
      assert.equal(row.tier, 'silver');
      assert.equal(row.earned, 'silver');
      // period_and_next: the rest of 2026 and all of 2027, to midnight of 1 January 2028 in Shanghai
      assert.equal(new Date(row.valid_until).toISOString(), '2027-12-31T16:00:00.000Z');
      const [up] = await history(m.id);
      assert.equal(up.type, 'tier.upgraded');
      assert.deepEqual(
        [up.from_tier, up.to_tier, up.payload.value, up.payload.threshold, up.payload.event_id],
        ['bronze', 'silver', 110_000, 100_000, crossing.id],
      );
      const next = await send(order(p, m.id, 'o3', 10_000));
      assert.equal(next.points, 120);
      assert.equal(next.awards[0].explanation.multipliers[0].type, 'tier_benefit');
      assert.match(next.awards[0].text, /× 1\.2 \(白银\)/);
      assert.deepEqual(await activity(m.id), [{ day: '2026-03-01', spend: 120_000, points: 1_220, orders: 3 }]);
    });

    it('a preview earns as ingestion would: at the tier, with the crossing order at the new rate under upgrade_event_rate new, writing nothing', async () => {
      const p = await program('new');
      const m = await member(p);
      await send(order(p, m.id, 'v1', 80_000));
      const preview = ok(await t.call('POST', '/v1/events/preview', { key: t.keys.integration, body: order(p, m.id, 'v2', 30_000) }));
      assert.equal(preview.points, 360);
      assert.equal(preview.awards[0].explanation.multipliers[0].type, 'tier_benefit');
      assert.equal((await memberRow(m.id)).tier, 'bronze');
      assert.equal((await history(m.id)).length, 0);
    });

    it('with upgrade_event_rate new, the crossing order itself earns at the new tier', async () => {
      const p = await program('new');
      const m = await member(p);
      await send(order(p, m.id, 'o1', 80_000));
      assert.equal((await send(order(p, m.id, 'o2', 30_000))).points, 360);
      assert.equal((await memberRow(m.id)).tier, 'silver');
    });

    it('within one batch: the event that crosses upgrades the member for the events after it, and a jump of two tiers grants the top one its welcome points once', async () => {
      const p = await program('old');
      const m = await member(p);
      const before = await balance(m.id);
      const res = ok(
        await t.call('POST', '/v1/events/batch', {
          key: t.keys.integration,
          body: { events: [order(p, m.id, 'b1', 50_000), order(p, m.id, 'b2', 460_000), order(p, m.id, 'b3', 10_000)] },
        }),
      );
      const points = res.results.map((r: Json) => r.result?.points ?? r.error?.code);
      // b2 crosses silver and gold at once (¥5,100 ≥ ¥5,000) and earns 1×; b3 earns 1.5×
      assert.deepEqual(points, [500, 4_600, 150]);
      assert.equal((await memberRow(m.id)).tier, 'gold');
      const h = await history(m.id);
      assert.deepEqual(
        h.map((x: Json) => [x.type, x.from_tier, x.to_tier]),
        [['tier.upgraded', 'bronze', 'gold']],
      );
      // welcome points for gold, a credit of their own beside the orders' points
      assert.equal((await balance(m.id)) - before, 500 + 4_600 + 150 + 500);
      const grants = await getDb().db.query<Json>('SELECT grant_key, points::int, entry_id FROM tier_grant WHERE member_id = $1', [m.id]);
      assert.equal(grants.length, 1);
      assert.equal(grants[0].grant_key, 'welcome:gold');
      assert.ok(grants[0].entry_id);
    });
  });

  describe('refunds and the review', () => {
    it('a refund takes its amount off the day of the order it refunds and never downgrades before the review; the review then goes one step down below retention', async () => {
      t.clock.set('2026-03-01T02:00:00.000Z');
      const p = await program('old');
      const m = await member(p);
      await send(order(p, m.id, 'r1', 120_000));
      assert.equal((await memberRow(m.id)).tier, 'silver');
      t.clock.set('2026-03-05T02:00:00.000Z');
      await send({
        id: unique('evt'),
        type: 'order.refunded',
        program_id: p,
        member_id: m.id,
        occurred_at: t.clock.now().toISOString(),
        data: { order_id: 'r1' },
      });
      // refunded in full: the order's day loses its spend and its order; the member stays silver
      assert.deepEqual(await activity(m.id), [{ day: '2026-03-01', spend: 0, points: 0, orders: 0 }]);
      assert.equal((await memberRow(m.id)).tier, 'silver');

      // 2027: ¥900 is above silver's retention (¥800): kept at review, renewed to the end of 2028
      t.clock.set('2027-06-01T02:00:00.000Z');
      await send(order(p, m.id, 'r2', 90_000));
      t.clock.set('2028-01-01T00:00:00.000Z');
      const kept = (await getDb().db.query<Json>('SELECT tiers_review($1, 1000) AS r', [t.clock.now().toISOString()]))[0].r;
      assert.ok(kept.reviewed >= 1);
      let row = await memberRow(m.id);
      assert.equal(row.tier, 'silver');
      assert.equal(new Date(row.valid_until).toISOString(), '2028-12-31T16:00:00.000Z');
      assert.equal((await history(m.id)).at(-1).type, 'tier.renewed');

      // 2028: nothing spent: at the review of 1 January 2029 silver goes one step down, to bronze
      t.clock.set('2029-01-01T00:00:00.000Z');
      await getDb().db.query('SELECT tiers_review($1, 1000)', [t.clock.now().toISOString()]);
      row = await memberRow(m.id);
      assert.deepEqual([row.tier, row.earned, row.valid_until], ['bronze', 'bronze', null]);
      const last = (await history(m.id)).at(-1);
      assert.deepEqual(
        [last.type, last.from_tier, last.to_tier, last.payload.value, last.payload.threshold],
        ['tier.downgraded', 'silver', 'bronze', 0, 80_000],
      );
      // reviewed once: a second run finds nothing due for this member
      await getDb().db.query('SELECT tiers_review($1, 1000)', [t.clock.now().toISOString()]);
      assert.equal((await history(m.id)).filter((x: Json) => x.type === 'tier.downgraded').length, 1);
    });
  });

  describe('the snapshot', () => {
    it("events_prepare's tier states (written out in its query) are what jf_tier_state says, for calendar, rolling and membership-year windows", async () => {
      const db = getDb().db;
      const now = t.clock.now().toISOString();
      for (const window of [{ type: 'calendar_year' }, { type: 'rolling_months', months: 12 }, { type: 'membership_year' }]) {
        const p = ok(await t.call('POST', '/v1/programs', { body: { name: unique('snap'), pending_days: 0, time_zone: 'Asia/Shanghai' } }), 201).id;
        await insertLadder(
          db,
          p,
          { window, validity: window.type === 'rolling_months' ? { type: 'months', months: 12 } : { type: 'period_and_next' }, tiers: seedTiers },
          t.clock.now(),
        );
        const ids: string[] = [];
        for (const amount of [0, 50_000, 120_000, 600_000]) {
          const m = await member(p);
          ids.push(m.id);
          if (amount > 0) await send(order(p, m.id, unique('o'), amount));
        }
        // an override on one of them
        await db.query(`UPDATE member_tier SET override_tier = 'gold', override_until = $2 WHERE member_id = $1`, [ids[2], '2027-06-01T00:00:00Z']);
        const [prepared] = await db.query<{ s: Json }>('SELECT events_prepare($1::text::jsonb) AS s', [
          JSON.stringify({ program_id: p, member_ids: ids, external_member_ids: [], external_ids: [], usage: { since: now, rule_ids: [] }, now }),
        ]);
        const [states] = await db.query<{ s: Json }>('SELECT events_tier_states($1, $2::text[], $3) AS s', [p, ids, now]);
        const fromPrepare = Object.fromEntries(prepared!.s.members.map((m: Json) => [m.id, m.tier_state]));
        assert.deepEqual(fromPrepare, states!.s, window.type);
        assert.deepEqual(
          ids.map((id) => fromPrepare[id].value),
          [0, 50_000, 120_000, 600_000],
          window.type,
        );
      }
    });
  });
});
