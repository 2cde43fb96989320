import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import {
  addCheckout,
  assertProblem,
  createMember,
  createProgram,
  type Fixture,
  hold,
  type Json,
  makeFixture,
  ok,
  send,
  v1Routes,
  worldState,
} from './support.ts';

/** Routes as the table declares them; the ids are placeholders, only method, url shape and scope matter here. */
const TABLE = v1Routes({
  programId: 'prg_x',
  memberId: 'mbr_x',
  otherMemberId: 'mbr_y',
  holdId: 'hld_x',
  entryId: 'ent_x',
  apiKeyId: 'key_x',
  ruleId: 'rul_x',
  eventId: 'evt_x',
});
const writes = TABLE.filter((r) => r.method !== 'GET');
const adminOnly = TABLE.filter((r) => r.scope === 'admin');

forEachDatabase('HTTP authentication and scopes', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb());
  });
  after(() => t.close());

  const route = (f: Fixture, op: string) => v1Routes(f).find((r) => r.op === op)!;

  describe('a read key', () => {
    let f: Fixture;
    let baseline: Json;
    before(async () => {
      f = await makeFixture(t);
      baseline = await worldState(t, f);
    });

    for (const { op, method, url } of writes) {
      it(`gets 403 FORBIDDEN on ${op} (${method} ${url.replace(/_x|_y/g, '_…')}) and changes nothing`, async () => {
        const r = route(f, op);
        assertProblem(await send(t, r, t.keys.read), 403, 'FORBIDDEN', { extra: { required_scope: r.scope } });
        assert.deepEqual(await worldState(t, f), baseline);
      });
    }

    it('can call every read route except the admin ones', async () => {
      for (const r of v1Routes(f).filter((x) => x.method === 'GET')) {
        const res = await send(t, r, t.keys.read);
        if (r.scope === 'admin') assertProblem(res, 403, 'FORBIDDEN', { extra: { required_scope: 'admin' } });
        else if (r.op === 'getMemberByExternalId') assertProblem(res, 404, 'MEMBER_NOT_FOUND');
        else assert.equal(res.statusCode, 200, `${r.op}: ${res.body}`);
      }
      assert.deepEqual(await worldState(t, f), baseline);
    });
  });

  describe('an integration key', () => {
    let f: Fixture;
    let baseline: Json;
    before(async () => {
      f = await makeFixture(t);
      baseline = await worldState(t, f);
    });

    for (const { op, method } of adminOnly) {
      it(`gets 403 FORBIDDEN on the admin route ${op} (${method}) and changes nothing`, async () => {
        assertProblem(await send(t, route(f, op), t.keys.integration), 403, 'FORBIDDEN', { extra: { required_scope: 'admin' } });
        assert.deepEqual(await worldState(t, f), baseline);
      });
    }

    it('can do every member and ledger write', async () => {
      const g = await makeFixture(t);
      const key = t.keys.integration;
      const integrationWrites = v1Routes(g).filter((r) => r.method !== 'GET' && r.scope === 'integration');
      assert.deepEqual(integrationWrites.map((r) => r.op).sort(), [
        'captureCheckoutDeduction',
        'captureHold',
        'createCheckoutDeduction',
        'createHold',
        'createMember',
        'createMemberToken',
        'creditPoints',
        'debitPoints',
        'previewEvent',
        'previewSegment',
        'recordActivity',
        'redeemReward',
        'refundCheckoutDeduction',
        'reverseCredit',
        'sendEvent',
        'sendEvents',
        'transferPoints',
        'updateMember',
        'voidCheckoutDeduction',
        'voidHold',
      ]);
      // the voids would find the hold and the deduction captured by the loop: voided apart, below
      for (const r of integrationWrites.filter((x) => x.op !== 'voidHold' && x.op !== 'voidCheckoutDeduction')) {
        const res = await send(t, r, key);
        assert.ok(res.statusCode === 200 || res.statusCode === 201, `${r.op}: ${res.statusCode} ${res.body}`);
      }
      const another = await hold(t, g.memberId, 5);
      ok(await t.call('POST', `/v1/holds/${another.hold.id}/void`, { key, body: {} }), 200);
      assert.equal(ok(await t.call('GET', `/v1/holds/${g.holdId}`, { key }), 200).status, 'captured');
      const deduction = await addCheckout(t, g.programId, g.memberId);
      const voided = ok(await t.call('POST', `/v1/checkout-deductions/${deduction.deductionId}/void`, { key, body: {} }), 200);
      assert.equal(voided.status, 'voided');
    });

    it('can call every non-admin read route', async () => {
      for (const r of v1Routes(f).filter((x) => x.method === 'GET' && x.scope === 'read' && x.op !== 'getMemberByExternalId')) {
        assert.equal((await send(t, r, t.keys.integration)).statusCode, 200, r.op);
      }
    });
  });

  describe('no key or a bad key', () => {
    let f: Fixture;
    let baseline: Json;
    before(async () => {
      f = await makeFixture(t);
      baseline = await worldState(t, f);
    });

    for (const { op, method } of TABLE) {
      it(`gets 401 UNAUTHENTICATED on ${op} (${method}) without a key and changes nothing`, async () => {
        assertProblem(await send(t, route(f, op), null), 401, 'UNAUTHENTICATED');
        if (method !== 'GET') assert.deepEqual(await worldState(t, f), baseline);
      });
    }

    const badHeaders: [string, string][] = [
      ['an unknown key', 'Bearer jf_thisKeyWasNeverIssued000000000000'],
      ['an empty bearer token', 'Bearer '],
      ['a Basic scheme', 'Basic dXNlcjpwYXNz'],
      ['a key without scheme', 'jf_thisKeyWasNeverIssued000000000000'],
      ['two tokens', 'Bearer jf_a jf_b'],
    ];
    for (const [what, authorization] of badHeaders) {
      it(`gets 401 UNAUTHENTICATED with ${what}, on reads and writes`, async () => {
        for (const op of ['getBalance', 'creditPoints', 'createProgram', 'listApiKeys']) {
          const r = route(f, op);
          const res = await t.call(r.method, r.url, { key: null, body: r.body, idem: r.idem ? true : undefined, headers: { authorization } });
          assertProblem(res, 401, 'UNAUTHENTICATED');
        }
        assert.deepEqual(await worldState(t, f), baseline);
      });
    }

    it('accepts the Bearer scheme in any case', async () => {
      ok(await t.call('GET', '/v1/programs', { key: null, headers: { authorization: `bearer ${t.keys.read}` } }), 200);
      ok(await t.call('GET', '/v1/programs', { key: null, headers: { authorization: `BEARER ${t.keys.read}` } }), 200);
    });
  });

  describe('API keys', () => {
    it('creates a key whose secret is shown once, lists it without the secret, and the key works with its scope', async () => {
      const res = await t.call('POST', '/v1/api-keys', { body: { name: 'checkout-service', scopes: ['integration'] } });
      const key = ok(res, 201);
      assert.match(key.id, /^key_/);
      assert.equal(key.object, 'api_key');
      assert.equal(key.name, 'checkout-service');
      assert.deepEqual(key.scopes, ['integration']);
      assert.equal(key.revoked_at, null);
      assert.match(key.secret, /^jf_/);
      assert.ok(key.secret.startsWith(key.prefix));
      const listed = ok(await t.call('GET', '/v1/api-keys'), 200);
      assert.equal(listed.object, 'list');
      const row = listed.data.find((k: Json) => k.id === key.id);
      assert.ok(row, 'the new key is listed');
      assert.equal(row.secret, undefined);
      assert.ok(!JSON.stringify(listed).includes(key.secret), 'no secret in the list');
      for (const k of listed.data) assert.equal(k.secret, undefined);

      const p = await createProgram(t);
      const m = ok(await t.call('POST', `/v1/programs/${p.id}/members`, { key: key.secret, body: { external_id: 'via-new-key' } }), 201);
      ok(await t.call('POST', `/v1/members/${m.id}/credits`, { key: key.secret, body: { points: 10 }, idem: true }), 201);
      assertProblem(await t.call('POST', '/v1/programs', { key: key.secret, body: { name: 'nope' } }), 403, 'FORBIDDEN');
    });

    it('revokes a key: it stops working at once and the list shows when it was revoked', async () => {
      const key = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'short-lived', scopes: ['read'] } }), 201);
      ok(await t.call('GET', '/v1/programs', { key: key.secret }), 200);
      t.clock.advance(5000);
      const revoked = ok(await t.call('DELETE', `/v1/api-keys/${key.id}`), 200);
      assert.equal(revoked.id, key.id);
      assert.equal(revoked.revoked_at, t.clock.now().toISOString());
      assert.equal(revoked.secret, undefined);
      assertProblem(await t.call('GET', '/v1/programs', { key: key.secret }), 401, 'UNAUTHENTICATED');
      assertProblem(await t.call('GET', '/v1/api-keys', { key: key.secret }), 401, 'UNAUTHENTICATED');
      const listed = ok(await t.call('GET', '/v1/api-keys'), 200).data.find((k: Json) => k.id === key.id);
      assert.equal(listed.revoked_at, revoked.revoked_at);
    });

    it('revokes an admin key that then cannot even list keys', async () => {
      const admin = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'temp admin', scopes: ['admin'] } }), 201);
      ok(await t.call('GET', '/v1/api-keys', { key: admin.secret }), 200);
      ok(await t.call('DELETE', `/v1/api-keys/${admin.id}`, { key: admin.secret }), 200);
      assertProblem(await t.call('GET', '/v1/api-keys', { key: admin.secret }), 401, 'UNAUTHENTICATED');
    });

    it('returns 404 API_KEY_NOT_FOUND for an unknown key and 400 for a malformed id', async () => {
      assertProblem(await t.call('DELETE', '/v1/api-keys/key_doesnotexist'), 404, 'API_KEY_NOT_FOUND', { extra: { api_key_id: 'key_doesnotexist' } });
      assertProblem(await t.call('DELETE', '/v1/api-keys/mbr_wrongprefix'), 400, 'VALIDATION_FAILED', { path: '/keyId', location: 'params' });
    });

    it('refuses invalid key requests with 400 at the field and creates no key', async () => {
      const before = ok(await t.call('GET', '/v1/api-keys'), 200);
      const cases: [unknown, string][] = [
        [{ name: 'x', scopes: ['root'] }, '/scopes/0'],
        [{ name: 'x', scopes: [] }, '/scopes'],
        [{ name: 'x', scopes: ['read', 'read'] }, '/scopes'],
        [{ name: 'x', scopes: 'admin' }, '/scopes'],
        [{ name: '', scopes: ['read'] }, '/name'],
        [{ scopes: ['read'] }, '/name'],
        [{ name: 'x' }, '/scopes'],
        [{ name: 'x', scopes: ['read'], secret: 'jf_mine' }, '/secret'],
      ];
      for (const [body, path] of cases) assertProblem(await t.call('POST', '/v1/api-keys', { body }), 400, 'VALIDATION_FAILED', { path });
      assert.deepEqual(ok(await t.call('GET', '/v1/api-keys'), 200), before);
    });

    it('gives a key with read and integration scopes both', async () => {
      const key = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'both', scopes: ['read', 'integration'] } }), 201);
      const p = await createProgram(t);
      const m = await createMember(t, p.id);
      ok(await t.call('GET', `/v1/members/${m.id}/balance`, { key: key.secret }), 200);
      ok(await t.call('POST', `/v1/members/${m.id}/credits`, { key: key.secret, body: { points: 1 }, idem: true }), 201);
      assertProblem(await t.call('GET', '/v1/audit', { key: key.secret }), 403, 'FORBIDDEN');
    });
  });
});
