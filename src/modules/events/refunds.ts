import { allocate } from '../../shared/allocation.ts';
import { add, cmp, mul, ONE, parseDecimal, type Rational, rat, ZERO } from '../../shared/rational.ts';
import { paidAmounts } from '../rules/index.ts';

/**
 * Refunds reverse what the order earned: in proportion to the refunded amount, or exactly for the
 * refunded items (by their weight in each award, so a 2× item takes back twice as much), never
 * more than was earned. Fractions accumulate over the order's refunds and each award is brought to
 * floor(points × refunded fraction), so several partial refunds add up to a full one exactly.
 * Items weigh what was paid for them: a discounted order's amount allocated over its lines, as the
 * rule engine earned on them (paidAmounts).
 *
 * Pure: no I/O. The flow reads the order's paid event, its earlier refunds and what was already
 * reversed of its credits, and writes the reversals this returns.
 */

/** An order as its order.paid event's data has it (amounts in minor units). */
export interface PaidOrder {
  amount?: number;
  items?: { sku: string; quantity: number; unit_price: number }[];
}

/** What an order.refunded event's data asks back: an amount, items, or (neither) the whole order. */
export interface RefundRequest {
  amount?: number;
  items?: { sku: string; quantity: number }[];
}

/** A line an award earned on: the amount (paid, for a discounted order), and the multiplier it had in the award (a decimal, "1.5"). */
export interface AwardLine {
  sku: string;
  amount: number;
  multiplier: string;
}

/** One award of the order.paid event, as its stored result has it. */
export interface PaidAward {
  rule_id: string;
  rule_version?: number;
  /** The rule's name when it awarded (its explanation's rule_name). */
  rule_name?: string;
  points: number;
  /** The credit it went into; null when nothing was credited (then there is nothing to reverse). */
  entry_id: string | null;
  /** The lines of an item-level award (its explanation's items); other awards weigh the order's lines by what was paid for them (orderLines). */
  lines?: AwardLine[];
}

/** Points to take back from one credit. */
export interface PlannedReversal {
  entry_id: string;
  /** The rule whose points these are, when they are one award's (the credit holds one); null otherwise. */
  rule_id: string | null;
  rule_name: string | null;
  points: number;
  /** Whose points these are, award by award of the credit (in the order's award order); they add up to `points`. */
  awards: ReversedAward[];
}

/** The part of a reversal that takes back one award's points. */
export interface ReversedAward {
  rule_id: string;
  rule_version: number | null;
  rule_name: string | null;
  points: number;
}

/** What is left to refund of an order: the amount (minor units), and per SKU the units not refunded by items. */
export interface Refundable {
  amount: number;
  /** Only for an order paid with items. */
  items?: { sku: string; quantity: number }[];
}

export type RefundPlan =
  | {
      reversals: PlannedReversal[];
      /**
       * The fraction of an award came to more than the whole and was brought back to it: refunds by
       * amount and by items of one order weigh its awards differently (an item that earned 2×). No
       * more was taken back than was earned.
       */
      clamped: boolean;
    }
  /** The refund cannot apply to the order (a SKU it does not have, items of an order paid without items). */
  | { refused: string }
  /** The refund asks more than is left to refund of the order (see Refundable); nothing is taken back. */
  | { exceeds: { path: string; message: string; refundable: Refundable } };

/**
 * The lines an award without lines of its own weighs (a rule on the order's amount, a fixed bonus):
 * what was paid for each item — its price, or its share of a discounted order's amount — and, when
 * the amount is more than the items (shipping, a fee), the rest as a line no refund by items names:
 * refunding every item then takes back the items' share of the award, not the whole.
 */
function orderLines(order: PaidOrder): AwardLine[] {
  const items = order.items ?? [];
  if (items.length === 0) return [];
  const paid = paidAmounts(items, order.amount);
  const lines = items.map((i, n) => ({ sku: i.sku, amount: paid ? paid[n]! : i.quantity * i.unit_price, multiplier: '1' }));
  const rest = (order.amount ?? 0) - lines.reduce((s, l) => s + l.amount, 0);
  // sku '' is no item's (an order line's sku has at least one character)
  if (rest > 0) lines.push({ sku: '', amount: rest, multiplier: '1' });
  return lines;
}

/**
 * The share of an award one refund takes back, an exact fraction in [0, 1]: the refunded amount
 * over the paid amount (at most all of it), or the refunded items' weight (amount × multiplier)
 * over all the award's lines' weight. Throws RangeError with what is wrong when a refund by items
 * cannot apply to the order.
 */
