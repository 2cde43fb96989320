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

export const mul = (a: Rational, b: Rational) => rat(a.num * b.num, a.den * b.den);
export const add = (a: Rational, b: Rational) => rat(a.num * b.den + b.num * a.den, a.den * b.den);
export const sub = (a: Rational, b: Rational) => rat(a.num * b.den - b.num * a.den, a.den * b.den);
export const cmp = (a: Rational, b: Rational) => {
  const d = a.num * b.den - b.num * a.den;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};

export type Rounding = 'floor' | 'half_up' | 'ceil';

/** Rounds a non-negative fraction to an integer by the named policy. */
export function round(r: Rational, mode: Rounding): bigint {
  if (r.num < 0n) throw new RangeError('round expects a non-negative value');
  if (mode === 'floor') return r.num / r.den;
  if (mode === 'ceil') return (r.num + r.den - 1n) / r.den;
  return (2n * r.num + r.den) / (2n * r.den);
}

/** Shortest decimal text for display: 3/2 → "1.5", 1/3 → "0.3333". */
export function toDecimalString(r: Rational, digits = 4): string {
  const scale = 10n ** BigInt(digits);
  const scaled = (r.num * scale * 2n + r.den) / (2n * r.den);
  const whole = scaled / scale;
  const frac = (scaled % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}
