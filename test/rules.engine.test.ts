import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRule, type EvalEvent, type EvalMember, evaluate, orderRules, type Usage } from '../src/modules/rules/rules.engine.ts';
import type { RuleDefinition } from '../src/modules/rules/rules.schemas.ts';
import { DomainError } from '../src/shared/errors.ts';
import { beautyShop, coffeeChain, fourTierLadder, offlineRatio } from './fixtures/seed-programs.ts';

const program = { id: 'prg_t', time_zone: 'Asia/Shanghai', currency: 'CNY', pending_days: 7 };
const member = (over: Partial<EvalMember> = {}): EvalMember => ({ id: 'mbr_t', tier: null, tags: [], birthday: null, attributes: {}, ...over });
const at = (iso: string) => new Date(iso);
// Wednesday 10 June 2026, 14:00 in Shanghai
const WED = at('2026-06-10T06:00:00Z');
const order = (amount: number, extra: Record<string, unknown> = {}, occurred = WED): EvalEvent => ({
  id: 'e1',
  type: 'order.paid',
  occurred_at: occurred,
  data: { amount, ...extra },
});
const compile = (defs: RuleDefinition[]) =>
  orderRules(defs.map((definition, i) => compileRule({ rule_id: `rul_${i}`, version: 1, created_at: `2026-01-0${i + 1}`, definition })));
const run = (defs: RuleDefinition[], ev: EvalEvent, m = member(), usage?: Usage) => evaluate(compile(defs), ev, m, program, WED, usage);
const rate = (over: Partial<RuleDefinition> = {}): RuleDefinition => ({
  name: 'r',
  triggers: ['order.paid'],
  effect: { type: 'rate', points: 1, per_amount: 100 },
  ...over,
});

describe('seed programs', () => {
  it('coffee chain: ¥100 earns 100 for silver and 150 for gold, explained', () => {
    assert.equal(run(coffeeChain, order(10_000), member({ tier: 'silver' })).total, 100);
    const gold = run(coffeeChain, order(10_000), member({ tier: 'gold' }));
    assert.equal(gold.total, 150);
    assert.equal(gold.awards[0]!.explanation.text, '150 = ¥100 × 1 pt/¥ × 1.5 (金卡)');
    assert.deepEqual(gold.awards[0]!.explanation.multipliers, [{ type: 'tier', label: '金卡', value: '1.5' }]);
  });

  it('beauty shop: purchases with the new-product zone at 2×, reviews, photo reviews, shares, check-ins, streaks, invites', () => {
    // the amount paid is what the items come to (a discounted order earns on what was paid: below)
    const basket = order(18_000, {
      items: [
        { sku: 'lipstick', category: 'makeup', quantity: 1, unit_price: 8_000 },
        { sku: 'serum-new', category: 'new', quantity: 2, unit_price: 5_000 },
      ],
    });
    const purchase = run(beautyShop, basket);
    assert.equal(purchase.total, 80 + 200);
    assert.equal(purchase.awards[0]!.explanation.text, '280 = (¥80 + ¥100 × 2 (新品尝鲜)) × 1 pt/¥');
    const ev = (type: string, data: Record<string, unknown> = {}): EvalEvent => ({ id: 'e', type, occurred_at: WED, data });
    assert.equal(run(beautyShop, ev('review.posted', { has_photo: false })).total, 20);
    assert.equal(run(beautyShop, ev('review.posted', { has_photo: true })).total, 50);
    assert.equal(run(beautyShop, ev('content.shared')).total, 10);
    assert.equal(run(beautyShop, ev('checkin', { streak_days: 3 })).total, 5);
    assert.equal(run(beautyShop, ev('checkin', { streak_days: 7 })).total, 5 + 30);
    assert.equal(run(beautyShop, ev('referral.completed')).total, 200);
  });

  it('four-tier ladder: 1× / 1.2× / 1.5× / 2×', () => {
    assert.deepEqual(
      ['bronze', 'silver', 'gold', 'diamond'].map((tier) => run(fourTierLadder, order(10_000), member({ tier })).total),
      [100, 120, 150, 200],
    );
  });

  it('offline 0.8×: ¥100 in store earns 80, online 100', () => {
    assert.equal(run(offlineRatio, order(10_000, { channel: 'store' })).total, 80);
    assert.equal(run(offlineRatio, order(10_000, { channel: 'online' })).total, 100);
    assert.equal(run(offlineRatio, order(10_000, { channel: 'store' })).awards[0]!.explanation.text, '80 = ¥100 × 1 pt/¥ × 0.8 (门店)');
  });
});

