import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type AwardLine,
  OrderRefunds,
  type PaidAward,
  type PaidOrder,
  type PlannedReversal,
  type RefundRequest,
  refundFraction,
} from '../src/modules/events/refunds.ts';
import { cmp, ONE, rat, ZERO } from '../src/shared/rational.ts';

const order: PaidOrder = {
  amount: 10_000,
  items: [
    { sku: 'A', quantity: 2, unit_price: 2_500 },
    { sku: 'B', quantity: 1, unit_price: 5_000 },
  ],
};
const award = (points: number, entry = 'ent_1', rule = 'rul_1', lines?: AwardLine[]): PaidAward => ({
  rule_id: rule,
  points,
  entry_id: entry,
  ...(lines ? { lines } : {}),
});
// a reversal's credit, rule (when the credit holds one award) and points; whose points they are,
// award by award (rule_name, awards), is asserted on its own below
const short = (r: PlannedReversal) => ({ entry_id: r.entry_id, rule_id: r.rule_id, points: r.points });
const reversed = (plan: ReturnType<OrderRefunds['refund']>) => {
  assert.ok('reversals' in plan, JSON.stringify(plan));
  return plan.reversals.map(short);
};
const planned = (plan: ReturnType<OrderRefunds['refund']>) => ('reversals' in plan ? { reversals: plan.reversals.map(short), clamped: plan.clamped } : plan);

