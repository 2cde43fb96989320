/**
 * Hostile input the HTTP layer must refuse with a clear 4xx problem+json and change nothing (issue 8,
 * items 6, 9 and 10): deeply nested JSON, free-form fields over their limits, ids at and over their
 * length, what the router and Node's HTTP parser refuse, query numbers that are not plain decimal,
 * and the error responses the OpenAPI document declares.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { clientErrorHandler } from '../../src/plugins/errors.ts';
import { findTooDeep, jsonLimitProblem } from '../../src/shared/json-limits.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { unique } from '../helpers/factories.ts';
import { assertProblem, createMember, createProgram, type Fixture, type Json, makeFixture, ok, worldState } from './support.ts';

const arrays = (depth: number, inner = '') => '['.repeat(depth) + inner + ']'.repeat(depth);
const objects = (depth: number, inner = '1') => '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
/** A JSON pointer of `n` repetitions of a segment. */
const repeat = (segment: string, n: number) => segment.repeat(n);

/** A raw HTTP/1.1 exchange on a socket: what the server wrote before closing. */
function rawHttp(port: number, request: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5000);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4) });
    });
  });
}

/** assertProblem for a raw answer. */
function assertRawProblem(res: { status: number; headers: Record<string, string>; body: string }, status: number, code: string): Json {
  assert.equal(res.status, status, res.body);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
  const body = JSON.parse(res.body);
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(body.type, `urn:jifen:problem:${code.toLowerCase().replaceAll('_', '-')}`);
  for (const k of ['title', 'detail', 'instance', 'request_id']) assert.equal(typeof body[k], 'string', k);
  assert.equal(body.request_id, res.headers['x-request-id']);
  return body;
}

describe('JSON limits (no database)', () => {
  it('finds the first container nested too deep in a text, with its pointer, ignoring brackets in strings', () => {
    assert.equal(findTooDeep(arrays(64), 64), undefined);
    assert.equal(findTooDeep(arrays(65), 64), repeat('/0', 64));
    assert.equal(findTooDeep(`{"a":"[[[[[[","b":[1,2,${arrays(3)}]}`, 3), '/b/2/0');
    assert.equal(findTooDeep('{"x\\"y":{"s/~":[[]]}}', 3), '/x"y/s~1~0/0');
    assert.equal(findTooDeep('{"a":1,"b":{"c":[0,{"d":{}}]}}', 4), '/b/c/1/d');
    assert.equal(findTooDeep('"[[[[[["', 1), undefined);
    // a string ending in an escaped backslash ends there; an escaped quote does not end it
    assert.equal(findTooDeep('["a\\\\",[[]]]', 2), '/1/0');
    assert.equal(findTooDeep('["a\\"[[",[[]]]', 2), '/1/0');
    // not JSON at all: still bounded, still a pointer
    assert.equal(findTooDeep('[[[[', 2), '/0/0');
  });

  it('measures the depth and size of a value iteratively, however deep', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.deepEqual(jsonLimitProblem({ x: deep }, { maxDepth: 3 }), {
      path: '/x/0/0',
      message: 'nests objects and arrays deeper than 3 levels',
      kind: 'max_depth',
    });
    assert.equal(jsonLimitProblem({ a: { b: [1] } }, { maxDepth: 3 }), undefined);
    assert.equal(jsonLimitProblem({ a: 'é'.repeat(5) }, { maxDepth: 1, maxBytes: 18 }), undefined);
    assert.equal(jsonLimitProblem({ a: 'é'.repeat(5) }, { maxDepth: 1, maxBytes: 17 })?.path, '');
  });
});

describe('the client error handler (no database)', () => {
  it('answers a request that timed out with 408 REQUEST_TIMEOUT problem+json, and writes nothing on a reset connection', () => {
    let written = '';
    let destroyed = 0;
    const socket = {
      destroyed: false,
      writable: true,
      write: (s: string) => {
        written += s;
        return true;
      },
      destroy: () => {
        destroyed++;
      },
    };
    clientErrorHandler(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket as never);
    const [head, body] = written.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(head!, /\r\nContent-Type: application\/problem\+json\r\n/);
    assert.equal(JSON.parse(body!).code, 'REQUEST_TIMEOUT');
    assert.equal(destroyed, 1);
    written = '';
    clientErrorHandler(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), socket as never);
    assert.equal(written, '');
  });
});

