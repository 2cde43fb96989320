import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { unique } from '../helpers/factories.ts';
import { assertProblem, createMember, createProgram, credit, FIXTURE_TIER_LADDER, type Json, ok, type Res, v1MeRoutes } from './support.ts';

const ME = v1MeRoutes().map((r) => r.url);
const encoder = new TextEncoder();
const epoch = (d: Date) => Math.floor(d.getTime() / 1000);

/** A 401 for a token that was sent but is not accepted (RFC 6750 invalid_token). */
function assertInvalidToken(res: Res, detail?: RegExp): Json {
  const body = assertProblem(res, 401, 'UNAUTHENTICATED');
  assert.match(String(res.headers['www-authenticate']), /^Bearer realm="jifen", error="invalid_token", error_description="[^"]+"$/, res.body);
  if (detail) assert.match(body.detail, detail);
  return body;
}

/** A local JWKS endpoint (the only network the tests use): RS256, ES256 and EdDSA keys. */
async function jwksServer() {
  const algs = ['RS256', 'ES256', 'EdDSA'] as const;
  const keys = await Promise.all(algs.map(async (alg) => ({ alg, kid: `kid-${alg}`, ...(await generateKeyPair(alg)) })));
  const jwks = { keys: await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg, use: 'sig' }))) };
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    fetches += 1;
    if (req.url !== '/jwks.json') return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    keys,
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

