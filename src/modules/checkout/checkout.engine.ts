/**
 * The checkout deduction's quote (结算直接抵扣, docs/rewards.md "Checkout deduction"), pure: how
 * many points a member may use on a basket under the program's policy, what they are worth, and
 * every reason the number is less than the member's balance. Integers only: amounts in minor
 * units (fen), points whole, products in BigInt (an amount of 10^12 fen times a share in basis
 * points passes 2^53).
 */

export interface CheckoutPolicy {
  /** Points worth one yuan (100 fen): 100 means 1 point = 1 fen. */
  points_per_yuan: number;
  /** The largest share of the payable amount points may pay, in basis points (5000 = 50%). */
  max_share_bps: number;
  /** Baskets below this amount (minor units, before other discounts) cannot use points. */
  min_order_amount: number;
  /** Fewer points than this cannot be used (the quote is then 0). */
  min_points: number;
  /** At most this many points on one order (null: no cap). */
  max_points_per_order: number | null;
  /** Whether points combine with the basket's other discounts (coupons, promotions). */
  combinable_with_discounts: boolean;
}

export interface Basket {
  /** The order's amount before other discounts, minor units. */
  amount: number;
  /** Other discounts on the order, minor units (0 when none). */
  other_discounts: number;
}

/** Why the quote is less than the member's available points, in the order they were applied. */
export type QuoteLimit = 'below_min_order' | 'not_combinable' | 'share_cap' | 'per_order_cap' | 'rounding' | 'below_min_points';

export interface Quote {
  /** The most points usable on this basket. */
  max_points: number;
  /** What max_points pay, minor units. */
  cash_value: number;
  /** The payable amount (after other discounts) and what is left to pay with max_points used. */
  payable: number;
  remaining: number;
  /** Points are used in steps of this many (each worth value_step fen exactly). */
  points_step: number;
  value_step: number;
  /** Each limit that bound the quote, first the one that bound it most. */
  limited_by: QuoteLimit[];
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/** The points step and its value: the fewest points worth a whole number of fen. */
export function steps(pointsPerYuan: number): { points: bigint; value: bigint } {
  const p = BigInt(pointsPerYuan);
  const g = gcd(p, 100n);
  return { points: p / g, value: 100n / g };
}

/** What `points` (a multiple of the step, or not: rounded down to one) pay, in fen. */
export function pointsValue(points: number, pointsPerYuan: number): number {
  const s = steps(pointsPerYuan);
  return Number((BigInt(points) / s.points) * s.value);
}

/** The quote for a basket and a member's available points. */
export function quote(policy: CheckoutPolicy, basket: Basket, available: number): Quote {
  const s = steps(policy.points_per_yuan);
  const payable = BigInt(Math.max(0, basket.amount - basket.other_discounts));
  const limits: QuoteLimit[] = [];
  const answer = (units: bigint): Quote => {
    const value = units * s.value;
    return {
      max_points: Number(units * s.points),
      cash_value: Number(value),
      payable: Number(payable),
      remaining: Number(payable - value),
      points_step: Number(s.points),
      value_step: Number(s.value),
      limited_by: limits,
    };
  };
  if (basket.amount < policy.min_order_amount) {
    limits.push('below_min_order');
    return answer(0n);
  }
  if (!policy.combinable_with_discounts && basket.other_discounts > 0) {
    limits.push('not_combinable');
    return answer(0n);
  }
  // each cap in whole steps; the smallest of them and the balance wins
  const have = BigInt(Math.max(0, available));
  const caps: [QuoteLimit, bigint][] = [['share_cap', (payable * BigInt(policy.max_share_bps)) / 10_000n / s.value]];
  if (policy.max_points_per_order !== null) caps.push(['per_order_cap', BigInt(policy.max_points_per_order) / s.points]);
  let units = have / s.points;
  for (const [, cap] of caps) if (cap < units) units = cap;
  // a reason is a cap that keeps the quote under the balance, the tightest first
  caps.sort((x, y) => (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
  for (const [name, cap] of caps) if (cap * s.points < have) limits.push(name);
  if (limits.length === 0 && units * s.points < have) limits.push('rounding');
  if (units * s.points < BigInt(policy.min_points)) {
    limits.push('below_min_points');
    units = 0n;
  }
  return answer(units);
}
