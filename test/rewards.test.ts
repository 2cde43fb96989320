/**
 * Rewards (docs/rewards.md), through the HTTP API on PGlite and PostgreSQL: the catalogue and its
 * validation, scheduled prices (visible before they apply, used after), every refusal of a
 * redemption with its code and nothing changed, coupon codes from the pool, the physical order's
 * lifecycle with its history, cancel and reject giving points back as lots with their original
 * expiry and the stock back exactly once, replays of one key, the member's catalogue states and
 * "within reach", donations, scope isolation.
 */
import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { activeReward, fundedMember, type Json, ok, redeem, rewardName, rewardProgram } from './helpers/rewards.ts';
import { assertProblem, memberState } from './http/support.ts';

const DAY = 86_400_000;
const START = '2026-03-02T02:00:00.000Z';
const LADDER = {
  metric: 'spend',
  qualifying_window: { type: 'calendar_year' },
  validity: { type: 'period_and_next' },
  downgrade_policy: 'one_step',
  tiers: [
    { code: 'bronze', name: rewardName('青铜', 'Bronze'), entry: 0 },
    { code: 'silver', name: rewardName('白银', 'Silver'), entry: 100_000 },
    { code: 'gold', name: rewardName('黄金', 'Gold'), entry: 500_000 },
  ],
};

