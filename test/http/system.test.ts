import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { assertProblem, type Json, ok, v1ConsoleRoutes, v1MeRoutes, v1PublicRoutes, v1Routes } from './support.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

forEachDatabase('HTTP system routes', (getDb, kind) => {
  let t: TestApp;
  let spec: Json;
  before(async () => {
    t = await createTestApp(getDb());
    spec = ok(await t.call('GET', '/openapi.json', { key: null }), 200);
  });
  after(() => t.close());

  /** Every operation of the OpenAPI document: [method, path, operation]. */
  const operations = (): [string, string, Json][] =>
    Object.entries<Json>(spec.paths).flatMap(([path, item]) =>
      Object.entries<Json>(item)
        .filter(([m]) => METHODS.includes(m))
        .map(([m, op]): [string, string, Json] => [m, path, op]),
    );

  it('answers /healthz without a key', async () => {
    const res = await t.call('GET', '/healthz', { key: null });
    assert.deepEqual(ok(res, 200), { status: 'ok' });
    assert.ok(res.headers['x-request-id']);
  });

  it('answers /readyz without a key when the database is migrated', async () => {
    assert.deepEqual(ok(await t.call('GET', '/readyz', { key: null }), 200), { status: 'ready', database: kind });
  });

  it("answers /readyz 503 while a migration is pending or the SQL functions are not this version's", async () => {
    const { db } = getDb();
    const readyz = async () => {
      const res = await t.call('GET', '/readyz', { key: null });
      return [res.statusCode, res.json()];
    };
    const [last] = await db.query<{ id: string; checksum: string; applied_at: string }>(
      'SELECT id, checksum, applied_at FROM schema_migration ORDER BY id DESC LIMIT 1',
    );
    await db.query('DELETE FROM schema_migration WHERE id = $1', [last!.id]);
    try {
      assert.deepEqual(await readyz(), [503, { status: 'unavailable', database: kind, reason: 'migrations pending' }]);
    } finally {
      await db.query('INSERT INTO schema_migration (id, checksum, applied_at) VALUES ($1, $2, $3)', [last!.id, last!.checksum, last!.applied_at]);
    }
    const [file] = await db.query<{ file: string; checksum: string }>('SELECT file, checksum FROM schema_function_file ORDER BY file DESC LIMIT 1');
    await db.query(`UPDATE schema_function_file SET checksum = 'another version' WHERE file = $1`, [file!.file]);
    try {
      assert.deepEqual(await readyz(), [503, { status: 'unavailable', database: kind, reason: 'SQL functions out of date' }]);
    } finally {
      await db.query('UPDATE schema_function_file SET checksum = $2 WHERE file = $1', [file!.file, file!.checksum]);
    }
    assert.deepEqual(await readyz(), [200, { status: 'ready', database: kind }]);
  });

  it('serves Prometheus metrics without a key, including request durations by route', async () => {
    ok(await t.call('GET', '/v1/programs'), 200);
    const res = await t.call('GET', '/metrics', { key: null });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.body, /^# HELP /m);
    assert.match(res.body, /^# TYPE \S+ (counter|gauge|histogram|summary)$/m);
    assert.match(res.body, /route="\/v1\/programs"/);
  });

  it('serves an OpenAPI 3.1 document without a key', () => {
    assert.match(spec.openapi, /^3\.1\./);
    assert.equal(typeof spec.info.title, 'string');
    assert.ok(spec.components.securitySchemes.apiKey, 'the bearer scheme is described');
    assert.ok(Object.keys(spec.paths).some((p) => p.startsWith('/v1/')));
  });

  it('gives every /v1 operation a unique operationId and a security requirement', () => {
    const v1 = operations().filter(([, path]) => path.startsWith('/v1/'));
    assert.ok(v1.length >= 30, `only ${v1.length} /v1 operations`);
    const ids = v1.map(([, , op]) => op.operationId);
    for (const [method, path, op] of v1) {
      assert.equal(typeof op.operationId, 'string', `${method} ${path} has no operationId`);
      assert.ok(op.operationId.length > 0);
      // An operation's own `security` overrides the document's; [] would make it public.
      const effective = op.security ?? spec.security;
      if (op.operationId === 'signIn') {
        // signing in to the console is the one public /v1 operation (rate-limited by email and IP)
        assert.deepEqual(effective, []);
        continue;
      }
      if (op.operationId === 'verifyLotteryDraw') {
        // a lottery draw's verification is public by design (docs/rewards.md, "Lottery")
        assert.deepEqual(effective, []);
        continue;
      }
      assert.ok(Array.isArray(effective) && effective.length > 0, `${method} ${path} has no security requirement`);
      for (const requirement of effective) {
        for (const scheme of Object.keys(requirement)) assert.ok(spec.components.securitySchemes[scheme], `${method} ${path}: unknown scheme ${scheme}`);
      }
      assert.ok(op.responses?.['401'] && op.responses?.['403'], `${method} ${path} documents 401 and 403`);
    }
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  });

  it('documents exactly the operations the HTTP tests exercise', () => {
    const documented = operations()
      .filter(([, path]) => path.startsWith('/v1/'))
      .map(([method, path, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`)
      .sort();
    const tested = [
      ...v1Routes({
        programId: 'prg_x',
        memberId: 'mbr_x',
        otherMemberId: 'mbr_y',
        holdId: 'hld_x',
        entryId: 'ent_x',
        apiKeyId: 'key_x',
        ruleId: 'rul_x',
        eventId: 'evt_x',
        changeId: 'chg_x',
      }),
      ...v1MeRoutes(),
      ...v1PublicRoutes(),
      ...v1ConsoleRoutes(),
    ]
      .map((r) => {
        const path = r.url
          .replace(/\/prg_x/, '/{programId}')
          .replace(/\/mbr_[xy]/, '/{memberId}')
          .replace(/\/hld_x/, '/{holdId}')
          .replace(/\/ent_x/, '/{entryId}')
          .replace(/\/key_x/, '/{keyId}')
          .replace(/\/rul_x/, '/{ruleId}')
          .replace(/\/evt_x/, '/{eventId}')
          .replace(/\/chg_x/, '/{changeId}')
          .replace(/\/seg_x/, '/{segmentId}')
          .replace(/\/rwd_x/, '/{rewardId}')
          .replace(/\/rdm_x/, '/{redemptionId}')
          .replace(/\/rpc_x/, '/{priceChangeId}')
          .replace(/\/lpz_x/, '/{prizeId}')
          .replace(/\/ldr_x/, '/{drawId}')
          .replace(/\/rci_x/, '/{importId}')
          .replace(/\/chk_x/, '/{deductionId}')
          .replace(/\?.*$/, '')
          .replace(/members\/by-external-id\/nobody/, 'members/by-external-id/{externalId}')
          .replace(/events\/by-external-id\/fixture-event/, 'events/by-external-id/{externalId}');
        return `${r.method} ${path} ${r.op}`;
      })
      .sort();
    assert.deepEqual(tested, documented);
  });

  it('leaves /healthz and /readyz public in the document', () => {
    for (const path of ['/healthz', '/readyz']) assert.deepEqual(spec.paths[path].get.security, []);
  });

  it('serves the API reference at /docs', async () => {
    const res = await t.call('GET', '/docs', { key: null });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /swagger/i);
  });

  it('echoes a well-formed X-Request-Id and uses it in problem documents', async () => {
    const res = await t.call('GET', '/v1/programs/prg_doesnotexist', { headers: { 'x-request-id': 'trace-abc.123' } });
    assert.equal(res.headers['x-request-id'], 'trace-abc.123');
    assert.equal(assertProblem(res, 404, 'PROGRAM_NOT_FOUND').request_id, 'trace-abc.123');
    const bad = await t.call('GET', '/healthz', { key: null, headers: { 'x-request-id': 'has spaces and {braces}' } });
    assert.match(String(bad.headers['x-request-id']), /^req_[0-9a-f]+$/);
  });

  it('answers an unknown route with 404 NOT_FOUND problem+json, with or without a key', async () => {
    for (const key of [undefined, null]) {
      const body = assertProblem(await t.call('GET', '/v1/nothing-here', { key }), 404, 'NOT_FOUND');
      assert.equal(body.instance, '/v1/nothing-here');
    }
  });

  it('answers a known path with the wrong method with a 4xx problem+json', async () => {
    for (const [method, url] of [
      ['DELETE', '/v1/programs'],
      ['PUT', '/v1/transfers'],
      ['GET', '/v1/jobs/sweep'],
    ] as const) {
      const res = await t.call(method, url);
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${method} ${url}: ${res.statusCode}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    }
  });
});
