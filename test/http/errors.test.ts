import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { unique } from '../helpers/factories.ts';
import {
  assertProblem,
  createMember,
  createProgram,
  credit,
  type Fixture,
  hold,
  type Json,
  makeFixture,
  memberState,
  ok,
  type Res,
  v1Routes,
} from './support.ts';

/** The routes that move points, with what else a valid body needs. */
interface PointRoute {
  name: string;
  url: (f: Fixture) => string;
  rest: (f: Fixture) => Record<string, unknown>;
  idem: boolean;
  /** Whether points may be left out (capture and reversal default to everything). */
  pointsOptional?: boolean;
  /** Whether negative points are valid (adjustments). */
  signed?: boolean;
}

const POINT_ROUTES: PointRoute[] = [
  { name: 'credit', url: (f) => `/v1/members/${f.memberId}/credits`, rest: () => ({}), idem: true },
  { name: 'debit', url: (f) => `/v1/members/${f.memberId}/debits`, rest: () => ({}), idem: true },
  { name: 'hold', url: (f) => `/v1/members/${f.memberId}/holds`, rest: () => ({}), idem: true },
  { name: 'capture', url: (f) => `/v1/holds/${f.holdId}/capture`, rest: () => ({}), idem: false, pointsOptional: true },
  { name: 'reversal', url: (f) => `/v1/entries/${f.entryId}/reversals`, rest: () => ({}), idem: true, pointsOptional: true },
  { name: 'adjustment', url: (f) => `/v1/members/${f.memberId}/adjustments`, rest: () => ({ reason_code: 'goodwill' }), idem: true, signed: true },
  { name: 'transfer', url: () => '/v1/transfers', rest: (f) => ({ from_member_id: f.memberId, to_member_id: f.otherMemberId }), idem: true },
];

/** Raw JSON texts for `points`: the number over 2^53 must not be parsed by the test itself. */
const BAD_POINTS: [string, string][] = [
  ['negative points', '-5'],
  ['zero points', '0'],
  ['fractional points', '1.5'],
  ['points over 2^53', '9007199254740993'],
  ['points over 10^12', '1000000000001'],
  ['points that overflow to Infinity', '1e400'],
  ['points as a string', '"10"'],
  ['points as null', 'null'],
  ['points as a boolean', 'true'],
  ['points as a list', '[5]'],
  ['points as an object', '{"value": 5}'],
];

/** A JSON object text with `points` as given (raw) followed by the other fields. */
function rawBody(points: string, rest: Record<string, unknown>): string {
  const tail = JSON.stringify(rest).slice(1, -1);
  return `{"points": ${points}${tail ? `, ${tail}` : ''}}`;
}