describe('rule engine', () => {
  it('rounds once, after all multipliers, by the named policy', () => {
    // ¥99.99 × 0.8 = 79.992
    for (const [rounding, expected] of [
      ['floor', 79],
      ['half_up', 80],
      ['ceil', 80],
    ] as const) {
      const r = run(
        offlineRatio.map((d) => ({ ...d, effect: { ...d.effect, rounding } })),
        order(9_999, { channel: 'store' }),
      );
      assert.equal(r.total, expected, rounding);
      assert.equal(r.awards[0]!.explanation.exact, '79.992');
    }
  });

  it('stacks multipliers by multiply, add or highest', () => {
    const multipliers: RuleDefinition['multipliers'] = [
      { type: 'weekday', days: [3], multiplier: '2', label: '周三双倍' },
      { type: 'tier', values: { gold: '1.5' }, labels: { gold: '金卡' } },
    ];
    const ev = order(10_000);
    assert.equal(run([rate({ multipliers })], ev, member({ tier: 'gold' })).total, 300);
    assert.equal(run([rate({ multipliers, stacking: 'add' })], ev, member({ tier: 'gold' })).total, 250);
    assert.equal(run([rate({ multipliers, stacking: 'highest' })], ev, member({ tier: 'gold' })).total, 200);
    assert.equal(
      run([rate({ multipliers, stacking: 'add' })], ev, member({ tier: 'gold' })).awards[0]!.explanation.text,
      '250 = ¥100 × 1 pt/¥ × 2.5 (周三双倍 2 + 金卡 1.5)',
    );
  });

  it('applies date windows, the monthly member day and the birthday month in the program time zone', () => {
    const multipliers: RuleDefinition['multipliers'] = [
      { type: 'date_window', from: '2026-06-17T16:00:00Z', to: '2026-06-18T16:00:00Z', multiplier: '3', label: '618' },
      { type: 'monthly_day', days: [8], multiplier: '2', label: '会员日' },
      { type: 'birthday_month', multiplier: '2', label: '生日月' },
    ];
    // 618 in Shanghai starts at 16:00 UTC on the 17th
    assert.equal(run([rate({ multipliers })], order(10_000, {}, at('2026-06-17T16:30:00Z'))).total, 300);
    assert.equal(run([rate({ multipliers })], order(10_000, {}, at('2026-06-17T15:30:00Z'))).total, 100);
    // 8 July, 00:30 in Shanghai, is still 7 July in UTC: member day counts local time
    assert.equal(run([rate({ multipliers })], order(10_000, {}, at('2026-07-07T16:30:00Z'))).total, 200);
    assert.equal(run([rate({ multipliers })], order(10_000), member({ birthday: '1990-06-21' })).total, 200);
  });

  it('applies item multipliers for one SKU at 3×, taking the highest match per item', () => {
    const def = rate({
      effect: { type: 'rate', points: 1, per_amount: 100, basis: 'items' },
      item_multipliers: [
        { skus: ['hero'], multiplier: '3' },
        { categories: ['new'], multiplier: '2' },
      ],
    });
    const ev = order(4_000, {
      items: [
        { sku: 'hero', category: 'new', quantity: 1, unit_price: 1_000 },
        { sku: 'other', quantity: 3, unit_price: 1_000 },
      ],
    });
    const r = run([def], ev);
    assert.equal(r.total, 30 + 30);
    assert.deepEqual(r.awards[0]!.item_weights, [
      { sku: 'hero', weight: '3000' },
      { sku: 'other', weight: '3000' },
    ]);
  });

  it('earns item-based effects of a discounted order on the amount paid, allocated over the lines by largest remainder', () => {
    const items = [
      { sku: 'lipstick', category: 'makeup', quantity: 1, unit_price: 8_000 },
      { sku: 'serum-new', category: 'new', quantity: 2, unit_price: 5_000 },
    ];
    // a ¥18 coupon on ¥180 of items: ¥162 paid, 90% of each line
    const purchase = run(beautyShop, order(16_200, { items }));
    assert.equal(purchase.total, 72 + 180);
    const e = purchase.awards[0]!.explanation;
    assert.equal(e.text, '252 = (¥72 + ¥90 × 2 (新品尝鲜)) × 1 pt/¥ (paid ¥162 of ¥180)');
    assert.deepEqual(
      e.items!.map((i) => [i.sku, i.list_amount, i.amount]),
      [
        ['lipstick', 8_000, 7_200],
        ['serum-new', 10_000, 9_000],
      ],
    );
    assert.deepEqual(e.base, { kind: 'rate', amount: 16_200, list_amount: 18_000, points: 1, per_amount: 100, value: '252' });
    // ¥1 off three lines of ¥1: 200 fen over 300, the first two lines get the units left over
    const thirds = run(
      [rate({ effect: { type: 'rate', points: 1, per_amount: 1, basis: 'items' } })],
      order(200, { items: ['a', 'b', 'c'].map((sku) => ({ sku, quantity: 1, unit_price: 100 })) }),
    );
    assert.deepEqual(
      thirds.awards[0]!.explanation.items!.map((i) => i.amount),
      [67, 67, 66],
    );
    assert.equal(thirds.total, 200);
    // a rule on the order's amount is unchanged: it always earned on what was paid
    assert.equal(run([rate()], order(16_200, { items })).total, 162);
  });

  it('earns items at their price when the order comes to more than its items (shipping, a fee): no upscaling', () => {
    const items = [{ sku: 'serum-new', category: 'new', quantity: 1, unit_price: 5_000 }];
    const r = run(beautyShop, order(5_800, { items }));
    assert.equal(r.total, 100);
    assert.equal(r.awards[0]!.explanation.text, '100 = (¥50 × 2 (新品尝鲜)) × 1 pt/¥');
    assert.equal(r.awards[0]!.explanation.base.kind === 'rate' && r.awards[0]!.explanation.base.list_amount, undefined);
  });

  it("warns when the member's tier is one no rule in force knows, which earns as no tier", () => {
    const gold = run(coffeeChain, order(10_000), member({ tier: 'platinum' }));
    assert.equal(gold.total, 100);
    assert.deepEqual(gold.warnings, [
      {
        code: 'unknown_tier',
        tier: 'platinum',
        message: 'The member\'s tier "platinum" is not one the rules in force know (gold, silver): it earns as no tier',
      },
    ]);
    // known tiers, no tier, and rules that know no tiers at all: nothing to say
    assert.deepEqual(run(coffeeChain, order(10_000), member({ tier: 'gold' })).warnings, []);
    assert.deepEqual(run(coffeeChain, order(10_000), member()).warnings, []);
    assert.deepEqual(run([rate()], order(10_000), member({ tier: 'platinum' })).warnings, []);
    // targeting's tiers count, and so do the strings of a condition on member.tier; on every event type
    assert.deepEqual(run([rate({ targeting: { tiers: ['vip'] } })], order(10_000), member({ tier: 'vip' })).warnings, []);
    const byCondition = [rate({ condition: { in: [{ var: 'member.tier' }, ['vip', 'staff']] } })];
    assert.deepEqual(run(byCondition, order(10_000), member({ tier: 'staff' })).warnings, []);
    assert.equal(run(byCondition, { id: 'e', type: 'checkin', occurred_at: WED, data: {} }, member({ tier: 'VIP' })).warnings[0]?.tier, 'VIP');
  });

  it('caps per event, and per member per day using what was already awarded', () => {
    assert.equal(run([rate({ caps: { per_event: 50 } })], order(10_000)).total, 50);
    const usage: Usage = { points: (_r, from) => (from ? 70 : 500), count: () => 0 };
    const r = run([rate({ caps: { per_member: { day: 100, lifetime: 10_000 } } })], order(10_000), member(), usage);
    assert.equal(r.total, 30);
    assert.equal(r.awards[0]!.explanation.text, '100 = ¥100 × 1 pt/¥ → 30 (daily cap 100)');
    const full: Usage = { points: () => 100, count: () => 0 };
    assert.deepEqual(
      run([rate({ caps: { per_member: { day: 100 } } })], order(10_000), member(), full).skipped.map((s) => s.reason),
      ['capped'],
    );
  });

  it('limits frequency: review points at most 5 a day', () => {
    const five: Usage = { points: () => 0, count: () => 5 };
    const ev: EvalEvent = { id: 'e', type: 'review.posted', occurred_at: WED, data: { has_photo: false } };
    assert.equal(run(beautyShop, ev, member(), five).total, 0);
    assert.equal(run(beautyShop, ev, member(), { points: () => 0, count: () => 4 }).total, 20);
  });

  it('honours schedule (dates, weekdays, hours in local time), targeting and minimum order amount', () => {
    const ev = order(10_000); // Wednesday 14:00 local
    assert.equal(run([rate({ schedule: { days_of_week: [3], hours: { from: '12:00', to: '15:00' } } })], ev).total, 100);
    assert.equal(run([rate({ schedule: { hours: { from: '15:00', to: '18:00' } } })], ev).total, 0);
    assert.equal(run([rate({ schedule: { start: '2026-07-01T00:00:00Z' } })], ev).total, 0);
    assert.equal(run([rate({ targeting: { tiers: ['gold'] } })], ev, member({ tier: 'silver' })).total, 0);
    assert.equal(run([rate({ targeting: { tags_any: ['vip', 'kol'] } })], ev, member({ tags: ['kol'] })).total, 100);
    assert.equal(run([rate({ targeting: { exclude_tags: ['staff'] } })], ev, member({ tags: ['staff'] })).total, 0);
    assert.equal(run([rate({ min_order_amount: 20_000 })], ev).total, 0);
  });

  it('evaluates JSONLogic conditions over event, member, program and now', () => {
    const def = rate({ condition: { and: [{ '>=': [{ var: 'event.data.amount' }, 5_000] }, { in: ['vip', { var: 'member.tags' }] }] } });
    assert.equal(run([def], order(10_000), member({ tags: ['vip'] })).total, 100);
    assert.equal(run([def], order(10_000), member({ tags: [] })).total, 0);
  });

  it('lets an exclusive rule of higher priority stop lower ones', () => {
    const promo = rate({ name: 'promo', priority: 10, exclusive: true, effect: { type: 'fixed', points: 500 }, min_order_amount: 50_000 });
    const base = rate({ name: 'base' });
    assert.equal(run([base, promo], order(60_000)).total, 500);
    assert.deepEqual(
      run([base, promo], order(60_000)).skipped.map((s) => s.reason),
      ['excluded'],
    );
    assert.equal(run([base, promo], order(10_000)).total, 100, 'not awarding, it excludes nothing');
  });

  it('gives order points the program pending period and other points none', () => {
    assert.equal(run(coffeeChain, order(100)).awards[0]!.pending_days, 7);
    assert.equal(run(beautyShop, { id: 'e', type: 'content.shared', occurred_at: WED, data: {} }).awards[0]!.pending_days, 0);
  });

  it('refuses invalid rules at save time with the path of the problem', () => {
    const bad = (definition: RuleDefinition, path: string) =>
      assert.throws(
        () => compileRule({ rule_id: 'rul_x', version: 1, created_at: '', definition }),
        (e: unknown) => e instanceof DomainError && e.errors?.[0]?.path === path,
      );
    bad(rate({ condition: { and: [{ '>=': [1, 2] }, { frobnicate: [1] }] } }), '/definition/condition/and/1/frobnicate');
    bad(rate({ condition: { '>': [1, 2], '<': [1, 2] } }), '/definition/condition');
    bad({ name: 'x', triggers: ['order.paid'], effect: { type: 'rate', points: 1 } }, '/definition/effect/per_amount');
    bad(rate({ multipliers: [{ type: 'weekday', multiplier: '2' }] }), '/definition/multipliers/0/days');
    bad(rate({ multipliers: [{ type: 'tier', values: { gold: '2' }, days: [1] }] }), '/definition/multipliers/0/days');
    bad(rate({ schedule: { hours: { from: '18:00', to: '09:00' } } }), '/definition/schedule/hours/to');
  });
});
