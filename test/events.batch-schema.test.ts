import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ValidateFunction } from 'ajv';
import { createAjv } from '../src/shared/json-schema.ts';
import { coffeeChain } from './fixtures/seed-programs.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';

type Json = Record<string, any>;

/**
 * The schema as declared, made strict: an object schema that lists its properties and says nothing
 * of others allows no others. The batch response is serialized by hand (not by the response
 * schema, which would drop undeclared fields), so a field the document does not declare must fail.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, closed(s)])) : closed(v)]),
  );
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined && out.patternProperties === undefined)
    out.additionalProperties = false;
  return out;
}

forEachDatabase('the batch route answers what it declares', (getDb) => {
  let t: TestApp;
  let validateBatch: ValidateFunction<Json>;
  let validateProblem: ValidateFunction;
  before(async () => {
    t = await createTestApp(getDb(), '2026-06-10T06:00:00.000Z');
    const spec = (await t.call('GET', '/openapi.json', { key: null })).json();
    const op = spec.paths['/v1/events/batch'].post;
    // the API's own Ajv setup (its date-time is the API's: an instant within 1970–9999), filling in nothing
    const ajv = createAjv('payload');
    validateBatch = ajv.compile<Json>(closed(op.responses['200'].content['application/json'].schema) as object);
    // the per-event errors are problem documents, as the operation's own errors
    validateProblem = ajv.compile(op.responses['422'].content['application/problem+json'].schema);
  });
  after(() => t.close());

  it('answers a mixed batch (new, replayed, invalid, refund, 422, 404, repeated, registration) exactly as its OpenAPI response schema says', async () => {
    const program = (await t.call('POST', '/v1/programs', { body: { name: 'P', pending_days: 0 } })).json().id as string;
    for (const definition of coffeeChain) assert.equal((await t.call('POST', `/v1/programs/${program}/rules`, { body: { definition } })).statusCode, 201);
    const gold = (await t.call('POST', `/v1/programs/${program}/members`, { body: { external_id: unique('m'), tier: 'gold' } })).json().id as string;
    const paidBefore = {
      id: unique('ord'),
      type: 'order.paid',
      program_id: program,
      member_id: gold,
      data: {
        order_id: unique('o'),
        amount: 10_000,
        currency: 'CNY',
        items: [
          { sku: 'latte', quantity: 2, unit_price: 3_000 },
          { sku: 'cake', quantity: 1, unit_price: 4_000 },
        ],
      },
      metadata: { till: '7' },
    };
    assert.equal((await t.call('POST', '/v1/events', { body: paidBefore, key: t.keys.integration })).statusCode, 201);

    const fresh = { id: unique('ord'), type: 'order.paid', member_id: gold, data: { order_id: unique('o'), amount: 2_500, currency: 'CNY' } };
    const events = [
      fresh,
      paidBefore,
      { id: unique('bad'), type: 'order.paid', member_id: gold, data: { order_id: unique('o'), amount: 'ten', currency: 'CNY' } },
      { id: unique('ref'), type: 'order.refunded', member_id: gold, data: { order_id: paidBefore.data.order_id, items: [{ sku: 'latte', quantity: 1 }] } },
      { id: unique('ref'), type: 'order.refunded', member_id: gold, data: { order_id: unique('never-paid') } },
      { id: unique('ord'), type: 'order.paid', member_id: 'mbr_nobody', data: { order_id: unique('o'), amount: 100, currency: 'CNY' } },
      fresh,
      { id: unique('ord'), type: 'order.paid', program_id: 'prg_nowhere', member_id: gold, data: { order_id: unique('o'), amount: 100, currency: 'CNY' } },
      { id: unique('reg'), type: 'member.registered', external_member_id: unique('new'), data: { name: '小王' } },
    ];
    const res = await t.call('POST', '/v1/events/batch', { body: { program_id: program, events }, key: t.keys.integration });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body: Json = res.json();
    assert.deepEqual(
      body.results.map((r: Json) => r.status),
      [201, 200, 400, 201, 422, 404, 200, 404, 201],
    );
    assert.deepEqual(
      body.results.map((r: Json) => r.error?.code ?? null),
      [null, null, 'VALIDATION_FAILED', null, 'ORDER_NOT_FOUND', 'MEMBER_NOT_FOUND', null, 'PROGRAM_NOT_FOUND', null],
    );
    assert.ok(body.results[3].result.points < 0 && body.results[3].result.reversals.length === 1, JSON.stringify(body.results[3]));

    assert.ok(validateBatch(body), JSON.stringify(validateBatch.errors));
    // one JSON text as JSON.stringify writes it: no duplicate keys, nothing but the values
    assert.equal(JSON.stringify(body), res.body);
    for (const item of body.results) {
      if (item.error) {
        assert.ok(validateProblem(item.error), JSON.stringify(validateProblem.errors));
        assert.equal(item.error.status, item.status);
        assert.equal(item.error.instance, `/v1/events/batch#/events/${item.index}`);
        assert.equal(item.result, undefined);
      } else {
        // a result is what the event stores: reading it back gives the same
        assert.deepEqual((await t.call('GET', `/v1/events/${item.result.id}`)).json(), item.result);
      }
    }
    assert.deepEqual(body.results[6].result, body.results[0].result);
    assert.deepEqual([body.processed, body.duplicates, body.rejected], [3, 2, 4]);
    assert.equal(
      body.points,
      body.results.reduce((s: number, r: Json) => s + (r.status === 201 ? r.result.points : 0), 0),
    );
  });

  it('would notice an answer that strays from the schema', () => {
    const item = { index: 0, event_id: 'e', status: 201 };
    const batch = { object: 'batch', processed: 1, duplicates: 0, rejected: 0, points: 0, results: [item] };
    assert.ok(validateBatch(batch), JSON.stringify(validateBatch.errors));
    assert.equal(validateBatch({ ...batch, results: [{ ...item, status: '201' }] }), false);
    assert.equal(validateBatch({ ...batch, results: [{ ...item, undeclared: true }] }), false);
    assert.equal(validateBatch({ ...batch, total: 1 }), false);
  });
});