forEachDatabase('HTTP bad input', (getDb) => {
  let t: TestApp;
  let f: Fixture;
  let baseline: Json;
  before(async () => {
    t = await createTestApp(getDb());
    f = await makeFixture(t);
    baseline = await state();
  });
  after(() => t.close());

  /** What a refused request must leave as it was: both members and the open hold. */
  async function state(): Promise<Json> {
    return {
      a: await memberState(t, f.memberId),
      b: await memberState(t, f.otherMemberId),
      hold: ok(await t.call('GET', `/v1/holds/${f.holdId}`), 200),
    };
  }
  const assertUnchanged = async () => assert.deepEqual(await state(), baseline, 'a refused request must change nothing');

  /** Raw inject, for bodies and content types the helper would not send. */
  const inject = (r: PointRoute, payload: string | undefined, headers: Record<string, string>): Promise<Res> =>
    t.app.inject({
      method: 'POST',
      url: r.url(f),
      payload,
      headers: { authorization: `Bearer ${t.keys.admin}`, ...(r.idem ? { 'idempotency-key': unique('idem') } : {}), ...headers },
    });

  describe('points that are not whole positive numbers up to 10^12', () => {
    for (const r of POINT_ROUTES) {
      for (const [what, points] of BAD_POINTS) {
        if (r.signed && what === 'negative points') continue;
        it(`refuses a ${r.name} with ${what}: 400 VALIDATION_FAILED at /points, nothing changes`, async () => {
          const res = await t.call('POST', r.url(f), { body: rawBody(points, r.rest(f)), idem: r.idem ? true : undefined });
          assertProblem(res, 400, 'VALIDATION_FAILED', { path: '/points' });
          await assertUnchanged();
        });
      }
    }

    it('refuses an adjustment below -10^12 and says that 0 is not allowed', async () => {
      const r = POINT_ROUTES.find((x) => x.name === 'adjustment')!;
      assertProblem(await t.call('POST', r.url(f), { body: rawBody('-1000000000001', r.rest(f)), idem: true }), 400, 'VALIDATION_FAILED', { path: '/points' });
      const zero = assertProblem(await t.call('POST', r.url(f), { body: rawBody('0', r.rest(f)), idem: true }), 400, 'VALIDATION_FAILED', { path: '/points' });
      assert.equal(zero.errors.find((e: Json) => e.path === '/points').message, 'must not be 0');
      await assertUnchanged();
    });
  });

  describe('bodies of the wrong shape', () => {
    for (const r of POINT_ROUTES) {
      it(`refuses a ${r.name} with an unknown field: 400 at that field, nothing changes`, async () => {
        const res = await t.call('POST', r.url(f), { body: { points: 5, ...r.rest(f), bonus_points: 5 }, idem: r.idem ? true : undefined });
        assertProblem(res, 400, 'VALIDATION_FAILED', { path: '/bonus_points' });
        await assertUnchanged();
      });

      if (!r.pointsOptional) {
        it(`refuses a ${r.name} without points: 400 at /points, nothing changes`, async () => {
          assertProblem(await t.call('POST', r.url(f), { body: r.rest(f), idem: r.idem ? true : undefined }), 400, 'VALIDATION_FAILED', { path: '/points' });
          await assertUnchanged();
        });
      }

      it(`refuses a ${r.name} with malformed JSON: 400 INVALID_JSON, nothing changes`, async () => {
        for (const payload of ['{"points": 5', '{points: 5}', "{'points': 5}", '{"points": 5,}', '{"points": 05}', '']) {
          assertProblem(await inject(r, payload, { 'content-type': 'application/json' }), 400, 'INVALID_JSON');
        }
        await assertUnchanged();
      });

      it(`refuses a ${r.name} whose body is not an object: 400 VALIDATION_FAILED, nothing changes`, async () => {
        for (const payload of ['[]', '[{"points": 5}]', '"points"', '5', 'null']) {
          const res = await inject(r, payload, { 'content-type': 'application/json' });
          assertProblem(res, 400, 'VALIDATION_FAILED');
        }
        await assertUnchanged();
      });

      it(`refuses a ${r.name} sent with another content type: 4xx problem+json, nothing changes`, async () => {
        const json = JSON.stringify({ points: 5, ...r.rest(f) });
        assertProblem(await inject(r, json, { 'content-type': 'application/xml' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
        assertProblem(await inject(r, 'points=5', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
        assertProblem(await inject(r, json, {}), 415, 'UNSUPPORTED_MEDIA_TYPE');
        // text/plain has a parser in Fastify: the body arrives as a string and fails the schema.
        const plain = await inject(r, json, { 'content-type': 'text/plain' });
        assert.ok(plain.statusCode === 400 || plain.statusCode === 415, `${plain.statusCode} ${plain.body}`);
        assert.match(String(plain.headers['content-type']), /^application\/problem\+json/);
        await assertUnchanged();
      });

      it(`refuses a ${r.name} over the body size limit with 413 PAYLOAD_TOO_LARGE, nothing changes`, async () => {
        const res = await t.call('POST', r.url(f), { body: { points: 5, ...r.rest(f), reason: 'x'.repeat(1_100_000) }, idem: r.idem ? true : undefined });
        assertProblem(res, 413, 'PAYLOAD_TOO_LARGE');
        await assertUnchanged();
      });
    }
  });

  describe('other fields out of range', () => {
    const cases: [string, (f: Fixture) => string, Record<string, unknown>, string][] = [
      ['an empty reason', (x) => `/v1/members/${x.memberId}/credits`, { points: 5, reason: '' }, '/reason'],
      ['a reason over 500 characters', (x) => `/v1/members/${x.memberId}/debits`, { points: 5, reason: 'r'.repeat(501) }, '/reason'],
      ['a reference over 200 characters', (x) => `/v1/members/${x.memberId}/holds`, { points: 5, reference: 'o'.repeat(201) }, '/reference'],
      [
        'metadata with 51 keys',
        (x) => `/v1/members/${x.memberId}/credits`,
        { points: 5, metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) },
        '/metadata',
      ],
      ['metadata that is a list', (x) => `/v1/members/${x.memberId}/credits`, { points: 5, metadata: ['a'] }, '/metadata'],
      ['negative pending days', (x) => `/v1/members/${x.memberId}/credits`, { points: 5, pending_days: -1 }, '/pending_days'],
      ['pending days over 3650', (x) => `/v1/members/${x.memberId}/credits`, { points: 5, pending_days: 3651 }, '/pending_days'],
      ['available_at that is not a timestamp', (x) => `/v1/members/${x.memberId}/credits`, { points: 5, available_at: 'next week' }, '/available_at'],
      ['expires_at that is a number', (x) => `/v1/members/${x.memberId}/credits`, { points: 5, expires_at: 1767225600 }, '/expires_at'],
      ['expires_at on 30 February', (x) => `/v1/members/${x.memberId}/credits`, { points: 5, expires_at: '2027-02-30T00:00:00Z' }, '/expires_at'],
      ['a hold lifetime of 0 seconds', (x) => `/v1/members/${x.memberId}/holds`, { points: 5, expires_in_seconds: 0 }, '/expires_in_seconds'],
      ['a hold lifetime over 30 days', (x) => `/v1/members/${x.memberId}/holds`, { points: 5, expires_in_seconds: 2_592_001 }, '/expires_in_seconds'],
      ['a reason on a void that is too long', (x) => `/v1/holds/${x.holdId}/void`, { reason: 'r'.repeat(501) }, '/reason'],
      ['points on a void', (x) => `/v1/holds/${x.holdId}/void`, { points: 5 }, '/points'],
      ['an adjustment actor that is empty', (x) => `/v1/members/${x.memberId}/adjustments`, { points: 5, reason_code: 'goodwill', actor: '' }, '/actor'],
      ['an activity type that is too long', (x) => `/v1/members/${x.memberId}/activity`, { type: 't'.repeat(65) }, '/type'],
    ];
    for (const [what, url, body, path] of cases) {
      it(`refuses ${what}: 400 at ${path}, nothing changes`, async () => {
        assertProblem(await t.call('POST', url(f), { body, idem: true }), 400, 'VALIDATION_FAILED', { path });
        await assertUnchanged();
      });
    }

    it('refuses malformed ids in the path with 400 naming the parameter, nothing changes', async () => {
      const cases: [string, string][] = [
        ['/v1/members/12345/credits', '/memberId'],
        ['/v1/members/mbr_has-dash/debits', '/memberId'],
        ['/v1/holds/mbr_wrongprefix/capture', '/holdId'],
        ['/v1/entries/hld_wrongprefix/reversals', '/entryId'],
      ];
      for (const [url, path] of cases) {
        assertProblem(await t.call('POST', url, { body: { points: 5 }, idem: true }), 400, 'VALIDATION_FAILED', { path, location: 'params' });
      }
      await assertUnchanged();
    });
  });

  describe('requests without a body where the body is optional', () => {
    // The routes declare their body with Type.Optional and their handlers read `request.body ?? {}`,
    // and the docs say "omit points to capture the whole hold", so a POST without a body should work.
    const cases: [string, () => Promise<string>, number][] = [
      ['captures a whole hold', async () => `/v1/holds/${await newHold()}/capture`, 200],
      ['voids a hold', async () => `/v1/holds/${await newHold()}/void`, 200],
      ['reverses a whole credit', async () => `/v1/entries/${(await credit(t, (await newMember()).id, 5)).entry.id}/reversals`, 201],
      ['records activity', async () => `/v1/members/${(await newMember()).id}/activity`, 200],
      ['freezes a member', async () => `/v1/members/${(await newMember()).id}/freeze`, 200],
      ['unfreezes a member', async () => `/v1/members/${(await newMember()).id}/unfreeze`, 200],
      ['closes a member', async () => `/v1/members/${(await newMember()).id}/close`, 200],
    ];
    let programId: string;
    const newMember = async () => {
      programId ??= (await createProgram(t, { name: 'No body' })).id;
      return createMember(t, programId);
    };
    const newHold = async () => {
      const m = await newMember();
      await credit(t, m.id, 10);
      return (await hold(t, m.id, 5)).hold.id as string;
    };
    for (const [what, url, status] of cases) {
      it(`${what} when the POST has no body`, async () => {
        const res = await t.call('POST', await url(), { idem: true });
        assert.equal(res.statusCode, status, res.body);
      });
    }
  });

  describe('text PostgreSQL cannot store', () => {
    const cases: [string, string, string][] = [
      ['a NUL character in the reason', '{"points": 5, "reason": "a\\u0000b"}', '/reason'],
      ['a NUL character in a metadata key', '{"points": 5, "metadata": {"a\\u0000": 1}}', '/metadata'],
      ['a lone surrogate in the reason', '{"points": 5, "reason": "\\ud800"}', '/reason'],
    ];
    for (const [what, body, path] of cases) {
      it(`refuses a credit with ${what} with a 400 at ${path}, not a 500`, async () => {
        const res = await t.call('POST', `/v1/members/${f.memberId}/credits`, { body, idem: true });
        assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body}`);
        assertProblem(res, 400, 'VALIDATION_FAILED', { path });
        await assertUnchanged();
      });
    }
  });

  describe('no 5xx for garbage on any route', () => {
    it('answers garbage bodies on every /v1 write with a 4xx problem+json, and garbage query strings on reads without a 5xx', async () => {
      const g = await makeFixture(t);
      const failures: string[] = [];
      // revoking would succeed with any body: point it at a key that does not exist
      const routes = v1Routes(g).map((r) => (r.op === 'revokeApiKey' ? { ...r, url: '/v1/api-keys/key_doesnotexist' } : r));
      for (const r of routes) {
        const payloads = r.method === 'GET' ? [undefined] : ['{"points": ', '[]', '"x"', '123', '{"points": 9007199254740993, "unknown": true}'];
        const queries =
          r.method === 'GET' ? ['?limit=-1', '?limit=1e309', '?cursor=%00%01', `?cursor=${'A'.repeat(600)}`, '?unknown=1', '?limit=1&limit=2'] : [''];
        for (const payload of payloads) {
          for (const query of queries) {
            const res = await t.app.inject({
              method: r.method,
              url: r.url + query,
              payload,
              headers: {
                authorization: `Bearer ${t.keys.admin}`,
                'idempotency-key': unique('idem'),
                ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
              },
            });
            const problem = /^application\/problem\+json/.test(String(res.headers['content-type']));
            // Writes must refuse these bodies (the sweep takes no body and ignores it). Reads without a
            // query schema ignore the query string, so for them only "no 5xx" is required.
            const mayPass = r.method === 'GET' || r.op === 'runSweep';
            const bad = res.statusCode >= 500 || (res.statusCode >= 400 && !problem) || (res.statusCode < 400 && !mayPass);
            if (bad) failures.push(`${r.method} ${r.url}${query} ${payload ?? ''} → ${res.statusCode} ${res.body.slice(0, 120)}`);
          }
        }
      }
      assert.deepEqual(failures, []);
    });
  });
});