forEachDatabase('rewards', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), START);
  });
  // a Monday, 10:00 in Shanghai
  beforeEach(() => t.clock.set(START));
  const at = (ms: number) => new Date(t.clock.now().getTime() + ms).toISOString();
  const rewardOf = async (id: string) => ok(await t.call('GET', `/v1/rewards/${id}`));
  const count = async (sql: string, params: unknown[]) => (await getDb().db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0]!.n;
  const tokenOf = async (programId: string, memberId: string) =>
    ok(await t.call('POST', `/v1/programs/${programId}/member-tokens`, { key: t.keys.integration, body: { member_id: memberId } }), 201).token as string;
  const audit = async (programId: string) => {
    const a = ok(await t.call('GET', `/v1/audit?program_id=${programId}`));
    assert.equal(a.ok, true, JSON.stringify(a.violations));
  };
  /** Runs fn, which must be refused, and asserts the member, the reward and the redemptions are as before. */
  async function refusedChangesNothing(memberId: string, rewardId: string, fn: () => Promise<void>) {
    const before = { member: await memberState(t, memberId), reward: await rewardOf(rewardId), redemptions: await count('redemption', []) };
    const codes = await count('reward_code WHERE redemption_id IS NOT NULL', []);
    await fn();
    assert.deepEqual({ member: await memberState(t, memberId), reward: await rewardOf(rewardId), redemptions: await count('redemption', []) }, before);
    assert.equal(await count('reward_code WHERE redemption_id IS NOT NULL', []), codes, 'no code was issued');
  }

  describe('catalogue', () => {
    it('creates, lists, updates and archives rewards; validation names the field', async () => {
      const p = await rewardProgram(t);
      const r = ok(
        await t.call('POST', `/v1/programs/${p}/rewards`, {
          body: {
            type: 'coupon',
            name: rewardName('10元券', '¥10 coupon'),
            description: { en: 'Ten yuan off' },
            image_urls: ['https://img.example.com/c.png'],
            category: 'coffee',
            points_cost: 1000,
            cash_part: 500,
            limit: { per_member: 2, period: 'month' },
            schedule: { days: [5, 1], from: '10:00', until: '12:00' },
          },
          idem: true,
        }),
        201,
      );
      assert.equal(r.status, 'draft');
      assert.deepEqual(r.schedule, { days: [1, 5], from: '10:00', until: '12:00' });
      assert.deepEqual(r.limit, { per_member: 2, period: 'month' });
      assert.equal(r.codes_left, 0);
      assert.equal(r.cash_part, 500);
      const list = ok(await t.call('GET', `/v1/programs/${p}/rewards?type=coupon&category=coffee`));
      assert.deepEqual(
        list.data.map((x: Json) => x.id),
        [r.id],
      );
      assert.equal(ok(await t.call('GET', `/v1/programs/${p}/rewards?status=active`)).data.length, 0);

      const u = ok(await t.call('PATCH', `/v1/rewards/${r.id}`, { body: { status: 'active', stock: 10, limit: null } }));
      assert.equal(u.status, 'active');
      assert.equal(u.stock_left, 10);
      assert.equal(u.limit, null);

      assertProblem(
        await t.call('POST', `/v1/programs/${p}/rewards`, {
          body: { type: 'physical', name: rewardName('a', 'a'), points_cost: 1, available_from: at(DAY), available_until: at(0) },
        }),
        400,
        'VALIDATION_FAILED',
        { path: '/available_until' },
      );
      assertProblem(
        await t.call('POST', `/v1/programs/${p}/rewards`, { body: { type: 'physical', name: rewardName('a', 'a'), points_cost: 1, min_tier: 'gold' } }),
        400,
        'VALIDATION_FAILED',
        { path: '/min_tier' },
      );
      assertProblem(
        await t.call('POST', `/v1/programs/${p}/rewards`, { body: { type: 'physical', name: rewardName('a', 'a'), points_cost: 1, segment_id: 'seg_nope' } }),
        400,
        'VALIDATION_FAILED',
        { path: '/segment_id' },
      );
      assertProblem(
        await t.call('POST', `/v1/programs/${p}/rewards`, {
          body: { type: 'physical', name: rewardName('a', 'a'), points_cost: 1, schedule: { days: [1], from: '12:00', until: '10:00' } },
        }),
        400,
        'VALIDATION_FAILED',
        { path: '/schedule/until' },
      );
      assertProblem(
        await t.call('POST', `/v1/programs/${p}/rewards`, { body: { type: 'donation', name: rewardName('a', 'a'), points_cost: 1, cash_part: 5 } }),
        400,
        'VALIDATION_FAILED',
        { path: '/cash_part' },
      );
      assertProblem(
        await t.call('POST', `/v1/programs/${p}/rewards`, { body: { type: 'physical', name: rewardName('a', 'a'), points_cost: 0 } }),
        400,
        'VALIDATION_FAILED',
      );

      const archived = ok(await t.call('POST', `/v1/rewards/${r.id}/archive`, { idem: true }));
      assert.equal(archived.status, 'archived');
      assertProblem(await t.call('POST', `/v1/rewards/${r.id}/archive`), 409, 'REWARD_ARCHIVED');
      assertProblem(await t.call('PATCH', `/v1/rewards/${r.id}`, { body: { category: 'tea' } }), 409, 'REWARD_ARCHIVED');
      assertProblem(await t.call('GET', '/v1/rewards/rwd_nope'), 404, 'REWARD_NOT_FOUND');
    });

    it('a stock change moves stock_left by the difference, never below what was redeemed', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 1000);
      const r = await activeReward(t, p, { stock: 5 });
      ok(await redeem(t, m, { reward_id: r.id, quantity: 3 }), 201);
      assert.equal((await rewardOf(r.id)).stock_left, 2);
      assertProblem(await t.call('PATCH', `/v1/rewards/${r.id}`, { body: { stock: 2 } }), 400, 'VALIDATION_FAILED', { path: '/stock' });
      const u = ok(await t.call('PATCH', `/v1/rewards/${r.id}`, { body: { stock: 8 } }));
      assert.deepEqual([u.stock, u.stock_left], [8, 5]);
      const unlimited = ok(await t.call('PATCH', `/v1/rewards/${r.id}`, { body: { stock: null } }));
      assert.deepEqual([unlimited.stock, unlimited.stock_left], [null, null]);
      // taken while unlimited, given back once limited: never more than the stock on sale
      const d = ok(await redeem(t, m, { reward_id: r.id }), 201);
      ok(await t.call('PATCH', `/v1/rewards/${r.id}`, { body: { stock: 4 } }));
      ok(await t.call('POST', `/v1/redemptions/${d.id}/cancel`, { body: {} }));
      assert.deepEqual([(await rewardOf(r.id)).stock, (await rewardOf(r.id)).stock_left], [4, 4]);
    });

    it('a scheduled price is visible before it applies, applies from effective_at, and can be withdrawn only before', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 10_000);
      const r = await activeReward(t, p, { points_cost: 500 });
      const later = ok(
        await t.call('POST', `/v1/rewards/${r.id}/price-changes`, { body: { points_cost: 800, effective_at: at(2 * DAY), announce_at: at(DAY) }, idem: true }),
        201,
      );
      const gone = ok(await t.call('POST', `/v1/rewards/${r.id}/price-changes`, { body: { points_cost: 300, effective_at: at(3 * DAY) } }), 201);
      assertProblem(await t.call('POST', `/v1/rewards/${r.id}/price-changes`, { body: { points_cost: 1, effective_at: at(-DAY) } }), 400, 'VALIDATION_FAILED', {
        path: '/effective_at',
      });
      assertProblem(
        await t.call('POST', `/v1/rewards/${r.id}/price-changes`, { body: { points_cost: 1, effective_at: at(2 * DAY) } }),
        400,
        'VALIDATION_FAILED',
        { path: '/effective_at' },
      );
      const now = await rewardOf(r.id);
      assert.equal(now.points_cost, 500);
      assert.deepEqual(
        now.upcoming_prices.map((c: Json) => c.points_cost),
        [800, 300],
      );
      // members see a change from its announcement only
      let token = await tokenOf(p, m);
      const mine = () => t.call('GET', '/v1/me/rewards', { key: token }).then((res) => ok(res).data.find((i: Json) => i.reward.id === r.id));
      assert.deepEqual((await mine()).reward.upcoming_prices, [
        ...[gone].filter((c) => Date.parse(c.announce_at) <= t.clock.now().getTime()).map((c) => ({ ...c, in_effect: false })),
      ]);
      t.clock.advance(DAY);
      token = await tokenOf(p, m);
      assert.deepEqual(
        (await mine()).reward.upcoming_prices.map((c: Json) => c.id),
        [later.id, gone.id],
      );
      // withdrawn before it applies
      const after = ok(await t.call('DELETE', `/v1/rewards/${r.id}/price-changes/${gone.id}`, { idem: true }));
      assert.deepEqual(
        after.upcoming_prices.map((c: Json) => c.id),
        [later.id],
      );
      assertProblem(await t.call('DELETE', `/v1/rewards/${r.id}/price-changes/${gone.id}`), 404, 'PRICE_CHANGE_NOT_FOUND');
      // the member was shown 500: the price is 800 from effective_at, and a stale confirmation is refused
      t.clock.advance(DAY);
      assert.equal((await rewardOf(r.id)).points_cost, 800);
      await refusedChangesNothing(m, r.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: r.id, expected_points: 500 }), 409, 'PRICE_CHANGED', { extra: { points: 800 } });
      });
      assert.equal(ok(await redeem(t, m, { reward_id: r.id, expected_points: 800 }), 201).points, 800);
      assertProblem(await t.call('DELETE', `/v1/rewards/${r.id}/price-changes/${later.id}`), 409, 'PRICE_CHANGE_IN_EFFECT');
      const history = ok(await t.call('GET', `/v1/rewards/${r.id}/price-changes`));
      assert.deepEqual(
        history.data.map((c: Json) => [c.points_cost, c.in_effect]),
        [[800, true]],
      );
    });
  });

  describe('redemption refusals: each a 4xx with its code, and nothing changes', () => {
    it('MEMBER_FROZEN, MEMBER_CLOSED, INSUFFICIENT_POINTS, REWARD_OUT_OF_STOCK, NOT_AVAILABLE_NOW, REWARD_NOT_FOUND, MEMBER_NOT_FOUND', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 150);
      const r = await activeReward(t, p, { stock: 3 });
      await refusedChangesNothing(m, r.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: r.id, quantity: 2 }), 422, 'INSUFFICIENT_POINTS', { extra: { available: 150, requested: 200 } });
      });
      const soldOut = await activeReward(t, p, { stock: 0 });
      await refusedChangesNothing(m, soldOut.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: soldOut.id }), 422, 'REWARD_OUT_OF_STOCK');
      });
      await refusedChangesNothing(m, r.id, async () => {
        assertProblem(await redeem(t, await fundedMember(t, p, 1000), { reward_id: r.id, quantity: 4 }), 422, 'REWARD_OUT_OF_STOCK');
      });
      const draft = await activeReward(t, p, { status: 'draft' });
      const future = await activeReward(t, p, { available_from: at(DAY) });
      const over = await activeReward(t, p, { available_from: at(-2 * DAY), available_until: at(-DAY) });
      // 2026-03-02 is a Monday, 02:00 UTC: the flash sale is on Tuesdays
      const flash = await activeReward(t, p, { schedule: { days: [2], from: '00:00', until: '24:00' } });
      const archived = await activeReward(t, p);
      ok(await t.call('POST', `/v1/rewards/${archived.id}/archive`, { body: {} }));
      for (const x of [draft, future, over, flash, archived]) {
        await refusedChangesNothing(m, x.id, async () => {
          assertProblem(await redeem(t, m, { reward_id: x.id }), 422, 'NOT_AVAILABLE_NOW');
        });
      }
      const other = await rewardProgram(t);
      const elsewhere = await activeReward(t, other);
      await refusedChangesNothing(m, elsewhere.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: elsewhere.id }), 404, 'REWARD_NOT_FOUND');
      });
      assertProblem(await redeem(t, 'mbr_nope', { reward_id: r.id }), 404, 'MEMBER_NOT_FOUND');
      ok(await t.call('POST', `/v1/members/${m}/freeze`, { body: { reason: 'fraud check' } }));
      await refusedChangesNothing(m, r.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: r.id }), 422, 'MEMBER_FROZEN');
      });
      ok(await t.call('POST', `/v1/members/${m}/unfreeze`, { body: {} }));
      const closed = await fundedMember(t, p, 500);
      ok(await t.call('POST', `/v1/members/${closed}/close`, { body: {} }));
      await refusedChangesNothing(closed, r.id, async () => {
        assertProblem(await redeem(t, closed, { reward_id: r.id }), 422, 'MEMBER_CLOSED');
      });
      // once in the flash sale's hours, it is redeemed
      t.clock.advance(DAY);
      ok(await redeem(t, m, { reward_id: flash.id }), 201);
      await audit(p);
    });

    it('TIER_REQUIRED and SEGMENT_REQUIRED, then redeemed once the member has the tier and the segment', async () => {
      const p = await rewardProgram(t);
      ok(await t.call('PUT', `/v1/programs/${p}/tier-ladder`, { body: LADDER }), 201);
      const vip = ok(
        await t.call('POST', `/v1/programs/${p}/segments`, {
          body: { name: rewardName('贵宾', 'VIP'), condition: { in: ['vip', { var: 'member.tags' }] } },
        }),
        201,
      );
      const m = await fundedMember(t, p, 1000);
      const gold = await activeReward(t, p, { min_tier: 'silver' });
      const forVip = await activeReward(t, p, { segment_id: vip.id });
      await refusedChangesNothing(m, gold.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: gold.id }), 422, 'TIER_REQUIRED', { extra: { required_tier: 'silver', tier: 'bronze' } });
      });
      await refusedChangesNothing(m, forVip.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: forVip.id }), 422, 'SEGMENT_REQUIRED');
      });
      ok(await t.call('POST', `/v1/members/${m}/tier-override`, { body: { tier: 'gold', until: at(30 * DAY), reason: 'test' } }));
      ok(await redeem(t, m, { reward_id: gold.id }), 201);
      ok(await t.call('PATCH', `/v1/members/${m}`, { body: { tags: ['vip'] } }));
      ok(await t.call('POST', `/v1/segments/${vip.id}/refresh`, { body: {} }));
      ok(await redeem(t, m, { reward_id: forVip.id }), 201);
    });

    it('LIMIT_REACHED per period in the program time zone; cancelled redemptions do not count', async () => {
      // Shanghai: 2026-03-02T02:00Z is 10:00 local; the local day ends at 16:00Z
      const p = await rewardProgram(t, { time_zone: 'Asia/Shanghai' });
      const m = await fundedMember(t, p, 1000);
      const r = await activeReward(t, p, { points_cost: 10, limit: { per_member: 2, period: 'day' } });
      const first = ok(await redeem(t, m, { reward_id: r.id }), 201);
      ok(await redeem(t, m, { reward_id: r.id }), 201);
      await refusedChangesNothing(m, r.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: r.id }), 422, 'LIMIT_REACHED', { extra: { limit: 2, used: 2, period: 'day', requested: 1 } });
      });
      ok(await t.call('POST', `/v1/redemptions/${first.id}/cancel`, { body: {} }));
      ok(await redeem(t, m, { reward_id: r.id }), 201);
      assertProblem(await redeem(t, m, { reward_id: r.id }), 422, 'LIMIT_REACHED');
      // 15:59Z is still the same Shanghai day; 16:00Z is the next one
      t.clock.set(new Date('2026-03-02T15:59:00.000Z'));
      assertProblem(await redeem(t, m, { reward_id: r.id }), 422, 'LIMIT_REACHED');
      t.clock.set(new Date('2026-03-02T16:00:00.000Z'));
      ok(await redeem(t, m, { reward_id: r.id, quantity: 2 }), 201);
    });

    it('DONATION_BELOW_MINIMUM, REWARD_TYPE_UNSUPPORTED, points only for donations', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 1000);
      const d = await activeReward(t, p, { type: 'donation', points_cost: 50, donation_project: 'school' });
      await refusedChangesNothing(m, d.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: d.id, points: 49 }), 422, 'DONATION_BELOW_MINIMUM', { path: '/points', extra: { minimum: 50 } });
        assertProblem(await redeem(t, m, { reward_id: d.id, quantity: 2 }), 400, 'VALIDATION_FAILED', { path: '/quantity' });
      });
      const lottery = await activeReward(t, p, { type: 'lottery' });
      const plain = await activeReward(t, p);
      await refusedChangesNothing(m, lottery.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: lottery.id }), 422, 'REWARD_TYPE_UNSUPPORTED');
        assertProblem(await redeem(t, m, { reward_id: plain.id, points: 500 }), 400, 'VALIDATION_FAILED', { path: '/points' });
      });
    });
  });

  describe('redemptions', () => {
    it('a physical order: confirmed → shipped → delivered, each step in its history, seen by the member', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 1000);
      const r = await activeReward(t, p, { stock: 10, cash_part: 1990 });
      const d = ok(await redeem(t, m, { reward_id: r.id, quantity: 2, shipping: { name: '张三', address: '上海市' } }), 201);
      assert.deepEqual([d.status, d.points, d.cash, d.balance.available], ['confirmed', 200, 3980, 800]);
      assert.equal((await rewardOf(r.id)).stock_left, 8);
      const shipped = ok(await t.call('POST', `/v1/redemptions/${d.id}/ship`, { body: { carrier: '顺丰', tracking_number: 'SF1' }, idem: true }));
      assert.deepEqual([shipped.status, shipped.carrier, shipped.tracking_number], ['shipped', '顺丰', 'SF1']);
      assertProblem(await t.call('POST', `/v1/redemptions/${d.id}/cancel`, { body: {} }), 409, 'REDEMPTION_STATUS_CONFLICT');
      const token = await tokenOf(p, m);
      const mine = ok(await t.call('GET', '/v1/me/redemptions', { key: token }));
      assert.deepEqual(
        mine.data.map((x: Json) => [x.id, x.status, x.tracking_number]),
        [[d.id, 'shipped', 'SF1']],
      );
      const delivered = ok(await t.call('POST', `/v1/redemptions/${d.id}/deliver`, {}));
      assert.equal(delivered.status, 'delivered');
      assert.deepEqual(
        delivered.history.map((h: Json) => h.type),
        ['redemption.confirmed', 'redemption.shipped', 'redemption.delivered'],
      );
      assert.deepEqual(delivered.history[1].payload, { carrier: '顺丰', tracking_number: 'SF1' });
      assert.equal(delivered.history[0].payload.points, 200);
      const listed = ok(await t.call('GET', `/v1/programs/${p}/redemptions?status=delivered`));
      assert.deepEqual(
        listed.data.map((x: Json) => x.id),
        [d.id],
      );
      // the program's orders say who redeemed them
      const who = ok(await t.call('GET', `/v1/members/${d.member_id}`));
      assert.deepEqual(listed.data[0].member, { name: who.name, external_id: who.external_id });
      assertProblem(await t.call('GET', '/v1/redemptions/rdm_nope'), 404, 'REDEMPTION_NOT_FOUND');
      // a coupon cannot be shipped
      const c = await activeReward(t, p, { type: 'service' });
      const s = ok(await redeem(t, m, { reward_id: c.id }), 201);
      assertProblem(await t.call('POST', `/v1/redemptions/${s.id}/ship`, { body: { carrier: 'x', tracking_number: 'y' } }), 409, 'REDEMPTION_STATUS_CONFLICT');
      const pickup = ok(await redeem(t, m, { reward_id: r.id }), 201);
      assert.equal(ok(await t.call('POST', `/v1/redemptions/${pickup.id}/deliver`, { body: {} })).status, 'delivered');
      const donation = await activeReward(t, p, { type: 'donation', points_cost: 1 });
      const given = ok(await redeem(t, m, { reward_id: donation.id }), 201);
      assertProblem(await t.call('POST', `/v1/redemptions/${given.id}/deliver`, { body: {} }), 409, 'REDEMPTION_STATUS_CONFLICT', {
        extra: { redemption_status: 'confirmed' },
      });
      assert.equal(ok(await t.call('POST', `/v1/redemptions/${s.id}/deliver`, { body: {} })).status, 'delivered');
      await audit(p);
    });

    it('coupon codes come from the pool, each issued once; an empty pool is REWARD_OUT_OF_STOCK and nothing is held', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 1000);
      const r = await activeReward(t, p, { type: 'coupon' });
      await getDb().db.query(`INSERT INTO reward_code (reward_id, code, program_id, created_at) SELECT $1, 'C' || g, $2, $3 FROM generate_series(1, 3) g`, [
        r.id,
        p,
        t.clock.now().toISOString(),
      ]);
      assert.equal((await rewardOf(r.id)).codes_left, 3);
      const a = ok(await redeem(t, m, { reward_id: r.id, quantity: 2 }), 201);
      assert.equal(a.codes.length, 2);
      const b = ok(await redeem(t, m, { reward_id: r.id }), 201);
      assert.equal(new Set([...a.codes, ...b.codes]).size, 3);
      await refusedChangesNothing(m, r.id, async () => {
        assertProblem(await redeem(t, m, { reward_id: r.id }), 422, 'REWARD_OUT_OF_STOCK');
      });
      assert.equal(await count(`hold WHERE member_id = $1 AND status = 'open'`, [m]), 0);
      // a cancelled coupon's code stays issued to it
      ok(await t.call('POST', `/v1/redemptions/${b.id}/cancel`, { body: {} }));
      assert.equal((await rewardOf(r.id)).codes_left, 0);
      await audit(p);
    });

    it('replays of one Idempotency-Key give one redemption; the key with another body is refused', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 1000);
      const r = await activeReward(t, p, { stock: 5 });
      const key = unique('redeem');
      const first = ok(await redeem(t, m, { reward_id: r.id }, key), 201);
      const again = await redeem(t, m, { reward_id: r.id }, key);
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.json().id, first.id);
      assertProblem(await redeem(t, m, { reward_id: r.id, quantity: 2 }, key), 409, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal(await count('redemption WHERE member_id = $1', [m]), 1);
      assert.equal((await rewardOf(r.id)).stock_left, 4);
    });

    it('cancel gives the points back as lots with their original expiry and the stock back, exactly once; reject ends a shipped order', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 0);
      const soon = at(30 * DAY);
      const late = at(365 * DAY);
      ok(await t.call('POST', `/v1/members/${m}/credits`, { body: { points: 60, expires_at: soon }, idem: true }), 201);
      ok(await t.call('POST', `/v1/members/${m}/credits`, { body: { points: 100, expires_at: late }, idem: true }), 201);
      const r = await activeReward(t, p, { stock: 3 });
      const d = ok(await redeem(t, m, { reward_id: r.id }), 201);
      assert.equal(d.balance.available, 60);
      const c = ok(await t.call('POST', `/v1/redemptions/${d.id}/cancel`, { body: { reason: 'changed my mind' }, idem: true }));
      assert.equal(c.status, 'cancelled');
      assert.equal(c.balance.available, 160);
      assert.deepEqual(
        c.restored.lots.map((l: Json) => [l.points, l.expires_at]),
        [
          [60, soon],
          [40, late],
        ],
      );
      const lots = ok(await t.call('GET', `/v1/members/${m}/lots?limit=100`)).data.filter((l: Json) => l.remaining > 0);
      assert.deepEqual(
        lots.map((l: Json) => [l.remaining, l.expires_at]).sort(),
        [
          [40, late],
          [60, late],
          [60, soon],
        ].sort(),
      );
      assert.equal((await rewardOf(r.id)).stock_left, 3);
      assertProblem(await t.call('POST', `/v1/redemptions/${d.id}/cancel`, { body: {} }), 409, 'REDEMPTION_STATUS_CONFLICT', {
        extra: { redemption_status: 'cancelled' },
      });
      assertProblem(await t.call('POST', `/v1/redemptions/${d.id}/reject`, { body: {} }), 409, 'REDEMPTION_STATUS_CONFLICT');
      // points whose expiry passed before the cancel come back expired
      const e = ok(await redeem(t, m, { reward_id: r.id }), 201);
      ok(await t.call('POST', `/v1/redemptions/${e.id}/ship`, { body: { carrier: 'EMS', tracking_number: 'E1' } }));
      t.clock.advance(31 * DAY);
      const rejected = ok(await t.call('POST', `/v1/redemptions/${e.id}/reject`, { body: { reason: 'lost in transit' } }));
      assert.equal(rejected.status, 'rejected');
      assert.deepEqual([rejected.restored.points, rejected.restored.expired], [100, 60]);
      assert.equal(rejected.balance.available, 100);
      const history = ok(await t.call('GET', `/v1/redemptions/${e.id}`)).history;
      assert.deepEqual(
        history.map((h: Json) => h.type),
        ['redemption.confirmed', 'redemption.shipped', 'redemption.rejected'],
      );
      assert.deepEqual([history[2].payload.points_restored, history[2].payload.points_expired, history[2].payload.stock_restored], [100, 60, 1]);
      await audit(p);
    });

    it('a member redeems with a token, sees only their own redemptions', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 500);
      const n = await fundedMember(t, p, 500);
      const r = await activeReward(t, p);
      const token = await tokenOf(p, m);
      const key = unique('tap');
      const d = ok(await t.call('POST', '/v1/me/redemptions', { key: token, body: { reward_id: r.id, expected_points: 100 }, idem: key }), 201);
      assert.equal(d.actor, `member:${m}`);
      const again = await t.call('POST', '/v1/me/redemptions', { key: token, body: { reward_id: r.id, expected_points: 100 }, idem: key });
      assert.equal(again.json().id, d.id);
      // the same key from another member is that member's own
      const other = ok(await t.call('POST', '/v1/me/redemptions', { key: await tokenOf(p, n), body: { reward_id: r.id }, idem: key }), 201);
      assert.notEqual(other.id, d.id);
      assert.deepEqual(
        ok(await t.call('GET', '/v1/me/redemptions', { key: token })).data.map((x: Json) => x.id),
        [d.id],
      );
      assert.equal(await count('redemption WHERE member_id = $1', [m]), 1);
    });

    it('donations: any amount from the minimum, totals per project less cancelled ones', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 1000);
      const n = await fundedMember(t, p, 1000);
      const school = await activeReward(t, p, { type: 'donation', points_cost: 10, donation_project: 'school' });
      const school2 = await activeReward(t, p, { type: 'donation', points_cost: 10, donation_project: 'school' });
      await activeReward(t, p, { type: 'donation', points_cost: 10, donation_project: 'trees' });
      ok(await redeem(t, m, { reward_id: school.id, points: 333 }), 201);
      const x = ok(await redeem(t, n, { reward_id: school2.id }), 201);
      const y = ok(await redeem(t, n, { reward_id: school2.id, points: 100 }), 201);
      ok(await t.call('POST', `/v1/redemptions/${y.id}/cancel`, { body: {} }));
      assert.equal(x.points, 10);
      const totals = ok(await t.call('GET', `/v1/programs/${p}/donations`));
      assert.deepEqual(totals.projects, [
        { project: 'school', points: 343, donations: 2, donors: 2 },
        { project: 'trees', points: 0, donations: 0, donors: 0 },
      ]);
    });
  });

  describe("the member's catalogue", () => {
    it('says for each reward can_redeem, needs_points, locked_tier, locked_segment, limit_reached, sold_out, not_yet, ended', async () => {
      const p = await rewardProgram(t);
      ok(await t.call('PUT', `/v1/programs/${p}/tier-ladder`, { body: LADDER }), 201);
      const seg = ok(await t.call('POST', `/v1/programs/${p}/segments`, { body: { name: rewardName('无', 'None'), condition: false } }), 201);
      const m = await fundedMember(t, p, 300);
      const mk = (name: string, body: Json) => activeReward(t, p, { name: rewardName(name, name), ...body });
      const can = await mk('can', { points_cost: 300 });
      const needs = await mk('needs', { points_cost: 1000 });
      const tier = await mk('tier', { min_tier: 'gold' });
      const segment = await mk('segment', { segment_id: seg.id });
      const limited = await mk('limited', { points_cost: 1, limit: { per_member: 1, period: 'ever' } });
      ok(await redeem(t, m, { reward_id: limited.id }), 201);
      const sold = await mk('sold', { stock: 0 });
      const coupon = await mk('coupon', { type: 'coupon' });
      const opens = at(3 * DAY);
      const notYet = await mk('not_yet', { available_from: opens });
      // Monday 02:00 UTC; the sale is on Mondays and Wednesdays from 09:00
      const flash = await mk('flash', { schedule: { days: [1, 3], from: '09:00', until: '10:00' } });
      const ended = await mk('ended', { available_until: at(-1) });
      await mk('draft', { status: 'draft' });
      await mk('lottery', { type: 'lottery' });
      const token = await tokenOf(p, m);
      const all: Json[] = [];
      let cursor: string | null = null;
      do {
        const page: Json = ok(await t.call('GET', `/v1/me/rewards?limit=4${cursor ? `&cursor=${cursor}` : ''}`, { key: token }));
        assert.equal(page.available_points, 299);
        all.push(...page.data);
        cursor = page.next_cursor;
      } while (cursor);
      const state = (id: string) => all.find((i) => i.reward.id === id);
      assert.equal(all.length, 10, 'drafts and lotteries are not in the catalogue');
      assert.equal(state(can.id).state, 'needs_points', 'one point was spent on the limited reward');
      assert.equal(state(can.id).needs_points, 1);
      assert.deepEqual([state(needs.id).state, state(needs.id).needs_points], ['needs_points', 701]);
      assert.deepEqual([state(tier.id).state, state(tier.id).required_tier], ['locked_tier', 'gold']);
      assert.equal(state(segment.id).state, 'locked_segment');
      assert.deepEqual([state(limited.id).state, state(limited.id).used], ['limit_reached', 1]);
      assert.equal(state(sold.id).state, 'sold_out');
      assert.equal(state(coupon.id).state, 'sold_out', 'a coupon without codes');
      assert.deepEqual([state(notYet.id).state, state(notYet.id).starts_at], ['not_yet', opens]);
      assert.deepEqual([state(flash.id).state, state(flash.id).starts_at], ['not_yet', '2026-03-02T09:00:00.000Z']);
      assert.equal(state(ended.id).state, 'ended');
      const cheap = await mk('cheap', { points_cost: 299 });
      assert.equal(ok(await t.call('GET', '/v1/me/rewards', { key: token })).data.find((i: Json) => i.reward.id === cheap.id).state, 'can_redeem');
    });

    it('within reach: redeemable or short of points only, ranked by affordability plus category affinity from orders', async () => {
      const p = await rewardProgram(t);
      ok(
        await t.call('POST', `/v1/programs/${p}/rules`, {
          body: { definition: { name: 'spend', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } } },
        }),
        201,
      );
      const m = await fundedMember(t, p, 0);
      ok(
        await t.call('POST', '/v1/events', {
          key: t.keys.integration,
          body: {
            id: unique('evt'),
            type: 'order.paid',
            program_id: p,
            member_id: m,
            occurred_at: t.clock.now().toISOString(),
            data: {
              order_id: unique('o'),
              amount: 50_000,
              currency: 'CNY',
              items: [
                { sku: 'latte', category: 'coffee', quantity: 3, unit_price: 10_000 },
                { sku: 'mug', category: 'goods', quantity: 1, unit_price: 20_000 },
              ],
            },
          },
        }),
        201,
      );
      // 500 points; coffee is 3 of 4 lines
      const coffeeDear = await activeReward(t, p, { points_cost: 1000, category: 'coffee' });
      const goodsCheap = await activeReward(t, p, { points_cost: 400, category: 'goods' });
      const teaCheap = await activeReward(t, p, { points_cost: 100, category: 'tea' });
      const teaDear = await activeReward(t, p, { points_cost: 5000, category: 'tea' });
      await activeReward(t, p, { points_cost: 100, min_tier: null, stock: 0 });
      const token = await tokenOf(p, m);
      const reach = ok(await t.call('GET', '/v1/me/rewards/within-reach?limit=10', { key: token }));
      assert.equal(reach.available_points, 500);
      assert.deepEqual(
        reach.data.map((i: Json) => [i.reward.id, i.state]),
        [
          [goodsCheap.id, 'can_redeem'], // 1 + 0.25
          [coffeeDear.id, 'needs_points'], // 0.5 + 0.75
          [teaCheap.id, 'can_redeem'], // 1 + 0, cheaper than the tie-less rest
          [teaDear.id, 'needs_points'], // 0.1
        ],
      );
      assert.deepEqual([reach.data[1].affordability, reach.data[1].affinity, reach.data[1].score], [0.5, 0.75, 1.25]);
    });
  });

  describe('for the console', () => {
    it('finds rewards by a part of the name in either language, case ignored, with the other filters', async () => {
      const p = await rewardProgram(t);
      const coffee = await activeReward(t, p, { name: rewardName('咖啡兑换券', 'Coffee coupon'), category: 'coffee' });
      const thermos = await activeReward(t, p, { name: rewardName('保温杯', 'Thermos'), category: 'goods' });
      await activeReward(t, p, { name: rewardName('咖啡豆', 'Beans'), category: 'goods', status: 'draft' });
      const names = async (query: string) => ok(await t.call('GET', `/v1/programs/${p}/rewards?${query}`)).data.map((r: Json) => r.id);
      assert.deepEqual(await names('q=COFFEE'), [coffee.id]);
      assert.deepEqual(await names(`q=${encodeURIComponent('保温')}`), [thermos.id]);
      assert.equal((await names(`q=${encodeURIComponent('咖啡')}`)).length, 2);
      assert.deepEqual(await names(`q=${encodeURIComponent('咖啡')}&status=active`), [coffee.id]);
      assert.deepEqual(await names('q=%25'), [], 'a % is a character, not a wildcard');
    });

    it("ranks the rewards most redeemed in the dashboard's program-local window, without cancelled ones", async () => {
      const p = await rewardProgram(t, { time_zone: 'Asia/Shanghai' });
      t.clock.set('2026-02-27T12:00:00.000Z');
      const m1 = await fundedMember(t, p, 10_000);
      const m2 = await fundedMember(t, p, 10_000);
      const a = await activeReward(t, p, { name: rewardName('咖啡券', 'Coffee coupon'), type: 'service' });
      const b = await activeReward(t, p, { name: rewardName('保温杯', 'Thermos') });
      const c = await activeReward(t, p, { name: rewardName('早', 'Early') });
      const d = await activeReward(t, p, { name: rewardName('晚', 'Late') });
      // 28 Feb 00:00 in Shanghai is 27 Feb 16:00 UTC: the first instant of a 3-day window ending 2 March
      t.clock.set('2026-02-27T15:59:59.000Z');
      ok(await redeem(t, m1, { reward_id: c.id }), 201);
      t.clock.set('2026-02-27T16:00:00.000Z');
      ok(await redeem(t, m1, { reward_id: d.id }), 201);
      t.clock.set('2026-03-01T02:00:00.000Z');
      ok(await redeem(t, m1, { reward_id: a.id }), 201);
      const cancelled = ok(await redeem(t, m2, { reward_id: b.id, quantity: 3 }), 201);
      ok(await t.call('POST', `/v1/redemptions/${cancelled.id}/cancel`, { body: {}, idem: true }));
      t.clock.set(START);
      ok(await redeem(t, m2, { reward_id: a.id }), 201);
      ok(await redeem(t, m1, { reward_id: b.id, quantity: 2 }), 201);

      const top = ok(await t.call('GET', `/v1/programs/${p}/dashboard/top-rewards?days=3`));
      assert.deepEqual(top.window, { days: 3, from: '2026-02-28', to: '2026-03-02' });
      assert.deepEqual(
        top.data.map((r: Json) => [r.reward_id, r.redemptions, r.quantity, r.points, r.members]),
        [
          [a.id, 2, 2, 200, 2],
          [b.id, 1, 2, 200, 1], // the cancelled 3 do not count; more points than d
          [d.id, 1, 1, 100, 1],
        ],
      );
      assert.deepEqual(top.data[0].name, rewardName('咖啡券', 'Coffee coupon'));
      assert.equal(top.data[0].reward_type, 'service');
      const wider = ok(await t.call('GET', `/v1/programs/${p}/dashboard/top-rewards?days=4&limit=10`));
      assert.deepEqual(
        wider.data.map((r: Json) => r.reward_id),
        [a.id, b.id, ...[c.id, d.id].sort()], // equal counts and points: by reward id
      );
      assertProblem(await t.call('GET', `/v1/programs/${p}/dashboard/top-rewards?limit=0`), 400, 'VALIDATION_FAILED');
      const other = await rewardProgram(t);
      assert.deepEqual(ok(await t.call('GET', `/v1/programs/${other}/dashboard/top-rewards`)).data, []);
    });
  });

  describe('scope', () => {
    it("a key limited to another program finds none of this program's rewards or redemptions", async () => {
      const p = await rewardProgram(t);
      const q = await rewardProgram(t);
      const m = await fundedMember(t, p, 1000);
      const r = await activeReward(t, p);
      const d = ok(await redeem(t, m, { reward_id: r.id }), 201);
      const key = ok(
        await t.call('POST', '/v1/api-keys', { body: { name: 'q only', scopes: ['admin', 'integration', 'read'], program_ids: [q] } }),
        201,
      ).secret;
      assertProblem(await t.call('GET', `/v1/rewards/${r.id}`, { key }), 404, 'REWARD_NOT_FOUND');
      assertProblem(await t.call('PATCH', `/v1/rewards/${r.id}`, { key, body: { category: 'x' } }), 404, 'REWARD_NOT_FOUND');
      assertProblem(await t.call('GET', `/v1/programs/${p}/rewards`, { key }), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await t.call('GET', `/v1/redemptions/${d.id}`, { key }), 404, 'REDEMPTION_NOT_FOUND');
      await refusedChangesNothing(m, r.id, async () => {
        assertProblem(await t.call('POST', `/v1/members/${m}/redemptions`, { key, body: { reward_id: r.id } }), 404, 'MEMBER_NOT_FOUND');
        assertProblem(await t.call('POST', `/v1/redemptions/${d.id}/cancel`, { key, body: {} }), 404, 'REDEMPTION_NOT_FOUND');
      });
      assert.equal(ok(await t.call('GET', `/v1/redemptions/${d.id}`)).status, 'confirmed');
    });
  });
});
