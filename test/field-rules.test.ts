/**
 * Field errors name what a field breaks (rule) with its figures (params), so that a client can say
 * it in its own language (docs/api.md, "Field errors"): every Ajv error the API can give becomes a
 * rule of FIELD_RULES, with text or number params only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateLogic } from '../src/modules/rules/rules.engine.ts';
import { DomainError, FIELD_RULES } from '../src/shared/errors.ts';
import { createAjv, fieldErrors } from '../src/shared/json-schema.ts';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'points'],
  properties: {
    name: { type: 'string', minLength: 2, maxLength: 4 },
    points: { type: 'integer', minimum: 1, maximum: 10, not: { const: 0 } },
    kind: { enum: ['a', 'b'] },
    code: { type: 'string', pattern: '^[A-Z]+$' },
    at: { type: 'string', format: 'date-time' },
    tags: { type: 'array', maxItems: 1, items: { type: 'string' } },
    metadata: { type: 'object', propertyNames: { maxLength: 3 }, 'x-json-limits': { maxDepth: 2, maxBytes: 40 } },
  },
};

const errorsOf = (value: unknown) => {
  const validate = createAjv('body').compile(schema);
  assert.equal(validate(value), false);
  return fieldErrors(validate.errors ?? [], 'body');
};
const ruleAt = (value: unknown, path: string) => {
  const e = errorsOf(value).find((x) => x.path === path);
  assert.ok(e, `an error at ${path}: ${JSON.stringify(errorsOf(value))}`);
  return { rule: e.rule, params: e.params };
};

describe('field rules', () => {
  it('names the JSON Schema keyword each field breaks, with its figures', () => {
    const ok = { name: 'abc', points: 5 };
    assert.deepEqual(ruleAt({ points: 5 }, '/name'), { rule: 'required', params: {} });
    assert.deepEqual(ruleAt({ ...ok, colour: 1 }, '/colour'), { rule: 'unknown_field', params: {} });
    assert.deepEqual(ruleAt({ ...ok, name: 7 }, '/name'), { rule: 'type', params: { type: 'string' } });
    assert.deepEqual(ruleAt({ ...ok, name: 'a' }, '/name'), { rule: 'minLength', params: { limit: 2 } });
    assert.deepEqual(ruleAt({ ...ok, name: 'abcde' }, '/name'), { rule: 'maxLength', params: { limit: 4 } });
    assert.deepEqual(ruleAt({ ...ok, points: 11 }, '/points'), { rule: 'maximum', params: { comparison: '<=', limit: 10 } });
    assert.deepEqual(ruleAt({ ...ok, points: -3 }, '/points'), { rule: 'minimum', params: { comparison: '>=', limit: 1 } });
    assert.deepEqual(ruleAt({ ...ok, kind: 'c' }, '/kind'), { rule: 'enum', params: { values: 'a, b' } });
    assert.deepEqual(ruleAt({ ...ok, code: 'abc' }, '/code'), { rule: 'pattern', params: { pattern: '^[A-Z]+$' } });
    assert.deepEqual(ruleAt({ ...ok, at: 'tomorrow' }, '/at'), { rule: 'format', params: { format: 'date-time' } });
    assert.deepEqual(ruleAt({ ...ok, tags: ['a', 'b'] }, '/tags'), { rule: 'maxItems', params: { limit: 1 } });
    assert.deepEqual(ruleAt({ ...ok, metadata: { long: 1 } }, '/metadata'), { rule: 'key_too_long', params: { limit: 3 } });
    assert.deepEqual(ruleAt({ ...ok, metadata: { a: { b: { c: 1 } } } }, '/metadata/a/b'), { rule: 'max_depth', params: { limit: 2 } });
    assert.deepEqual(ruleAt({ ...ok, metadata: { a: 'x'.repeat(40) } }, '/metadata'), { rule: 'max_bytes', params: { bytes: 48, limit: 40 } });
  });

  it('gives only rules of FIELD_RULES, with text or number params, and an English message beside them', () => {
    const all = errorsOf({ name: 7, points: 1.5, kind: 'c', code: 'x', at: 'x', tags: [1, 2], metadata: { long: [[[]]] }, colour: 1 });
    assert.ok(all.length >= 6, JSON.stringify(all));
    for (const e of all) {
      assert.ok(e.rule && Object.hasOwn(FIELD_RULES, e.rule), `${e.path}: ${e.rule}`);
      for (const v of Object.values(e.params ?? {})) assert.ok(typeof v === 'string' || typeof v === 'number', `${e.path}: ${JSON.stringify(e.params)}`);
      assert.ok(e.message.length > 0);
    }
  });

  it("names the API's own checks too (the JSONLogic of earning rules)", () => {
    const ruleOf = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof DomainError, String(err));
        const [e] = err.errors ?? [];
        return { path: e?.path, rule: e?.rule, params: e?.params };
      }
      assert.fail('no error');
    };
    assert.deepEqual(
      ruleOf(() => validateLogic({ shout: [1] }, '/definition/condition')),
      {
        path: '/definition/condition/shout',
        rule: 'jsonlogic_operator',
        params: {},
      },
    );
    assert.deepEqual(
      ruleOf(() => validateLogic({ '==': [1, 2], '!=': [1, 2] }, '/c')),
      { path: '/c', rule: 'jsonlogic', params: {} },
    );
  });
});
