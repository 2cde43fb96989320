import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { allocate } from './allocation.ts';

describe('largest remainder allocation', () => {
  it('splits in proportion and gives the units left over to the largest remainders, ties to the earlier part', () => {
    assert.deepEqual(allocate(16_200, [8_000, 10_000]), [7_200, 9_000]);
    assert.deepEqual(allocate(100, [1, 1, 1]), [34, 33, 33]);
    assert.deepEqual(allocate(1, [1, 1, 1]), [1, 0, 0]);
    // 10 × 3/7 = 4.29, 10 × 4/7 = 5.71: the second has the larger remainder
    assert.deepEqual(allocate(10, [3, 4]), [4, 6]);
    assert.deepEqual(allocate(0, [5, 5]), [0, 0]);
    assert.deepEqual(allocate(7, [0, 3]), [0, 7]);
  });

  it('is exact at the largest amounts (10^12 over lines of 10^12)', () => {
    assert.deepEqual(allocate(1e12 - 1, [1e12 / 2, 1e12 / 2]), [1e12 / 2, 1e12 / 2 - 1]);
  });

  it('refuses what it cannot split', () => {
    assert.throws(() => allocate(5, [0, 0]), RangeError);
    assert.throws(() => allocate(-1, [1]), RangeError);
    assert.throws(() => allocate(1.5, [1]), RangeError);
  });

  it('always adds up to the total, each part within one unit of its exact share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc.array(fc.integer({ min: 0, max: 1e12 }), { minLength: 1, maxLength: 20 }).filter((w) => w.some((x) => x > 0)),
        (total, weights) => {
          const parts = allocate(total, weights);
          assert.equal(
            parts.reduce((s, p) => s + p, 0),
            total,
          );
          const sum = BigInt(weights.reduce((s, w) => s + w, 0));
          parts.forEach((p, i) => {
            const exact = BigInt(total) * BigInt(weights[i]!);
            // ⌊exact share⌋ ≤ part ≤ ⌊exact share⌋ + 1
            assert.ok(BigInt(p) * sum <= exact + sum && BigInt(p) * sum + sum > exact, `${p} of ${total} for ${weights[i]}`);
          });
        },
      ),
    );
  });
});
