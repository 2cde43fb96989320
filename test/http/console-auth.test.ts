import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OPERATION_PERMISSIONS, purgeEndedSessions } from '../../src/modules/console-users/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { OWNER_PASSWORD, signIn, signInAs, signInOwner, signInRaw } from '../helpers/console.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { assertProblem, createMember, createProgram, credit, type Json, ok, unchanged } from './support.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

forEachDatabase('console sessions, CSRF and roles', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb());
  });
  after(() => t.close());

  it('gives every operation of the OpenAPI document that an API key may call a permission', async () => {
    await t.app.ready();
    const spec = t.app.swagger() as Json;
    let checked = 0;
    for (const [path, item] of Object.entries(spec.paths as Record<string, Json>)) {
      for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        const security = op.security ?? spec.security;
        if (!security.some((req: Json) => Object.hasOwn(req, 'apiKey'))) continue;
        checked += 1;
        assert.ok(OPERATION_PERMISSIONS[op.operationId], `${m.toUpperCase()} ${path} (${op.operationId}) has no entry in OPERATION_PERMISSIONS`);
      }
    }
    assert.ok(checked >= 45, `only ${checked} operations`);
  });

  describe('signing in and out', () => {
    before(async () => {
      await signInOwner(t, getDb());
    });

    it('sets an HttpOnly, SameSite=Strict session cookie and answers the session', async () => {
      const res = await signInRaw(t, 'Owner@Jifen.Local', OWNER_PASSWORD);
      const body = ok(res, 200);
      const cookie = String(res.headers['set-cookie']);
      assert.match(cookie, /^jifen_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=604800; HttpOnly; SameSite=Strict$/);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(body.user.email, 'owner@jifen.local');
      assert.equal(body.user.name, '所有者 Owner');
      assert.equal(typeof body.csrf_token, 'string');
      assert.deepEqual(body.access, [{ program_id: null, role: 'owner', permissions: OWNER_PERMISSIONS }]);
    });

    it('marks the cookie Secure when the request came over https (trusted proxy)', async () => {
      const tp = await createTestApp(getDb(), undefined, { JIFEN_TRUST_PROXY: 'true' });
      try {
        const res = await signInRaw(tp, 'owner@jifen.local', OWNER_PASSWORD, { 'x-forwarded-proto': 'https' });
        assert.match(String(res.headers['set-cookie']), /; Secure$/);
        // without a trusted proxy the header is not believed
        const plain = await signInRaw(t, 'owner@jifen.local', OWNER_PASSWORD, { 'x-forwarded-proto': 'https' });
        assert.doesNotMatch(String(plain.headers['set-cookie']), /Secure/);
      } finally {
        await tp.close();
      }
    });

    it('refuses a wrong password and an unknown email alike', async () => {
      const wrong = assertProblem(await signInRaw(t, 'owner@jifen.local', 'not-the-password'), 401, 'INVALID_CREDENTIALS');
      const unknown = assertProblem(await signInRaw(t, 'nobody@jifen.local', 'not-the-password'), 401, 'INVALID_CREDENTIALS');
      assert.equal(wrong.detail, unknown.detail);
      assert.equal((await signInRaw(t, 'nobody@jifen.local', 'x')).headers['set-cookie'], undefined);
    });

    it('takes JSON only', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/console/session',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `email=owner%40jifen.local&password=${OWNER_PASSWORD}`,
      });
      assertProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers the session with the cookie, 401 without or after signing out', async () => {
      const s = await signIn(t, 'owner@jifen.local', OWNER_PASSWORD);
      const body = ok(await s.call('GET', '/v1/console/session'), 200);
      assert.equal(body.csrf_token, s.csrf);
      assertProblem(await t.call('GET', '/v1/console/session', { key: null }), 401, 'UNAUTHENTICATED');
      // an API key is not a console session
      assertProblem(await t.call('GET', '/v1/console/session'), 401, 'UNAUTHENTICATED');
      // signing out needs the CSRF token too
      assertProblem(await s.call('DELETE', '/v1/console/session', { csrf: null }), 403, 'CSRF_TOKEN_INVALID');
      const out = await s.call('DELETE', '/v1/console/session');
      assert.equal(out.statusCode, 204, out.body);
      assert.match(String(out.headers['set-cookie']), /^jifen_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
      assertProblem(await s.call('GET', '/v1/console/session'), 401, 'UNAUTHENTICATED');
      assertProblem(await s.call('GET', '/v1/programs'), 401, 'UNAUTHENTICATED');
    });

    it('ends a session 12 hours after its last request, and 7 days after signing in', async () => {
      const s = await signIn(t, 'owner@jifen.local', OWNER_PASSWORD);
      t.clock.advance(11 * 3_600_000);
      ok(await s.call('GET', '/v1/console/session'), 200);
      t.clock.advance(11 * 3_600_000);
      ok(await s.call('GET', '/v1/console/session'), 200);
      t.clock.advance(12 * 3_600_000);
      assertProblem(await s.call('GET', '/v1/console/session'), 401, 'UNAUTHENTICATED');

      const kept = await signIn(t, 'owner@jifen.local', OWNER_PASSWORD);
      for (let h = 0; h < 7 * 24 - 10; h += 10) {
        t.clock.advance(10 * 3_600_000);
        ok(await kept.call('GET', '/v1/console/session'), 200);
      }
      t.clock.advance(10 * 3_600_000);
      assertProblem(await kept.call('GET', '/v1/console/session'), 401, 'UNAUTHENTICATED');
    });

    it('deletes ended sessions in the timed jobs, and only those', async () => {
      const ended = await signIn(t, 'owner@jifen.local', OWNER_PASSWORD);
      t.clock.advance(6 * 3_600_000);
      const live = await signIn(t, 'owner@jifen.local', OWNER_PASSWORD);
      t.clock.advance(6 * 3_600_000);
      assert.ok((await purgeEndedSessions(getDb().db, t.clock.now())) >= 1);
      assert.equal(await purgeEndedSessions(getDb().db, t.clock.now()), 0);
      ok(await live.call('GET', '/v1/console/session'), 200);
      assertProblem(await ended.call('GET', '/v1/console/session'), 401, 'UNAUTHENTICATED');
    });

    it('limits failed sign-ins per email: 10 in 15 minutes, then 429 with Retry-After, the right password included', async () => {
      const u = await signInAs(t, getDb(), [{ program_id: null, role: 'viewer' }]);
      for (let i = 0; i < 10; i++) assertProblem(await signInRaw(t, u.email, 'wrong-password!'), 401, 'INVALID_CREDENTIALS');
      const limited = await signInRaw(t, u.email, u.password);
      assertProblem(limited, 429, 'RATE_LIMITED');
      assert.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 900, String(limited.headers['retry-after']));
      // another email from the same address is not held back by this one's count
      ok(await signInRaw(t, 'owner@jifen.local', OWNER_PASSWORD), 200);
      t.clock.advance(15 * 60_000);
      ok(await signInRaw(t, u.email, u.password), 200);
    });

    it('refuses a disabled user as a wrong password', async () => {
      const owner = await signIn(t, 'owner@jifen.local', OWNER_PASSWORD);
      const u = await signInAs(t, getDb(), [{ program_id: null, role: 'viewer' }]);
      ok(await owner.call('PATCH', `/v1/console/users/${u.userId}`, { body: { disabled: true } }), 200);
      assertProblem(await u.call('GET', '/v1/programs'), 401, 'UNAUTHENTICATED');
      assertProblem(await signInRaw(t, u.email, u.password), 401, 'INVALID_CREDENTIALS');
    });
  });

  describe('CSRF', () => {
    it('refuses a write without the token or with another, and changes nothing', async () => {
      const owner = await signInOwner(t, getDb());
      const p = await createProgram(t);
      const m = await createMember(t, p.id);
      await credit(t, m.id, 100);
      const adjust = { body: { points: 5, reason_code: 'goodwill' }, idem: true as const };
      await unchanged(t, [m.id], async () => {
        assertProblem(await owner.call('POST', `/v1/members/${m.id}/adjustments`, { ...adjust, csrf: null }), 403, 'CSRF_TOKEN_INVALID');
        assertProblem(await owner.call('POST', `/v1/members/${m.id}/adjustments`, { ...adjust, csrf: 'x'.repeat(43) }), 403, 'CSRF_TOKEN_INVALID');
        const other = await signIn(t, 'owner@jifen.local', OWNER_PASSWORD);
        assertProblem(await owner.call('POST', `/v1/members/${m.id}/adjustments`, { ...adjust, csrf: other.csrf }), 403, 'CSRF_TOKEN_INVALID');
      });
      const before = ok(await t.call('GET', `/v1/programs/${p.id}`), 200);
      assertProblem(await owner.call('PATCH', `/v1/programs/${p.id}`, { body: { name: 'Not renamed' }, csrf: null }), 403, 'CSRF_TOKEN_INVALID');
      assert.deepEqual(ok(await t.call('GET', `/v1/programs/${p.id}`), 200), before);
      // with the token the same write goes through, and says who did it
      const done = ok(await owner.call('POST', `/v1/members/${m.id}/adjustments`, adjust), 201);
      assert.equal(done.entry.actor, `console_user:${owner.userId}`);
    });

    it('lets an Authorization header win over the cookie (no CSRF asked of API keys)', async () => {
      const viewer = await signInAs(t, getDb(), [{ program_id: null, role: 'viewer' }]);
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/programs',
        headers: { cookie: viewer.cookie, authorization: `Bearer ${t.keys.admin}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'By key' }),
      });
      ok(res, 201);
      const bad = await t.app.inject({ method: 'GET', url: '/v1/programs', headers: { cookie: viewer.cookie, authorization: 'Bearer jf_unknown' } });
      assertProblem(bad, 401, 'UNAUTHENTICATED');
    });
  });

  describe('roles', () => {
    it("refuses a viewer's and a support user's writes with 403 and changes nothing; support may update a member", async () => {
      const p = await createProgram(t);
      const m = await createMember(t, p.id);
      await credit(t, m.id, 100);
      const viewer = await signInAs(t, getDb(), [{ program_id: p.id, role: 'viewer' }]);
      const support = await signInAs(t, getDb(), [{ program_id: p.id, role: 'support' }]);
      const program = ok(await t.call('GET', `/v1/programs/${p.id}`), 200);
      const rules = ok(await t.call('GET', `/v1/programs/${p.id}/rules`), 200);
      for (const s of [viewer, support]) {
        await unchanged(t, [m.id], async () => {
          assertProblem(
            await s.call('POST', `/v1/members/${m.id}/adjustments`, { body: { points: 5, reason_code: 'goodwill' }, idem: true }),
            403,
            'FORBIDDEN',
            {
              extra: { required_permission: 'points.adjust' },
            },
          );
          assertProblem(
            await s.call('POST', `/v1/programs/${p.id}/rules`, {
              body: { definition: { name: 'nope', triggers: ['checkin'], effect: { type: 'fixed', points: 1 } } },
            }),
            403,
            'FORBIDDEN',
            { extra: { required_permission: 'rules.write' } },
          );
          assertProblem(await s.call('PATCH', `/v1/programs/${p.id}`, { body: { name: 'Renamed' } }), 403, 'FORBIDDEN', {
            extra: { required_permission: 'settings.write' },
          });
        });
        // reads are allowed
        ok(await s.call('GET', `/v1/members/${m.id}/balance`), 200);
      }
      assert.deepEqual(ok(await t.call('GET', `/v1/programs/${p.id}`), 200), program);
      assert.deepEqual(ok(await t.call('GET', `/v1/programs/${p.id}/rules`), 200), rules);
      assertProblem(await viewer.call('PATCH', `/v1/members/${m.id}`, { body: { name: 'Viewer edit' } }), 403, 'FORBIDDEN', {
        extra: { required_permission: 'members.write' },
      });
      const updated = ok(await support.call('PATCH', `/v1/members/${m.id}`, { body: { name: '张三' } }), 200);
      assert.equal(updated.name, '张三');
    });

    it('keeps a user to their programs: another program is not found, and its lists are filtered', async () => {
      const a = await createProgram(t, { name: 'Brand A' });
      const b = await createProgram(t, { name: 'Brand B' });
      const mb = await createMember(t, b.id);
      const operator = await signInAs(t, getDb(), [{ program_id: a.id, role: 'operator' }]);
      assertProblem(await operator.call('GET', `/v1/programs/${b.id}`), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await operator.call('GET', `/v1/members/${mb.id}`), 404, 'MEMBER_NOT_FOUND');
      await unchanged(t, [mb.id], async () => {
        assertProblem(await operator.call('POST', `/v1/members/${mb.id}/credits`, { body: { points: 5 }, idem: true }), 404, 'MEMBER_NOT_FOUND');
      });
      const list = ok(await operator.call('GET', '/v1/programs?limit=100'), 200);
      assert.deepEqual(
        list.data.map((p: Json) => p.id),
        [a.id],
      );
      ok(await operator.call('GET', `/v1/programs/${a.id}`), 200);
      // deployment-wide operations need a role for every program
      assertProblem(await operator.call('POST', '/v1/programs', { body: { name: 'Nope' } }), 403, 'FORBIDDEN', {
        extra: { required_permission: 'settings.write' },
      });
      // an owner of A only: createProgram needs every program
      const ownerA = await signInAs(t, getDb(), [{ program_id: a.id, role: 'owner' }]);
      assertProblem(await ownerA.call('POST', '/v1/programs', { body: { name: 'Nope' } }), 403, 'FORBIDDEN', {
        extra: { required_permission: 'settings.write', required_access: 'deployment' },
      });
      ok(await ownerA.call('PATCH', `/v1/programs/${a.id}`, { body: { name: 'Brand A renamed' } }), 200);
      assertProblem(await ownerA.call('PATCH', `/v1/programs/${b.id}`, { body: { name: 'Nope' } }), 404, 'PROGRAM_NOT_FOUND');
    });

    it('answers 403, not 404, in a program where the user has a role without the permission', async () => {
      const a = await createProgram(t);
      const b = await createProgram(t);
      // finance in A (points.adjust), viewer in B
      const s = await signInAs(t, getDb(), [
        { program_id: a.id, role: 'finance' },
        { program_id: b.id, role: 'viewer' },
      ]);
      assertProblem(await s.call('PATCH', `/v1/programs/${b.id}`, { body: { name: 'x' } }), 403, 'FORBIDDEN');
      const mb = await createMember(t, b.id);
      await credit(t, mb.id, 50);
      await unchanged(t, [mb.id], async () => {
        // adjustPoints is allowed in A only: B's member is out of reach
        assertProblem(
          await s.call('POST', `/v1/members/${mb.id}/adjustments`, { body: { points: 5, reason_code: 'goodwill' }, idem: true }),
          404,
          'MEMBER_NOT_FOUND',
        );
      });
      const ma = await createMember(t, a.id);
      ok(await s.call('POST', `/v1/members/${ma.id}/adjustments`, { body: { points: 5, reason_code: 'goodwill' }, idem: true }), 201);
    });
  });

  describe('the password', () => {
    it('changes with the current one, ends the other sessions and keeps this one', async () => {
      const u = await signInAs(t, getDb(), [{ program_id: null, role: 'viewer' }]);
      const other = await signIn(t, u.email, u.password);
      assertProblem(
        await u.call('POST', '/v1/console/password', { body: { current_password: 'not-the-password', new_password: 'a-new-long-password' } }),
        403,
        'CURRENT_PASSWORD_INCORRECT',
      );
      ok(await other.call('GET', '/v1/console/session'), 200);
      assertProblem(await u.call('POST', '/v1/console/password', { body: { current_password: u.password, new_password: 'short' } }), 400, 'VALIDATION_FAILED', {
        path: '/new_password',
      });
      assertProblem(
        await u.call('POST', '/v1/console/password', { body: { current_password: u.password, new_password: 'a-new-long-password' }, csrf: null }),
        403,
        'CSRF_TOKEN_INVALID',
      );
      const res = await u.call('POST', '/v1/console/password', { body: { current_password: u.password, new_password: 'a-new-long-password' } });
      assert.equal(res.statusCode, 204, res.body);
      ok(await u.call('GET', '/v1/console/session'), 200);
      assertProblem(await other.call('GET', '/v1/console/session'), 401, 'UNAUTHENTICATED');
      assertProblem(await signInRaw(t, u.email, u.password), 401, 'INVALID_CREDENTIALS');
      ok(await signInRaw(t, u.email, 'a-new-long-password'), 200);
    });
  });
});

const OWNER_PERMISSIONS = [
  'read',
  'members.write',
  'members.status',
  'points.adjust',
  'ledger.write',
  'rules.write',
  'events.write',
  'settings.write',
  'api_keys.manage',
  'users.manage',
];
