/**
 * Lotteries (docs/rewards.md, "Lottery"), through the HTTP API on PGlite and PostgreSQL: the prize
 * table, seeds published as hashes and revealed on rotation, draws paid as redemptions and
 * reproducible from the revealed seed by the engine and the public verification, the client seed
 * and nonce, replays of one key, out-of-stock prizes left out of the weights, and every refusal
 * changing nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, beforeEach, describe, it } from 'node:test';
import { drawOutcome } from '../src/modules/lottery/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { activeReward, fundedMember, type Json, ok, rewardName, rewardProgram } from './helpers/rewards.ts';
import { assertProblem, memberState } from './http/support.ts';

const START = '2026-03-02T02:00:00.000Z';

forEachDatabase('lottery', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), START);
  });
  beforeEach(() => t.clock.set(START));
  const count = async (sql: string, params: unknown[] = []) => (await getDb().db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0]!.n;
  const tokenOf = async (programId: string, memberId: string) =>
    ok(await t.call('POST', `/v1/programs/${programId}/member-tokens`, { key: t.keys.integration, body: { member_id: memberId } }), 201).token as string;
  const draw = (token: string, body: Json, idem: string | true = true) => t.call('POST', '/v1/me/lottery-draws', { key: token, body, idem });
  const rotate = async (rewardId: string) => ok(await t.call('POST', `/v1/rewards/${rewardId}/lottery-seeds`, { body: {}, idem: true }), 201);
  const addPrize = async (rewardId: string, body: Json) =>
    ok(
      await t.call('POST', `/v1/rewards/${rewardId}/lottery-prizes`, {
        body: { name: rewardName(`奖品${body.code}`, `Prize ${body.code}`), ...body },
        idem: true,
      }),
      201,
    );

  /** A program, a member with `points`, and an active lottery at 100 points a draw with three prizes. */
  async function world(points = 1000, prizes = true) {
    const p = await rewardProgram(t);
    const memberId = await fundedMember(t, p, points);
    const token = await tokenOf(p, memberId);
    const lottery = await activeReward(t, p, { type: 'lottery', name: rewardName('幸运抽奖', 'Lucky draw'), points_cost: 100 });
    if (prizes) {
      await addPrize(lottery.id, { code: 'p50', weight: 30, points: 50 });
      await addPrize(lottery.id, { code: 'mug', weight: 20, stock: 5 });
      await addPrize(lottery.id, { code: 'thanks', weight: 50 });
    }
    return { p, memberId, token, lottery };
  }
  async function refusedChangesNothing(memberId: string, fn: () => Promise<void>) {
    const snapshot = async () => ({
      member: await memberState(t, memberId),
      redemptions: await count('redemption WHERE member_id = $1', [memberId]),
      draws: await count('lottery_draw WHERE member_id = $1', [memberId]),
      prizes: await getDb().db.query('SELECT id, stock_left::text FROM lottery_prize ORDER BY id'),
      clientSeed: await count('lottery_client_seed WHERE member_id = $1', [memberId]),
    });
    const before = await snapshot();
    await fn();
    assert.deepEqual(await snapshot(), before);
  }

  describe('prize table', () => {
    it('adds, lists, updates and archives prizes of a lottery; other rewards are refused', async () => {
      const { p, lottery } = await world(0, false);
      const a = await addPrize(lottery.id, { code: 'a', weight: 3, stock: 2, points: 10 });
      assert.deepEqual([a.object, a.weight, a.stock, a.stock_left, a.points], ['lottery_prize', 3, 2, 2, 10]);
      assertProblem(
        await t.call('POST', `/v1/rewards/${lottery.id}/lottery-prizes`, { body: { code: 'a', name: rewardName('甲', 'A'), weight: 1 } }),
        409,
        'LOTTERY_PRIZE_CODE_TAKEN',
      );
      assertProblem(
        await t.call('POST', `/v1/rewards/${lottery.id}/lottery-prizes`, { body: { code: 'b', name: rewardName('乙', 'B'), weight: 0 } }),
        400,
        'VALIDATION_FAILED',
      );
      const b = await addPrize(lottery.id, { code: 'b', weight: 7 });
      const up = ok(await t.call('PATCH', `/v1/rewards/${lottery.id}/lottery-prizes/${a.id}`, { body: { weight: 4, stock: 5 } }));
      assert.deepEqual([up.weight, up.stock, up.stock_left], [4, 5, 5]);
      ok(await t.call('DELETE', `/v1/rewards/${lottery.id}/lottery-prizes/${b.id}`, { body: {} }));
      assertProblem(await t.call('DELETE', `/v1/rewards/${lottery.id}/lottery-prizes/${b.id}`, { body: {} }), 404, 'LOTTERY_PRIZE_NOT_FOUND');
      const list = ok(await t.call('GET', `/v1/rewards/${lottery.id}/lottery-prizes`, { key: t.keys.read }));
      assert.deepEqual(
        list.data.map((z: Json) => z.code),
        ['a'],
      );
      assert.equal(ok(await t.call('GET', `/v1/rewards/${lottery.id}/lottery-prizes?archived=true`)).data.length, 2);
      // at most 100 prizes in the table (archived ones do not count)
      for (let i = 0; i < 99; i++) await addPrize(lottery.id, { code: `n${i}`, weight: 1_000_000 });
      assertProblem(
        await t.call('POST', `/v1/rewards/${lottery.id}/lottery-prizes`, { body: { code: 'n100', name: rewardName('甲', 'A'), weight: 1 } }),
        400,
        'VALIDATION_FAILED',
      );
      const mug = await activeReward(t, p);
      assertProblem(
        await t.call('POST', `/v1/rewards/${mug.id}/lottery-prizes`, { body: { code: 'x', name: rewardName('甲', 'A'), weight: 1 } }),
        422,
        'NOT_A_LOTTERY',
      );
      assertProblem(await t.call('POST', `/v1/rewards/${mug.id}/lottery-seeds`, { body: {} }), 422, 'NOT_A_LOTTERY');
    });
  });

  describe('draws', () => {
    it('publishes the hash before the draws, reveals the seed on rotation, and every draw is reproducible from it', async () => {
      const { memberId, token, lottery } = await world();
      const first = await rotate(lottery.id);
      assert.equal(first.revealed, null);
      assert.equal(first.active.seed, null, 'an active seed is secret');
      const published = first.active.seed_hash;
      assert.match(published, /^[0-9a-f]{64}$/);

      const draws: Json[] = [];
      for (let i = 0; i < 5; i++) {
        t.clock.advance(1000);
        const d = ok(await draw(token, { reward_id: lottery.id, expected_points: 100 }), 201);
        draws.push(d);
      }
      assert.deepEqual(
        draws.map((d) => d.nonce),
        [0, 1, 2, 3, 4],
      );
      assert.ok(draws.every((d) => d.seed_id === first.active.id && d.seed_hash === published && d.points_cost === 100));
      assert.deepEqual(
        draws[0].weights.map((w: Json) => [w.code, w.weight]),
        [
          ['p50', 30],
          ['mug', 20],
          ['thanks', 50],
        ],
      );
      const won50 = draws.filter((d) => d.prize.code === 'p50').length;
      const balance = ok(await t.call('GET', `/v1/members/${memberId}/balance`));
      assert.equal(balance.available, 1000 - 5 * 100 + won50 * 50);
      // each draw paid as a redemption of the lottery, delivered at once: it cannot be cancelled for its points
      const rdm = ok(await t.call('GET', `/v1/redemptions/${draws[0].redemption_id}`));
      assert.deepEqual([rdm.reward_type, rdm.status, rdm.points], ['lottery', 'delivered', 100]);
      assertProblem(await t.call('POST', `/v1/redemptions/${rdm.id}/cancel`, { body: {} }), 409, 'REDEMPTION_STATUS_CONFLICT');

      // before the reveal: the public verification cannot recompute yet
      const early = ok(await t.call('GET', draws[0].verify_path, { key: null }));
      assert.deepEqual([early.seed, early.matches, early.recomputed], [null, null, null]);

      const second = await rotate(lottery.id);
      assert.equal(second.revealed.id, first.active.id);
      const seed = second.revealed.seed as string;
      assert.equal(createHash('sha256').update(seed).digest('hex'), published, 'the hash published before the draws is SHA-256 of the revealed seed');
      assert.notEqual(second.active.seed_hash, published);
      for (const d of draws) {
        const out = drawOutcome(
          seed,
          d.client_seed,
          d.nonce,
          d.weights.map((w: Json) => w.weight),
        );
        assert.equal(d.weights[out.index].code, d.prize.code);
        assert.equal(out.hmac, d.hmac);
        const v = ok(await t.call('GET', `/v1/lottery-draws/${d.id}/verification`, { key: null }));
        assert.deepEqual([v.seed, v.hash_matches, v.matches, v.recomputed.prize_code], [seed, true, true, d.prize.code]);
        assert.equal(v.message.en.startsWith('Verified'), true);
      }
      // a new seed: the nonce starts again
      const next = ok(await draw(token, { reward_id: lottery.id }), 201);
      assert.deepEqual([next.seed_id, next.nonce], [second.active.id, 0]);
      const seeds = ok(await t.call('GET', `/v1/rewards/${lottery.id}/lottery-seeds`, { key: t.keys.read }));
      assert.deepEqual(
        seeds.data.map((s: Json) => [s.status, s.draws]),
        [
          ['active', 1],
          ['revealed', 5],
        ],
      );
      const listed = ok(await t.call('GET', `/v1/rewards/${lottery.id}/lottery-draws?limit=4`, { key: t.keys.read }));
      assert.equal(listed.data.length, 4);
      assert.equal(listed.has_more, true);
      // the lottery's list says who drew; the member's own does not repeat it
      const drawer = ok(await t.call('GET', `/v1/members/${memberId}`));
      assert.deepEqual(listed.data[0].member, { name: drawer.name, external_id: drawer.external_id });
      assert.equal(ok(await t.call('GET', '/v1/me/lottery-draws', { key: token })).data[0].member, undefined);
      const rest = ok(await t.call('GET', `/v1/rewards/${lottery.id}/lottery-draws?cursor=${listed.next_cursor}`, { key: t.keys.read }));
      assert.equal(rest.data.length, 2);
      assert.equal(ok(await t.call('GET', '/v1/me/lottery-draws', { key: token })).data.length, 6);
      assertProblem(await t.call('GET', '/v1/lottery-draws/ldr_nope/verification', { key: null }), 404, 'LOTTERY_DRAW_NOT_FOUND');
      const audit = ok(await t.call('GET', `/v1/audit?program_id=${lottery.program_id}`));
      assert.equal(audit.ok, true, JSON.stringify(audit.violations));
    });

    it("lists lotteries in the member's catalogue only when asked for by type, with the member's state", async () => {
      const { p, token, lottery } = await world(50);
      const other = await activeReward(t, p, { points_cost: 10 });
      const all = ok(await t.call('GET', '/v1/me/rewards', { key: token }));
      assert.deepEqual(
        all.data.map((i: Json) => i.reward.id),
        [other.id],
      );
      const lotteries = ok(await t.call('GET', '/v1/me/rewards?type=lottery', { key: token }));
      assert.deepEqual(
        lotteries.data.map((i: Json) => [i.reward.id, i.state, i.needs_points]),
        [[lottery.id, 'needs_points', 50]],
      );
      assert.deepEqual(
        ok(await t.call('GET', '/v1/me/rewards/within-reach', { key: token })).data.map((i: Json) => i.reward.id),
        [other.id],
      );
    });

    it('uses the client seed the member sets; the nonce goes on counting under the server seed', async () => {
      const { token, lottery } = await world();
      await rotate(lottery.id);
      const none = ok(await t.call('GET', '/v1/me/lottery-client-seed', { key: token }));
      assert.equal(none.updated_at, null);
      const a = ok(await draw(token, { reward_id: lottery.id }), 201);
      assert.match(a.client_seed, /^[0-9a-f]{16}$/, 'a random client seed by default');
      assert.equal(ok(await t.call('GET', '/v1/me/lottery-client-seed', { key: token })).client_seed, a.client_seed);
      const set = ok(await t.call('PUT', '/v1/me/lottery-client-seed', { key: token, body: { client_seed: 'my-lucky-7' }, idem: true }));
      assert.equal(set.client_seed, 'my-lucky-7');
      assertProblem(await t.call('PUT', '/v1/me/lottery-client-seed', { key: token, body: { client_seed: 'has space' } }), 400, 'VALIDATION_FAILED');
      const b = ok(await draw(token, { reward_id: lottery.id }), 201);
      assert.deepEqual([b.client_seed, b.nonce], ['my-lucky-7', 1]);
    });

    it('replays one key: one draw, one payment', async () => {
      const { memberId, token, lottery } = await world();
      await rotate(lottery.id);
      const first = await draw(token, { reward_id: lottery.id }, 'tap-1');
      const d = ok(first, 201);
      const again = await draw(token, { reward_id: lottery.id }, 'tap-1');
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.json().id, d.id);
      assert.equal(await count('lottery_draw WHERE member_id = $1', [memberId]), 1);
      assertProblem(await draw(token, { reward_id: lottery.id, expected_points: 100 }, 'tap-1'), 409, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('leaves prizes out of stock out of the weights, and gives out a limited prize at most its stock', async () => {
      const { token, lottery } = await world(100_000, false);
      await addPrize(lottery.id, { code: 'gone', weight: 1000, stock: 0 });
      const one = await addPrize(lottery.id, { code: 'one', weight: 1_000_000, stock: 1 });
      await addPrize(lottery.id, { code: 'rest', weight: 1 });
      await rotate(lottery.id);
      const d1 = ok(await draw(token, { reward_id: lottery.id }), 201);
      assert.deepEqual(
        d1.weights.map((w: Json) => w.code),
        ['one', 'rest'],
      );
      const won = d1.prize.code === 'one';
      const d2 = ok(await draw(token, { reward_id: lottery.id }), 201);
      if (won) {
        assert.deepEqual(
          d2.weights.map((w: Json) => w.code),
          ['rest'],
        );
        assert.equal(d2.prize.code, 'rest');
      }
      const after = ok(await t.call('GET', `/v1/rewards/${lottery.id}/lottery-prizes`)).data.find((z: Json) => z.id === one.id);
      assert.equal(after.stock_left, [d1, d2].some((d) => d.prize.code === 'one') ? 0 : 1);
      if (after.stock_left === 0)
        assertProblem(await t.call('PATCH', `/v1/rewards/${lottery.id}/lottery-prizes/${one.id}`, { body: { stock: 0 } }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('prizes that issue a reward', () => {
    it('a coupon prize: the winner gets its code at no points; the empty pool leaves the prize out; goods ship and cancel with their stock', async () => {
      const { p, memberId, token, lottery } = await world(100_000, false);
      // a coupon kept as a draft (for prizes only), two codes
      const coupon = ok(
        await t.call('POST', `/v1/programs/${p}/rewards`, {
          body: { type: 'coupon', name: rewardName('5元券', '¥5 coupon'), points_cost: 500, limit: { per_member: 1, period: 'ever' } },
        }),
        201,
      );
      ok(await t.call('POST', `/v1/rewards/${coupon.id}/codes/generate`, { body: { count: 2 }, idem: true }), 201);
      const mug = await activeReward(t, p, { name: rewardName('马克杯', 'Mug'), points_cost: 5000, stock: 1 });
      // validation: of this program, a type a prize can issue
      const other = await activeReward(t, await rewardProgram(t));
      for (const [id, reason] of [
        [other.id, /not a reward of this program/],
        [lottery.id, /lottery reward/],
        ['rwd_nope', /not a reward of this program/],
      ] as const) {
        const res = await t.call('POST', `/v1/rewards/${lottery.id}/lottery-prizes`, {
          body: { code: 'bad', name: rewardName('坏', 'Bad'), weight: 1, prize_reward_id: id },
        });
        assert.match(assertProblem(res, 400, 'VALIDATION_FAILED', { path: '/prize_reward_id' }).detail, reason);
      }
      const couponPrize = await addPrize(lottery.id, { code: 'coupon', weight: 1_000_000, prize_reward_id: coupon.id });
      assert.equal(couponPrize.prize_reward_id, coupon.id);
      await addPrize(lottery.id, { code: 'thanks', weight: 1 });
      await rotate(lottery.id);
      const won: Json[] = [];
      for (let i = 0; i < 6 && won.length < 2; i++) {
        const d = ok(await draw(token, { reward_id: lottery.id }), 201);
        if (d.prize.code === 'coupon') won.push(d);
      }
      assert.equal(won.length, 2, 'a weight of 1,000,000 to 1 wins twice in six draws');
      for (const d of won) {
        assert.equal(d.prize.reward_id, coupon.id);
        const r = ok(await t.call('GET', `/v1/redemptions/${d.prize_redemption_id}`));
        assert.deepEqual([r.reward_id, r.points, r.status, r.codes.length, r.prize_of_draw_id, r.hold_id], [coupon.id, 0, 'confirmed', 1, d.id, null]);
      }
      assert.equal(ok(await t.call('GET', `/v1/rewards/${coupon.id}`)).codes_left, 0);
      // the pool is empty: the coupon prize is left out of the weights
      const after = ok(await draw(token, { reward_id: lottery.id }), 201);
      assert.deepEqual(
        after.weights.map((w: Json) => w.code),
        ['thanks'],
      );
      assert.equal(after.prize_redemption_id, null);
      // what the member sees of the prize table: the coupon out of stock now, the odds of what is left
      const prizes = ok(await t.call('GET', `/v1/me/lottery-prizes?reward_id=${lottery.id}`, { key: token }));
      assert.deepEqual(
        prizes.data.map((l: Json) => [l.reward_id, l.total_weight, l.prizes.map((z: Json) => [z.code, z.in_stock, z.chance, z.issues?.type ?? null])]),
        [
          [
            lottery.id,
            1,
            [
              ['coupon', false, 0, 'coupon'],
              ['thanks', true, 1, null],
            ],
          ],
        ],
      );
      // the per-member limit of the coupon (1, ever) does not count the two prizes
      ok(await t.call('PATCH', `/v1/rewards/${coupon.id}`, { body: { status: 'active' } }));
      ok(await t.call('POST', `/v1/rewards/${coupon.id}/codes/generate`, { body: { count: 1 }, idem: true }), 201);
      const bought = ok(await t.call('POST', '/v1/me/redemptions', { key: token, body: { reward_id: coupon.id }, idem: true }), 201);
      assert.deepEqual([bought.points, bought.codes.length], [500, 1]);
      // the dashboard's top rewards count the coupon once: the one bought, not the two won
      const top = ok(await t.call('GET', `/v1/programs/${p}/dashboard/top-rewards?days=1&limit=10`)).data;
      assert.equal(top.find((r: Json) => r.reward_id === coupon.id)?.redemptions, 1, JSON.stringify(top));
      // the member's history names what the points went to and came from
      const history = ok(await t.call('GET', '/v1/me/entries?limit=100', { key: token })).data as Json[];
      const about = (hold: string) => history.find((e) => e.hold_id === hold && e.kind === 'capture')?.about;
      assert.deepEqual(about(bought.hold_id), {
        type: 'redemption',
        reward_name: coupon.name,
        reward_type: 'coupon',
        prize_name: null,
        order_reference: null,
      });
      const paid = ok(await t.call('GET', `/v1/redemptions/${won[0].redemption_id}`));
      assert.deepEqual([about(paid.hold_id).type, about(paid.hold_id).reward_name], ['lottery_draw', lottery.name]);

      // goods: shipped to the address given with the draw; a cancel gives the stock back, no points
      const goods = ok(await t.call('PATCH', `/v1/rewards/${lottery.id}/lottery-prizes/${couponPrize.id}`, { body: { prize_reward_id: mug.id } }));
      assert.equal(goods.prize_reward_id, mug.id);
      const goodsPrize = ok(await t.call('GET', '/v1/me/lottery-prizes', { key: token })).data.find((l: Json) => l.reward_id === lottery.id).prizes[0];
      assert.deepEqual([goodsPrize.in_stock, goodsPrize.issues.needs_shipping, goodsPrize.chance], [true, true, 1_000_000 / 1_000_001]);
      const shipping = { name: '张三', phone: '13800000000', address: '上海市静安区南京西路1号' };
      let mugDraw: Json;
      do mugDraw = ok(await draw(token, { reward_id: lottery.id, shipping }), 201);
      while (mugDraw.prize.code !== 'coupon');
      const order = ok(await t.call('GET', `/v1/redemptions/${mugDraw.prize_redemption_id}`));
      assert.deepEqual([order.reward_id, order.shipping.address, order.status], [mug.id, shipping.address, 'confirmed']);
      assert.equal(ok(await t.call('GET', `/v1/rewards/${mug.id}`)).stock_left, 0);
      const balance = ok(await t.call('GET', `/v1/members/${memberId}/balance`)).available;
      const cancelled = ok(await t.call('POST', `/v1/redemptions/${order.id}/cancel`, { body: { reason: 'out of mugs' } }));
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(ok(await t.call('GET', `/v1/rewards/${mug.id}`)).stock_left, 1);
      assert.equal(ok(await t.call('GET', `/v1/members/${memberId}/balance`)).available, balance);
      const a = ok(await t.call('GET', `/v1/audit?program_id=${p}`));
      assert.equal(a.ok, true, JSON.stringify(a.violations));
    });
  });

  describe('refusals change nothing', () => {
    it('no active seed, an inactive lottery, too few points, not a lottery, no prize in stock, another program', async () => {
      const { p, memberId, token, lottery } = await world(150);
      await refusedChangesNothing(memberId, async () => {
        assertProblem(await draw(token, { reward_id: lottery.id }), 409, 'LOTTERY_NO_ACTIVE_SEED');
      });
      await rotate(lottery.id);
      ok(await draw(token, { reward_id: lottery.id }), 201);
      const poor = ok(await t.call('GET', `/v1/members/${memberId}/balance`)).available;
      if (poor < 100) {
        await refusedChangesNothing(memberId, async () => {
          assertProblem(await draw(token, { reward_id: lottery.id }), 422, 'INSUFFICIENT_POINTS');
        });
      }
      ok(await t.call('POST', `/v1/members/${memberId}/credits`, { body: { points: 1000 }, idem: true }), 201);
      await refusedChangesNothing(memberId, async () => {
        assertProblem(await draw(token, { reward_id: lottery.id, expected_points: 99 }), 409, 'PRICE_CHANGED');
      });
      const draft = await activeReward(t, p, { type: 'lottery', status: 'draft' });
      await addPrize(draft.id, { code: 'x', weight: 1 });
      await rotate(draft.id);
      await refusedChangesNothing(memberId, async () => {
        assertProblem(await draw(token, { reward_id: draft.id }), 422, 'NOT_AVAILABLE_NOW');
      });
      const mug = await activeReward(t, p);
      await refusedChangesNothing(memberId, async () => {
        assertProblem(await draw(token, { reward_id: mug.id }), 422, 'NOT_A_LOTTERY');
      });
      const empty = await activeReward(t, p, { type: 'lottery' });
      await addPrize(empty.id, { code: 'gone', weight: 1, stock: 0 });
      await rotate(empty.id);
      await refusedChangesNothing(memberId, async () => {
        assertProblem(await draw(token, { reward_id: empty.id }), 422, 'LOTTERY_NO_PRIZES');
      });
      const other = await world(1000);
      await rotate(other.lottery.id);
      await refusedChangesNothing(memberId, async () => {
        assertProblem(await draw(token, { reward_id: other.lottery.id }), 404, 'REWARD_NOT_FOUND');
      });
      // a lottery is drawn, not redeemed
      assertProblem(
        await t.call('POST', `/v1/members/${memberId}/redemptions`, { key: t.keys.integration, body: { reward_id: lottery.id }, idem: true }),
        422,
        'REWARD_TYPE_UNSUPPORTED',
      );
    });

    it('insufficient points on a first draw change nothing, not even the client seed', async () => {
      const { memberId, token, lottery } = await world(99);
      await rotate(lottery.id);
      await refusedChangesNothing(memberId, async () => {
        assertProblem(await draw(token, { reward_id: lottery.id }), 422, 'INSUFFICIENT_POINTS');
      });
    });
  });
});
