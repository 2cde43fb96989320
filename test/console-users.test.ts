import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBootstrapOwner } from '../src/modules/console-users/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { type ConsoleSession, OWNER_PASSWORD, signIn, signInAs, signInOwner, signInRaw } from './helpers/console.ts';
import { forEachDatabase } from './helpers/db.ts';
import { killAllServers, spawnServer, startServer } from './helpers/server-process.ts';
import { assertProblem, createProgram, type Json, ok } from './http/support.ts';

forEachDatabase('console users', (getDb) => {
  let t: TestApp;
  let owner: ConsoleSession;
  before(async () => {
    t = await createTestApp(getDb());
    owner = await signInOwner(t, getDb());
  });
  after(() => t.close());

  it('makes the bootstrap owner only on a database without console users', async () => {
    const again = await ensureBootstrapOwner(getDb().db, undefined, t.clock.now());
    assert.deepEqual(again, { created: false, email: 'owner@jifen.local' });
    const list = ok(await owner.call('GET', '/v1/console/users'), 200);
    assert.equal(list.data.filter((u: Json) => u.email === 'owner@jifen.local').length, 1);
  });

  it('creates a user with a generated password shown once; a replay answers without it', async () => {
    const p = await createProgram(t);
    const body = { email: 'Li.Na@Example.com', name: '李娜', roles: [{ program_id: p.id, role: 'support' }] };
    const created = ok(await owner.call('POST', '/v1/console/users', { body, idem: 'create-lina' }), 201);
    assert.equal(created.email, 'li.na@example.com');
    assert.match(created.id, /^usr_/);
    assert.deepEqual(created.roles, [{ program_id: p.id, role: 'support' }]);
    assert.equal(typeof created.initial_password, 'string');
    assert.ok(created.initial_password.length >= 16);
    assert.equal(created.disabled_at, null);
    const replay = await owner.call('POST', '/v1/console/users', { body, idem: 'create-lina' });
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    const { initial_password: _, ...withoutPassword } = created;
    assert.deepEqual(replay.json(), withoutPassword);
    assertProblem(await owner.call('POST', '/v1/console/users', { body: { ...body, email: 'li.na@example.COM' } }), 409, 'CONSOLE_USER_EXISTS');
    const s = await signIn(t, 'LI.NA@example.com', created.initial_password);
    const session = ok(await s.call('GET', '/v1/console/session'), 200);
    assert.deepEqual(session.access, [{ program_id: p.id, role: 'support', permissions: ['read', 'members.write', 'members.status'] }]);
  });

  it('refuses roles in unknown programs, twice in one program, and a write without users.manage', async () => {
    assertProblem(
      await owner.call('POST', '/v1/console/users', { body: { email: 'x1@example.com', name: 'x', roles: [{ program_id: 'prg_nope', role: 'viewer' }] } }),
      404,
      'PROGRAM_NOT_FOUND',
      { path: '/roles/0/program_id' },
    );
    const p = await createProgram(t);
    assertProblem(
      await owner.call('POST', '/v1/console/users', {
        body: {
          email: 'x2@example.com',
          name: 'x',
          roles: [
            { program_id: p.id, role: 'viewer' },
            { program_id: p.id, role: 'owner' },
          ],
        },
      }),
      400,
      'VALIDATION_FAILED',
      { path: '/roles/1/program_id' },
    );
    const operator = await signInAs(t, getDb(), [{ program_id: null, role: 'operator' }]);
    assertProblem(await operator.call('GET', '/v1/console/users'), 403, 'FORBIDDEN', { extra: { required_permission: 'users.manage' } });
    assertProblem(
      await operator.call('POST', '/v1/console/users', { body: { email: 'x3@example.com', name: 'x', roles: [{ program_id: p.id, role: 'viewer' }] } }),
      403,
      'FORBIDDEN',
    );
    // API keys do not manage console users
    assertProblem(await t.call('GET', '/v1/console/users'), 401, 'UNAUTHENTICATED');
  });

  it('lets an owner of some programs manage roles in them only', async () => {
    const a = await createProgram(t, { name: 'A' });
    const b = await createProgram(t, { name: 'B' });
    const ownerA = await signInAs(t, getDb(), [{ program_id: a.id, role: 'owner' }]);
    const both = ok(
      await owner.call('POST', '/v1/console/users', {
        body: {
          email: 'both@example.com',
          name: 'Both',
          password: 'both-password-1',
          roles: [
            { program_id: a.id, role: 'viewer' },
            { program_id: b.id, role: 'finance' },
          ],
        },
      }),
      201,
    );
    assert.equal(both.initial_password, undefined);
    const onlyB = ok(
      await owner.call('POST', '/v1/console/users', { body: { email: 'onlyb@example.com', name: 'Only B', roles: [{ program_id: b.id, role: 'viewer' }] } }),
      201,
    );
    const listed = ok(await ownerA.call('GET', '/v1/console/users'), 200);
    const ids = listed.data.map((u: Json) => u.id);
    assert.ok(ids.includes(both.id) && ids.includes(ownerA.userId) && !ids.includes(onlyB.id), JSON.stringify(ids));
    assert.deepEqual(listed.data.find((u: Json) => u.id === both.id).roles, [{ program_id: a.id, role: 'viewer' }]);
    // roles in A change; the role in B stays
    const changed = ok(await ownerA.call('PATCH', `/v1/console/users/${both.id}`, { body: { roles: [{ program_id: a.id, role: 'operator' }] } }), 200);
    assert.deepEqual(changed.roles, [{ program_id: a.id, role: 'operator' }]);
    const seenByOwner = ok(await owner.call('GET', '/v1/console/users'), 200).data.find((u: Json) => u.id === both.id);
    assert.deepEqual(seenByOwner.roles.map((r: Json) => `${r.program_id}:${r.role}`).sort(), [`${a.id}:operator`, `${b.id}:finance`].sort());
    assertProblem(
      await ownerA.call('PATCH', `/v1/console/users/${both.id}`, { body: { roles: [{ program_id: b.id, role: 'owner' }] } }),
      404,
      'PROGRAM_NOT_FOUND',
    );
    assertProblem(await ownerA.call('PATCH', `/v1/console/users/${both.id}`, { body: { roles: [{ program_id: null, role: 'owner' }] } }), 403, 'FORBIDDEN');
    // a user with roles elsewhere is not renamed, disabled or reset by an owner of A
    assertProblem(await ownerA.call('PATCH', `/v1/console/users/${both.id}`, { body: { disabled: true } }), 403, 'FORBIDDEN');
    assertProblem(await ownerA.call('POST', `/v1/console/users/${both.id}/password-reset`), 403, 'FORBIDDEN');
    assertProblem(await ownerA.call('PATCH', `/v1/console/users/${onlyB.id}`, { body: { name: 'x' } }), 404, 'CONSOLE_USER_NOT_FOUND');
    // a user of A only: created, renamed and reset by the owner of A
    const mine = ok(
      await ownerA.call('POST', '/v1/console/users', { body: { email: 'mine@example.com', name: 'Mine', roles: [{ program_id: a.id, role: 'viewer' }] } }),
      201,
    );
    ok(await ownerA.call('PATCH', `/v1/console/users/${mine.id}`, { body: { name: 'Mine renamed' } }), 200);
    const reset = ok(await ownerA.call('POST', `/v1/console/users/${mine.id}/password-reset`, { idem: true }), 200);
    assert.equal(typeof reset.password, 'string');
    assertProblem(await signInRaw(t, 'mine@example.com', mine.initial_password), 401, 'INVALID_CREDENTIALS');
    ok(await signInRaw(t, 'mine@example.com', reset.password), 200);
  });

  it('disables and enables a user (their sessions end) and keeps an enabled owner of every program', async () => {
    const u = await signInAs(t, getDb(), [{ program_id: null, role: 'viewer' }]);
    const disabled = ok(await owner.call('PATCH', `/v1/console/users/${u.userId}`, { body: { disabled: true } }), 200);
    assert.equal(typeof disabled.disabled_at, 'string');
    assertProblem(await u.call('GET', '/v1/console/session'), 401, 'UNAUTHENTICATED');
    const enabled = ok(await owner.call('PATCH', `/v1/console/users/${u.userId}`, { body: { disabled: false } }), 200);
    assert.equal(enabled.disabled_at, null);
    ok(await signInRaw(t, u.email, u.password), 200);

    assertProblem(await owner.call('PATCH', `/v1/console/users/${owner.userId}`, { body: { disabled: true } }), 409, 'LAST_OWNER');
    assertProblem(
      await owner.call('PATCH', `/v1/console/users/${owner.userId}`, { body: { roles: [{ program_id: null, role: 'operator' }] } }),
      409,
      'LAST_OWNER',
    );
    ok(await owner.call('GET', '/v1/console/session'), 200);
  });

  it('resets a password: the new one is shown once and every session of the user ends', async () => {
    const u = await signInAs(t, getDb(), [{ program_id: null, role: 'finance' }]);
    const reset = ok(await owner.call('POST', `/v1/console/users/${u.userId}/password-reset`, { idem: 'reset-1' }), 200);
    assert.equal(typeof reset.password, 'string');
    const replay = await owner.call('POST', `/v1/console/users/${u.userId}/password-reset`, { idem: 'reset-1' });
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.json().password, undefined);
    assertProblem(await u.call('GET', '/v1/console/session'), 401, 'UNAUTHENTICATED');
    ok(await signInRaw(t, u.email, reset.password), 200);
    assertProblem(await owner.call('POST', '/v1/console/users/usr_nobody/password-reset'), 404, 'CONSOLE_USER_NOT_FOUND');
  });
});