export function refundFraction(order: PaidOrder, refund: RefundRequest, lines?: AwardLine[]): Rational {
  if (refund.amount === undefined && refund.items === undefined) return ONE;
  if (refund.amount !== undefined) return order.amount ? rat(Math.min(refund.amount, order.amount), order.amount) : ONE;
  const weighed = lines ?? orderLines(order);
  if (weighed.length === 0) throw new RangeError('the order was paid without items: refund it by amount');
  // a SKU on several lines: a refund of some of its units takes the same share of each line
  const quantities = new Map<string, number>();
  for (const i of order.items ?? []) quantities.set(i.sku, (quantities.get(i.sku) ?? 0) + i.quantity);
  let total = ZERO;
  let refunded = ZERO;
  for (const line of weighed) {
    const weight = mul(rat(line.amount), parseDecimal(line.multiplier));
    total = add(total, weight);
    const asked = refund.items!.filter((i) => i.sku === line.sku).reduce((s, i) => s + i.quantity, 0);
    const bought = quantities.get(line.sku) ?? 0;
    if (asked > 0 && bought > 0) refunded = add(refunded, mul(weight, rat(Math.min(asked, bought), bought)));
  }
  for (const item of refund.items!) {
    if (!quantities.has(item.sku)) throw new RangeError(`sku ${item.sku} is not in the order`);
  }
  return total.num === 0n ? ONE : rat(refunded.num * total.den, refunded.den * total.num);
}

/**
 * What one refund takes of what is left to refund of an order: its amount (by amount; by items,
 * what was paid for the units — their share of their SKU's paid amount, ⌊cumulative⌋ so the units
 * refunded one by one add up to the SKU's amount; in full, all that is left) and its units.
 */
class OrderBalance {
  readonly #amount: number;
  readonly #skus: Map<string, { paid: bigint; quantity: number }>;
  #refunded = 0;
  readonly #units = new Map<string, number>();
  /** Refunded in full (a refund without amount or items): nothing is left. */
  #full = false;

  constructor(order: PaidOrder) {
    this.#amount = order.amount ?? 0;
    const items = order.items ?? [];
    const paid = paidAmounts(items, order.amount);
    this.#skus = new Map();
    items.forEach((i, n) => {
      const s = this.#skus.get(i.sku) ?? { paid: 0n, quantity: 0 };
      s.paid += BigInt(paid ? paid[n]! : i.quantity * i.unit_price);
      s.quantity += i.quantity;
      this.#skus.set(i.sku, s);
    });
  }

