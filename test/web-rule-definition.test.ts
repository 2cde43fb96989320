import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type RuleDefinition as ApiRuleDefinition, compileRule, RuleDefinition } from '../src/modules/rules/index.ts';
import { createAjv } from '../src/shared/json-schema.ts';
import { fieldOf, fromFormValues, instantOf, toFormValues, wallClock } from '../web/console/routes/rules/definition.ts';
import { beautyShop, coffeeChain, fourTierLadder, offlineRatio } from './fixtures/seed-programs.ts';

// The rule editor's form values and the API's definition (web/console/routes/rules/definition.ts):
// what the editor loads, it saves back the same, in a shape the API accepts.
const validate = createAjv('body').compile(RuleDefinition);
const TZ = 'Asia/Shanghai';

// the console's type (from the typed client) and the API's are the same JSON; TypeScript sees two
const web = (def: ApiRuleDefinition) => def as unknown as Parameters<typeof toFormValues>[0];
const api = (def: ReturnType<typeof fromFormValues>) => def as unknown as ApiRuleDefinition;

function roundTrip(def: ApiRuleDefinition, currency = 'CNY'): ApiRuleDefinition {
  return api(fromFormValues(toFormValues(web(def), currency, TZ), def.condition, currency, TZ));
}

function accepted(def: ApiRuleDefinition): void {
  assert.ok(validate(structuredClone(def)), JSON.stringify(validate.errors));
  compileRule({ rule_id: 'rul_x', version: 1, created_at: '2026-01-01T00:00:00.000Z', definition: def });
}