describe('refund arithmetic (events module, pure)', () => {
  it('takes back points in proportion to the refunded amount, never more than the order', () => {
    assert.deepEqual(refundFraction(order, { amount: 2_500 }), rat(1, 4));
    assert.deepEqual(refundFraction(order, { amount: 20_000 }), ONE);
    assert.deepEqual(refundFraction(order, {}), ONE);
    const refunds = new OrderRefunds(order, [award(100)], [], new Map([['ent_1', 0]]));
    assert.deepEqual(reversed(refunds.refund({ amount: 2_500 })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 25 }]);
    assert.deepEqual(reversed(refunds.refund({ amount: 7_500 })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 75 }]);
    // issue 9 (over-refunds): was [] (clamped silently); a refund beyond the order is refused now
    assert.ok('exceeds' in refunds.refund({ amount: 1 }));
  });

  it('weighs refunded items by their amount and multiplier in the award, so a 2× item takes back twice as much', () => {
    const lines = [
      { sku: 'A', amount: 5_000, multiplier: '2' },
      { sku: 'B', amount: 5_000, multiplier: '1' },
    ];
    assert.deepEqual(refundFraction(order, { items: [{ sku: 'A', quantity: 2 }] }, lines), rat(2, 3));
    assert.deepEqual(refundFraction(order, { items: [{ sku: 'A', quantity: 1 }] }, lines), rat(1, 3));
    // without lines of its own, an award weighs the order's items at their price
    assert.deepEqual(refundFraction(order, { items: [{ sku: 'B', quantity: 1 }] }), rat(1, 2));
    const refunds = new OrderRefunds(order, [award(300, 'ent_1', 'rul_1', lines)], [], new Map([['ent_1', 0]]));
    assert.deepEqual(reversed(refunds.refund({ items: [{ sku: 'A', quantity: 2 }] })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 200 }]);
  });

  it('brings each award to floor(points × refunded fraction): three thirds add up to the whole exactly', () => {
    const third: PaidOrder = { amount: 3 };
    const refunds = new OrderRefunds(third, [award(100)], [], new Map([['ent_1', 0]]));
    const taken = [1, 1, 1].map((amount) => reversed(refunds.refund({ amount }))[0]!.points);
    assert.deepEqual(taken, [33, 33, 34]);
  });

  it('counts the refunds processed before and what was already reversed of the credit', () => {
    const refunds = new OrderRefunds(order, [award(100)], [{ amount: 5_000 }], new Map([['ent_1', 50]]));
    assert.deepEqual(reversed(refunds.refund({ amount: 2_500 })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 25 }]);
    // reversed by other means already (a manual reversal): only what is left
    const manual = new OrderRefunds(order, [award(100)], [], new Map([['ent_1', 90]]));
    assert.deepEqual(reversed(manual.refund({})), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 10 }]);
  });

  // issue 9 (over-refunds): a refund beyond what remains of the order was clamped to the whole, silently
  it('refuses a refund beyond what is left of the order, saying what is left, and changes nothing', () => {
    const refunds = new OrderRefunds(order, [award(100)], [], new Map([['ent_1', 0]]));
    assert.deepEqual(planned(refunds.refund({ amount: 8_000 })), { reversals: [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 80 }], clamped: false });
    const left = {
      amount: 2_000,
      items: [
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 1 },
      ],
    };
    assert.deepEqual(refunds.refund({ amount: 8_000 }), {
      exceeds: { path: '/data/amount', message: 'is more than what is left to refund of the order (2000 minor units)', refundable: left },
    });
    assert.deepEqual(refunds.refundable, left);
    assert.deepEqual(reversed(refunds.refund({ amount: 2_000 })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 20 }]);
    // nothing is left: a refund in full, by amount or by items asks too much
    const none = {
      amount: 0,
      items: [
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 1 },
      ],
    };
    assert.deepEqual(refunds.refund({}), { exceeds: { path: '/data/order_id', message: 'has nothing left to refund', refundable: none } });
    assert.equal((refunds.refund({ amount: 1 }) as { exceeds: { path: string } }).exceeds.path, '/data/amount');
    assert.equal((refunds.refund({ items: [{ sku: 'B', quantity: 1 }] }) as { exceeds: { path: string } }).exceeds.path, '/data/items');
    // a refund in full after one: nothing of any kind is left
    const full = new OrderRefunds(order, [award(100)], [{}], new Map([['ent_1', 100]]));
    assert.deepEqual(full.refundable, {
      amount: 0,
      items: [
        { sku: 'A', quantity: 0 },
        { sku: 'B', quantity: 0 },
      ],
    });
    assert.ok('exceeds' in full.refund({}));
  });

  it('refuses units beyond those bought and not refunded yet, naming the line; items count what was paid for them', () => {
    const refunds = new OrderRefunds(order, [award(100)], [], new Map([['ent_1', 0]]));
    assert.deepEqual(reversed(refunds.refund({ items: [{ sku: 'A', quantity: 1 }] })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 25 }]);
    assert.deepEqual(
      refunds.refund({
        items: [
          { sku: 'B', quantity: 1 },
          { sku: 'A', quantity: 2 },
        ],
      }),
      {
        exceeds: {
          path: '/data/items/1/quantity',
          message: 'is more than what is left to refund of sku A (1 units)',
          refundable: {
            amount: 7_500,
            items: [
              { sku: 'A', quantity: 1 },
              { sku: 'B', quantity: 1 },
            ],
          },
        },
      },
    );
    // the same SKU on two lines of the refund counts once
    assert.ok(
      'exceeds' in
        refunds.refund({
          items: [
            { sku: 'A', quantity: 1 },
            { sku: 'A', quantity: 1 },
          ],
        }),
    );
    // by amount, then items paid more than what is left of the amount
    assert.deepEqual(reversed(refunds.refund({ amount: 4_000 })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 40 }]);
    assert.equal(
      (refunds.refund({ items: [{ sku: 'B', quantity: 1 }] }) as { exceeds: { message: string } }).exceeds.message,
      'were paid 5000 minor units, more than what is left to refund of the order (3500)',
    );
    assert.deepEqual(reversed(refunds.refund({ items: [{ sku: 'A', quantity: 1 }] })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 25 }]);
    assert.deepEqual(refunds.refundable, {
      amount: 1_000,
      items: [
        { sku: 'A', quantity: 0 },
        { sku: 'B', quantity: 1 },
      ],
    });
  });

  it('counts the refunds stored before as they were accepted, at most what was left', () => {
    // stored before refusals: a refund of more than the order
    const refunds = new OrderRefunds(order, [award(100)], [{ amount: 20_000 }], new Map([['ent_1', 100]]));
    assert.deepEqual(refunds.refundable, {
      amount: 0,
      items: [
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 1 },
      ],
    });
    assert.ok('exceeds' in refunds.refund({ amount: 1 }));
  });

  it('brings an award to the whole when refunds by amount and by items of one order weigh it differently, and says so', () => {
    const lines = [
      { sku: 'A', amount: 5_000, multiplier: '2' },
      { sku: 'B', amount: 5_000, multiplier: '1' },
    ];
    const refunds = new OrderRefunds(order, [award(150, 'ent_1', 'rul_1', lines)], [], new Map([['ent_1', 0]]));
    assert.deepEqual(planned(refunds.refund({ amount: 5_000 })), { reversals: [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 75 }], clamped: false });
    // A earned 100 of the 150: ½ + ⅔ of the award is more than all of it
    assert.deepEqual(planned(refunds.refund({ items: [{ sku: 'A', quantity: 2 }] })), {
      reversals: [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 75 }],
      clamped: true,
    });
  });

  it('names the rule only when the credit holds one award; a credit of several is brought to the sum of their targets', () => {
    const refunds = new OrderRefunds(
      order,
      [award(100, 'ent_1', 'rul_a'), award(50, 'ent_1', 'rul_b'), award(10, 'ent_2', 'rul_c')],
      [],
      new Map([
        ['ent_1', 0],
        ['ent_2', 0],
      ]),
    );
    // issue 9 (refund results): ent_2 holds rul_c's award only; its rule_id was null because the order had several awards
    assert.deepEqual(reversed(refunds.refund({ amount: 5_000 })), [
      { entry_id: 'ent_1', rule_id: null, points: 75 },
      { entry_id: 'ent_2', rule_id: 'rul_c', points: 5 },
    ]);
  });

  it("says whose points each reversal takes back, award by award, with the rule's name and version", () => {
    const named = (points: number, entry: string, rule: string): PaidAward => ({ ...award(points, entry, rule), rule_version: 2, rule_name: `name ${rule}` });
    const refunds = new OrderRefunds(
      order,
      [named(100, 'ent_1', 'rul_a'), named(50, 'ent_1', 'rul_b'), named(10, 'ent_2', 'rul_c')],
      [],
      new Map([
        ['ent_1', 0],
        ['ent_2', 0],
      ]),
    );
    const plan = refunds.refund({ amount: 3_333 });
    assert.ok('reversals' in plan);
    assert.deepEqual(plan.reversals, [
      {
        entry_id: 'ent_1',
        rule_id: null,
        rule_name: null,
        points: 49,
        awards: [
          { rule_id: 'rul_a', rule_version: 2, rule_name: 'name rul_a', points: 33 },
          { rule_id: 'rul_b', rule_version: 2, rule_name: 'name rul_b', points: 16 },
        ],
      },
      {
        entry_id: 'ent_2',
        rule_id: 'rul_c',
        rule_name: 'name rul_c',
        points: 3,
        awards: [{ rule_id: 'rul_c', rule_version: 2, rule_name: 'name rul_c', points: 3 }],
      },
    ]);
    // the rest: each award's own remainder (67 and 34), whatever the credit's rounding did before
    const rest = refunds.refund({});
    assert.ok('reversals' in rest);
    assert.deepEqual(
      rest.reversals[0]!.awards.map((a) => a.points),
      [67, 34],
    );
    // a credit reversed by other means before: the smaller reversal is spread over the awards' shares
    const manual = new OrderRefunds(order, [named(100, 'ent_1', 'rul_a'), named(50, 'ent_1', 'rul_b')], [], new Map([['ent_1', 120]]));
    const left = manual.refund({});
    assert.ok('reversals' in left);
    assert.deepEqual(
      left.reversals.map((r) => [r.points, r.awards.map((a) => a.points)]),
      [[30, [20, 10]]],
    );
  });

  it('skips awards without a credit', () => {
    const refunds = new OrderRefunds(order, [{ rule_id: 'rul_1', points: 0, entry_id: null }, award(100)], [], new Map([['ent_1', 0]]));
    // issue 9 (refund results): ent_1 holds one award; its rule_id was null because the order had another (uncredited) award
    assert.deepEqual(reversed(refunds.refund({})), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 100 }]);
  });

  it('weighs the items of a discounted order by what was paid for them, as they earned', () => {
    // ¥2 paid for three ¥1 lines: 67, 67 and 66 fen (largest remainder), so the first line weighs 67/200
    const thirds: PaidOrder = { amount: 200, items: ['a', 'b', 'c'].map((sku) => ({ sku, quantity: 1, unit_price: 100 })) };
    assert.deepEqual(refundFraction(thirds, { items: [{ sku: 'a', quantity: 1 }] }), rat(67, 200));
    const byAmount = new OrderRefunds(thirds, [award(200)], [], new Map([['ent_1', 0]]));
    assert.deepEqual(reversed(byAmount.refund({ items: [{ sku: 'a', quantity: 1 }] })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 67 }]);
    // an item-level award's lines are the allocated amounts the engine earned on (¥162 paid of ¥180)
    const discounted: PaidOrder = {
      amount: 16_200,
      items: [
        { sku: 'A', quantity: 1, unit_price: 8_000 },
        { sku: 'B', quantity: 2, unit_price: 5_000 },
      ],
    };
    const lines = [
      { sku: 'A', amount: 7_200, multiplier: '1' },
      { sku: 'B', amount: 9_000, multiplier: '2' },
    ];
    const byItems = new OrderRefunds(discounted, [award(252, 'ent_1', 'rul_1', lines)], [], new Map([['ent_1', 0]]));
    assert.deepEqual(reversed(byItems.refund({ items: [{ sku: 'B', quantity: 1 }] })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 90 }]);
  });

  it('leaves what an order paid beyond its items (shipping) to refunds by amount or in full', () => {
    const shipped: PaidOrder = { amount: 5_800, items: [{ sku: 'A', quantity: 1, unit_price: 5_000 }] };
    assert.deepEqual(refundFraction(shipped, { items: [{ sku: 'A', quantity: 1 }] }), rat(50, 58));
    const refunds = new OrderRefunds(shipped, [award(58)], [], new Map([['ent_1', 0]]));
    assert.deepEqual(reversed(refunds.refund({ items: [{ sku: 'A', quantity: 1 }] })), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 50 }]);
    assert.deepEqual(reversed(refunds.refund({})), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 8 }]);
  });

  it('counts a SKU on several lines of the order as one: refunding some of its units takes the same share of each line', () => {
    const twice: PaidOrder = {
      amount: 4_000,
      items: [
        { sku: 'A', quantity: 1, unit_price: 1_000 },
        { sku: 'A', quantity: 1, unit_price: 3_000 },
      ],
    };
    assert.deepEqual(refundFraction(twice, { items: [{ sku: 'A', quantity: 1 }] }), rat(1, 2));
    assert.deepEqual(refundFraction(twice, { items: [{ sku: 'A', quantity: 2 }] }), ONE);
  });

  it('refuses items not in the order, and items of an order paid without items; a refused refund changes nothing', () => {
    const refunds = new OrderRefunds(order, [award(100)], [], new Map([['ent_1', 0]]));
    assert.deepEqual(refunds.refund({ items: [{ sku: 'Z', quantity: 1 }] }), { refused: 'sku Z is not in the order' });
    assert.deepEqual(reversed(refunds.refund({})), [{ entry_id: 'ent_1', rule_id: 'rul_1', points: 100 }]);
    const noItems = new OrderRefunds({ amount: 100 }, [award(100)], [], new Map());
    assert.deepEqual(noItems.refund({ items: [{ sku: 'A', quantity: 1 }] }), { refused: 'the order was paid without items: refund it by amount' });
  });
});

