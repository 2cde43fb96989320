// The typed client (packages/client): the committed files are what `npm run client:generate` writes
// today, and the client works against a real server over HTTP, typed end to end.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createJifenClient, idempotencyKey, type JifenClient } from '@jifen/client';
import { CLIENT_DIR, generateClient } from '../packages/client/scripts/generate.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';

describe('packages/client', () => {
  it('is generated from the OpenAPI document the server serves today', async () => {
    const fresh = await generateClient();
    for (const [path, text] of Object.entries(fresh)) {
      const committed = await readFile(join(CLIENT_DIR, path), 'utf8').catch(() => '');
      assert.ok(committed === text, `packages/client/${path} is stale: run \`npm run client:generate\` and commit the result`);
    }
  });
});

forEachDatabase('the typed client over HTTP', (getDb) => {
  let t: TestApp;
  let baseUrl: string;
  before(async () => {
    t = await createTestApp(getDb());
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  after(() => t.close());

  it("a merchant's backend creates a member, credits points once with an idempotency key and reads the balance", async () => {
    const jifen: JifenClient = createJifenClient({ baseUrl, apiKey: t.keys.admin });

    const program = await jifen.POST('/v1/programs', { body: { name: 'Client test', time_zone: 'Asia/Shanghai' } });
    assert.equal(program.response.status, 201);
    const programId = program.data!.id;

    const member = await jifen.POST('/v1/programs/{programId}/members', {
      params: { path: { programId } },
      body: { external_id: 'user-42', name: '王小明' },
    });
    assert.equal(member.response.status, 201);
    const memberId = member.data!.id;
    assert.match(memberId, /^mbr_/);

    // the same key twice: the second is a replay and moves no points
    const credit = {
      params: { path: { memberId }, header: idempotencyKey('order-9001-earn') },
      body: { points: 150, reference: 'order-9001', pending_days: 0 },
    };
    const first = await jifen.POST('/v1/members/{memberId}/credits', credit);
    const replay = await jifen.POST('/v1/members/{memberId}/credits', credit);
    assert.equal(first.response.status, 201);
    assert.equal(replay.response.headers.get('idempotent-replayed'), 'true');

    const balance = await jifen.GET('/v1/members/{memberId}/balance', { params: { path: { memberId } } });
    assert.equal(balance.response.status, 200);
    const available: number = balance.data!.available;
    assert.equal(available, 150);
    assert.equal(balance.data!.lifetime_earned, 150);
    // @ts-expect-error the balance has no field `points`: a wrong name is a tsc error (npm test runs tsc)
    assert.equal(balance.data!.points, undefined);
  });

  it('errors come back typed as problem+json, with their stable code', async () => {
    const jifen = createJifenClient({ baseUrl, apiKey: t.keys.read });
    const missing = await jifen.GET('/v1/members/{memberId}/balance', { params: { path: { memberId: 'mbr_doesnotexist' } } });
    assert.equal(missing.data, undefined);
    assert.equal(missing.response.status, 404);
    assert.equal(missing.error?.code, 'MEMBER_NOT_FOUND');

    const anonymous = createJifenClient({ baseUrl });
    const refused = await anonymous.GET('/v1/programs');
    assert.equal(refused.response.status, 401);

    const writes = await jifen.POST('/v1/members/{memberId}/credits', {
      params: { path: { memberId: 'mbr_doesnotexist' }, header: idempotencyKey() },
      body: { points: 1 },
    });
    assert.equal(writes.response.status, 403);
  });
});