const rich: ApiRuleDefinition = {
  name: '双十一门店',
  description: '门店消费 11.11 双倍',
  triggers: ['order.paid'],
  condition: { and: [{ '>=': [{ var: 'event.data.amount' }, 5000] }, { in: ['vip', { var: 'member.tags' }] }] },
  effect: { type: 'rate', points: 2, per_amount: 150, rounding: 'half_up', basis: 'items' },
  item_multipliers: [{ skus: ['latte'], categories: ['coffee'], multiplier: '1.5', label: '咖啡' }],
  multipliers: [
    { type: 'tier', values: { gold: '1.5', silver: '1' }, labels: { gold: '金卡' } },
    { type: 'date_window', from: '2026-11-10T16:00:00.000Z', to: '2026-11-11T16:00:00.000Z', multiplier: '2', label: '双十一' },
    { type: 'weekday', days: [3], multiplier: '1.2' },
    { type: 'monthly_day', days: [8, 18], multiplier: '2', label: '会员日' },
    { type: 'birthday_month', multiplier: '3' },
    { type: 'condition', condition: { '==': [{ var: 'event.data.channel' }, 'app'] }, multiplier: '1.1', label: 'App' },
  ],
  stacking: 'highest',
  priority: 10,
  exclusive: true,
  min_order_amount: 2050,
  caps: { per_event: 500, per_member: { day: 100, lifetime: 10000 }, budget: { period: 'month', points: 1000000 } },
  frequency: { max: 3, per: 'week' },
  schedule: { start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z', days_of_week: [1, 5, 6], hours: { from: '09:30', to: '22:00' } },
  targeting: { tiers: ['gold'], tags_any: ['vip', 'new'], tags_all: ['wechat'], exclude_tags: ['staff'] },
  pending_days: 14,
};

describe('rule editor: definition ↔ form', () => {
  test('the seed programs come back as they were, and the API accepts them', () => {
    for (const def of [...coffeeChain, ...beautyShop, ...fourTierLadder, ...offlineRatio]) {
      const back = roundTrip(def);
      const expected = def.effect.type === 'rate' ? { ...def, effect: { rounding: 'floor', ...def.effect } } : def;
      assert.deepEqual(back, expected, def.name);
      accepted(back);
    }
  });

  test('every part of a definition comes back: caps, schedule, targeting, each multiplier type, amounts in minor units', () => {
    const back = roundTrip(rich);
    assert.deepEqual(back, rich);
    accepted(back);
  });

  test('amounts are shown in currency units and sent in minor units (JPY has none)', () => {
    const form = toFormValues(web(rich), 'CNY', TZ);
    assert.equal(form.effect.per_amount_major, 1.5);
    assert.equal(form.min_order_amount_major, 20.5);
    const yen = toFormValues(web({ ...rich, effect: { type: 'rate', points: 1, per_amount: 100 } }), 'JPY', TZ);
    assert.equal(yen.effect.per_amount_major, 100);
    assert.equal(fromFormValues(yen, undefined, 'JPY', TZ).effect.per_amount, 100);
  });

  test("dates are picked as wall-clock times in the program's time zone", () => {
    const wall = wallClock('2026-11-10T16:00:00.000Z', TZ);
    assert.equal(wall.format('YYYY-MM-DD HH:mm'), '2026-11-11 00:00');
    assert.equal(instantOf(wall, TZ), '2026-11-10T16:00:00.000Z');
    assert.equal(instantOf(wallClock('2026-03-29T01:30:00.000Z', 'Europe/Berlin'), 'Europe/Berlin'), '2026-03-29T01:30:00.000Z');
  });

  test('empty parts of the form are left out, not sent empty', () => {
    const form = toFormValues({ name: 'x', triggers: ['checkin'], effect: { type: 'fixed', points: 5 } }, 'CNY', TZ);
    assert.deepEqual(fromFormValues({ ...form, targeting: { tiers: [] }, caps: { per_member: { day: null } } }, undefined, 'CNY', TZ), {
      name: 'x',
      triggers: ['checkin'],
      effect: { type: 'fixed', points: 5 },
    });
  });
});

describe('rule editor: where an API field error goes', () => {
  test('paths of the definition map to their form fields, in a save and in a preview', () => {
    const cases: [string, ReturnType<typeof fieldOf>][] = [
      ['/definition/name', { kind: 'form', name: ['name'] }],
      ['/definition/triggers/0', { kind: 'form', name: ['triggers'] }],
      ['/definition/effect/per_amount', { kind: 'form', name: ['effect', 'per_amount_major'] }],
      ['/draft_rule/definition/effect/points', { kind: 'form', name: ['effect', 'points'] }],
      ['/definition/condition/or/1/shout', { kind: 'condition' }],
      ['/draft_rule/definition/condition', { kind: 'condition' }],
      ['/definition/multipliers/2/values', { kind: 'form', name: ['multipliers', 2, 'entries'] }],
      ['/definition/multipliers/0/to', { kind: 'form', name: ['multipliers', 0, 'range'] }],
      ['/definition/multipliers/1/condition/var', { kind: 'form', name: ['multipliers', 1, 'condition_text'] }],
      ['/definition/multipliers/1/multiplier', { kind: 'form', name: ['multipliers', 1, 'multiplier'] }],
      ['/definition/item_multipliers/0', { kind: 'form', name: ['item_multipliers', 0, 'multiplier'] }],
      ['/definition/caps/per_member/week', { kind: 'form', name: ['caps', 'per_member', 'week'] }],
      ['/definition/caps/budget/points', { kind: 'form', name: ['caps', 'budget_points'] }],
      ['/definition/schedule/end', { kind: 'form', name: ['schedule', 'range'] }],
      ['/definition/schedule/hours/to', { kind: 'form', name: ['schedule', 'hours'] }],
      ['/definition/targeting/tags_any/0', { kind: 'form', name: ['targeting', 'tags_any'] }],
      ['/definition/min_order_amount', { kind: 'form', name: ['min_order_amount_major'] }],
      ['/effective_from', { kind: 'form', name: ['effective_from'] }],
      ['/definition', { kind: 'none' }],
      ['/type', { kind: 'none' }],
    ];
    for (const [path, target] of cases) assert.deepEqual(fieldOf(path), target, path);
  });
});
