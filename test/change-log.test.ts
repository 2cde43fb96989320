/**
 * The change log (audit log of changes): every successful write of the API records one row with
 * who, what, before and after; replays, failed writes, previews and minted tokens record nothing;
 * rows cannot be changed or deleted; secrets are never stored; listing filters and pages; keys
 * limited to programs see only their programs' changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChangeRecorder } from '../src/modules/change-log/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { signInOwner } from './helpers/console.ts';
import { DB_KINDS, forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { assertProblem, createMember, createProgram, credit, type Json, makeFixture, ok, type Res, send, v1Routes } from './http/support.ts';

/** What the log says of each write of v1Routes: its resource and whether it loads the resource before. */
const EXPECTED: Record<string, { resource: string; before?: boolean; program?: 'fixture' | 'new' | null } | null> = {
  createProgram: { resource: 'program', program: 'new' },
  updateProgram: { resource: 'program', before: true },
  createMember: { resource: 'member' },
  updateMember: { resource: 'member', before: true },
  freezeMember: { resource: 'member', before: true },
  unfreezeMember: { resource: 'member', before: true },
  closeMember: { resource: 'member', before: true },
  creditPoints: { resource: 'member' },
  debitPoints: { resource: 'member' },
  createHold: { resource: 'member' },
  captureHold: { resource: 'hold' },
  voidHold: { resource: 'hold' },
  reverseCredit: { resource: 'entry' },
  adjustPoints: { resource: 'member' },
  transferPoints: { resource: 'transfer' },
  recordActivity: { resource: 'member' },
  runSweep: { resource: 'job', program: null },
  createApiKey: { resource: 'api_key', program: null },
  revokeApiKey: { resource: 'api_key', before: true, program: null },
  createRule: { resource: 'rule' },
  reviseRule: { resource: 'rule', before: true },
  archiveRule: { resource: 'rule', before: true },
  sendEvent: { resource: 'event' },
  sendEvents: { resource: 'event' },
  createEventType: { resource: 'event_type' },
  updateMemberTokenSettings: { resource: 'member_token_settings', before: true },
  rotateMemberTokenSecret: { resource: 'member_token_secret', before: true },
  createSegment: { resource: 'segment' },
  updateSegment: { resource: 'segment', before: true },
  archiveSegment: { resource: 'segment', before: true },
  refreshSegment: { resource: 'segment' },
  putTierLadder: { resource: 'tier_ladder', before: true },
  setTierOverride: { resource: 'member', before: true },
  endTierOverride: { resource: 'member', before: true },
  createReward: { resource: 'reward' },
  updateReward: { resource: 'reward', before: true },
  archiveReward: { resource: 'reward', before: true },
  createPriceChange: { resource: 'reward_price_change' },
  deletePriceChange: { resource: 'reward_price_change' },
  redeemReward: { resource: 'redemption' },
  shipRedemption: { resource: 'redemption', before: true },
  deliverRedemption: { resource: 'redemption', before: true },
  cancelRedemption: { resource: 'redemption', before: true },
  rejectRedemption: { resource: 'redemption', before: true },
  createLotteryPrize: { resource: 'lottery_prize' },
  updateLotteryPrize: { resource: 'lottery_prize', before: true },
  archiveLotteryPrize: { resource: 'lottery_prize', before: true },
  rotateLotterySeed: { resource: 'lottery_seed' },
  importRewardCodes: { resource: 'reward_code_import' },
  generateRewardCodes: { resource: 'reward_code_import' },
  putCheckoutPolicy: { resource: 'checkout_policy', before: true },
  createCheckoutDeduction: { resource: 'checkout_deduction' },
  captureCheckoutDeduction: { resource: 'checkout_deduction', before: true },
  voidCheckoutDeduction: { resource: 'checkout_deduction', before: true },
  refundCheckoutDeduction: { resource: 'checkout_deduction', before: true },
  // not changes
  previewEvent: null,
  previewSegment: null,
  createMemberToken: null,
};

