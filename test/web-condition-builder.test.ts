import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileLogic } from '../src/modules/rules/index.ts';
import {
  type ConditionGroup,
  type ConditionRow,
  emptyGroup,
  fromJsonLogic,
  incompleteRows,
  operatorsFor,
  parseValue,
  toJsonLogic,
} from '../web/console/routes/rules/condition-builder/logic.ts';

const row = (field: string, operator: ConditionRow['operator'], value: ConditionRow['value']): ConditionRow => ({ kind: 'row', field, operator, value });
const all = (...children: ConditionGroup['children']): ConditionGroup => ({ kind: 'group', combinator: 'all', children });
const any = (...children: ConditionGroup['children']): ConditionGroup => ({ kind: 'group', combinator: 'any', children });

function parsed(logic: unknown): ConditionGroup {
  const result = fromJsonLogic(logic);
  assert.ok(result.ok, `expected ${JSON.stringify(logic)} to parse: ${JSON.stringify(!result.ok && result.error)}`);
  return result.tree;
}

/** Evaluates with the rule engine's own JSONLogic (what a saved rule would do). */
function holds(logic: unknown, data: unknown): boolean {
  return Boolean(compileLogic(logic, '/condition')(data));
}

describe('condition builder: toJsonLogic', () => {
  test('no rows is no condition; empty nested groups are left out', () => {
    assert.equal(toJsonLogic(emptyGroup()), undefined);
    assert.equal(toJsonLogic(all(any(), all())), undefined);
    assert.deepEqual(toJsonLogic(all(row('event.data.amount', '>=', 10000), any())), { '>=': [{ var: 'event.data.amount' }, 10000] });
  });

  test('a single row is its comparison; several are and/or; groups nest', () => {
    assert.deepEqual(toJsonLogic(all(row('member.tier', '==', 'gold'))), { '==': [{ var: 'member.tier' }, 'gold'] });
    assert.deepEqual(toJsonLogic(all(row('event.data.amount', '>', 100), any(row('event.data.channel', '==', 'store'), row('member.tier', '!=', 'silver')))), {
      and: [
        { '>': [{ var: 'event.data.amount' }, 100] },
        { or: [{ '==': [{ var: 'event.data.channel' }, 'store'] }, { '!=': [{ var: 'member.tier' }, 'silver'] }] },
      ],
    });
    assert.deepEqual(toJsonLogic(any(row('a', '<', 1), row('b', '<=', 2))), { or: [{ '<': [{ var: 'a' }, 1] }, { '<=': [{ var: 'b' }, 2] }] });
  });

  test('between, in, not in and contains', () => {
    assert.deepEqual(toJsonLogic(all(row('event.data.amount', 'between', [100, 500]))), { '<=': [100, { var: 'event.data.amount' }, 500] });
    assert.deepEqual(toJsonLogic(all(row('event.data.channel', 'in', ['store', 'app']))), { in: [{ var: 'event.data.channel' }, ['store', 'app']] });
    assert.deepEqual(toJsonLogic(all(row('event.data.channel', 'not_in', ['store']))), { '!': { in: [{ var: 'event.data.channel' }, ['store']] } });
    assert.deepEqual(toJsonLogic(all(row('member.tags', 'contains', 'vip'))), { in: ['vip', { var: 'member.tags' }] });
  });

  test('what it writes means what the builder says, evaluated by the engine', () => {
    const between = toJsonLogic(all(row('event.data.amount', 'between', [100, 500])));
    assert.equal(holds(between, { event: { data: { amount: 100 } } }), true);
    assert.equal(holds(between, { event: { data: { amount: 500 } } }), true);
    assert.equal(holds(between, { event: { data: { amount: 501 } } }), false);
    assert.equal(holds(between, { event: { data: { amount: 99 } } }), false);
    const tags = toJsonLogic(all(row('member.tags', 'contains', 'vip')));
    assert.equal(holds(tags, { member: { tags: ['new', 'vip'] } }), true);
    assert.equal(holds(tags, { member: { tags: ['new'] } }), false);
    const text = toJsonLogic(all(row('event.data.sku', 'contains', 'latte')));
    assert.equal(holds(text, { event: { data: { sku: 'iced-latte-l' } } }), true);
    assert.equal(holds(text, { event: { data: { sku: 'mocha' } } }), false);
    const notIn = toJsonLogic(all(row('event.data.channel', 'not_in', ['store', 'app'])));
    assert.equal(holds(notIn, { event: { data: { channel: 'mini_program' } } }), true);
    assert.equal(holds(notIn, { event: { data: { channel: 'store' } } }), false);
    const nested = toJsonLogic(all(row('event.data.amount', '>=', 10000), any(row('member.tier', '==', 'gold'), row('member.tags', 'contains', 'vip'))));
    assert.equal(holds(nested, { event: { data: { amount: 10000 } }, member: { tier: 'silver', tags: ['vip'] } }), true);
    assert.equal(holds(nested, { event: { data: { amount: 10000 } }, member: { tier: 'silver', tags: [] } }), false);
    assert.equal(holds(nested, { event: { data: { amount: 9999 } }, member: { tier: 'gold', tags: [] } }), false);
  });
});

