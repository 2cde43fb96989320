/**
 * Splitting a whole number of units (minor units of money, points) over parts in proportion to
 * their weights, exactly: the parts are whole numbers and add up to the total.
 *
 * Largest remainder (Hamilton's method): each part gets ⌊total × weight ÷ Σ weights⌋; the units
 * left over (fewer than the number of parts) go one each to the parts with the largest remainders,
 * ties to the earlier part. ¥162 paid for lines of ¥80 and ¥100: 72 and 90; ¥1 over three equal
 * lines: 1, 0, 0.
 *
 * @example allocate(16_200, [8_000, 10_000]) // [7_200, 9_000]
 * @example allocate(100, [1, 1, 1]) // [34, 33, 33]
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`total must be a whole number ≥ 0: ${total}`);
  let sum = 0n;
  for (const w of weights) {
    if (!Number.isSafeInteger(w) || w < 0) throw new RangeError(`weights must be whole numbers ≥ 0: ${w}`);
    sum += BigInt(w);
  }
  if (sum === 0n) throw new RangeError('the weights must not all be 0');
  const t = BigInt(total);
  const parts = weights.map((w) => (t * BigInt(w)) / sum);
  const remainders = weights.map((w) => (t * BigInt(w)) % sum);
  let left = t - parts.reduce((s, p) => s + p, 0n);
  if (left > 0n) {
    const order = weights.map((_, i) => i).sort((a, b) => (remainders[b]! > remainders[a]! ? 1 : remainders[b]! < remainders[a]! ? -1 : a - b));
    for (const i of order) {
      if (left === 0n) break;
      parts[i]! += 1n;
      left -= 1n;
    }
  }
  return parts.map(Number);
}