forEachDatabase('change log', (getDb, kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb());
  });
  after(() => t.close());

  const db = () => getDb().db;
  const count = async (): Promise<number> => (await db().query<{ n: number }>('SELECT count(*)::int AS n FROM change_log'))[0]!.n;
  const rowsOf = async (res: Res): Promise<Json[]> =>
    db().query('SELECT id, program_id, operation FROM change_log WHERE request_id = $1', [String(res.headers['x-request-id'])]);
  const changes = async (programId: string, query = ''): Promise<Json> => ok(await t.call('GET', `/v1/programs/${programId}/changes${query}`), 200);

  describe('recording', () => {
    // a fresh fixture for each write is most of this file's time: on one database (PostgreSQL when the
    // suite has it); the recording is the same code on both, and the tests below run on both
    const everyWriteHere = kind === 'postgres' || !DB_KINDS.includes('postgres');
    it('records every kind of write once, with who, what, before and after; previews and minted tokens are not changes', {
      skip: !everyWriteHere && 'run on PostgreSQL',
    }, async () => {
      const writes = v1Routes(await makeFixture(t)).filter((r) => r.method !== 'GET');
      const named = new Set(writes.map((r) => r.op));
      for (const op of Object.keys(EXPECTED)) assert.ok(named.has(op), `${op} is not a write of v1Routes`);
      const adminKeyId = (await db().query<{ id: string }>(`SELECT id FROM api_key WHERE name = 'test admin'`))[0]!.id;
      for (const w of writes) {
        assert.ok(Object.hasOwn(EXPECTED, w.op), `${w.op}: say in EXPECTED how the change log shows it`);
        const expected = EXPECTED[w.op] as (typeof EXPECTED)[string];
        const f = await makeFixture(t);
        const r = v1Routes(f).find((x) => x.op === w.op)!;
        const res = await send(t, r, t.keys.admin);
        assert.ok(res.statusCode >= 200 && res.statusCode < 300, `${w.op}: ${res.statusCode} ${res.body}`);
        const rows = await rowsOf(res);
        if (expected === null) {
          assert.equal(rows.length, 0, `${w.op} is not a change`);
          continue;
        }
        assert.equal(rows.length, 1, `${w.op}: one row`);
        const change = ok(await t.call('GET', `/v1/changes/${rows[0].id}`), 200);
        const answer = res.json();
        assert.equal(change.object, 'change');
        assert.match(change.id, /^chg_/);
        assert.equal(change.operation, w.op);
        assert.equal(change.resource_type, expected.resource, w.op);
        assert.deepEqual(change.actor, { type: 'api_key', id: adminKeyId, name: 'test admin' }, w.op);
        assert.equal(change.method, r.method);
        assert.ok(change.path.startsWith('/v1/') && !change.path.includes(f.memberId) && !change.path.includes(f.programId), change.path);
        assert.equal(change.status, res.statusCode);
        assert.equal(change.request_id, res.headers['x-request-id']);
        assert.equal(change.at, t.clock.now().toISOString());
        const program = expected.program === undefined ? f.programId : expected.program === 'new' ? answer.id : null;
        assert.equal(change.program_id, program, `${w.op}: program`);
        if (expected.before) assert.ok(change.before && typeof change.before === 'object', `${w.op}: before`);
        else assert.equal(change.before, null, `${w.op}: no before`);
        assert.ok(change.after && typeof change.after === 'object', `${w.op}: after`);
        // a code import's after leaves its duplicate codes out (they may be coupons issued to members)
        const codePool = w.op === 'importRewardCodes' || w.op === 'generateRewardCodes';
        if (codePool) assert.deepEqual(change.after, { ...answer, duplicates: { in_file: 0, in_pool: 0 } }, `${w.op}: after is the answer without codes`);
        else if (w.op !== 'sendEvents' && w.op !== 'rotateMemberTokenSecret' && w.op !== 'createApiKey')
          assert.deepEqual(change.after, answer, `${w.op}: after is the answer`);
        if (change.resource_id !== null && typeof answer.id === 'string' && ['createMember', 'createRule', 'createProgram', 'sendEvent'].includes(w.op)) {
          assert.equal(change.resource_id, answer.id, w.op);
        }
      }
    });

    it('keeps the resource before an update and after it', async () => {
      const p = await createProgram(t);
      const m = await createMember(t, p.id, { name: 'Before' });
      const res = await t.call('PATCH', `/v1/members/${m.id}`, { body: { name: 'After', tags: ['vip'] } });
      ok(res, 200);
      const [row] = await rowsOf(res);
      const change = ok(await t.call('GET', `/v1/changes/${row.id}`), 200);
      assert.equal(change.before.name, 'Before');
      assert.deepEqual(change.before.tags, []);
      assert.equal(change.after.name, 'After');
      assert.deepEqual(change.after.tags, ['vip']);
      assert.equal(change.resource_id, m.id);
      const frozen = await t.call('POST', `/v1/members/${m.id}/freeze`, { body: { reason: 'fraud check' } });
      const [f] = await rowsOf(frozen);
      const fc = ok(await t.call('GET', `/v1/changes/${f.id}`), 200);
      assert.equal(fc.before.status, 'active');
      assert.equal(fc.after.status, 'frozen');
      assert.deepEqual(fc.summary, { reason: 'fraud check' });
    });

    it('summarises an adjustment by its points and reason, and a batch by its counts', async () => {
      const p = await createProgram(t);
      const m = await createMember(t, p.id);
      const res = await t.call('POST', `/v1/members/${m.id}/adjustments`, {
        body: { points: 3, reason_code: 'goodwill', reason: 'late delivery' },
        idem: true,
      });
      ok(res, 201);
      const [row] = await rowsOf(res);
      const change = ok(await t.call('GET', `/v1/changes/${row.id}`), 200);
      assert.deepEqual(change.summary, { points: 3, reason: 'late delivery', reason_code: 'goodwill' });
      const events = [1, 2, 3].map(() => ({ id: unique('evt'), type: 'app.opened', member_id: m.id }));
      const batch = await t.call('POST', '/v1/events/batch', { body: { program_id: p.id, events } });
      ok(batch, 200);
      const [b] = await rowsOf(batch);
      const bc = ok(await t.call('GET', `/v1/changes/${b.id}`), 200);
      assert.deepEqual(bc.after, { processed: 3, duplicates: 0, rejected: 0, points: 0 });
      assert.equal(bc.program_id, p.id);
      // the same batch again processes nothing: not a change
      const repeat = await t.call('POST', '/v1/events/batch', { body: { program_id: p.id, events } });
      assert.equal(ok(repeat, 200).duplicates, 3);
      assert.equal((await rowsOf(repeat)).length, 0);
    });

    it('records nothing for a replay of an idempotent write, a duplicate event or an existing member', async () => {
      const p = await createProgram(t);
      const m = await createMember(t, p.id);
      const idem = unique('idem');
      const first = await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: 7 }, idem });
      ok(first, 201);
      const n = await count();
      const replay = await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: 7 }, idem });
      ok(replay, 201);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.equal(await count(), n);
      const event = { id: unique('evt'), type: 'app.opened', program_id: p.id, member_id: m.id };
      ok(await t.call('POST', '/v1/events', { body: event }), 201);
      const again = await t.call('POST', '/v1/events', { body: event });
      ok(again, 200);
      assert.equal((await rowsOf(again)).length, 0);
      const existing = await t.call('POST', `/v1/programs/${p.id}/members`, { body: { external_id: m.external_id } });
      ok(existing, 200);
      assert.equal((await rowsOf(existing)).length, 0);
    });

    it('records nothing for a failed write', async () => {
      const p = await createProgram(t);
      const m = await createMember(t, p.id);
      const n = await count();
      assertProblem(await t.call('POST', `/v1/members/${m.id}/debits`, { body: { points: 5 }, idem: true }), 422, 'INSUFFICIENT_POINTS');
      assertProblem(await t.call('PATCH', '/v1/members/mbr_nobody', { body: { name: 'x' } }), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: 0 }, idem: true }), 400, 'VALIDATION_FAILED');
      assertProblem(await t.call('POST', `/v1/members/${m.id}/credits`, { key: t.keys.read, body: { points: 1 }, idem: true }), 403, 'FORBIDDEN');
      assert.equal(await count(), n);
    });

    it('still answers the write when the change cannot be recorded', async () => {
      const p = await createProgram(t);
      const m = await createMember(t, p.id);
      await db().exec(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no room'; END $$;
        CREATE TRIGGER test_refuse BEFORE INSERT ON change_log FOR EACH ROW EXECUTE FUNCTION test_refuse();`);
      try {
        const res = await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: 4 }, idem: true });
        ok(res, 201);
        assert.equal((await rowsOf(res)).length, 0);
        assert.equal(ok(await t.call('GET', `/v1/members/${m.id}/balance`), 200).available, 4);
      } finally {
        await db().exec('DROP TRIGGER test_refuse ON change_log; DROP FUNCTION test_refuse();');
      }
    });
  });

  describe('append-only', () => {
    it('refuses UPDATE, DELETE and TRUNCATE', async () => {
      const p = await createProgram(t);
      assert.ok((await count()) > 0);
      await assert.rejects(db().query(`UPDATE change_log SET status = 500 WHERE program_id = $1`, [p.id]), /append-only/);
      await assert.rejects(db().query(`DELETE FROM change_log WHERE program_id = $1`, [p.id]), /append-only/);
      await assert.rejects(db().exec('TRUNCATE change_log'), /append-only/);
      assert.equal((await changes(p.id)).data.length, 1);
    });
  });

  describe('secrets', () => {
    it('never stores an API key secret or a member-token secret', async () => {
      const p = await createProgram(t);
      const key = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'pos', scopes: ['integration'], program_ids: [p.id] } }), 201);
      const rotated = await t.call('POST', `/v1/programs/${p.id}/member-token-secrets`, { body: {}, idem: true });
      const secret = ok(rotated, 201).secret;
      const again = await t.call('POST', `/v1/programs/${p.id}/member-token-secrets`, { body: {}, idem: true });
      ok(again, 201);
      const all = await db().query<{ row: string }>('SELECT row_to_json(c)::text AS row FROM change_log c');
      for (const { row } of all) {
        assert.ok(!row.includes(key.secret), `the API key secret is stored: ${row}`);
        assert.ok(!row.includes(secret), `the member-token secret is stored: ${row}`);
      }
      const keyChange = (await changes(p.id, '?operation=createApiKey')).data[0];
      assert.equal(keyChange.after.secret, '[redacted]');
      assert.equal(keyChange.after.id, key.id);
      const rotation = (await changes(p.id, '?operation=rotateMemberTokenSecret')).data[0];
      assert.equal(rotation.after.secret, '[redacted]');
      // the second rotation's before is the settings with the first secret: its id, never its value
      assert.equal(rotation.before.secret.id, ok(rotated, 201).id);
    });
  });

  describe('console users', () => {
    it('names the console user who made a change, and never stores a generated password', async () => {
      const p = await createProgram(t);
      const m = await createMember(t, p.id);
      const owner = await signInOwner(t, getDb());
      const res = await owner.call('POST', `/v1/members/${m.id}/adjustments`, { body: { points: 5, reason_code: 'goodwill' }, idem: true });
      ok(res, 201);
      const change = (await changes(p.id, '?operation=adjustPoints')).data[0];
      assert.equal(change.request_id, res.headers['x-request-id']);
      assert.equal(change.actor.type, 'console_user');
      assert.equal(change.actor.id, owner.userId);
      assert.equal(typeof change.actor.name, 'string');
      assert.equal((await changes(p.id, `?actor_id=${owner.userId}`)).data.length, 1);
      assert.equal((await changes(p.id, '?actor_type=console_user')).data.length, 1);

      const created = await owner.call('POST', '/v1/console/users', {
        body: { email: `${unique('ops')}@example.com`.toLowerCase(), name: 'Ops', roles: [{ program_id: p.id, role: 'viewer' }] },
        idem: true,
      });
      const user = ok(created, 201);
      assert.equal(typeof user.initial_password, 'string');
      const reset = ok(await owner.call('POST', `/v1/console/users/${user.id}/password-reset`, { body: {}, idem: true }), 200);
      ok(await owner.call('PATCH', `/v1/console/users/${user.id}`, { body: { name: 'Ops team' }, idem: true }), 200);
      const rows = await db().query<{ operation: string; row: string; before: Json; after: Json }>(
        `SELECT operation, row_to_json(c)::text AS row, before, after FROM change_log c WHERE resource_id = $1 ORDER BY id`,
        [user.id],
      );
      assert.deepEqual(
        rows.map((r) => r.operation),
        ['createConsoleUser', 'resetConsolePassword', 'updateConsoleUser'],
      );
      for (const r of rows) {
        assert.ok(!r.row.includes(user.initial_password), `the initial password is stored: ${r.row}`);
        assert.ok(!r.row.includes(reset.password), `the reset password is stored: ${r.row}`);
      }
      assert.equal(rows[0]!.after.initial_password, '[redacted]');
      assert.equal(rows[2]!.before.name, 'Ops');
      assert.equal(rows[2]!.after.name, 'Ops team');
    });
  });

  describe('listing', () => {
    it('lists newest first, filters by operation, resource, actor and time, and pages by cursor', async () => {
      const p = await createProgram(t);
      const a = await createMember(t, p.id);
      const b = await createMember(t, p.id);
      t.clock.advance(60_000);
      const from = t.clock.now().toISOString();
      for (let i = 0; i < 3; i++) await credit(t, a.id, 1 + i);
      await credit(t, b.id, 10, {});
      ok(await t.call('POST', `/v1/members/${b.id}/credits`, { key: t.keys.integration, body: { points: 2 }, idem: true }), 201);
      t.clock.advance(60_000);
      const to = t.clock.now().toISOString();
      ok(await t.call('PATCH', `/v1/members/${a.id}`, { body: { name: 'later' } }), 200);

      const all = (await changes(p.id, '?limit=100')).data;
      assert.deepEqual(
        all.map((c: Json) => c.operation),
        ['updateMember', 'creditPoints', 'creditPoints', 'creditPoints', 'creditPoints', 'creditPoints', 'createMember', 'createMember', 'createProgram'],
      );
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].at > all[i].at || (all[i - 1].at === all[i].at && all[i - 1].id > all[i].id), 'newest first');
      assert.equal((await changes(p.id, '?operation=creditPoints')).data.length, 5);
      assert.equal((await changes(p.id, `?resource_id=${a.id}`)).data.length, 5);
      assert.equal((await changes(p.id, `?resource_id=${b.id}&operation=creditPoints`)).data.length, 2);
      assert.equal((await changes(p.id, '?resource_type=program')).data.length, 1);
      const integrationChanges = (await changes(p.id, '?actor_type=api_key')).data.filter((c: Json) => c.actor.name === 'test integration');
      assert.equal(integrationChanges.length, 1);
      const byActor = (await changes(p.id, `?actor_id=${integrationChanges[0].actor.id}`)).data;
      assert.deepEqual(
        byActor.map((c: Json) => c.id),
        [integrationChanges[0].id],
      );
      assert.equal((await changes(p.id, '?actor_type=console_user')).data.length, 0);
      const window = (await changes(p.id, `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).data;
      assert.deepEqual(
        window.map((c: Json) => c.operation),
        Array(5).fill('creditPoints'),
      );

      // pages of 2 give the same rows in the same order
      const paged: Json[] = [];
      let cursor: string | null = null;
      do {
        const page: Json = await changes(p.id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(page.data.length <= 2);
        paged.push(...page.data);
        cursor = page.next_cursor;
        assert.equal(page.has_more, cursor !== null);
      } while (cursor);
      assert.deepEqual(
        paged.map((c) => c.id),
        all.map((c: Json) => c.id),
      );
      assertProblem(await t.call('GET', `/v1/programs/${p.id}/changes?cursor=bm9wZQ`), 400, 'INVALID_CURSOR');
      assertProblem(await t.call('GET', `/v1/programs/${p.id}/changes?actor_type=robot`), 400, 'VALIDATION_FAILED');
      assertProblem(await t.call('GET', '/v1/programs/prg_nowhere/changes'), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await t.call('GET', '/v1/changes/chg_nowhere'), 404, 'CHANGE_NOT_FOUND');
    });
  });

  describe('group commit', () => {
    it('records concurrent changes together, each once, and a bad row fails only its own record', async () => {
      const recorder = new ChangeRecorder(db(), 8);
      const tag = unique('group');
      const row = (i: number, actorType = 'system') => ({
        at: new Date('2026-03-01T00:00:00Z'),
        programId: null,
        actorType: actorType as 'system',
        actorId: null,
        actorName: null,
        operation: 'groupCommitTest',
        resourceType: 'test',
        resourceId: `${tag}-${i}`,
        method: 'POST',
        path: '/v1/test',
        requestId: tag,
        status: 200,
        before: null,
        after: JSON.stringify({ i }),
        summary: null,
      });
      const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => recorder.record(row(i, i === 13 ? 'nobody' : 'system'))));
      assert.equal(results.filter((r) => r.status === 'rejected').length, 1, 'only the row that breaks a constraint fails');
      assert.equal((results[13] as PromiseRejectedResult).status, 'rejected');
      const ids = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<string>).value);
      assert.equal(new Set(ids).size, 29);
      const stored = await db().query<{ id: string; resource_id: string }>('SELECT id, resource_id FROM change_log WHERE request_id = $1 ORDER BY id', [tag]);
      assert.equal(stored.length, 29);
      assert.deepEqual(stored.map((r) => r.id).sort(), [...ids].sort());
      assert.ok(!stored.some((r) => r.resource_id === `${tag}-13`));
    });
  });

  describe('scoping', () => {
    it("shows a key limited to programs only its programs' changes", async () => {
      const pa = await createProgram(t, { name: 'A' });
      const pb = await createProgram(t, { name: 'B' });
      const mb = await createMember(t, pb.id);
      const aKey = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'A only', scopes: ['read'], program_ids: [pa.id] } }), 201);
      const deploymentKey = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'everywhere', scopes: ['read'] } }), 201);
      const bChange = (await changes(pb.id)).data[0];
      assert.equal(bChange.resource_id, mb.id);
      assertProblem(await t.call('GET', `/v1/programs/${pb.id}/changes`, { key: aKey.secret }), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await t.call('GET', `/v1/changes/${bChange.id}`, { key: aKey.secret }), 404, 'CHANGE_NOT_FOUND', { extra: { change_id: bChange.id } });
      // a change to the deployment (a key for every program) belongs to no program
      const [keyRow] = await db().query<{ id: string; program_id: string | null }>(`SELECT id, program_id FROM change_log WHERE resource_id = $1`, [
        deploymentKey.id,
      ]);
      assert.equal(keyRow!.program_id, null);
      assertProblem(await t.call('GET', `/v1/changes/${keyRow!.id}`, { key: aKey.secret }), 404, 'CHANGE_NOT_FOUND');
      ok(await t.call('GET', `/v1/changes/${keyRow!.id}`, { key: t.keys.read }), 200);
      const own = ok(await t.call('GET', `/v1/programs/${pa.id}/changes`, { key: aKey.secret }), 200);
      assert.deepEqual(
        own.data.map((c: Json) => c.operation),
        ['createApiKey', 'createProgram'],
      );
      ok(await t.call('GET', `/v1/changes/${own.data[0].id}`, { key: aKey.secret }), 200);
    });
  });
});