// ---- properties ---------------------------------------------------------------------------------

const SKUS = ['A', 'B', 'C', 'D'];
const arbOrder: fc.Arbitrary<PaidOrder> = fc
  .uniqueArray(fc.record({ sku: fc.constantFrom(...SKUS), quantity: fc.integer({ min: 1, max: 5 }), unit_price: fc.integer({ min: 0, max: 10_000 }) }), {
    selector: (i) => i.sku,
    minLength: 1,
    maxLength: 4,
  })
  .map((items) => ({ amount: items.reduce((s, i) => s + i.quantity * i.unit_price, 0), items }));
const arbMultiplier = fc.constantFrom('0', '1', '1.5', '2', '0.25', '3.333');
const arbLines = (o: PaidOrder) =>
  fc.option(fc.tuple(...o.items!.map((i) => arbMultiplier.map((multiplier) => ({ sku: i.sku, amount: i.quantity * i.unit_price, multiplier })))), {
    nil: undefined,
  });
const arbRefund = (o: PaidOrder): fc.Arbitrary<RefundRequest> =>
  fc.oneof(
    fc.constant({}),
    fc.integer({ min: 0, max: (o.amount ?? 0) * 2 + 1 }).map((amount) => ({ amount })),
    fc
      .uniqueArray(fc.constantFrom(...o.items!.map((i) => i.sku)), { minLength: 1 })
      .chain((skus) => fc.tuple(...skus.map((sku) => fc.integer({ min: 1, max: 6 }).map((quantity) => ({ sku, quantity })))).map((items) => ({ items }))),
  );
