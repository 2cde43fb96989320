/**
 * The lottery's draw maths alone (src/modules/lottery/lottery.engine.ts): reproducible outcomes,
 * the published hash, rejection sampling without modulo bias, and a chi-square test of 100,000
 * simulated draws against the prize weights.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { drawChunks, drawHmac, drawOutcome, pickIndex, seedHash, uniformBelow, weightsProblem } from '../src/modules/lottery/index.ts';

const SEED = 'a3f1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00';

describe('lottery engine', () => {
  it('derives the outcome from HMAC-SHA256(seed, client_seed:nonce), reproducibly', () => {
    const expected = createHmac('sha256', SEED).update('lucky:0').digest('hex');
    assert.equal(drawHmac(SEED, 'lucky', 0), expected);
    assert.equal(drawHmac(SEED, 'lucky', 0, 1), createHmac('sha256', SEED).update('lucky:0:1').digest('hex'));
    const a = drawOutcome(SEED, 'lucky', 7, [5, 3, 2]);
    const b = drawOutcome(SEED, 'lucky', 7, [5, 3, 2]);
    assert.deepEqual(a, b);
    // by hand: the first 32-bit chunk of the HMAC, below 2^32 − (2^32 mod 10), mod 10
    const first = Number.parseInt(drawHmac(SEED, 'lucky', 7).slice(0, 8), 16);
    assert.ok(first < 2 ** 32 - (2 ** 32 % 10));
    assert.equal(a.value, first % 10);
    assert.equal(a.index, a.value < 5 ? 0 : a.value < 8 ? 1 : 2);
    assert.equal(a.chunks, 1);
    // another nonce or client seed gives other bytes
    assert.notEqual(drawOutcome(SEED, 'lucky', 8, [5, 3, 2]).hmac, a.hmac);
    assert.notEqual(drawOutcome(SEED, 'other', 7, [5, 3, 2]).hmac, a.hmac);
  });

  it('publishes SHA-256 of the seed text', () => {
    assert.equal(seedHash(SEED), createHash('sha256').update(SEED).digest('hex'));
    assert.match(seedHash(SEED), /^[0-9a-f]{64}$/);
  });

  it('rejects the chunks at or above the largest multiple of the total (weights that do not divide 2^32)', () => {
    // total 3: 2^32 mod 3 = 1, so 2^32 − 1 is rejected (it would make 0 more likely)
    const it3 = [2 ** 32 - 1, 2 ** 32 - 2][Symbol.iterator]();
    assert.deepEqual(uniformBelow(3, it3), { value: (2 ** 32 - 2) % 3, used: 2 });
    // total 3·2^30: the top quarter of the 32-bit range is rejected; modulo would fold it onto [0, 2^30)
    const total = 3 * 2 ** 30;
    const chunks = [3 * 2 ** 30, 2 ** 32 - 1, 3 * 2 ** 30 + 5, 5][Symbol.iterator]();
    assert.deepEqual(uniformBelow(total, chunks), { value: 5, used: 4 });
    assert.deepEqual(uniformBelow(total, [3 * 2 ** 30 - 1][Symbol.iterator]()), { value: 3 * 2 ** 30 - 1, used: 1 });
    // a power of two rejects nothing
    assert.deepEqual(uniformBelow(2 ** 31, [2 ** 32 - 1][Symbol.iterator]()), { value: 2 ** 31 - 1, used: 1 });
    assert.throws(() => uniformBelow(3, [2 ** 32 - 1][Symbol.iterator]()), /ran out/);
  });

  it('the sampler is exactly uniform over a full range of chunks: every value equally often', () => {
    // feeding every 32-bit value would take too long; the same rule over every 16-bit value,
    // scaled: chunks c·2^16 for c in [0, 2^16) hit each r in [0, 7) the same number of times
    // once the rejected tail is dropped (modulo alone would not)
    const total = 7;
    const counts = new Array(total).fill(0);
    let rejected = 0;
    const limit = 2 ** 32 - (2 ** 32 % total);
    for (let c = 0; c < 2 ** 16; c++) {
      const x = c * 65_537; // spread over the whole 32-bit range, the last ones near 2^32
      if (x >= limit) {
        rejected++;
        continue;
      }
      counts[uniformBelow(total, [x][Symbol.iterator]()).value]++;
    }
    assert.equal(uniformBelow(total, [limit, limit - 1][Symbol.iterator]()).used, 2);
    const max = Math.max(...counts);
    const min = Math.min(...counts);
    assert.ok(max - min <= 1, `${counts}`);
    assert.ok(rejected <= 1);
  });

  it('reads further HMAC rounds when the chunks of one run out', () => {
    const chunks = drawChunks(SEED, 'c', 1);
    const all = Array.from({ length: 16 }, () => chunks.next().value as number);
    const second = Buffer.from(drawHmac(SEED, 'c', 1, 1), 'hex');
    assert.equal(all[8], second.readUInt32BE(0));
    assert.equal(all[15], second.readUInt32BE(28));
  });

  it('picks by cumulative weight and refuses weights it cannot draw from', () => {
    assert.equal(pickIndex([5, 3, 2], 0), 0);
    assert.equal(pickIndex([5, 3, 2], 4), 0);
    assert.equal(pickIndex([5, 3, 2], 5), 1);
    assert.equal(pickIndex([5, 3, 2], 9), 2);
    assert.throws(() => pickIndex([5, 3, 2], 10));
    assert.equal(weightsProblem([1, 2]), null);
    assert.ok(weightsProblem([]));
    assert.ok(weightsProblem([0]));
    assert.ok(weightsProblem([1.5]));
    assert.ok(weightsProblem([1_000_001]));
    assert.throws(() => drawOutcome(SEED, 'c', 0, []));
  });

  it('100,000 draws follow the weights: chi-square with 5 degrees of freedom below 20.515 (p > 0.001)', () => {
    // weights that do not divide 2^32 (total 1000), six prizes: 5 degrees of freedom; the critical
    // value of χ²(5) at p = 0.001 is 20.515. Fixed seeds and client seed: the test is deterministic.
    const weights = [1, 9, 40, 150, 300, 500];
    const total = 1000;
    for (const seed of [SEED, seedHash('second fixed seed')]) {
      const counts = new Array(weights.length).fill(0);
      const n = 100_000;
      for (let nonce = 0; nonce < n; nonce++) counts[drawOutcome(seed, 'chi-square', nonce, weights).index]++;
      const chi = counts.reduce((s, o, i) => {
        const e = (n * weights[i]!) / total;
        return s + (o - e) ** 2 / e;
      }, 0);
      assert.ok(chi < 20.515, `χ² = ${chi.toFixed(2)} for ${counts}`);
    }
  });
});
