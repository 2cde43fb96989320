// The member centre's demo sign-in (src/routes/demo.ts): public, only beside the demo, only for the
// demo's programs, and its token is a member token like any other on /v1/me.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { DEMO_BEAUTY_PROGRAM_ID, DEMO_PROGRAM_ID, seedDemo } from '../src/demo/seed-demo.ts';
import { maskPhone } from '../src/routes/demo.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { makeMember, makeProgram } from './helpers/factories.ts';
import { assertProblem, type Json, ok } from './http/support.ts';

const NOW = '2026-12-02T04:00:00.000Z';
const bearer = (token: string) => ({ key: token });

it('masks phones to the first three and last four digits', () => {
  assert.equal(maskPhone('+8613812345678'), '138****5678');
  assert.equal(maskPhone('13812345678'), '138****5678');
  assert.equal(maskPhone(null), null);
  assert.equal(maskPhone('+861234'), '****');
});

forEachDatabase('the demo sign-in, with the demo', (getDb) => {
  let t: TestApp;
  let other: string;
  before(async () => {
    assert.equal(await seedDemo(getDb().db, new Date(NOW)), true);
    t = await createTestApp(getDb(), NOW, { JIFEN_DEMO: 'true' });
    other = (await makeProgram(getDb().db, new Date(NOW), { name: 'Not a demo' })).id;
    await makeMember(getDb().db, other, new Date(NOW), { external_id: 'coffee-0001' });
  });
  after(() => t.close());

  it('lists a dozen members of the coffee chain without any key, masked, some with points expiring within 30 days', async () => {
    const list = ok(await t.call('GET', '/v1/demo/members', { key: null }), 200);
    assert.equal(list.program.id, DEMO_PROGRAM_ID);
    assert.deepEqual(
      list.programs.map((p: Json) => p.id),
      [DEMO_PROGRAM_ID, DEMO_BEAUTY_PROGRAM_ID],
    );
    assert.equal(list.data.length, 12);
    for (const m of list.data) {
      assert.match(m.id, /^mbr_/);
      assert.match(m.external_id, /^coffee-/);
      assert.match(m.phone, /^\d{3}\*{4}\d{4}$/, 'phones are masked');
      assert.equal(m.expires_soon, m.expiring_30_days > 0);
    }
    assert.ok(
      list.data.some((m: Json) => m.expires_soon),
      'someone has points expiring soon',
    );
    const ids = list.data.map((m: Json) => m.external_id);
    assert.deepEqual([...ids].sort(), ids, 'in external id order');
    assert.equal(new Set(ids).size, 12);
  });

  it("lists the beauty shop's members when asked", async () => {
    const list = ok(await t.call('GET', `/v1/demo/members?program_id=${DEMO_BEAUTY_PROGRAM_ID}`, { key: null }), 200);
    assert.equal(list.program.id, DEMO_BEAUTY_PROGRAM_ID);
    assert.equal(list.data.length, 12);
    for (const m of list.data) assert.match(m.external_id, /^beauty-/);
  });

  it('refuses any other program, one that exists included, as not found', async () => {
    assertProblem(await t.call('GET', `/v1/demo/members?program_id=${other}`, { key: null }), 404, 'PROGRAM_NOT_FOUND');
    assertProblem(await t.call('GET', '/v1/demo/members?program_id=prg_nowhere', { key: null }), 404, 'PROGRAM_NOT_FOUND');
    assertProblem(
      await t.call('POST', '/v1/demo/member-token', { key: null, body: { program_id: other, external_id: 'coffee-0001' } }),
      404,
      'PROGRAM_NOT_FOUND',
    );
  });

  it('mints a one-hour member token for a demo member that /v1/me accepts, with the balance the list showed', async () => {
    const list = ok(await t.call('GET', `/v1/demo/members?program_id=${DEMO_PROGRAM_ID}`, { key: null }), 200);
    const chosen = list.data.find((m: Json) => m.expires_soon) ?? list.data[0];
    const changes = async () => (await getDb().db.query<{ n: number }>('SELECT count(*)::int AS n FROM change_log'))[0]!.n;
    const changesBefore = await changes();
    const res = await t.call('POST', '/v1/demo/member-token', { key: null, body: { program_id: DEMO_PROGRAM_ID, external_id: chosen.external_id } });
    const minted = ok(res, 201);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(minted.object, 'member_token');
    assert.equal(minted.program_id, DEMO_PROGRAM_ID);
    assert.equal(minted.member_id, chosen.id);
    assert.equal(minted.expires_in, 3600);
    assert.equal(await changes(), changesBefore, 'minting changes nothing: no change-log row');

    const me = ok(await t.call('GET', '/v1/me', bearer(minted.token)), 200);
    assert.equal(me.external_id, chosen.external_id);
    assert.equal(me.program.id, DEMO_PROGRAM_ID);
    const balance = ok(await t.call('GET', '/v1/me/balance', bearer(minted.token)), 200);
    assert.equal(balance.available, chosen.available);
    assert.equal(balance.expiring.days_30, chosen.expiring_30_days);

    // the same as any member token: an hour later it is refused
    t.clock.advance(3600_000 + 120_000);
    try {
      assertProblem(await t.call('GET', '/v1/me', bearer(minted.token)), 401, 'UNAUTHENTICATED');
    } finally {
      t.clock.set(NOW);
    }
  });

  it('answers an unknown member as not found and refuses a body that names no member', async () => {
    assertProblem(
      await t.call('POST', '/v1/demo/member-token', { key: null, body: { program_id: DEMO_PROGRAM_ID, external_id: 'nobody' } }),
      404,
      'MEMBER_NOT_FOUND',
    );
    assertProblem(await t.call('POST', '/v1/demo/member-token', { key: null, body: { program_id: DEMO_PROGRAM_ID } }), 400, 'VALIDATION_FAILED', {
      path: '/external_id',
    });
  });

  it('documents both operations as public (security: [])', () => {
    const spec = t.app.swagger() as Json;
    assert.deepEqual(spec.paths['/v1/demo/members'].get.security, []);
    assert.equal(spec.paths['/v1/demo/members'].get.operationId, 'listDemoMembers');
    assert.deepEqual(spec.paths['/v1/demo/member-token'].post.security, []);
    assert.equal(spec.paths['/v1/demo/member-token'].post.operationId, 'createDemoMemberToken');
  });
});

forEachDatabase('the demo sign-in, without the demo', (getDb) => {
  let t: TestApp;
  let program: string;
  before(async () => {
    t = await createTestApp(getDb(), NOW);
    program = (await makeProgram(getDb().db, new Date(NOW))).id;
    await makeMember(getDb().db, program, new Date(NOW), { external_id: 'm-1' });
  });
  after(() => t.close());

  it('has no demo routes: both are 404 and the API document does not name them', async () => {
    for (const url of ['/v1/demo/members', `/v1/demo/members?program_id=${DEMO_PROGRAM_ID}`]) {
      assert.equal((await t.call('GET', url, { key: null })).statusCode, 404);
      assert.equal((await t.call('GET', url)).statusCode, 404, 'not with a key either');
    }
    const post = await t.call('POST', '/v1/demo/member-token', { key: null, body: { program_id: program, external_id: 'm-1' } });
    assert.equal(post.statusCode, 404);
    assert.equal(post.json().code, 'NOT_FOUND');
    const spec = t.app.swagger() as Json;
    assert.deepEqual(
      Object.keys(spec.paths).filter((p) => p.startsWith('/v1/demo')),
      [],
    );
  });
});
