/**
 * Exact fractions for points arithmetic: amounts × rates × multipliers stay exact until one named
 * rounding at the end. Never floats.
 */
export interface Rational {
  num: bigint;
  den: bigint; // > 0
}

export const ONE: Rational = { num: 1n, den: 1n };
export const ZERO: Rational = { num: 0n, den: 1n };

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b) [a, b] = [b, a % b];
  return a || 1n;
}

export function rat(num: bigint | number, den: bigint | number = 1n): Rational {
  let n = BigInt(num);
  let d = BigInt(den);
  if (d === 0n) throw new RangeError('zero denominator');
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d);
  return { num: n / g, den: d / g };
}

/** "1.5" → 3/2. Accepts plain decimals only (what rule definitions allow). */
export function parseDecimal(s: string): Rational {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new RangeError(`not a decimal: ${s}`);
  const frac = m[2] ?? '';
  return rat(BigInt(m[1]! + frac), 10n ** BigInt(frac.length));
}

// Products and sums are not reduced: the few multipliers of a rule keep numbers small, and
// rounding and formatting do not need lowest terms. Reducing on every step costs more than it saves.
export const mul = (a: Rational, b: Rational): Rational => (b.den === 1n && b.num === 1n ? a : { num: a.num * b.num, den: a.den * b.den });
export const add = (a: Rational, b: Rational): Rational =>
  a.den === b.den ? { num: a.num + b.num, den: a.den } : { num: a.num * b.den + b.num * a.den, den: a.den * b.den };
export const sub = (a: Rational, b: Rational): Rational =>
  a.den === b.den ? { num: a.num - b.num, den: a.den } : { num: a.num * b.den - b.num * a.den, den: a.den * b.den };
export const cmp = (a: Rational, b: Rational) => {
  const d = a.num * b.den - b.num * a.den;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};

export type Rounding = 'floor' | 'half_up' | 'ceil';

/** Below 2^36, n × 20,000 stays an exact double. */
const SMALL = 2n ** 36n;

/** Rounds a non-negative fraction to an integer by the named policy. */
export function round(r: Rational, mode: Rounding): bigint {
  if (r.num < 0n) throw new RangeError('round expects a non-negative value');
  if (mode === 'floor') return r.num / r.den;
  if (mode === 'ceil') return (r.num + r.den - 1n) / r.den;
  return (2n * r.num + r.den) / (2n * r.den);
}

/** Shortest decimal text for display: 3/2 → "1.5", 1/3 → "0.3333". */
export function toDecimalString(r: Rational, digits = 4): string {
  if (r.den === 1n) return r.num.toString();
  // small values (all of them in practice) are exact in doubles: format without BigInt garbage
  if (digits === 4 && r.num >= 0n && r.num < SMALL && r.den < SMALL) {
    const n = Number(r.num);
    const d = Number(r.den);
    if (n % d === 0) return String(n / d);
    const scaled = Math.floor((n * 20_000 + d) / (2 * d));
    const whole = Math.floor(scaled / 10_000);
    const frac = String(scaled % 10_000)
      .padStart(4, '0')
      .replace(/0+$/, '');
    return frac ? `${whole}.${frac}` : `${whole}`;
  }
  if (r.num % r.den === 0n) return (r.num / r.den).toString();
  const scale = 10n ** BigInt(digits);
  const scaled = (r.num * scale * 2n + r.den) / (2n * r.den);
  const whole = scaled / scale;
  const frac = (scaled % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}