  get left(): Refundable {
    const amount = this.#full ? 0 : Math.max(this.#amount - this.#refunded, 0);
    if (this.#skus.size === 0) return { amount };
    return { amount, items: [...this.#skus].map(([sku, s]) => ({ sku, quantity: this.#full ? 0 : Math.max(s.quantity - (this.#units.get(sku) ?? 0), 0) })) };
  }

  /**
   * Takes the request off what is left. `strict`: a request that asks more is refused (and changes
   * nothing); otherwise it takes at most what is left (the refunds stored before, once accepted).
   */
  take(request: RefundRequest, strict: boolean): Exceeds | undefined {
    const left = this.left;
    // an order paid with amount 0 is refunded by amount in full (as refundFraction has it)
    if ((request.amount === undefined && request.items === undefined) || (request.amount !== undefined && this.#amount === 0)) {
      if (strict && (this.#full || (this.#amount > 0 && left.amount === 0))) return exceeds('/data/order_id', 'has nothing left to refund', left);
      this.#full = true;
      return undefined;
    }
    if (request.amount !== undefined) {
      if (strict && request.amount > left.amount)
        return exceeds('/data/amount', `is more than what is left to refund of the order (${left.amount} minor units)`, left);
      this.#refunded += Math.min(request.amount, left.amount);
      return undefined;
    }
    // by items (the order has every SKU asked: checked before); a SKU may be asked on several lines
    const asked = new Map<string, { units: number; line: number }>();
    for (const [line, i] of request.items!.entries()) {
      const a = asked.get(i.sku);
      if (a) a.units += i.quantity;
      else asked.set(i.sku, { units: i.quantity, line });
    }
    let amount = 0;
    const after = new Map<string, number>();
    for (const [sku, a] of asked) {
      const s = this.#skus.get(sku)!;
      const before = this.#full ? s.quantity : (this.#units.get(sku) ?? 0);
      if (strict && before + a.units > s.quantity)
        return exceeds(`/data/items/${a.line}/quantity`, `is more than what is left to refund of sku ${sku} (${s.quantity - before} units)`, left);
      const units = Math.min(before + a.units, s.quantity);
      after.set(sku, units);
      amount += Number((s.paid * BigInt(units)) / BigInt(s.quantity) - (s.paid * BigInt(before)) / BigInt(s.quantity));
    }
    if (strict && amount > left.amount)
      return exceeds('/data/items', `were paid ${amount} minor units, more than what is left to refund of the order (${left.amount})`, left);
    for (const [sku, units] of after) this.#units.set(sku, units);
    this.#refunded += Math.min(amount, left.amount);
    return undefined;
  }
}

type Exceeds = Extract<RefundPlan, { exceeds: unknown }>;

function exceeds(path: string, message: string, refundable: Refundable): Exceeds {
  return { exceeds: { path, message, refundable } };
}

/**
 * The refunds of one order, one after the other: each `refund` plans the reversals of one
 * order.refunded event on top of the refunds before it (those stored, given at construction, and
 * those planned here since). A refund that asks more than is left of the order — an amount beyond
 * what is left of the amount, units beyond those bought and not refunded yet, items paid more than
 * what is left, an order refunded in full already — is refused (`exceeds`, with what is left).
 * A refused refund changes nothing.
 */
export class OrderRefunds {
  readonly #order: PaidOrder;
  readonly #awards: PaidAward[];
  /** Per award (by position): the fraction the order's refunds took back so far, unclamped. */
  readonly #fractions: Rational[];
  /** Per credit: the points already taken back (the lot's reversal total). */
  readonly #reversed: Map<string, number>;
  readonly #balance: OrderBalance;

  /**
   * `earlier`: the order's refunds already processed, oldest first. `reversed`: per credit of the
   * order, the points already taken back; a credit missing from it is taken as 0 and not tracked.
   */
  constructor(order: PaidOrder, awards: PaidAward[], earlier: RefundRequest[], reversed: ReadonlyMap<string, number>) {
    this.#order = order;
    this.#awards = awards;
    this.#fractions = awards.map((a) => (a.entry_id === null ? ZERO : earlier.reduce((f, r) => add(f, refundFraction(order, r, a.lines)), ZERO)));
    this.#reversed = new Map(reversed);
    this.#balance = new OrderBalance(order);
    for (const r of earlier) this.#balance.take(r, false);
  }

  /** What is left to refund of the order after the refunds so far. */
  get refundable(): Refundable {
    return this.#balance.left;
  }

  refund(request: RefundRequest): RefundPlan {
    if (request.items !== undefined) {
      if (!this.#order.items?.length) return { refused: 'the order was paid without items: refund it by amount' };
      const unknown = request.items.find((i) => !this.#order.items!.some((o) => o.sku === i.sku));
      if (unknown) return { refused: `sku ${unknown.sku} is not in the order` };
    }
    const exceeds = this.#balance.take(request, true);
    if (exceeds) return exceeds;
    const own: (Rational | undefined)[] = [];
    for (const [j, award] of this.#awards.entries()) {
      if (award.entry_id === null) continue;
      try {
        own[j] = refundFraction(this.#order, request, award.lines);
      } catch (err) {
        if (err instanceof RangeError) return { refused: err.message };
        throw err;
      }
    }
    // several awards can share one credit (one per event and pending period): each credit is
    // brought to the sum of its awards' targets, ⌊points × fraction⌋ each
    const credits = new Map<string, { target: number; earned: number; awards: { award: PaidAward; before: number; after: number }[] }>();
    let clamped = false;
    const targetOf = (award: PaidAward, f: Rational) => Number((BigInt(award.points) * f.num) / f.den);
    this.#awards.forEach((award, j) => {
      if (award.entry_id === null) return;
      const before = targetOf(award, cmp(this.#fractions[j]!, ONE) > 0 ? ONE : this.#fractions[j]!);
      this.#fractions[j] = add(this.#fractions[j]!, own[j]!);
      let fraction = this.#fractions[j]!;
      if (cmp(fraction, ONE) > 0) {
        fraction = ONE;
        clamped = true;
      }
      const c = credits.get(award.entry_id) ?? { target: 0, earned: 0, awards: [] };
      const after = targetOf(award, fraction);
      c.target += after;
      c.earned += award.points;
      c.awards.push({ award, before, after });
      credits.set(award.entry_id, c);
    });
    const reversals: PlannedReversal[] = [];
    for (const [entryId, c] of credits) {
      const already = this.#reversed.get(entryId) ?? 0;
      const points = Math.min(c.target - already, c.earned - already);
      if (points <= 0) continue;
      if (this.#reversed.has(entryId)) this.#reversed.set(entryId, already + points);
      const awards = attribute(points, c.awards).flatMap((taken, k): ReversedAward[] => {
        const a = c.awards[k]!.award;
        return taken > 0 ? [{ rule_id: a.rule_id, rule_version: a.rule_version ?? null, rule_name: a.rule_name ?? null, points: taken }] : [];
      });
      const one = c.awards.length === 1 ? c.awards[0]!.award : undefined;
      reversals.push({ entry_id: entryId, rule_id: one?.rule_id ?? null, rule_name: one?.rule_name ?? null, points, awards });
    }
    return { reversals, clamped };
  }
}

/**
 * A credit's reversal, award by award: what this refund moved each award's target by (its share of
 * the refund), which is the reversal itself unless the credit was reversed by other means before
 * (then the reversal is smaller, and is spread over the awards in proportion to those shares by
 * largest remainder, or to what they earned).
 */
function attribute(points: number, awards: { award: PaidAward; before: number; after: number }[]): number[] {
  const moved = awards.map((a) => Math.max(a.after - a.before, 0));
  if (moved.some((m) => m > 0)) return allocate(points, moved);
  return allocate(
    points,
    awards.map((a) => (a.after > 0 ? a.after : a.award.points)),
  );
}