forEachDatabase('HTTP member tokens and /v1/me', (getDb) => {
  let t: TestApp;
  let program: Json;
  let other: Json;
  let alice: Json;
  let bob: Json;
  before(async () => {
    t = await createTestApp(getDb());
    program = await createProgram(t, { name: 'Member app program' });
    other = await createProgram(t, { name: 'Another brand' });
    alice = await createMember(t, program.id, { name: 'Alice', tags: ['vip'], attributes: { risk: 'low' } });
    bob = await createMember(t, program.id, { name: 'Bob' });
    await credit(t, alice.id, 120, { reason: 'welcome' });
    await credit(t, bob.id, 7);
  });
  after(() => t.close());

  const mint = async (programId: string, body: Json, key = t.keys.integration): Promise<Json> =>
    ok(await t.call('POST', `/v1/programs/${programId}/member-tokens`, { key, body }), 201);
  const me = (token: string, url = '/v1/me') => t.call('GET', url, { key: token });
  const settings = async (programId: string): Promise<Json> => ok(await t.call('GET', `/v1/programs/${programId}/member-token-settings`), 200);
  const rotate = async (programId: string, body: Json = {}): Promise<Json> =>
    ok(await t.call('POST', `/v1/programs/${programId}/member-token-secrets`, { body, idem: true }), 201);
  /** A token as the merchant's backend signs it with the program secret. */
  const signHs = (secret: string, claims: JWTPayload, header: Record<string, unknown> = {}) => {
    const iat = epoch(t.clock.now());
    return new SignJWT({ iss: 'jifen', aud: `jifen:${program.id}`, sub: alice.external_id, iat, exp: iat + 600, ...claims })
      .setProtectedHeader({ alg: 'HS256', ...header })
      .sign(encoder.encode(secret));
  };

  describe('minting', () => {
    it('mints a short-lived HS256 JWT for a member, by member_id or external_id, with the documented claims', async () => {
      const res = await t.call('POST', `/v1/programs/${program.id}/member-tokens`, { key: t.keys.integration, body: { member_id: alice.id } });
      const minted = ok(res, 201);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(minted.object, 'member_token');
      assert.equal(minted.token_type, 'Bearer');
      assert.equal(minted.program_id, program.id);
      assert.equal(minted.member_id, alice.id);
      assert.equal(minted.expires_in, 900);
      assert.equal(minted.expires_at, new Date(t.clock.now().getTime() + 900_000).toISOString());
      const header = decodeProtectedHeader(minted.token);
      const claims = decodeJwt(minted.token);
      assert.deepEqual(header, { alg: 'HS256', typ: 'JWT', kid: (await settings(program.id)).secret.id });
      assert.deepEqual(claims, {
        iss: 'jifen',
        aud: `jifen:${program.id}`,
        sub: alice.external_id,
        iat: epoch(t.clock.now()),
        exp: epoch(t.clock.now()) + 900,
      });
      assert.equal(ok(await me(minted.token), 200).id, alice.id);

      const byExternal = await mint(program.id, { external_id: bob.external_id, expires_in_seconds: 60 });
      assert.equal(byExternal.member_id, bob.id);
      assert.equal(byExternal.expires_in, 60);
      assert.equal(decodeJwt(byExternal.token).exp! - decodeJwt(byExternal.token).iat!, 60);
      assert.equal(ok(await me(byExternal.token), 200).id, bob.id);
      assert.equal((await mint(program.id, { member_id: alice.id, expires_in_seconds: 86_400 })).expires_in, 86_400);
    });

    it('refuses bad requests at the field, unknown members and programs, closed members, and keys without the scope or the program', async () => {
      const url = `/v1/programs/${program.id}/member-tokens`;
      const key = t.keys.integration;
      for (const [body, path] of [
        [{}, '/member_id'],
        [{ member_id: alice.id, external_id: alice.external_id }, '/external_id'],
        [{ member_id: alice.id, expires_in_seconds: 59 }, '/expires_in_seconds'],
        [{ member_id: alice.id, expires_in_seconds: 86_401 }, '/expires_in_seconds'],
        [{ member_id: alice.id, expires_in_seconds: 900.5 }, '/expires_in_seconds'],
        [{ member_id: 'prg_wrongprefix' }, '/member_id'],
        [{ external_id: '' }, '/external_id'],
        [{ member_id: alice.id, scope: 'admin' }, '/scope'],
      ] as const) {
        assertProblem(await t.call('POST', url, { key, body }), 400, 'VALIDATION_FAILED', { path });
      }
      assertProblem(await t.call('POST', url, { key, body: { member_id: 'mbr_doesnotexist' } }), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('POST', url, { key, body: { external_id: 'nobody-here' } }), 404, 'MEMBER_NOT_FOUND');
      const stranger = await createMember(t, other.id);
      assertProblem(await t.call('POST', url, { key, body: { member_id: stranger.id } }), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('POST', url, { key, body: { external_id: stranger.external_id } }), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('POST', '/v1/programs/prg_doesnotexist/member-tokens', { key, body: { member_id: alice.id } }), 404, 'PROGRAM_NOT_FOUND');
      const closed = await createMember(t, program.id);
      ok(await t.call('POST', `/v1/members/${closed.id}/close`, { body: {} }), 200);
      assertProblem(await t.call('POST', url, { key, body: { member_id: closed.id } }), 422, 'MEMBER_CLOSED');
      assertProblem(await t.call('POST', url, { key: t.keys.read, body: { member_id: alice.id } }), 403, 'FORBIDDEN');
      assertProblem(await t.call('POST', url, { key: null, body: { member_id: alice.id } }), 401, 'UNAUTHENTICATED');
    });

    it('answers a key limited to other programs as if the program did not exist, on minting and on the settings', async () => {
      const scoped = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'other brand only', scopes: ['admin'], program_ids: [other.id] } }), 201).secret;
      const before = await settings(program.id);
      assertProblem(await t.call('POST', `/v1/programs/${program.id}/member-tokens`, { key: scoped, body: { member_id: alice.id } }), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await t.call('GET', `/v1/programs/${program.id}/member-token-settings`, { key: scoped }), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(
        await t.call('PATCH', `/v1/programs/${program.id}/member-token-settings`, { key: scoped, body: { issuer: 'https://x.example' } }),
        404,
        'PROGRAM_NOT_FOUND',
      );
      assertProblem(await t.call('POST', `/v1/programs/${program.id}/member-token-secrets`, { key: scoped, body: {}, idem: true }), 404, 'PROGRAM_NOT_FOUND');
      assert.deepEqual(await settings(program.id), before);
      // its own program it may use
      const twin = await createMember(t, other.id);
      ok(await me((await mint(other.id, { member_id: twin.id }, scoped)).token), 200);
      ok(await t.call('GET', `/v1/programs/${other.id}/member-token-settings`, { key: scoped }), 200);
    });

    it('makes no secret for a refused request: a program gets its first secret with its first token', async () => {
      const fresh = await createProgram(t, { name: 'No tokens yet' });
      const m = await createMember(t, fresh.id);
      assertProblem(
        await t.call('POST', `/v1/programs/${fresh.id}/member-tokens`, { key: t.keys.integration, body: { member_id: alice.id } }),
        404,
        'MEMBER_NOT_FOUND',
      );
      assert.equal((await settings(fresh.id)).secret, null);
      const minted = await mint(fresh.id, { member_id: m.id });
      const s = await settings(fresh.id);
      assert.equal(decodeProtectedHeader(minted.token).kid, s.secret.id);
      assert.equal((await mint(fresh.id, { member_id: m.id })).token.split('.')[0], minted.token.split('.')[0], 'the same secret signs the next token');
    });
  });

  describe('what a member sees', () => {
    it('reads their own profile, balance, lots and history, and nothing of other members or programs', async () => {
      await t.call('POST', '/v1/transfers', { body: { from_member_id: alice.id, to_member_id: bob.id, points: 20, reason: 'gift' }, idem: true });
      const ta = (await mint(program.id, { member_id: alice.id })).token;
      const tb = (await mint(program.id, { member_id: bob.id })).token;
      // the same external_id in another program is another member: its token sees that member only
      const twin = await createMember(t, other.id, { external_id: alice.external_id });
      await credit(t, twin.id, 999);
      const tt = (await mint(other.id, { external_id: alice.external_id })).token;

      for (const [token, m] of [
        [ta, alice],
        [tb, bob],
        [tt, twin],
      ] as const) {
        const profile = ok(await me(token), 200);
        assert.equal(profile.object, 'me');
        assert.equal(profile.id, m.id);
        assert.equal(profile.program_id, m.program_id);
        assert.equal(profile.external_id, m.external_id);
        assert.equal(profile.program.id, m.program_id);
        for (const hidden of ['tags', 'attributes', 'status_reason']) assert.equal(profile[hidden], undefined, hidden);
        assert.deepEqual(ok(await me(token, '/v1/me/balance'), 200), ok(await t.call('GET', `/v1/members/${m.id}/balance`), 200));
        assert.deepEqual(
          ok(await me(token, '/v1/me/lots?state=all&limit=100'), 200),
          ok(await t.call('GET', `/v1/members/${m.id}/lots?state=all&limit=100`), 200),
        );
        const mine = ok(await me(token, '/v1/me/entries?limit=100'), 200);
        const theirs = ok(await t.call('GET', `/v1/members/${m.id}/entries?limit=100`), 200);
        assert.deepEqual(
          mine.data.map((e: Json) => e.id),
          theirs.data.map((e: Json) => e.id),
        );
        for (const e of mine.data) {
          for (const hidden of ['actor', 'metadata', 'counterparty_member_id', 'debit_account', 'credit_account', 'reason_code'])
            assert.equal(e[hidden], undefined, hidden);
          assert.ok(!JSON.stringify(e).includes(m.id === alice.id ? bob.id : alice.id), 'no other member id in the history');
        }
      }
      assert.equal(ok(await me(ta, '/v1/me/balance'), 200).available, 100);
      assert.equal(ok(await me(tb, '/v1/me/balance'), 200).available, 27);
      assert.equal(ok(await me(tt, '/v1/me/balance'), 200).available, 999);
    });

    it('pages the history with a cursor and filters it by kind, like the API key routes', async () => {
      const m = await createMember(t, program.id);
      for (let i = 0; i < 3; i++) await credit(t, m.id, 10 + i, { reason: `visit ${i}` });
      await t.call('POST', `/v1/members/${m.id}/debits`, { body: { points: 5, reason: 'latte' }, idem: true });
      const token = (await mint(program.id, { member_id: m.id })).token;
      const first = ok(await me(token, '/v1/me/entries?limit=2'), 200);
      assert.equal(first.data.length, 2);
      assert.equal(first.has_more, true);
      const second = ok(await me(token, `/v1/me/entries?limit=2&cursor=${first.next_cursor}`), 200);
      assert.deepEqual(
        [...first.data, ...second.data].map((e: Json) => e.reason),
        ['latte', 'visit 2', 'visit 1', 'visit 0'],
      );
      assert.deepEqual(
        ok(await me(token, '/v1/me/entries?kind=spend'), 200).data.map((e: Json) => e.amount),
        [5],
      );
      assertProblem(await me(token, '/v1/me/entries?kind=nope'), 400, 'VALIDATION_FAILED', { path: '/kind', location: 'querystring' });
      assertProblem(await me(token, '/v1/me/lots?limit=0'), 400, 'VALIDATION_FAILED', { path: '/limit', location: 'querystring' });
    });

    it('explains points earned from events in the history', async () => {
      const p = await createProgram(t, { name: 'Coffee' });
      ok(
        await t.call('POST', `/v1/programs/${p.id}/rules`, {
          body: { definition: { name: 'check-in bonus', triggers: ['checkin'], effect: { type: 'fixed', points: 15 } } },
        }),
        201,
      );
      const m = await createMember(t, p.id);
      ok(await t.call('POST', '/v1/events', { body: { id: unique('evt'), type: 'checkin', program_id: p.id, member_id: m.id } }), 201);
      const [entry] = ok(await me((await mint(p.id, { member_id: m.id })).token, '/v1/me/entries'), 200).data;
      assert.equal(entry.kind, 'earn');
      assert.equal(entry.amount, 15);
      assert.match(entry.event_id, /^evt_/);
      assert.match(entry.reason, /15/);
      assert.match(entry.reason, /check-in bonus/);
    });

    it('forecasts expiry by local date and month of the program, agreeing with the balance', async () => {
      const p = await createProgram(t, { name: 'Expiring', time_zone: 'Asia/Shanghai' });
      const m = await createMember(t, p.id);
      // 2026-01-31T15:00Z is 23:00 on 31 January in Shanghai; 16:30Z is already 1 February
      await credit(t, m.id, 50, { expires_at: '2026-01-31T15:00:00.000Z' });
      await credit(t, m.id, 100, { expires_at: '2026-01-31T16:30:00.000Z' });
      await credit(t, m.id, 30, { expires_at: '2026-03-15T04:00:00.000Z' });
      await credit(t, m.id, 25, { expires_at: '2026-03-20T04:00:00.000Z' });
      await credit(t, m.id, 20);
      await credit(t, m.id, 40, { expires_at: '2026-01-02T00:00:00.000Z' });
      // spending takes the soonest-expiring points first: all 40 of 2 January, then 10 of 31 January
      ok(await t.call('POST', `/v1/members/${m.id}/debits`, { body: { points: 50 }, idem: true }), 201);
      const token = (await mint(p.id, { member_id: m.id })).token;
      const forecast = ok(await me(token, '/v1/me/expiry-forecast'), 200);
      assert.deepEqual(forecast, {
        object: 'expiry_forecast',
        member_id: m.id,
        time_zone: 'Asia/Shanghai',
        total: 195,
        next_expiry: { at: '2026-01-31T15:00:00.000Z', points: 40 },
        by_month: [
          { month: '2026-01', points: 40 },
          { month: '2026-02', points: 100 },
          { month: '2026-03', points: 55 },
        ],
        by_date: [
          { date: '2026-01-31', points: 40 },
          { date: '2026-02-01', points: 100 },
          { date: '2026-03-15', points: 30 },
          { date: '2026-03-20', points: 25 },
        ],
        complete: true,
        as_of: t.clock.now().toISOString(),
      });
      const b = ok(await me(token, '/v1/me/balance'), 200);
      assert.deepEqual(b.next_expiry, forecast.next_expiry);
      assert.equal(b.expiring.days_90, forecast.total);
      assert.equal(b.expiring.days_30, 0);
      assert.equal(b.expiring.days_60, 140);

      // a month later the January points are gone (expired, swept or not) and the forecast moves on
      t.clock.set('2026-02-10T00:00:00.000Z');
      const later = ok(await me((await mint(p.id, { member_id: m.id })).token, '/v1/me/expiry-forecast'), 200);
      assert.equal(later.total, 55);
      assert.deepEqual(later.by_month, [{ month: '2026-03', points: 55 }]);
      assert.deepEqual(later.next_expiry, { at: '2026-03-15T04:00:00.000Z', points: 30 });
      t.clock.set('2026-01-01T00:00:00.000Z');
    });

    it('has no write routes: everything under /v1/me is read-only', async () => {
      const token = (await mint(program.id, { member_id: alice.id })).token;
      for (const [method, url] of [
        ['POST', '/v1/me'],
        ['PATCH', '/v1/me'],
        ['DELETE', '/v1/me'],
        ['POST', '/v1/me/entries'],
        ['POST', '/v1/me/balance'],
      ] as const) {
        const res = await t.call(method, url, { key: token, body: {} });
        assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      }
    });
  });

  describe('tokens refused with 401 invalid_token', () => {
    let secret: string;
    before(async () => {
      secret = (await rotate(program.id)).secret;
    });

    it('accepts a token the merchant signs with the program secret (kid optional)', async () => {
      const s = await settings(program.id);
      assert.equal(ok(await me(await signHs(secret, {})), 200).id, alice.id);
      assert.equal(ok(await me(await signHs(secret, {}, { kid: s.secret.id, typ: 'JWT' })), 200).id, alice.id);
      assert.equal(ok(await me(await signHs(secret, { aud: [`jifen:${program.id}`, 'https://elsewhere.example'] })), 200).id, alice.id);
      assert.equal(ok(await me(await signHs(secret, { nbf: epoch(t.clock.now()) - 5 })), 200).id, alice.id);
    });

    it('refuses an expired token, allowing 30 seconds of clock skew', async () => {
      const token = (await mint(program.id, { member_id: alice.id, expires_in_seconds: 60 })).token;
      t.clock.advance(60_000 + 29_000);
      ok(await me(token), 200);
      t.clock.advance(2_000);
      for (const url of ME) assertInvalidToken(await me(token, url), /expired/);
      t.clock.set('2026-01-01T00:00:00.000Z');
    });

    it('refuses forged, altered and unsigned tokens', async () => {
      const good = await signHs(secret, {});
      const [h, p, s] = good.split('.') as [string, string, string];
      const otherPayload = Buffer.from(JSON.stringify({ ...decodeJwt(good), sub: bob.external_id })).toString('base64url');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.`;
      const cases: [string, RegExp][] = [
        [await signHs(`not-the-secret-${'x'.repeat(40)}`, {}), /signature/],
        [`${h}.${otherPayload}.${s}`, /signature/],
        [`${h}.${p}.${s.slice(0, -4)}AAAA`, /signature/],
        [none, /JWT/],
        [`${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.x`, /algorithm none/],
        [await new SignJWT({ ...decodeJwt(good) }).setProtectedHeader({ alg: 'HS512' }).sign(encoder.encode(secret)), /algorithm HS512/],
        ['not-a-jwt', /not a JWT/],
        ['a.b.c', /not a valid JWT/],
        [`${h}.${p}.${s}`.repeat(200), /longer than/],
      ];
      for (const [token, detail] of cases) assertInvalidToken(await me(token), detail);
    });

    it('refuses a token for another audience, from another issuer, or for another program', async () => {
      const otherSecret = (await rotate(other.id)).secret;
      const cases: [string, RegExp][] = [
        [await signHs(secret, { aud: 'jifen:prg_doesnotexist' }), /audience/],
        [await signHs(secret, { aud: 'https://someone-else.example' }), /audience/],
        [await signHs(secret, { aud: [] }), /aud/],
        [await signHs(secret, { aud: undefined }), /aud/],
        [await signHs(secret, { aud: [`jifen:${program.id}`, `jifen:${other.id}`] }), /several programs/],
        [await signHs(secret, { iss: 'https://evil.example' }), /issuer/],
        [await signHs(secret, { iss: undefined }), /iss/],
        // signed with the other program's secret, claiming this program
        [await signHs(otherSecret, {}), /signature/],
        // this program's secret, claiming the other program (where alice's external_id is the twin's)
        [await signHs(secret, { aud: `jifen:${other.id}` }), /signature/],
      ];
      for (const [token, detail] of cases) assertInvalidToken(await me(token), detail);
    });

    it('refuses bad claims: no exp or sub, too long-lived, not yet valid, issued in the future or long ago', async () => {
      const now = epoch(t.clock.now());
      const cases: [string, RegExp][] = [
        [await signHs(secret, { exp: undefined }), /exp/],
        [await signHs(secret, { sub: undefined }), /sub/],
        [await signHs(secret, { iat: undefined }), /iat/],
        [await signHs(secret, { exp: now + 86_400 + 10 }), /longer than 86400/],
        [await signHs(secret, { iat: now - 90_000, exp: now + 600 }), /too long ago/],
        [await signHs(secret, { iat: now + 120, exp: now + 600 }), /future/],
        [await signHs(secret, { nbf: now + 120 }), /not valid yet/],
        [await signHs(secret, { exp: 'tomorrow' as unknown as number }), /exp/],
        [await signHs(secret, { sub: 42 as unknown as string }), /sub/],
      ];
      for (const [token, detail] of cases) assertInvalidToken(await me(token), detail);
    });

    it('refuses a token for an unknown member or a closed one (closed after the token was minted)', async () => {
      assertInvalidToken(await me(await signHs(secret, { sub: 'nobody-with-this-id' })), /no member/);
      const m = await createMember(t, program.id);
      const token = (await mint(program.id, { member_id: m.id })).token;
      ok(await me(token), 200);
      ok(await t.call('POST', `/v1/members/${m.id}/freeze`, { body: {} }), 200);
      assert.equal(ok(await me(token), 200).status, 'frozen', 'a frozen member still reads their points');
      ok(await t.call('POST', `/v1/members/${m.id}/close`, { body: {} }), 200);
      for (const url of ME) assertInvalidToken(await me(token, url), /closed/);
    });

    it('answers 401 with a Bearer challenge without a token, and keeps API keys and member tokens apart', async () => {
      for (const url of ME) {
        const res = await t.call('GET', url, { key: null });
        assertProblem(res, 401, 'UNAUTHENTICATED');
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="jifen"');
        for (const key of [t.keys.admin, t.keys.integration, t.keys.read]) assertInvalidToken(await me(key, url), /API key/);
        const basic = await t.call('GET', url, { key: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } });
        assertProblem(basic, 401, 'UNAUTHENTICATED');
      }
      const token = (await mint(program.id, { member_id: alice.id })).token;
      for (const [method, url] of [
        ['GET', `/v1/members/${alice.id}/balance`],
        ['GET', '/v1/programs'],
        ['POST', `/v1/programs/${program.id}/member-tokens`],
      ] as const) {
        assertProblem(await t.call(method, url, { key: token, body: method === 'POST' ? { member_id: alice.id } : undefined }), 401, 'UNAUTHENTICATED');
      }
    });
  });

  describe('secret rotation', () => {
    it('shows a secret once; the previous one stays valid until the next rotation', async () => {
      const p = await createProgram(t, { name: 'Rotating' });
      const m = await createMember(t, p.id);
      const sign = (s: string) => {
        const iat = epoch(t.clock.now());
        return new SignJWT({ iss: 'jifen', aud: `jifen:${p.id}`, sub: m.external_id, iat, exp: iat + 300 })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(encoder.encode(s));
      };
      const first = await rotate(p.id);
      assert.equal(first.object, 'member_token_secret');
      assert.match(first.id, /^mts_/);
      assert.match(first.secret, /^jfmts_[A-Za-z0-9_-]{43}$/);
      assert.equal(first.previous_secret_id, null);
      const minted = (await mint(p.id, { member_id: m.id })).token;
      assert.equal(decodeProtectedHeader(minted).kid, first.id);
      const s1 = await settings(p.id);
      assert.deepEqual(s1.secret, { id: first.id, created_at: t.clock.now().toISOString() });
      assert.ok(!JSON.stringify(s1).includes(first.secret), 'the settings never show the secret');

      t.clock.advance(1000);
      const second = await rotate(p.id);
      assert.equal(second.previous_secret_id, first.id);
      const s2 = await settings(p.id);
      assert.equal(s2.secret.id, second.id);
      assert.deepEqual(s2.previous_secret, { id: first.id, created_at: s1.secret.created_at, retired_at: t.clock.now().toISOString() });
      ok(await me(await sign(first.secret)), 200);
      ok(await me(minted), 200);
      ok(await me(await sign(second.secret)), 200);
      const mintedNow = (await mint(p.id, { member_id: m.id })).token;
      assert.equal(decodeProtectedHeader(mintedNow).kid, second.id);
      // a kid naming the current secret is checked against it only
      assertInvalidToken(
        await me(
          await new SignJWT({ ...decodeJwt(await sign(first.secret)) }).setProtectedHeader({ alg: 'HS256', kid: second.id }).sign(encoder.encode(first.secret)),
        ),
        /signature/,
      );
      assertInvalidToken(
        await me(
          await new SignJWT({ ...decodeJwt(await sign(first.secret)) })
            .setProtectedHeader({ alg: 'HS256', kid: 'mts_unknown' })
            .sign(encoder.encode(first.secret)),
        ),
        /kid/,
      );

      const third = await rotate(p.id);
      assertInvalidToken(await me(await sign(first.secret)), /signature/);
      assertInvalidToken(await me(minted), /kid/);
      ok(await me(await sign(second.secret)), 200);
      ok(await me(mintedNow), 200);
      ok(await me(await sign(third.secret)), 200);

      // a leaked secret: rotate and drop the one replaced at once
      const fourth = await rotate(p.id, { revoke_previous: true });
      assert.equal(fourth.previous_secret_id, null);
      assert.equal((await settings(p.id)).previous_secret, null);
      assertInvalidToken(await me(await sign(third.secret)), /signature/);
      ok(await me(await sign(fourth.secret)), 200);
    });

    it('rotates once per Idempotency-Key: a retried rotation returns the same secret', async () => {
      const p = await createProgram(t, { name: 'Retried rotation' });
      const key = unique('rotate');
      const a = ok(await t.call('POST', `/v1/programs/${p.id}/member-token-secrets`, { body: {}, idem: key }), 201);
      const b = await t.call('POST', `/v1/programs/${p.id}/member-token-secrets`, { body: {}, idem: key });
      assert.equal(b.headers['idempotent-replayed'], 'true');
      assert.deepEqual(b.json(), a);
      assert.equal((await settings(p.id)).previous_secret, null);
      // no body at all is {}
      const c = ok(await t.call('POST', `/v1/programs/${p.id}/member-token-secrets`), 201);
      assert.equal(c.previous_secret_id, a.id);
      assertProblem(await t.call('POST', `/v1/programs/${p.id}/member-token-secrets`, { body: { revoke_previous: 'yes' } }), 400, 'VALIDATION_FAILED', {
        path: '/revoke_previous',
      });
      assertProblem(await t.call('POST', '/v1/programs/prg_doesnotexist/member-token-secrets', { body: {} }), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await t.call('POST', `/v1/programs/${p.id}/member-token-secrets`, { key: t.keys.integration, body: {} }), 403, 'FORBIDDEN');
      assertProblem(await t.call('GET', `/v1/programs/${p.id}/member-token-settings`, { key: t.keys.read }), 403, 'FORBIDDEN');
    });
  });

  describe('settings, custom audience and JWKS', () => {
    let jwks: Awaited<ReturnType<typeof jwksServer>>;
    before(async () => {
      jwks = await jwksServer();
    });
    after(() => jwks.close());

    it('validates the settings at the field and refuses an audience another program uses', async () => {
      const p = await createProgram(t, { name: 'Settings' });
      const url = `/v1/programs/${p.id}/member-token-settings`;
      const before = await settings(p.id);
      assert.deepEqual(before, {
        object: 'member_token_settings',
        program_id: p.id,
        audience: `jifen:${p.id}`,
        issuer: null,
        jwks_url: null,
        secret: null,
        previous_secret: null,
        updated_at: null,
      });
      for (const [body, path] of [
        [{}, '/'],
        [{ jwks_url: jwks.url }, '/issuer'],
        [{ jwks_url: 'http://jwks.example.com/keys.json', issuer: 'https://auth.example' }, '/jwks_url'],
        [{ jwks_url: 'ftp://127.0.0.1/keys', issuer: 'https://auth.example' }, '/jwks_url'],
        [{ jwks_url: 'not a url', issuer: 'https://auth.example' }, '/jwks_url'],
        [{ issuer: 'jifen' }, '/issuer'],
        [{ issuer: 'has space' }, '/issuer'],
        [{ issuer: 'x'.repeat(201) }, '/issuer'],
        [{ audience: 'jifen:prg_someoneelse' }, '/audience'],
        [{ audience: '' }, '/audience'],
        [{ secret: 'mine' }, '/secret'],
      ] as const) {
        assertProblem(await t.call('PATCH', url, { body }), 400, 'VALIDATION_FAILED', { path });
      }
      assert.deepEqual(await settings(p.id), before);
      const taken = `https://taken-${unique('aud')}.example`;
      ok(await t.call('PATCH', `/v1/programs/${other.id}/member-token-settings`, { body: { audience: taken } }), 200);
      assertProblem(await t.call('PATCH', url, { body: { audience: taken } }), 409, 'AUDIENCE_IN_USE', { path: '/audience', extra: { audience: taken } });
      ok(await t.call('PATCH', `/v1/programs/${other.id}/member-token-settings`, { body: { audience: null } }), 200);
      assert.equal((await settings(other.id)).audience, `jifen:${other.id}`);
      assertProblem(
        await t.call('PATCH', '/v1/programs/prg_doesnotexist/member-token-settings', { body: { issuer: 'https://a.example' } }),
        404,
        'PROGRAM_NOT_FOUND',
      );
      assertProblem(await t.call('GET', '/v1/programs/prg_doesnotexist/member-token-settings'), 404, 'PROGRAM_NOT_FOUND');
      // the default audience written out is the default
      assert.equal(ok(await t.call('PATCH', url, { body: { audience: `jifen:${p.id}` } }), 200).audience, `jifen:${p.id}`);
    });

    it('uses a custom audience: minted tokens carry it, tokens for the old one are refused', async () => {
      const p = await createProgram(t, { name: 'Custom audience' });
      const m = await createMember(t, p.id);
      const old = (await mint(p.id, { member_id: m.id })).token;
      const audience = `https://loyalty-${unique('a')}.example`;
      const updated = ok(await t.call('PATCH', `/v1/programs/${p.id}/member-token-settings`, { body: { audience, issuer: 'https://shop.example' } }), 200);
      assert.equal(updated.audience, audience);
      assert.equal(updated.issuer, 'https://shop.example');
      assertInvalidToken(await me(old), /audience/);
      const fresh = (await mint(p.id, { member_id: m.id })).token;
      assert.equal(decodeJwt(fresh).aud, audience);
      assert.equal(ok(await me(fresh), 200).id, m.id);
      // the merchant's own HS256 token with its configured issuer
      const { secret } = await rotate(p.id);
      const iat = epoch(t.clock.now());
      const own = await new SignJWT({ iss: 'https://shop.example', aud: audience, sub: m.external_id, iat, exp: iat + 60 })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(encoder.encode(secret));
      assert.equal(ok(await me(own), 200).id, m.id);
    });

    it('verifies RS256, ES256 and EdDSA tokens against the merchant JWKS, with its issuer', async () => {
      const p = await createProgram(t, { name: 'JWKS program' });
      const m = await createMember(t, p.id);
      // every /v1/me route answers 200 (the tier routes need the program's tier ladder)
      ok(await t.call('PUT', `/v1/programs/${p.id}/tier-ladder`, { body: FIXTURE_TIER_LADDER }), 201);
      const issuer = 'https://auth.merchant.example/';
      const configured = ok(await t.call('PATCH', `/v1/programs/${p.id}/member-token-settings`, { body: { jwks_url: jwks.url, issuer } }), 200);
      assert.equal(configured.jwks_url, jwks.url);
      const sign = (k: (typeof jwks.keys)[number], claims: JWTPayload = {}, header: Record<string, unknown> = {}) => {
        const iat = epoch(t.clock.now());
        return new SignJWT({ iss: issuer, aud: `jifen:${p.id}`, sub: m.external_id, iat, exp: iat + 300, ...claims })
          .setProtectedHeader({ alg: k.alg, kid: k.kid, ...header })
          .sign(k.privateKey);
      };
      for (const k of jwks.keys) assert.equal(ok(await me(await sign(k)), 200).id, m.id, k.alg);
      for (const url of ME) ok(await me(await sign(jwks.keys[0]!), url), 200);
      assert.ok(jwks.fetches() <= 2, `the JWKS is cached (${jwks.fetches()} fetches)`);

      const stranger = await generateKeyPair('ES256');
      const iat = epoch(t.clock.now());
      const claims = { iss: issuer, aud: `jifen:${p.id}`, sub: m.external_id, iat, exp: iat + 300 };
      const cases: [string, RegExp][] = [
        [await sign(jwks.keys[0]!, { iss: 'jifen' }), /issuer/],
        [await sign(jwks.keys[1]!, { aud: `jifen:${other.id}` }), /issuer|signature|JWKS/],
        [await sign(jwks.keys[2]!, { exp: iat - 60 }), /expired/],
        [await sign(jwks.keys[0]!, { sub: 'nobody' }), /no member/],
        [await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'kid-ES256' }).sign(stranger.privateKey), /signature/],
        [await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'kid-unknown' }).sign(stranger.privateKey), /No key/],
        // an RS256 key used to sign with the header claiming ES256 under the RS256 kid
        [await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'kid-ES256' }).sign(jwks.keys[0]!.privateKey), /No key/],
      ];
      for (const [token, detail] of cases) assertInvalidToken(await me(token), detail);

      // without a JWKS URL, asymmetric tokens are refused
      ok(await t.call('PATCH', `/v1/programs/${p.id}/member-token-settings`, { body: { jwks_url: null } }), 200);
      assertInvalidToken(await me(await sign(jwks.keys[0]!)), /JWKS URL/);
      assertProblem(
        await t.call('PATCH', `/v1/programs/${p.id}/member-token-settings`, { body: { jwks_url: jwks.url, issuer: null } }),
        400,
        'VALIDATION_FAILED',
        { path: '/issuer' },
      );
    });

    it('answers 503 with Retry-After when the JWKS cannot be fetched, and recovers', async () => {
      const p = await createProgram(t, { name: 'JWKS down' });
      const m = await createMember(t, p.id);
      const down = await jwksServer();
      await down.close();
      const issuer = 'https://down.example';
      ok(await t.call('PATCH', `/v1/programs/${p.id}/member-token-settings`, { body: { jwks_url: down.url, issuer } }), 200);
      const iat = epoch(t.clock.now());
      const k = down.keys[1]!;
      const token = await new SignJWT({ iss: issuer, aud: `jifen:${p.id}`, sub: m.external_id, iat, exp: iat + 300 })
        .setProtectedHeader({ alg: k.alg, kid: k.kid })
        .sign(k.privateKey);
      const res = await me(token);
      assertProblem(res, 503, 'SERVICE_UNAVAILABLE');
      assert.equal(res.headers['retry-after'], '30');
      // the merchant fixes its URL: a token from the working JWKS passes
      ok(await t.call('PATCH', `/v1/programs/${p.id}/member-token-settings`, { body: { jwks_url: jwks.url } }), 200);
      const good = jwks.keys[1]!;
      const fixed = await new SignJWT({ iss: issuer, aud: `jifen:${p.id}`, sub: m.external_id, iat, exp: iat + 300 })
        .setProtectedHeader({ alg: good.alg, kid: good.kid })
        .sign(good.privateKey);
      assert.equal(ok(await me(fixed), 200).id, m.id);
    });
  });
});
