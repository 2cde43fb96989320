import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { add, mul, parseDecimal, rat, round, toDecimalString } from './rational.ts';

describe('exact fractions', () => {
  it('parses decimal multipliers exactly', () => {
    assert.deepEqual(parseDecimal('1.5'), { num: 3n, den: 2n });
    assert.deepEqual(parseDecimal('0.8'), { num: 4n, den: 5n });
    assert.throws(() => parseDecimal('-1'));
    assert.throws(() => parseDecimal('1e3'));
  });

  it('rounds by the named policy', () => {
    const v = rat(5, 2); // 2.5
    assert.equal(round(v, 'floor'), 2n);
    assert.equal(round(v, 'half_up'), 3n);
    assert.equal(round(v, 'ceil'), 3n);
    assert.equal(round(rat(249, 100), 'half_up'), 2n);
    assert.equal(round(rat(4, 1), 'ceil'), 4n);
  });

  it('keeps ¥99.99 × 1 pt/¥ × 0.8 exact until rounding (79.992)', () => {
    const v = mul(mul(rat(9999, 100), rat(1)), parseDecimal('0.8'));
    assert.equal(toDecimalString(v), '79.992');
    assert.equal(round(v, 'floor'), 79n);
    assert.equal(toDecimalString(add(rat(1, 3), rat(1, 6))), '0.5');
  });
});