forEachDatabase('HTTP hostile input', (getDb) => {
  let t: TestApp;
  let f: Fixture;
  let port: number;
  let baseline: Json;
  before(async () => {
    t = await createTestApp(getDb());
    f = await makeFixture(t);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  after(() => t.close());
  // what each test's refused requests must leave as it was
  beforeEach(async () => {
    baseline = await state();
  });

  /** Everything a write could change, and the audit (totals per account). */
  async function state(): Promise<Json> {
    return { world: await worldState(t, f), audit: ok(await t.call('GET', `/v1/audit?program_id=${f.programId}`), 200) };
  }
  const assertUnchanged = async () => assert.deepEqual(await state(), baseline, 'a refused request must change nothing');

  describe('JSON nested too deeply (item 6)', () => {
    /** The reproductions of the issue: [what, method, url, body text, path of the culprit, idempotency key]. */
    const cases = (): [string, string, string, string, string, boolean][] => [
      [
        'credit metadata 3,000 arrays deep',
        'POST',
        `/v1/members/${f.memberId}/credits`,
        `{"points":5,"metadata":{"x":${arrays(3000)}}}`,
        `/metadata/x${repeat('/0', 62)}`,
        true,
      ],
      [
        'credit metadata 3,000 objects deep',
        'POST',
        `/v1/members/${f.memberId}/credits`,
        `{"points":5,"metadata":{"x":${objects(3000)}}}`,
        `/metadata/x${repeat('/a', 62)}`,
        true,
      ],
      ['program metadata 3,000 deep', 'POST', '/v1/programs', `{"name":"deep","metadata":{"x":${arrays(3000)}}}`, `/metadata/x${repeat('/0', 62)}`, false],
      [
        'program update metadata 10,000 deep',
        'PATCH',
        `/v1/programs/${f.programId}`,
        `{"metadata":{"x":${arrays(10_000)}}}`,
        `/metadata/x${repeat('/0', 62)}`,
        false,
      ],
      [
        'member attributes 3,000 deep',
        'PATCH',
        `/v1/members/${f.memberId}`,
        `{"attributes":{"x":${objects(3000)}}}`,
        `/attributes/x${repeat('/a', 62)}`,
        false,
      ],
      [
        'event data 5,000 deep',
        'POST',
        '/v1/events',
        `{"id":"deep-1","type":"app.opened","program_id":"${f.programId}","member_id":"${f.memberId}","data":{"x":${arrays(5000)}}}`,
        `/data/x${repeat('/0', 62)}`,
        false,
      ],
      [
        'a batch event 5,000 deep',
        'POST',
        '/v1/events/batch',
        `{"program_id":"${f.programId}","events":[{"id":"deep-2","type":"app.opened","member_id":"${f.memberId}","data":{"x":${arrays(5000)}}}]}`,
        `/events/0/data/x${repeat('/0', 60)}`,
        false,
      ],
      [
        'a rule condition 3,000 deep',
        'POST',
        `/v1/programs/${f.programId}/rules`,
        `{"definition":{"name":"deep","triggers":["checkin"],"effect":{"type":"fixed","points":1},"condition":${objects(3000, 'true')}}}`,
        `/definition/condition${repeat('/a', 62)}`,
        false,
      ],
      [
        'an event type schema 3,000 deep',
        'POST',
        `/v1/programs/${f.programId}/event-types`,
        `{"type":"deep.schema","schema":{"type":"object","properties":${objects(3000)}}}`,
        `/schema/properties${repeat('/a', 62)}`,
        false,
      ],
      ['a top-level array 10,000 deep', 'POST', `/v1/members/${f.memberId}/credits`, arrays(10_000), repeat('/0', 64), true],
      ['a top-level array 100,000 deep', 'POST', '/v1/transfers', arrays(100_000), repeat('/0', 64), true],
    ];
    it('answers each reproduction with 400 JSON_TOO_DEEP naming the path, and changes nothing', async () => {
      for (const [what, method, url, body, path, idem] of cases()) {
        const res = await t.call(method, url, { body, idem: idem ? true : undefined });
        const problem = assertProblem(res, 400, 'JSON_TOO_DEEP', { path });
        assert.equal(problem.max_depth, 64, what);
      }
      await assertUnchanged();
    });

    it('parses a body nested exactly 64 deep; the field limit then names the field', async () => {
      // body (1) → metadata (2) → x and 62 arrays: 64 levels in all; metadata allows 8
      const res = await t.call('POST', `/v1/members/${f.memberId}/credits`, { body: `{"points":5,"metadata":{"x":${arrays(62)}}}`, idem: true });
      assertProblem(res, 400, 'VALIDATION_FAILED', { path: `/metadata/x${repeat('/0', 7)}` });
      assertProblem(
        await t.call('POST', `/v1/members/${f.memberId}/credits`, { body: `{"points":5,"metadata":{"x":${arrays(63)}}}`, idem: true }),
        400,
        'JSON_TOO_DEEP',
      );
      await assertUnchanged();
    });

    it('finds a NUL deep in a body (the text check walks iteratively) and names its path', async () => {
      const res = await t.call('POST', `/v1/members/${f.memberId}/credits`, { body: `{"points":5,"metadata":{"x":${arrays(60, '"a\\u0000"')}}}`, idem: true });
      assertProblem(res, 400, 'VALIDATION_FAILED', { path: `/metadata/x${repeat('/0', 60)}` });
      await assertUnchanged();
    });
  });

  describe('free-form fields over their limits (item 6)', () => {
    /** `levels` objects, one in the other. */
    const nested = (levels: number): unknown => {
      let v: unknown = 1;
      for (let i = 0; i < levels; i++) v = { n: v };
      return v;
    };
    it('takes metadata at its limits: 8 levels, 16,384 bytes, 50 keys of 64 characters', async () => {
      const m = await createMember(t, f.programId);
      const exact = { pad: '' } as Record<string, unknown>;
      exact.pad = 'p'.repeat(16_384 - JSON.stringify(exact).length);
      assert.equal(JSON.stringify(exact).length, 16_384);
      const keys = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${String(i).padStart(2, '0')}${'k'.repeat(62)}`, i]));
      for (const metadata of [nested(8), exact, keys, { 中文键: '值'.repeat(100) }]) {
        const body = ok(await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: 1, metadata }, idem: true }), 201);
        assert.deepEqual(body.entry.metadata, metadata);
      }
      const attributes = { ['k'.repeat(64)]: nested(7) };
      assert.deepEqual(ok(await t.call('PATCH', `/v1/members/${m.id}`, { body: { attributes } }), 200).attributes, attributes);
    });

    it('refuses metadata nested 9 levels, over 16,384 bytes, or with a key of 65 characters, at the field; nothing changes', async () => {
      const over = { pad: '' } as Record<string, unknown>;
      over.pad = 'p'.repeat(16_385 - JSON.stringify(over).length);
      const cases: [string, string, unknown, string][] = [
        ['POST', `/v1/members/${f.memberId}/credits`, { points: 5, metadata: nested(9) }, `/metadata${repeat('/n', 8)}`],
        ['POST', `/v1/members/${f.memberId}/debits`, { points: 5, metadata: over }, '/metadata'],
        ['POST', `/v1/members/${f.memberId}/holds`, { points: 5, metadata: { ['k'.repeat(65)]: 1 } }, '/metadata'],
        ['POST', `/v1/members/${f.memberId}/adjustments`, { points: 5, reason_code: 'goodwill', metadata: { ['键'.repeat(65)]: 1 } }, '/metadata'],
        [
          'POST',
          '/v1/transfers',
          { from_member_id: f.memberId, to_member_id: f.otherMemberId, points: 5, metadata: { a: { b: nested(8) } } },
          `/metadata/a/b${repeat('/n', 6)}`,
        ],
        ['POST', `/v1/holds/${f.holdId}/capture`, { metadata: { ['k'.repeat(100)]: 1 } }, '/metadata'],
        ['PATCH', `/v1/members/${f.memberId}`, { attributes: { ['k'.repeat(65)]: 1 } }, '/attributes'],
        ['PATCH', `/v1/programs/${f.programId}`, { metadata: nested(9) }, `/metadata${repeat('/n', 8)}`],
        ['POST', '/v1/programs', { name: 'x', metadata: over }, '/metadata'],
        ['POST', `/v1/programs/${f.programId}/members`, { external_id: unique('m'), attributes: { ['k'.repeat(65)]: 1 } }, '/attributes'],
      ];
      for (const [method, url, body, path] of cases) {
        const problem = assertProblem(await t.call(method, url, { body, idem: true }), 400, 'VALIDATION_FAILED', { path });
        if (path === '/metadata' && JSON.stringify(body).includes('k'.repeat(65))) assert.match(problem.detail, /key longer than 64 characters/);
      }
      await assertUnchanged();
    });

    it('refuses event data nested over 32 levels, a custom schema over 32 levels or 65,536 bytes, and a rule condition over 32 levels or 65,536 bytes', async () => {
      const deepLogic = (levels: number): unknown => {
        let v: unknown = true;
        for (let i = 0; i < levels; i++) v = { '!': v };
        return v;
      };
      const rule = (condition: unknown, multiplierCondition?: unknown) => ({
        definition: {
          name: 'limits',
          triggers: ['checkin'],
          effect: { type: 'fixed', points: 1 },
          condition,
          ...(multiplierCondition === undefined ? {} : { multipliers: [{ type: 'condition', condition: multiplierCondition, multiplier: '2' }] }),
        },
      });
      const bigIn = { in: [{ var: 'event.data.store_id' }, Array.from({ length: 7000 }, (_, i) => `store-${i}`)] };
      assert.ok(JSON.stringify(bigIn).length > 65_536);
      const cases: [string, unknown, string][] = [
        [
          '/v1/events',
          { id: unique('ev'), type: 'app.opened', program_id: f.programId, member_id: f.memberId, data: { x: nested(32) } },
          `/data/x${repeat('/n', 31)}`,
        ],
        ['/v1/events/preview', { id: 'p', type: 'app.opened', program_id: f.programId, member_id: f.memberId, data: nested(33) }, `/data${repeat('/n', 32)}`],
        [
          '/v1/events/batch',
          { program_id: f.programId, events: [{ id: unique('ev'), type: 'app.opened', member_id: f.memberId, data: { x: nested(32) } }] },
          `/events/0/data/x${repeat('/n', 31)}`,
        ],
        [
          `/v1/programs/${f.programId}/event-types`,
          { type: 'limits.deep', schema: { type: 'object', properties: nested(32) } },
          `/schema/properties${repeat('/n', 31)}`,
        ],
        [`/v1/programs/${f.programId}/event-types`, { type: 'limits.big', schema: { type: 'object', description: 'd'.repeat(65_536) } }, '/schema'],
        [`/v1/programs/${f.programId}/rules`, rule(deepLogic(33)), `/definition/condition${repeat('/!', 32)}`],
        [`/v1/programs/${f.programId}/rules`, rule(true, deepLogic(33)), `/definition/multipliers/0/condition${repeat('/!', 32)}`],
        [`/v1/programs/${f.programId}/rules`, rule(bigIn), '/definition/condition'],
        [`/v1/rules/${f.ruleId}/versions`, rule(deepLogic(33)), `/definition/condition${repeat('/!', 32)}`],
      ];
      // the keys of a multiplier's values and labels are tiers or channels: 1 to 64 characters
      for (const values of [{ ['t'.repeat(65)]: '2' }, { '': '2' }]) {
        const body = { definition: { name: 'keys', triggers: ['checkin'], effect: { type: 'fixed', points: 1 }, multipliers: [{ type: 'tier', values }] } };
        cases.push([`/v1/programs/${f.programId}/rules`, body, '/definition/multipliers/0/values']);
        const labels = {
          definition: {
            ...body.definition,
            multipliers: [{ type: 'tier', values: { gold: '2' }, labels: Object.fromEntries(Object.keys(values).map((k) => [k, 'x'])) }],
          },
        };
        cases.push([`/v1/programs/${f.programId}/rules`, labels, '/definition/multipliers/0/labels']);
      }
      for (const [url, body, path] of cases) {
        assertProblem(await t.call('POST', url, { body, idem: true }), 400, 'VALIDATION_FAILED', { path });
      }
      await assertUnchanged();
    });

    it('takes event data, custom schemas and rule conditions at their limits', async () => {
      const p = await createProgram(t, { name: 'At the limits' });
      const m = await createMember(t, p.id);
      const event = ok(await t.call('POST', '/v1/events', { body: { id: unique('ev'), type: 'app.opened', program_id: p.id, member_id: m.id } }), 201);
      assert.equal(event.type, 'app.opened');
      const schema = { type: 'object', properties: { x: { type: 'object', properties: { y: { type: 'object' } } } } };
      ok(await t.call('POST', `/v1/programs/${p.id}/event-types`, { body: { type: 'limits.ok', schema } }), 201);
      const data = { x: { y: nested(29) } }; // data (1) → x (2) → y (3) and 29 more: 32 levels
      ok(await t.call('POST', '/v1/events', { body: { id: unique('ev'), type: 'limits.ok', program_id: p.id, member_id: m.id, data } }), 201);
      let logic: unknown = true;
      for (let i = 0; i < 32; i++) logic = { '!!': logic };
      const rule = ok(
        await t.call('POST', `/v1/programs/${p.id}/rules`, {
          body: { definition: { name: 'deep but fine', triggers: ['checkin'], effect: { type: 'fixed', points: 1 }, condition: logic } },
        }),
        201,
      );
      // and the condition comes back as it was given
      assert.deepEqual(rule.current.definition.condition, logic);
      assert.deepEqual(ok(await t.call('GET', `/v1/rules/${rule.id}`), 200).current.definition.condition, logic);
    });
  });

  describe('ids at and over their length (item 9)', () => {
    it('finds a member by an external_id of 128 characters, ASCII or astral; 129 is a 400 at creation and lookup', async () => {
      for (const externalId of ['e'.repeat(128), '😀'.repeat(128), `a/b?c#d%e ${'x'.repeat(118)}`]) {
        const created = ok(await t.call('POST', `/v1/programs/${f.programId}/members`, { body: { external_id: externalId } }), 201);
        const found = ok(await t.call('GET', `/v1/programs/${f.programId}/members/by-external-id/${encodeURIComponent(externalId)}`), 200);
        assert.equal(found.id, created.id);
        assert.equal(found.external_id, externalId);
      }
      const before = await state();
      for (const externalId of ['e'.repeat(129), '😀'.repeat(129)]) {
        assertProblem(await t.call('POST', `/v1/programs/${f.programId}/members`, { body: { external_id: externalId } }), 400, 'VALIDATION_FAILED', {
          path: '/external_id',
        });
        assertProblem(await t.call('GET', `/v1/programs/${f.programId}/members/by-external-id/${encodeURIComponent(externalId)}`), 400, 'VALIDATION_FAILED', {
          path: '/externalId',
          location: 'params',
        });
      }
      assert.deepEqual(await state(), before);
    });

    it('finds an event by an id of 128 characters; 129 is a 400 at creation and lookup', async () => {
      for (const id of ['v'.repeat(128), '事'.repeat(128)]) {
        const created = ok(await t.call('POST', '/v1/events', { body: { id, type: 'app.opened', program_id: f.programId, member_id: f.memberId } }), 201);
        const found = ok(await t.call('GET', `/v1/programs/${f.programId}/events/by-external-id/${encodeURIComponent(id)}`), 200);
        assert.equal(found.id, created.id);
        assert.equal(found.event_id, id);
      }
      const before = await state();
      assertProblem(
        await t.call('POST', '/v1/events', { body: { id: 'v'.repeat(129), type: 'app.opened', program_id: f.programId, member_id: f.memberId } }),
        400,
        'VALIDATION_FAILED',
        { path: '/id' },
      );
      assertProblem(await t.call('GET', `/v1/programs/${f.programId}/events/by-external-id/${'v'.repeat(129)}`), 400, 'VALIDATION_FAILED', {
        path: '/externalId',
        location: 'params',
      });
      assert.deepEqual(await state(), before);
    });

    it('finds a member by the longest email the API takes (254 characters) with q', async () => {
      const email = `${'u'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(58)}.cn`;
      assert.equal(email.length, 254);
      const m = await createMember(t, f.programId, { email });
      const found = ok(await t.call('GET', `/v1/programs/${f.programId}/members?q=${encodeURIComponent(email)}`), 200);
      assert.deepEqual(
        found.data.map((x: Json) => x.id),
        [m.id],
      );
      assertProblem(await t.call('GET', `/v1/programs/${f.programId}/members?q=${'q'.repeat(255)}`), 400, 'VALIDATION_FAILED', {
        path: '/q',
        location: 'querystring',
      });
    });

    it('answers a path parameter over 1,024 characters with 414 URI_TOO_LONG problem+json, on reads and writes', async () => {
      assertProblem(await t.call('GET', `/v1/programs/${f.programId}/members/by-external-id/${'e'.repeat(1025)}`), 414, 'URI_TOO_LONG');
      assertProblem(await t.call('GET', `/v1/members/mbr_${'a'.repeat(1100)}`), 414, 'URI_TOO_LONG');
      assertProblem(await t.call('POST', `/v1/members/mbr_${'a'.repeat(1100)}/credits`, { body: { points: 5 }, idem: true }), 414, 'URI_TOO_LONG');
      await assertUnchanged();
    });
  });

  describe('what the HTTP layer refuses itself (item 10)', () => {
    it('answers bad percent-encoding with 400 INVALID_URL problem+json, on reads and writes', async () => {
      for (const path of ['/v1/members/%C0%AF', '/v1/members/%ZZ', '/v1/members/%', `/v1/programs/${f.programId}/members/by-external-id/%E4%B8`]) {
        assertProblem(await t.call('GET', path), 400, 'INVALID_URL');
      }
      assertProblem(await t.call('POST', '/v1/members/%ZZ/credits', { body: { points: 5 }, idem: true }), 400, 'INVALID_URL');
      await assertUnchanged();
    });

    it('answers over-long URLs and headers with 431, malformed requests with 400, as problem+json on the socket', async () => {
      const key = t.keys.admin;
      const credit = (extra: string) =>
        `POST /v1/members/${f.memberId}/credits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nIdempotency-Key: ${unique('raw')}\r\nContent-Type: application/json\r\n${extra}`;
      const body = '{"points":5}';
      assertRawProblem(
        await rawHttp(port, `GET /v1/programs?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`),
        431,
        'HEADERS_TOO_LARGE',
      );
      assertRawProblem(
        await rawHttp(port, `POST /v1/members/${f.memberId}/credits?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
        431,
        'HEADERS_TOO_LARGE',
      );
      assertRawProblem(await rawHttp(port, credit(`X-Big: ${'b'.repeat(20_000)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`)), 431, 'HEADERS_TOO_LARGE');
      assertRawProblem(await rawHttp(port, 'HELLO\r\n\r\n'), 400, 'BAD_REQUEST');
      assertRawProblem(await rawHttp(port, 'GET / HTTP/9.9\r\nHost: x\r\n\r\n'), 400, 'BAD_REQUEST');
      assertRawProblem(await rawHttp(port, credit('Content-Length: abc\r\n\r\n{"points":5}')), 400, 'BAD_REQUEST');
      assertRawProblem(await rawHttp(port, credit(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`)), 400, 'BAD_REQUEST');
      assertRawProblem(await rawHttp(port, credit(`Bad Header: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`)), 400, 'BAD_REQUEST');
      // HTTP/1.1 without Host: Node's own answer would be a bare 400 without a body
      assertRawProblem(await rawHttp(port, 'GET /healthz HTTP/1.1\r\n\r\n'), 400, 'BAD_REQUEST');
      assertRawProblem(await rawHttp(port, credit(`Content-Length: ${body.length}\r\n\r\n${body}`).replace('Host: x\r\n', '')), 400, 'BAD_REQUEST');
      // over a real socket too, the router's refusals are problem+json
      assertRawProblem(await rawHttp(port, 'GET /v1/members/%C0%AF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 400, 'INVALID_URL');
      await assertUnchanged();
      // and a well-formed request on the same server still works
      const good = await rawHttp(port, credit(`Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`));
      assert.equal(good.status, 201, good.body);
      assert.equal((await state()).world.members[0].balance.available, baseline.world.members[0].balance.available + 5);
    });

    it('reads bodies as UTF-8 JSON only: invalid UTF-8 is 400 INVALID_JSON, another charset or a Content-Encoding is 415', async () => {
      const inject = (payload: string | Buffer, headers: Record<string, string>) =>
        t.app.inject({
          method: 'POST',
          url: `/v1/members/${f.memberId}/credits`,
          payload,
          headers: { authorization: `Bearer ${t.keys.admin}`, 'idempotency-key': unique('idem'), ...headers },
        });
      const json = 'application/json';
      // {"points":5,"reason":"<ff fe>"}: Node would read the bytes as U+FFFD and store that
      const invalid = Buffer.concat([Buffer.from('{"points":5,"reason":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      assertProblem(await inject(invalid, { 'content-type': json }), 400, 'INVALID_JSON');
      assertProblem(await inject(Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]), { 'content-type': json }), 400, 'INVALID_JSON');
      for (const ct of ['application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json;charset="iso-8859-1"']) {
        assertProblem(await inject('{"points":5}', { 'content-type': ct }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
      for (const encoding of ['gzip', 'deflate', 'br']) {
        assertProblem(await inject('{"points":5}', { 'content-type': json, 'content-encoding': encoding }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
      await assertUnchanged();
      for (const ct of ['application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'Application/JSON']) {
        assert.equal((await inject('{"points":1,"reason":"积分"}', { 'content-type': ct })).statusCode, 201, ct);
      }
      assert.equal((await inject('{"points":1}', { 'content-type': json, 'content-encoding': 'identity' })).statusCode, 201);
    });

    it('ignores the query string of a route that declares none, even with a NUL in it', async () => {
      assert.equal((await t.call('GET', '/healthz?limit=%00', { key: null })).statusCode, 200);
      assert.equal((await t.call('GET', `/v1/members/${f.memberId}?x=%00`)).statusCode, 200);
      assertProblem(await t.call('GET', '/v1/programs?cursor=%00'), 400, 'VALIDATION_FAILED', { path: '/cursor', location: 'querystring' });
    });

    it('refuses any body on POST /v1/jobs/sweep but none or {}', async () => {
      for (const body of ['null', '123', '"x"', '[]', '{"a":1}', 'true']) {
        assertProblem(await t.call('POST', '/v1/jobs/sweep', { body }), 400, 'VALIDATION_FAILED');
      }
      await assertUnchanged();
      ok(await t.call('POST', '/v1/jobs/sweep'), 200);
      ok(await t.call('POST', '/v1/jobs/sweep', { body: {} }), 200);
    });

    it('reads query numbers only as plain decimal digits: 0x10, 1e1, " 5", +5, 0b1, 1.0, 16.5 are 400 at the field', async () => {
      const lists = [
        '/v1/programs',
        `/v1/programs/${f.programId}/members`,
        `/v1/members/${f.memberId}/entries`,
        `/v1/members/${f.memberId}/lots`,
        `/v1/members/${f.memberId}/holds`,
        `/v1/members/${f.memberId}/events`,
        `/v1/programs/${f.programId}/rules`,
      ];
      for (const url of lists) {
        for (const value of ['0x10', '1e1', '%205', '5%20', '%2B5', '0b1', '0o7', '1.0', '16.5', 'Infinity', '', '1234567890123456']) {
          assertProblem(await t.call('GET', `${url}?limit=${value}`), 400, 'VALIDATION_FAILED', { path: '/limit', location: 'querystring' });
        }
        assertProblem(await t.call('GET', `${url}?limit=5&limit=0x10`), 400, 'VALIDATION_FAILED', { path: '/limit', location: 'querystring' });
        assert.equal(ok(await t.call('GET', `${url}?limit=1`), 200).data.length <= 1, true);
        ok(await t.call('GET', `${url}?limit=016`), 200);
      }
      assertProblem(await t.call('GET', '/v1/programs?limit=0'), 400, 'VALIDATION_FAILED', { path: '/limit', location: 'querystring' });
      assertProblem(await t.call('GET', '/v1/programs?limit=101'), 400, 'VALIDATION_FAILED', { path: '/limit', location: 'querystring' });
    });
  });

  describe('the OpenAPI document declares the errors as they are sent (item 10)', () => {
    let spec: Json;
    before(async () => {
      spec = ok(await t.call('GET', '/openapi.json', { key: null }), 200);
    });
    const operations = (): [string, string, Json][] =>
      Object.entries<Json>(spec.paths).flatMap(([path, item]) =>
        Object.entries<Json>(item)
          .filter(([m]) => ['get', 'post', 'patch', 'put', 'delete'].includes(m))
          .map(([m, op]): [string, string, Json] => [m, path, op]),
      );

    it('declares every error body of every operation as application/problem+json, never application/json', () => {
      let count = 0;
      for (const [method, path, op] of operations()) {
        for (const [status, response] of Object.entries<Json>(op.responses ?? {})) {
          if (Number(status) < 400 || path === '/readyz') continue;
          assert.deepEqual(Object.keys(response.content ?? {}), ['application/problem+json'], `${method} ${path} ${status}`);
          assert.deepEqual(response.content['application/problem+json'].schema.required, [
            'type',
            'title',
            'status',
            'detail',
            'code',
            'instance',
            'request_id',
          ]);
          count++;
        }
      }
      assert.ok(count > 300, `only ${count} error responses`);
    });

    it('declares 408, 414, 429, 431 and 503 on every /v1 operation (Retry-After on 429 and 503), and 413 and 415 on those that take a body', () => {
      for (const [method, path, op] of operations().filter(([, p]) => p.startsWith('/v1/'))) {
        const statuses = Object.keys(op.responses);
        for (const s of ['400', '401', '403', '408', '414', '429', '431', '503']) assert.ok(statuses.includes(s), `${method} ${path} declares ${s}`);
        if (method !== 'get') for (const s of ['413', '415']) assert.ok(statuses.includes(s), `${method} ${path} declares ${s}`);
        for (const s of ['429', '503']) assert.equal(op.responses[s].headers['Retry-After'].schema.type, 'integer', `${method} ${path} ${s}`);
        if (op.requestBody) assert.deepEqual(Object.keys(op.requestBody.content), ['application/json']);
      }
      assert.match(spec.paths['/v1/members/{memberId}/credits'].post.responses['400'].description, /JSON_TOO_DEEP/);
      assert.match(spec.paths['/v1/members/{memberId}/credits'].post.responses['414'].description, /URI_TOO_LONG/);
      assert.match(spec.paths['/v1/members/{memberId}/credits'].post.responses['431'].description, /HEADERS_TOO_LARGE/);
    });

    it('documents the limits of free-form fields and that a body may be left out where it may', () => {
      const credit = spec.paths['/v1/members/{memberId}/credits'].post.requestBody.content['application/json'].schema;
      assert.deepEqual(credit.properties.metadata.propertyNames, { maxLength: 64 });
      assert.deepEqual(credit.properties.metadata['x-json-limits'], { maxDepth: 8, maxBytes: 16_384 });
      assert.equal(spec.paths['/v1/members/{memberId}/credits'].post.requestBody.required, true);
      for (const [path, method] of [
        ['/v1/jobs/sweep', 'post'],
        ['/v1/holds/{holdId}/capture', 'post'],
        ['/v1/members/{memberId}/freeze', 'post'],
      ] as const) {
        assert.equal(spec.paths[path][method].requestBody.required, false, `${method} ${path}`);
      }
    });
  });
});
