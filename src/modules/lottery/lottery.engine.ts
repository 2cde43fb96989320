/**
 * The draw maths of verifiable lotteries (docs/rewards.md, "Lottery"), pure and shared by the
 * server, the public verification endpoint and `jifen verify-draw`.
 *
 * A seed is 32 random bytes written as 64 lowercase hex characters; that text is both what its
 * published hash covers (`seed_hash = SHA-256(seed)`, hex) and the HMAC key. A draw's bytes are
 * HMAC-SHA256(seed, `${client_seed}:${nonce}`), then, when those run out,
 * HMAC-SHA256(seed, `${client_seed}:${nonce}:${round}`) for round 1, 2, … Each HMAC gives eight
 * 32-bit big-endian chunks. With W the total weight, a chunk x is accepted when
 * x < 2^32 − (2^32 mod W) — the largest multiple of W not above 2^32 — and then r = x mod W is
 * uniform over [0, W): no modulo bias. A rejected chunk is skipped for the next one. The prize is
 * the first whose cumulative weight exceeds r, in the order of the recorded weights.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

/** At most 100 prizes of weight at most 1,000,000: the total stays below 2^32. */
export const MAX_PRIZES = 100;
export const MAX_WEIGHT = 1_000_000;
const TWO_32 = 2 ** 32;
/** A chunk is rejected with probability below W / 2^32 ≤ 2.4 %: a thousand rounds never run out in practice. */
const MAX_ROUNDS = 1000;

export interface DrawOutcome {
  /** Position of the prize in the weights. */
  index: number;
  /** r, uniform in [0, total). */
  value: number;
  total: number;
  /** The first HMAC (hex), the one the draw records. */
  hmac: string;
  /** How many 32-bit chunks were read (rejected ones included). */
  chunks: number;
}

export function newSeed(): string {
  return randomBytes(32).toString('hex');
}

export function newClientSeed(): string {
  return randomBytes(8).toString('hex');
}

export function seedHash(seed: string): string {
  return createHash('sha256').update(seed, 'utf8').digest('hex');
}

export function drawHmac(seed: string, clientSeed: string, nonce: number, round = 0): string {
  const message = round === 0 ? `${clientSeed}:${nonce}` : `${clientSeed}:${nonce}:${round}`;
  return createHmac('sha256', Buffer.from(seed, 'utf8')).update(message, 'utf8').digest('hex');
}

/** The successive 32-bit chunks of a draw, from its HMACs. */
export function* drawChunks(seed: string, clientSeed: string, nonce: number): Generator<number> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const bytes = Buffer.from(drawHmac(seed, clientSeed, nonce, round), 'hex');
    for (let i = 0; i < 32; i += 4) yield bytes.readUInt32BE(i);
  }
}

/** Why a list of weights cannot be drawn from, or null. */
export function weightsProblem(weights: readonly number[]): string | null {
  if (weights.length === 0) return 'there is no prize to draw';
  if (weights.length > MAX_PRIZES) return `at most ${MAX_PRIZES} prizes`;
  for (const w of weights) if (!Number.isInteger(w) || w < 1 || w > MAX_WEIGHT) return `weights are integers from 1 to ${MAX_WEIGHT}`;
  return null;
}

/** Draws a uniform integer in [0, total) from 32-bit chunks by rejection sampling. */
export function uniformBelow(total: number, chunks: Iterator<number>): { value: number; used: number } {
  if (!Number.isInteger(total) || total < 1 || total > TWO_32) throw new RangeError('total must be an integer from 1 to 2^32');
  const limit = TWO_32 - (TWO_32 % total);
  let used = 0;
  for (;;) {
    const next = chunks.next();
    if (next.done) throw new Error('the draw ran out of chunks');
    used++;
    if (next.value < limit) return { value: next.value % total, used };
  }
}

/** The prize a draw gives: its index in `weights` (those recorded with the draw, in their order). */
export function drawOutcome(seed: string, clientSeed: string, nonce: number, weights: readonly number[]): DrawOutcome {
  const problem = weightsProblem(weights);
  if (problem) throw new RangeError(problem);
  const total = weights.reduce((a, b) => a + b, 0);
  const { value, used } = uniformBelow(total, drawChunks(seed, clientSeed, nonce));
  return { index: pickIndex(weights, value), value, total, hmac: drawHmac(seed, clientSeed, nonce), chunks: used };
}

/** The first position whose cumulative weight exceeds value. */
export function pickIndex(weights: readonly number[], value: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (value < acc) return i;
  }
  throw new RangeError('value is not below the total weight');
}