const arbAwards = (o: PaidOrder) =>
  fc
    .array(fc.record({ points: fc.integer({ min: 0, max: 1_000_000 }), entry: fc.constantFrom('ent_1', 'ent_2', null), lines: arbLines(o) }), {
      minLength: 1,
      maxLength: 4,
    })
    .map((as) => as.map((a, j): PaidAward => ({ rule_id: `rul_${j}`, points: a.points, entry_id: a.entry, ...(a.lines ? { lines: a.lines } : {}) })));
const earnedBy = (awards: PaidAward[]) => {
  const earned = new Map<string, number>();
  for (const a of awards) if (a.entry_id) earned.set(a.entry_id, (earned.get(a.entry_id) ?? 0) + a.points);
  return earned;
};

describe('refund arithmetic: properties', () => {
  it('a refund takes back a fraction between 0 and 1 of an award', () => {
    fc.assert(
      fc.property(
        arbOrder.chain((o) => fc.tuple(fc.constant(o), arbRefund(o), arbLines(o))),
        ([o, refund, lines]) => {
          const f = refundFraction(o, refund, lines);
          assert.ok(f.den > 0n && cmp(f, ZERO) >= 0 && cmp(f, ONE) <= 0, `${f.num}/${f.den}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('partial refunds, however many and however large, never take back more than a credit earned', () => {
    fc.assert(
      fc.property(
        arbOrder.chain((o) => fc.tuple(fc.constant(o), arbAwards(o), fc.array(arbRefund(o), { maxLength: 8 }))),
        ([o, awards, refunds]) => {
          const earned = earnedBy(awards);
          const refunder = new OrderRefunds(o, awards, [], new Map([...earned.keys()].map((e) => [e, 0])));
          const taken = new Map<string, number>();
          for (const r of refunds) {
            // a refund beyond what is left of the order is refused, and takes back nothing
            const plan = refunder.refund(r);
            if ('exceeds' in plan) continue;
            assert.ok('reversals' in plan);
            for (const rv of plan.reversals)
              assert.equal(
                rv.awards.reduce((sum, a) => sum + a.points, 0),
                rv.points,
                'the awards add up to the reversal',
              );
            for (const rv of reversed(plan)) {
              assert.ok(Number.isInteger(rv.points) && rv.points > 0);
              taken.set(rv.entry_id, (taken.get(rv.entry_id) ?? 0) + rv.points);
            }
          }
          for (const [entry, points] of taken) assert.ok(points <= earned.get(entry)!, `${entry}: ${points} > ${earned.get(entry)}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a refund is refused exactly when it asks more than is left of the order, and what is left never goes below nothing', () => {
    fc.assert(
      fc.property(
        arbOrder.chain((o) => fc.tuple(fc.constant(o), arbAwards(o), fc.array(arbRefund(o), { maxLength: 8 }))),
        ([o, awards, refunds]) => {
          const refunder = new OrderRefunds(o, awards, [], new Map());
          let left = o.amount!;
          const units = new Map(o.items!.map((i) => [i.sku, i.quantity]));
          for (const r of refunds) {
            const before = refunder.refundable;
            assert.equal(before.amount, left);
            const plan = refunder.refund(r);
            const tooMuch =
              r.amount !== undefined && o.amount! > 0
                ? r.amount > left
                : r.items !== undefined
                  ? r.items.some((i) => i.quantity > units.get(i.sku)!)
                  : left === 0 && o.amount! > 0;
            if (tooMuch) assert.ok('exceeds' in plan, JSON.stringify({ r, before }));
            if ('exceeds' in plan) {
              assert.deepEqual(refunder.refundable, before, 'a refused refund changes nothing');
              continue;
            }
            assert.ok('reversals' in plan);
            left = refunder.refundable.amount;
            for (const i of refunder.refundable.items!) units.set(i.sku, i.quantity);
            assert.ok(left >= 0 && [...units.values()].every((q) => q >= 0));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('partial refunds that together refund the whole order take back exactly what it earned', () => {
    const split = arbOrder.chain((o) =>
      fc.tuple(fc.constant(o), arbAwards(o), fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, o.amount! - 1) }), { maxLength: 6 }), fc.boolean()),
    );
    fc.assert(
      fc.property(split, ([o, awards, cuts, byItems]) => {
        const earned = earnedBy(awards);
        const refunder = new OrderRefunds(o, awards, [], new Map([...earned.keys()].map((e) => [e, 0])));
        // by amount: consecutive slices of the order's amount; by items: each unit on its own
        const requests: RefundRequest[] = byItems
          ? o.items!.flatMap((i) => Array.from({ length: i.quantity }, () => ({ items: [{ sku: i.sku, quantity: 1 }] })))
          : [0, ...[...cuts].filter((c) => c < o.amount!).sort((a, b) => a - b), o.amount!].flatMap((c, k, all) =>
              k === 0 ? [] : [{ amount: c - all[k - 1]! }],
            );
        const taken = new Map<string, number>();
        for (const r of requests) for (const rv of reversed(refunder.refund(r))) taken.set(rv.entry_id, (taken.get(rv.entry_id) ?? 0) + rv.points);
        for (const [entry, points] of earned) assert.equal(taken.get(entry) ?? 0, points, `${entry} of ${JSON.stringify({ o, awards, requests })}`);
      }),
      { numRuns: 300 },
    );
  });
});
