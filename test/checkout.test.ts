/**
 * Checkout deduction (结算直接抵扣, docs/rewards.md "Checkout deduction") through the HTTP API on
 * PGlite and PostgreSQL: the policy (defaults, replace, validation), quotes for the merchant and
 * the member, every refusal of a hold with its code and nothing changed, a partial capture, void,
 * the hold timeout (the deduction expires, the order may be held again), refund after payment
 * (the points back with their original expiry), replays, program isolation; and on PostgreSQL,
 * capture, void and refund racing on one deduction: exactly one resolution each, audit clean.
 */
import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { fundedMember, type Json, ok, rewardProgram } from './helpers/rewards.ts';
import { assertProblem, memberState } from './http/support.ts';

const START = '2026-03-02T02:00:00.000Z';
const DAY = 86_400_000;
const POLICY = { enabled: true, max_share_bps: 5000, min_order_amount: 1000, min_points: 100, combinable_with_discounts: true };

forEachDatabase('checkout deduction', (getDb, kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), START);
  });
  beforeEach(() => t.clock.set(START));
  const later = (ms: number) => t.clock.set(new Date(t.clock.now().getTime() + ms).toISOString());
  const audit = async (programId: string) => {
    const a = ok(await t.call('GET', `/v1/audit?program_id=${programId}`));
    assert.equal(a.ok, true, JSON.stringify(a.violations));
  };
  const available = async (memberId: string) => ok(await t.call('GET', `/v1/members/${memberId}/balance`)).available as number;
  /** A program with the policy (and a rate: 100 points a yuan unless said), and a member with points. */
  async function setup(points = 20_000, policy: Json = {}, program: Json = {}) {
    const p = await rewardProgram(t, program);
    ok(await t.call('PUT', `/v1/programs/${p}/checkout-policy`, { body: { ...POLICY, ...policy } }));
    return { p, m: await fundedMember(t, p, points) };
  }
  const hold = (memberId: string, body: Json, idem: string | true = true, key?: string) =>
    t.call('POST', `/v1/members/${memberId}/checkout-deductions`, { key: key ?? t.keys.integration, body, idem });
  const order = () => unique('order');

  describe('policy', () => {
    it('a program without one answers the defaults, off; PUT replaces it; the rate is the program’s', async () => {
      const p = await rewardProgram(t, { redemption_rate: 150 });
      const d = ok(await t.call('GET', `/v1/programs/${p}/checkout-policy`, { key: t.keys.read }));
      assert.deepEqual(
        { enabled: d.enabled, rate: d.points_per_yuan, share: d.max_share_bps, at: d.updated_at, cap: d.max_points_per_order },
        { enabled: false, rate: 150, share: 5000, at: null, cap: null },
      );
      const put = ok(await t.call('PUT', `/v1/programs/${p}/checkout-policy`, { body: { ...POLICY, max_points_per_order: 3000, hold_timeout_seconds: 600 } }));
      assert.equal(put.enabled, true);
      assert.equal(put.max_points_per_order, 3000);
      assert.equal(put.hold_timeout_seconds, 600);
      assert.equal(put.updated_at, START);
      assert.match(put.updated_by, /^api_key:/);
      // a replacement: what is not sent goes back to its default
      const again = ok(await t.call('PUT', `/v1/programs/${p}/checkout-policy`, { body: POLICY }));
      assert.equal(again.max_points_per_order, null);
      assert.equal(again.hold_timeout_seconds, null);
      assert.deepEqual(ok(await t.call('GET', `/v1/programs/${p}/checkout-policy`)), again);
    });

    it('validation names the field; the integration key cannot change it; another program is 404', async () => {
      const p = await rewardProgram(t);
      assertProblem(await t.call('PUT', `/v1/programs/${p}/checkout-policy`, { body: { ...POLICY, max_share_bps: 10_001 } }), 400, 'VALIDATION_FAILED', {
        path: '/max_share_bps',
      });
      assertProblem(await t.call('PUT', `/v1/programs/${p}/checkout-policy`, { body: { ...POLICY, min_order_amount: -1 } }), 400, 'VALIDATION_FAILED', {
        path: '/min_order_amount',
      });
      assertProblem(await t.call('PUT', `/v1/programs/${p}/checkout-policy`, { body: { enabled: true } }), 400, 'VALIDATION_FAILED');
      assertProblem(await t.call('PUT', `/v1/programs/${p}/checkout-policy`, { key: t.keys.integration, body: POLICY }), 403, 'FORBIDDEN');
      assertProblem(await t.call('GET', '/v1/programs/prg_nope/checkout-policy'), 404, 'PROGRAM_NOT_FOUND');
      assert.equal(ok(await t.call('GET', `/v1/programs/${p}/checkout-policy`)).enabled, false);
    });
  });

  describe('quote', () => {
    it('off: nothing usable, not_enabled; on: the caps and the balance, for the merchant and the member', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 20_000);
      const off = ok(await t.call('GET', `/v1/members/${m}/checkout-quote?amount=10000`, { key: t.keys.read }));
      assert.deepEqual([off.enabled, off.max_points, off.cash_value, off.remaining, off.limited_by], [false, 0, 0, 10_000, ['not_enabled']]);
      ok(await t.call('PUT', `/v1/programs/${p}/checkout-policy`, { body: POLICY }));
      const q = ok(await t.call('GET', `/v1/members/${m}/checkout-quote?amount=10000`, { key: t.keys.read }));
      assert.deepEqual(
        { max: q.max_points, cash: q.cash_value, remaining: q.remaining, available: q.available, by: q.limited_by },
        { max: 5000, cash: 5000, remaining: 5000, available: 20_000, by: ['share_cap'] },
      );
      const token = ok(await t.call('POST', `/v1/programs/${p}/member-tokens`, { key: t.keys.integration, body: { member_id: m } }), 201).token;
      const mine = ok(await t.call('GET', '/v1/me/checkout-quote?amount=999', { key: token }));
      assert.deepEqual([mine.max_points, mine.limited_by], [0, ['below_min_order']]);
      assertProblem(await t.call('GET', `/v1/members/${m}/checkout-quote?amount=1.5`, { key: t.keys.read }), 400, 'VALIDATION_FAILED', {
        path: '/amount',
        location: 'querystring',
      });
    });
  });

  describe('hold, capture, void', () => {
    it('holds the points for the order, captures part of them on payment: the rest comes back', async () => {
      const { p, m } = await setup();
      const ref = order();
      const d = ok(await hold(m, { order_reference: ref, amount: 10_000, points: 5000, metadata: { till: 7 } }), 201);
      assert.deepEqual(
        { status: d.status, points: d.points, value: d.value, ref: d.order_reference, available: d.balance.available, held: d.balance.held },
        { status: 'held', points: 5000, value: 5000, ref, available: 15_000, held: 5000 },
      );
      assert.equal(d.expires_at, new Date(Date.parse(START) + 900_000).toISOString(), "the program's hold timeout");
      const c = ok(await t.call('POST', `/v1/checkout-deductions/${d.id}/capture`, { key: t.keys.integration, body: { points: 3000 } }));
      assert.deepEqual(
        { status: c.status, captured: c.captured_points, value: c.captured_value, available: c.balance.available, held: c.balance.held },
        { status: 'captured', captured: 3000, value: 3000, available: 17_000, held: 0 },
      );
      assertProblem(await t.call('POST', `/v1/checkout-deductions/${d.id}/void`, { key: t.keys.integration }), 409, 'HOLD_ALREADY_RESOLVED');
      assertProblem(await t.call('POST', `/v1/checkout-deductions/${d.id}/capture`, { key: t.keys.integration }), 409, 'HOLD_ALREADY_RESOLVED');
      // found by the order's reference
      const list = ok(await t.call('GET', `/v1/programs/${p}/checkout-deductions?order_reference=${ref}`, { key: t.keys.read }));
      assert.deepEqual(
        list.data.map((x: Json) => [x.id, x.status]),
        [[d.id, 'captured']],
      );
      assert.equal(ok(await t.call('GET', `/v1/checkout-deductions/${d.id}`, { key: t.keys.read })).captured_points, 3000);
      // the member's history says what the points paid for: the order, not an internal reason
      const token = ok(await t.call('POST', `/v1/programs/${p}/member-tokens`, { key: t.keys.integration, body: { member_id: m } }), 201).token;
      const mine = (ok(await t.call('GET', '/v1/me/entries?limit=10', { key: token })).data as Json[]).filter((e) => e.hold_id === d.hold_id);
      assert.deepEqual(mine.map((e) => e.kind).sort(), ['capture', 'hold', 'release']);
      for (const e of mine) assert.deepEqual([e.about?.type, e.about?.order_reference], ['checkout', ref]);
      await audit(p);
    });

    it('void gives every point back; the order can then be held again', async () => {
      const { p, m } = await setup(8000);
      const ref = order();
      const d = ok(await hold(m, { order_reference: ref, amount: 10_000, points: 4000 }), 201);
      const v = ok(await t.call('POST', `/v1/checkout-deductions/${d.id}/void`, { key: t.keys.integration }));
      assert.deepEqual([v.status, v.captured_points, v.balance.available], ['voided', 0, 8000]);
      assert.equal(ok(await hold(m, { order_reference: ref, amount: 10_000, points: 4000 }), 201).status, 'held');
      await audit(p);
    });

    it('a rate that does not divide 100: points in whole steps, each step worth whole fen', async () => {
      const { m } = await setup(20_000, {}, { redemption_rate: 150 });
      const q = ok(await t.call('GET', `/v1/members/${m}/checkout-quote?amount=10000`, { key: t.keys.read }));
      assert.deepEqual([q.max_points, q.cash_value, q.points_step, q.value_step], [7500, 5000, 3, 2]);
      assertProblem(await hold(m, { order_reference: order(), amount: 10_000, points: 301 }), 400, 'VALIDATION_FAILED', { path: '/points' });
      const d = ok(await hold(m, { order_reference: order(), amount: 10_000, points: 300 }), 201);
      assert.equal(d.value, 200);
      assertProblem(
        await t.call('POST', `/v1/checkout-deductions/${d.id}/capture`, { key: t.keys.integration, body: { points: 100 } }),
        400,
        'VALIDATION_FAILED',
      );
      const c = ok(await t.call('POST', `/v1/checkout-deductions/${d.id}/capture`, { key: t.keys.integration, body: { points: 150 } }));
      assert.deepEqual([c.captured_points, c.captured_value], [150, 100]);
    });

    it('every refusal has its code and changes nothing', async () => {
      const { p, m } = await setup(20_000, { max_points_per_order: 3000 });
      const before = await memberState(t, m);
      const ref = order();
      assertProblem(await hold(m, { order_reference: ref, amount: 10_000, points: 5000 }), 422, 'POINTS_EXCEED_QUOTE', {
        extra: { max_points: 3000, limited_by: ['per_order_cap', 'share_cap'] },
      });
      assertProblem(await hold(m, { order_reference: ref, amount: 999, points: 100 }), 422, 'POINTS_EXCEED_QUOTE');
      assertProblem(await hold(m, { order_reference: ref, amount: 10_000, points: 99 }), 422, 'BELOW_MIN_POINTS');
      assertProblem(await hold(m, { order_reference: ref, amount: 10_000, points: 100 }, false as never), 400, 'IDEMPOTENCY_KEY_REQUIRED');
      assertProblem(await hold(m, { order_reference: ref, amount: 10_000, points: 0 }), 400, 'VALIDATION_FAILED', { path: '/points' });
      const poor = await fundedMember(t, p, 500);
      const poorBefore = await memberState(t, poor);
      assertProblem(await hold(poor, { order_reference: ref, amount: 10_000, points: 600 }), 422, 'INSUFFICIENT_POINTS', { extra: { available: 500 } });
      assert.deepEqual(await memberState(t, poor), poorBefore);
      ok(await t.call('POST', `/v1/members/${m}/freeze`, { body: { reason: 'fraud review' } }));
      assertProblem(await hold(m, { order_reference: ref, amount: 10_000, points: 1000 }), 422, 'MEMBER_FROZEN');
      ok(await t.call('POST', `/v1/members/${m}/unfreeze`, { body: { reason: 'cleared' } }));
      const after = await memberState(t, m);
      assert.deepEqual(after.balance, before.balance);
      assert.deepEqual(after.holds, before.holds);
      // one order, one live deduction
      const d = ok(await hold(m, { order_reference: ref, amount: 10_000, points: 1000 }), 201);
      assertProblem(await hold(poor, { order_reference: ref, amount: 10_000, points: 100 }), 409, 'CHECKOUT_ORDER_HAS_DEDUCTION', {
        extra: { deduction_id: d.id },
      });
      // off again: no new deduction, the held one can still be captured
      ok(await t.call('PUT', `/v1/programs/${p}/checkout-policy`, { body: { ...POLICY, enabled: false } }));
      assertProblem(await hold(m, { order_reference: order(), amount: 10_000, points: 1000 }), 422, 'CHECKOUT_NOT_ENABLED');
      assert.equal(ok(await t.call('POST', `/v1/checkout-deductions/${d.id}/capture`, { key: t.keys.integration })).status, 'captured');
      await audit(p);
    });

    it('a policy changed between the check and the hold: 409 CHECKOUT_POLICY_CHANGED, nothing held', async () => {
      const { m } = await setup();
      const [row] = await getDb()
        .db.query<{ r: Json }>('SELECT checkout_hold($1::text::jsonb) AS r', [
          JSON.stringify({
            now: START,
            member_id: m,
            order_reference: order(),
            amount: 10_000,
            other_discounts: 0,
            points: 100,
            points_step: 1,
            value_step: 1,
            policy_updated_at: '2026-01-01T00:00:00.000Z',
            actor: 'test',
          }),
        ])
        .catch((err: Error) => [{ r: { error: err.message } }]);
      assert.equal(row!.r.error, 'CHECKOUT_POLICY_CHANGED');
      assert.equal(await available(m), 20_000);
    });

    it('replays of one key give one deduction; another key for the same order is refused', async () => {
      const { m } = await setup();
      const ref = order();
      const key = unique('idem');
      const first = ok(await hold(m, { order_reference: ref, amount: 10_000, points: 2000 }, key), 201);
      const replay = await hold(m, { order_reference: ref, amount: 10_000, points: 2000 }, key);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.deepEqual(ok(replay, 201), first);
      assertProblem(await hold(m, { order_reference: ref, amount: 10_000, points: 2000 }), 409, 'CHECKOUT_ORDER_HAS_DEDUCTION');
      assertProblem(await hold(m, { order_reference: ref, amount: 10_000, points: 2500 }, key), 409, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal(await available(m), 18_000);
    });

    it('a key of another program sees no member and no deduction', async () => {
      const { p, m } = await setup();
      const d = ok(await hold(m, { order_reference: order(), amount: 10_000, points: 1000 }), 201);
      const other = await rewardProgram(t);
      const scoped = ok(
        await t.call('POST', '/v1/api-keys', { body: { name: unique('scoped'), scopes: ['integration', 'read'], program_ids: [other] } }),
        201,
      ).secret;
      assertProblem(await hold(m, { order_reference: order(), amount: 10_000, points: 1000 }, true, scoped), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('GET', `/v1/checkout-deductions/${d.id}`, { key: scoped }), 404, 'CHECKOUT_DEDUCTION_NOT_FOUND');
      assertProblem(await t.call('POST', `/v1/checkout-deductions/${d.id}/capture`, { key: scoped }), 404, 'CHECKOUT_DEDUCTION_NOT_FOUND');
      assertProblem(await t.call('GET', `/v1/programs/${p}/checkout-deductions`, { key: scoped }), 404, 'PROGRAM_NOT_FOUND');
      assert.equal(ok(await t.call('GET', `/v1/checkout-deductions/${d.id}`)).status, 'held');
    });
  });

  describe('timeout and refund', () => {
    it("the policy's timeout: expired at once, captured no more, the points back, the order free again", async () => {
      const { p, m } = await setup(10_000, { hold_timeout_seconds: 600 });
      const ref = order();
      const d = ok(await hold(m, { order_reference: ref, amount: 10_000, points: 3000 }), 201);
      assert.equal(d.expires_at, new Date(Date.parse(START) + 600_000).toISOString());
      const short = ok(await hold(m, { order_reference: order(), amount: 10_000, points: 1000, expires_in_seconds: 60 }), 201);
      assert.equal(short.expires_at, new Date(Date.parse(START) + 60_000).toISOString());
      later(600_000);
      assert.equal(ok(await t.call('GET', `/v1/checkout-deductions/${d.id}`)).status, 'expired', 'before any job ran');
      assertProblem(await t.call('POST', `/v1/checkout-deductions/${d.id}/capture`, { key: t.keys.integration }), 409, 'HOLD_EXPIRED');
      assert.equal(await available(m), 10_000);
      ok(await t.call('POST', '/v1/jobs/sweep', {}));
      assert.equal(ok(await t.call('GET', `/v1/checkout-deductions/${short.id}`)).status, 'expired');
      assert.equal(ok(await hold(m, { order_reference: ref, amount: 10_000, points: 3000 }), 201).status, 'held');
      await audit(p);
    });

    it('refund after payment: the captured points come back with their original expiry, once', async () => {
      const { p } = await setup(0, {}, { expiry_policy: { type: 'rolling', months: 1 } });
      const m = await fundedMember(t, p, 5000);
      const lots = ok(await t.call('GET', `/v1/members/${m}/lots`)).data;
      const d = ok(await hold(m, { order_reference: order(), amount: 10_000, points: 4000 }), 201);
      assertProblem(await t.call('POST', `/v1/checkout-deductions/${d.id}/refund`, { key: t.keys.integration }), 409, 'CHECKOUT_NOT_CAPTURED');
      ok(await t.call('POST', `/v1/checkout-deductions/${d.id}/capture`, { key: t.keys.integration, body: { points: 2500 } }));
      later(3 * DAY);
      const r = ok(await t.call('POST', `/v1/checkout-deductions/${d.id}/refund`, { key: t.keys.integration }));
      assert.deepEqual([r.status, r.captured_points, r.balance.available], ['refunded', 2500, 5000]);
      assert.match(r.refund_txn_id, /^txn_/);
      const after = ok(await t.call('GET', `/v1/members/${m}/lots`)).data;
      const restored = after.filter((l: Json) => !lots.some((o: Json) => o.id === l.id));
      assert.deepEqual(
        restored.map((l: Json) => [l.remaining, l.expires_at]),
        [[2500, lots[0].expires_at]],
      );
      assertProblem(await t.call('POST', `/v1/checkout-deductions/${d.id}/refund`, { key: t.keys.integration }), 409, 'CHECKOUT_ALREADY_REFUNDED');
      await audit(p);
    });
  });

  if (kind === 'postgres') {
    it('capture, void and refund racing on one deduction: one capture or one void, one refund, balances exact', async () => {
      const { p } = await setup(0);
      const members = await Promise.all(Array.from({ length: 10 }, () => fundedMember(t, p, 10_000)));
      const deductions = await Promise.all(members.map(async (m) => ok(await hold(m, { order_reference: order(), amount: 10_000, points: 5000 }), 201)));
      const results = await Promise.all(
        deductions.flatMap((d) =>
          [0, 1, 2, 3].map((i) => t.call('POST', `/v1/checkout-deductions/${d.id}/${i % 2 ? 'void' : 'capture'}`, { key: t.keys.integration })),
        ),
      );
      assert.equal(results.filter((r) => r.statusCode === 200).length, 10, 'one resolution per deduction');
      assert.ok(results.every((r) => r.statusCode === 200 || r.json().code === 'HOLD_ALREADY_RESOLVED'));
      const final = await Promise.all(deductions.map(async (d) => ok(await t.call('GET', `/v1/checkout-deductions/${d.id}`))));
      for (const d of final) assert.equal(await available(d.member_id), d.status === 'captured' ? 5000 : 10_000);
      const captured = final.filter((d) => d.status === 'captured');
      const refunds = await Promise.all(
        captured.flatMap((d) => [0, 1, 2].map(() => t.call('POST', `/v1/checkout-deductions/${d.id}/refund`, { key: t.keys.integration }))),
      );
      assert.equal(refunds.filter((r) => r.statusCode === 200).length, captured.length, 'one refund per captured deduction');
      for (const d of captured) assert.equal(await available(d.member_id), 10_000);
      await audit(p);
    });
  }
});
