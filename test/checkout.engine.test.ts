/**
 * The checkout deduction's quote (src/modules/checkout/checkout.engine.ts): the rate's steps, the
 * share of the order, the minimum order, the minimum points, the per-order cap, combination with
 * other discounts, and the reasons a quote is less than the balance; integers at 10^12 fen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CheckoutPolicy, pointsValue, quote, steps } from '../src/modules/checkout/checkout.engine.ts';

const POLICY: CheckoutPolicy = {
  points_per_yuan: 100,
  max_share_bps: 5000,
  min_order_amount: 1000,
  min_points: 100,
  max_points_per_order: null,
  combinable_with_discounts: true,
};
const policy = (p: Partial<CheckoutPolicy> = {}): CheckoutPolicy => ({ ...POLICY, ...p });

describe('checkout quote', () => {
  it('100 points a yuan: a point a fen, at most half the order', () => {
    assert.deepEqual(quote(POLICY, { amount: 10_000, other_discounts: 0 }, 20_000), {
      max_points: 5000,
      cash_value: 5000,
      payable: 10_000,
      remaining: 5000,
      points_step: 1,
      value_step: 1,
      limited_by: ['share_cap'],
    });
    // the balance binds: no reason
    const q = quote(POLICY, { amount: 10_000, other_discounts: 0 }, 1234);
    assert.equal(q.max_points, 1234);
    assert.deepEqual(q.limited_by, []);
  });

  it('a rate that does not divide 100: whole steps only, the rest a rounding', () => {
    assert.deepEqual(steps(150), { points: 3n, value: 2n });
    assert.equal(pointsValue(301, 150), 200);
    const q = quote(policy({ points_per_yuan: 150 }), { amount: 10_000, other_discounts: 0 }, 301);
    assert.equal(q.max_points, 300);
    assert.equal(q.cash_value, 200);
    assert.deepEqual(q.limited_by, ['rounding']);
  });

  it('the per-order cap and the share cap: the tightest first', () => {
    const q = quote(policy({ max_points_per_order: 800 }), { amount: 10_000, other_discounts: 0 }, 20_000);
    assert.equal(q.max_points, 800);
    assert.deepEqual(q.limited_by, ['per_order_cap', 'share_cap']);
  });

  it('below the minimum order or the minimum points: nothing', () => {
    const small = quote(POLICY, { amount: 999, other_discounts: 0 }, 20_000);
    assert.equal(small.max_points, 0);
    assert.deepEqual(small.limited_by, ['below_min_order']);
    const few = quote(POLICY, { amount: 10_000, other_discounts: 0 }, 99);
    assert.equal(few.max_points, 0);
    assert.deepEqual(few.limited_by, ['below_min_points']);
    // the share of a small order is under the minimum points
    const share = quote(POLICY, { amount: 1000, other_discounts: 900 }, 20_000);
    assert.equal(share.max_points, 0);
    assert.deepEqual(share.limited_by, ['share_cap', 'below_min_points']);
  });

  it('other discounts: points pay a share of what is left, or nothing when they do not combine', () => {
    const q = quote(POLICY, { amount: 10_000, other_discounts: 2000 }, 20_000);
    assert.equal(q.payable, 8000);
    assert.equal(q.max_points, 4000);
    const no = quote(policy({ combinable_with_discounts: false }), { amount: 10_000, other_discounts: 2000 }, 20_000);
    assert.equal(no.max_points, 0);
    assert.deepEqual(no.limited_by, ['not_combinable']);
    assert.equal(quote(policy({ combinable_with_discounts: false }), { amount: 10_000, other_discounts: 0 }, 20_000).max_points, 5000);
  });

  it('stays exact at 10^12 fen with the whole order payable', () => {
    const q = quote(policy({ max_share_bps: 10_000, points_per_yuan: 1 }), { amount: 1_000_000_000_000, other_discounts: 0 }, Number.MAX_SAFE_INTEGER);
    // 1 point a yuan: 100 fen a point
    assert.equal(q.max_points, 10_000_000_000);
    assert.equal(q.cash_value, 1_000_000_000_000);
    assert.equal(q.remaining, 0);
    assert.deepEqual(q.limited_by, ['share_cap']);
  });
});