describe('the bootstrap owner of a new server', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jifen-console-owner-'));
  });
  after(async () => {
    await killAllServers();
    await rm(dir, { recursive: true, force: true });
  });

  it('is printed once, on the first start, and signs in; jifen console-user adds a user', async () => {
    const env = { JIFEN_DATA_DIR: dir, JIFEN_DEMO: 'false', JIFEN_WEB_DIR: 'none' };
    const first = await startServer(env);
    const printed = /email\s+owner@jifen\.local\n\s+password\s+(\S+)/.exec(first.stdout());
    assert.ok(printed, first.stdout());
    const res = await first.request('POST', '/v1/console/session', { key: null, body: { email: 'owner@jifen.local', password: printed[1] } });
    assert.equal(res.status, 200, res.text);
    await first.kill('SIGTERM');
    // `jifen console-user` gives a role (making the user) and prints a password
    const cli = spawnServer(env, ['console-user', '--email', 'Ops@Example.com', '--role', 'operator']);
    assert.equal((await cli.exited).code, 0, cli.stderr());
    const cliPassword = /password: (\S+)/.exec(cli.stdout())?.[1];
    assert.ok(cliPassword, cli.stdout());
    const second = await startServer(env);
    assert.doesNotMatch(second.stdout(), /owner@jifen\.local/);
    const signedIn = await second.request('POST', '/v1/console/session', { key: null, body: { email: 'ops@example.com', password: cliPassword } });
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.deepEqual(signedIn.json.access[0], {
      program_id: null,
      role: 'operator',
      permissions: ['read', 'members.write', 'members.status', 'points.adjust', 'ledger.write', 'rules.write', 'events.write'],
    });
    await second.kill('SIGTERM');
  });

  it('takes JIFEN_BOOTSTRAP_OWNER_PASSWORD instead, and prints no password', async () => {
    const other = await mkdtemp(join(tmpdir(), 'jifen-console-owner-'));
    try {
      const server = await startServer({ JIFEN_DATA_DIR: other, JIFEN_DEMO: 'false', JIFEN_WEB_DIR: 'none', JIFEN_BOOTSTRAP_OWNER_PASSWORD: OWNER_PASSWORD });
      assert.doesNotMatch(server.stdout(), /password\s/);
      const res = await server.request('POST', '/v1/console/session', { key: null, body: { email: 'owner@jifen.local', password: OWNER_PASSWORD } });
      assert.equal(res.status, 200, res.text);
      await server.kill('SIGTERM');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
