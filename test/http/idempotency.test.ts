import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { unique } from '../helpers/factories.ts';
import { assertProblem, balance, createMember, createProgram, credit, hold, type Json, ok, unchanged } from './support.ts';

forEachDatabase('HTTP idempotency', (getDb) => {
  let t: TestApp;
  let programId: string;
  before(async () => {
    t = await createTestApp(getDb());
    programId = (await createProgram(t, { name: 'Idempotency program' })).id;
  });
  after(() => t.close());

  /** Two funded members and a credit entry of the first, fresh for each test. */
  const setup = async () => {
    const a = await createMember(t, programId);
    const b = await createMember(t, programId);
    const c = await credit(t, a.id, 100);
    await credit(t, b.id, 100);
    return { a: a.id as string, b: b.id as string, entryId: c.entry.id as string };
  };

  interface Write {
    name: string;
    status: number;
    url: (s: Awaited<ReturnType<typeof setup>>) => string;
    body: (s: Awaited<ReturnType<typeof setup>>) => Record<string, unknown>;
    other: (s: Awaited<ReturnType<typeof setup>>) => Record<string, unknown>;
  }
  const required: Write[] = [
    { name: 'credit', status: 201, url: (s) => `/v1/members/${s.a}/credits`, body: () => ({ points: 10 }), other: () => ({ points: 11 }) },
    {
      name: 'debit',
      status: 201,
      url: (s) => `/v1/members/${s.a}/debits`,
      body: () => ({ points: 10 }),
      other: () => ({ points: 10, reference: 'another order' }),
    },
    { name: 'hold', status: 201, url: (s) => `/v1/members/${s.a}/holds`, body: () => ({ points: 10 }), other: () => ({ points: 12 }) },
    { name: 'reversal', status: 201, url: (s) => `/v1/entries/${s.entryId}/reversals`, body: () => ({ points: 10 }), other: () => ({ points: 20 }) },
    {
      name: 'adjustment',
      status: 201,
      url: (s) => `/v1/members/${s.a}/adjustments`,
      body: () => ({ points: -10, reason_code: 'correction' }),
      other: () => ({ points: 10, reason_code: 'correction' }),
    },
    {
      name: 'transfer',
      status: 201,
      url: () => '/v1/transfers',
      body: (s) => ({ from_member_id: s.a, to_member_id: s.b, points: 10 }),
      other: (s) => ({ from_member_id: s.b, to_member_id: s.a, points: 10 }),
    },
  ];

  describe('ledger writes that require a key', () => {
    for (const w of required) {
      it(`replays a ${w.name}: same status and body, idempotent-replayed: true, applied once`, async () => {
        const s = await setup();
        const key = unique('idem');
        const first = await t.call('POST', w.url(s), { body: w.body(s), idem: key });
        assert.equal(first.statusCode, w.status, first.body);
        assert.equal(first.headers['idempotent-replayed'], undefined);
        const after = [await balance(t, s.a), await balance(t, s.b)];
        await unchanged(t, [s.a, s.b], async () => {
          for (let i = 0; i < 2; i++) {
            const again = await t.call('POST', w.url(s), { body: w.body(s), idem: key });
            assert.equal(again.statusCode, w.status);
            assert.equal(again.headers['idempotent-replayed'], 'true');
            assert.deepEqual(again.json(), first.json());
          }
        });
        assert.deepEqual([await balance(t, s.a), await balance(t, s.b)], after);
      });

      it(`refuses the key of a ${w.name} for a different body with 409 IDEMPOTENCY_KEY_REUSED and changes nothing`, async () => {
        const s = await setup();
        const key = unique('idem');
        ok(await t.call('POST', w.url(s), { body: w.body(s), idem: key }), w.status);
        await unchanged(t, [s.a, s.b], async () => {
          assertProblem(await t.call('POST', w.url(s), { body: w.other(s), idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED', { extra: { key } });
        });
      });

      it(`refuses a ${w.name} without an Idempotency-Key with 400 IDEMPOTENCY_KEY_REQUIRED and changes nothing`, async () => {
        const s = await setup();
        await unchanged(t, [s.a, s.b], async () => {
          assertProblem(await t.call('POST', w.url(s), { body: w.body(s) }), 400, 'IDEMPOTENCY_KEY_REQUIRED', {
            path: '/Idempotency-Key',
            location: 'headers',
          });
          assertProblem(await t.call('POST', w.url(s), { body: w.body(s), headers: { 'idempotency-key': '' } }), 400, 'VALIDATION_FAILED', {
            path: '/Idempotency-Key',
            location: 'headers',
          });
          assertProblem(await t.call('POST', w.url(s), { body: w.body(s), idem: 'k'.repeat(256) }), 400, 'VALIDATION_FAILED', {
            path: '/Idempotency-Key',
            location: 'headers',
          });
        });
      });
    }
  });

  describe('keys and requests', () => {
    it('treats the same body with keys in another order as the same request', async () => {
      const s = await setup();
      const key = unique('idem');
      const first = await t.call('POST', `/v1/members/${s.a}/credits`, { body: '{"points": 7, "reason": "r", "reference": "o1"}', idem: key });
      const again = await t.call('POST', `/v1/members/${s.a}/credits`, { body: '{"reference": "o1", "reason": "r", "points": 7}', idem: key });
      assert.equal(first.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.json(), first.json());
      assert.equal((await balance(t, s.a)).available, 107);
    });

    it('refuses a key reused for another member or another operation with 409', async () => {
      const s = await setup();
      const key = unique('idem');
      ok(await t.call('POST', `/v1/members/${s.a}/credits`, { body: { points: 10 }, idem: key }), 201);
      await unchanged(t, [s.a, s.b], async () => {
        assertProblem(await t.call('POST', `/v1/members/${s.b}/credits`, { body: { points: 10 }, idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED');
        assertProblem(await t.call('POST', `/v1/members/${s.a}/debits`, { body: { points: 10 }, idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED');
        assertProblem(await t.call('POST', `/v1/members/${s.a}/holds`, { body: { points: 10 }, idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED');
      });
    });

    it('applies concurrent requests with the same key once and answers them all alike', async () => {
      const s = await setup();
      const key = unique('idem');
      const results = await Promise.all(Array.from({ length: 6 }, () => t.call('POST', `/v1/members/${s.a}/debits`, { body: { points: 40 }, idem: key })));
      for (const r of results) assert.equal(r.statusCode, 201, r.body);
      assert.equal(results.filter((r) => r.headers['idempotent-replayed'] === 'true').length, 5);
      for (const r of results) assert.deepEqual(r.json(), results[0]!.json());
      assert.equal((await balance(t, s.a)).available, 60);
    });

    it('replays the first result even after the member has changed', async () => {
      const s = await setup();
      const key = unique('idem');
      const first = await t.call('POST', `/v1/members/${s.a}/debits`, { body: { points: 30 }, idem: key });
      assert.equal(first.statusCode, 201);
      ok(await t.call('POST', `/v1/members/${s.a}/freeze`, { body: {} }), 200);
      const again = await t.call('POST', `/v1/members/${s.a}/debits`, { body: { points: 30 }, idem: key });
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.json(), first.json());
      assert.equal((await balance(t, s.a)).available, 70);
    });

    it('does not remember a failure: the same key succeeds once the request can', async () => {
      const s = await setup();
      const key = unique('idem');
      assertProblem(await t.call('POST', `/v1/members/${s.a}/debits`, { body: { points: 150 }, idem: key }), 422, 'INSUFFICIENT_POINTS');
      await credit(t, s.a, 50);
      const retry = await t.call('POST', `/v1/members/${s.a}/debits`, { body: { points: 150 }, idem: key });
      assert.equal(retry.statusCode, 201, retry.body);
      assert.equal(retry.headers['idempotent-replayed'], undefined);
      assert.equal((await balance(t, s.a)).available, 0);
    });

    it('scopes keys to the API key that sent them', async () => {
      const s = await setup();
      const key = unique('idem');
      const byAdmin = ok(await t.call('POST', `/v1/members/${s.a}/credits`, { body: { points: 10 }, idem: key, key: t.keys.admin }), 201);
      const byIntegration = await t.call('POST', `/v1/members/${s.a}/credits`, { body: { points: 10 }, idem: key, key: t.keys.integration });
      assert.equal(byIntegration.statusCode, 201);
      assert.equal(byIntegration.headers['idempotent-replayed'], undefined);
      assert.notEqual(byIntegration.json().entry.id, byAdmin.entry.id);
      assert.equal((await balance(t, s.a)).available, 120);
    });
  });

  describe('writes where the key is optional', () => {
    it('replays a capture and a void with the same key, and refuses the key for another request', async () => {
      const s = await setup();
      const h1 = await hold(t, s.a, 20);
      const h2 = await hold(t, s.a, 20);
      for (const [url, body, other] of [
        [`/v1/holds/${h1.hold.id}/capture`, { points: 15 }, { points: 5 }],
        [`/v1/holds/${h2.hold.id}/void`, { reason: 'cancelled' }, { reason: 'changed mind' }],
      ] as const) {
        const key = unique('idem');
        const first = await t.call('POST', url, { body, idem: key });
        assert.equal(first.statusCode, 200, first.body);
        await unchanged(t, [s.a], async () => {
          const again = await t.call('POST', url, { body, idem: key });
          assert.equal(again.statusCode, 200);
          assert.equal(again.headers['idempotent-replayed'], 'true');
          assert.deepEqual(again.json(), first.json());
          assertProblem(await t.call('POST', url, { body: other, idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED');
          assertProblem(await t.call('POST', url, { body }), 409, 'HOLD_ALREADY_RESOLVED');
        });
      }
      assert.equal((await balance(t, s.a)).available, 85);
    });

    it('replays a close with the same key even though the member is now closed', async () => {
      const s = await setup();
      const key = unique('idem');
      const first = await t.call('POST', `/v1/members/${s.b}/close`, { body: { reason: 'bye' }, idem: key });
      assert.equal(first.statusCode, 200, first.body);
      const again = await t.call('POST', `/v1/members/${s.b}/close`, { body: { reason: 'bye' }, idem: key });
      assert.equal(again.statusCode, 200);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.json(), first.json());
      assertProblem(await t.call('POST', `/v1/members/${s.b}/close`, { body: { reason: 'bye' } }), 422, 'MEMBER_CLOSED');
    });

    it('creates a member once per external_id: 201 then 200 with the same id, with or without keys', async () => {
      const external_id = unique('user');
      const first = await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id } });
      const second = await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id } });
      const third = await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id }, idem: unique('idem') });
      assert.equal(first.statusCode, 201);
      assert.equal(second.statusCode, 200);
      assert.equal(third.statusCode, 200);
      assert.equal(second.headers['idempotent-replayed'], undefined);
      const ids: Json[] = [first, second, third].map((r) => r.json().id);
      assert.equal(new Set(ids).size, 1);
    });
  });
});