describe('condition builder: fromJsonLogic', () => {
  test('no condition and true are the empty tree', () => {
    assert.deepEqual(parsed(undefined), emptyGroup());
    assert.deepEqual(parsed(true), emptyGroup());
  });

  test('reads back what it writes', () => {
    const trees = [
      all(row('event.data.amount', '>=', 10000)),
      all(row('event.data.amount', 'between', [100, 500]), row('member.tier', 'in', ['gold', 'diamond'])),
      any(row('member.tags', 'contains', 'vip'), all(row('event.data.channel', 'not_in', ['store']), row('event.data.has_photo', '==', true))),
      all(any(row('a', '==', null), row('b', '!=', 'x')), any(row('c', '<', 1.5), all(row('d', '>', -2)))),
    ];
    for (const tree of trees) assert.deepEqual(parsed(toJsonLogic(tree)), tree);
  });

  test('a comparison with the variable on the right is flipped; var with one element is read', () => {
    assert.deepEqual(parsed({ '<': [100, { var: 'event.data.amount' }] }), all(row('event.data.amount', '>', 100)));
    assert.deepEqual(parsed({ '>=': [7, { var: ['event.data.streak_days'] }] }), all(row('event.data.streak_days', '<=', 7)));
    assert.deepEqual(parsed({ '==': ['gold', { var: 'member.tier' }] }), all(row('member.tier', '==', 'gold')));
    // the seed's 7-day streak condition
    assert.deepEqual(parsed({ '==': [{ var: 'event.data.streak_days' }, 7] }), all(row('event.data.streak_days', '==', 7)));
  });

  test("truthy and falsy: !! and ! of a field (the demo's review without a photo)", () => {
    assert.deepEqual(parsed({ '!': { var: 'event.data.has_photo' } }), all(row('event.data.has_photo', 'falsy', null)));
    assert.deepEqual(parsed({ '!!': [{ var: 'member.tags' }] }), all(row('member.tags', 'truthy', null)));
    const tree = all(row('event.data.has_photo', 'falsy', null), row('member.birthday', 'truthy', null));
    assert.deepEqual(toJsonLogic(tree), { and: [{ '!': { var: 'event.data.has_photo' } }, { '!!': { var: 'member.birthday' } }] });
    assert.deepEqual(parsed(toJsonLogic(tree)), tree);
    const falsy = toJsonLogic(all(row('event.data.has_photo', 'falsy', null)));
    assert.equal(holds(falsy, { event: { data: { has_photo: false } } }), true);
    assert.equal(holds(falsy, { event: { data: {} } }), true);
    assert.equal(holds(falsy, { event: { data: { has_photo: true } } }), false);
  });

  test('refuses what it cannot show, saying where and why', () => {
    const cases: [unknown, string, string, string?][] = [
      [{ '===': [{ var: 'a' }, 1] }, 'unsupported_operator', '/===', '==='],
      [{ and: [{ '>': [{ var: 'a' }, 1] }, { substr: [{ var: 'b' }, 0, 2] }] }, 'unsupported_operator', '/and/1/substr', 'substr'],
      [{ '>': [{ var: 'a' }, { var: 'b' }] }, 'bad_value', '/>/1'],
      [{ '==': [1, 2] }, 'not_a_variable', '/==', '=='],
      [{ '<': [1, { var: 'a' }, 3] }, 'unsupported_shape', '/<', '<'],
      [{ '==': [{ var: ['a', 0] }, 1] }, 'not_a_variable', '/==', '=='],
      [{ '!': { '==': [{ var: 'a' }, 1] } }, 'unsupported_operator', '/!', '!'],
      [{ a: 1, b: 2 }, 'unsupported_shape', ''],
      [false, 'unsupported_shape', ''],
      [{ or: { '==': [{ var: 'a' }, 1] } }, 'unsupported_shape', '/or', 'or'],
      [{ in: [{ var: 'a' }, { var: 'b' }] }, 'bad_value', '/in/0'],
      [{ '!': { in: ['x', { var: 'tags' }] } }, 'unsupported_shape', '/!/in', '!'],
    ];
    for (const [logic, code, path, operator] of cases) {
      const result = fromJsonLogic(logic);
      assert.equal(result.ok, false, JSON.stringify(logic));
      if (!result.ok) {
        assert.equal(result.error.code, code, JSON.stringify(logic));
        assert.equal(result.error.path, path, JSON.stringify(logic));
        assert.equal(result.error.operator, operator, JSON.stringify(logic));
      }
    }
  });

  test('an operator key with a slash is escaped in the path', () => {
    const result = fromJsonLogic({ or: [{ 'a/b': 1 }] });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.path, '/or/0/a~1b');
  });
});

describe('condition builder: values and operators', () => {
  test('typed values follow the field type', () => {
    assert.equal(parseValue('10000', 'number'), 10000);
    assert.equal(parseValue('1.5', 'number'), 1.5);
    assert.equal(parseValue('', 'number'), null);
    assert.equal(parseValue('abc', 'number'), 'abc');
    assert.equal(parseValue('007', 'string'), '007');
    assert.equal(parseValue('true', 'boolean'), true);
    assert.equal(parseValue('false', 'boolean'), false);
    assert.equal(parseValue('42', 'unknown'), 42);
    assert.equal(parseValue('gold', 'unknown'), 'gold');
  });

  test('operators by field type', () => {
    assert.deepEqual(operatorsFor('array'), ['contains', 'truthy', 'falsy']);
    assert.deepEqual(operatorsFor('boolean'), ['==', '!=', 'truthy', 'falsy']);
    assert.ok(operatorsFor('number').includes('between'));
    assert.ok(!operatorsFor('string').includes('>'));
  });

  test('rows without a field, or a between missing an end, are incomplete', () => {
    assert.equal(incompleteRows(all(row('a', '==', 1))), 0);
    assert.equal(incompleteRows(all(row('', '==', 1), any(row('b', 'between', [1, null]), row('c', 'between', [1, 2])))), 2);
  });
});
