import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { assertProblem, createMember, createProgram, forgeCursor, type Json, ok } from './support.ts';

forEachDatabase('HTTP programs', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb());
  });
  after(() => t.close());

  const allPrograms = async (): Promise<Json[]> => ok(await t.call('GET', '/v1/programs?limit=100'), 200).data;
  const getProgram = async (id: string): Promise<Json> => ok(await t.call('GET', `/v1/programs/${id}`), 200);

  describe('create and read', () => {
    it('creates a program with the documented defaults', async () => {
      const res = await t.call('POST', '/v1/programs', { body: { name: 'Jifen Coffee' } });
      const p = ok(res, 201);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.match(p.id, /^prg_/);
      assert.equal(p.object, 'program');
      assert.equal(p.name, 'Jifen Coffee');
      assert.equal(p.time_zone, 'Asia/Shanghai');
      assert.equal(p.currency, 'CNY');
      assert.equal(p.point_name, '积分');
      assert.equal(p.point_name_en, 'points');
      assert.deepEqual(p.expiry_policy, { type: 'never' });
      assert.equal(p.pending_days, 0);
      assert.equal(p.negative_balance_policy, 'write_off');
      assert.equal(p.redemption_rate, 100);
      assert.equal(p.hold_timeout_seconds, 900);
      assert.deepEqual(p.metadata, {});
      assert.equal(p.created_at, '2026-01-01T00:00:00.000Z');
      assert.equal(p.updated_at, '2026-01-01T00:00:00.000Z');
    });

    it('creates a program with every field given and returns them as sent', async () => {
      const body = {
        name: 'Tea House',
        time_zone: 'Europe/Paris',
        currency: 'EUR',
        point_name: '茶叶',
        point_name_en: 'leaves',
        expiry_policy: { type: 'activity_extended', months: 12, hard_cap_months: 36 },
        pending_days: 14,
        negative_balance_policy: 'allow_negative',
        redemption_rate: 250,
        hold_timeout_seconds: 600,
        metadata: { region: 'eu', tier: 2 },
      };
      const p = ok(await t.call('POST', '/v1/programs', { body }), 201);
      for (const [k, v] of Object.entries(body)) assert.deepEqual(p[k], v, k);
      assert.deepEqual(await getProgram(p.id), p);
    });

    it('accepts each expiry policy shape', async () => {
      for (const expiry_policy of [
        { type: 'never' },
        { type: 'rolling', months: 12 },
        { type: 'end_of_period', unit: 'year', offset: 1 },
        { type: 'end_of_period', unit: 'quarter' },
        { type: 'activity_extended', months: 6 },
      ]) {
        const p = await createProgram(t, { expiry_policy });
        assert.deepEqual(p.expiry_policy, expiry_policy);
      }
    });

    it('returns 404 PROGRAM_NOT_FOUND for an unknown program', async () => {
      assertProblem(await t.call('GET', '/v1/programs/prg_doesnotexist'), 404, 'PROGRAM_NOT_FOUND', { extra: { program_id: 'prg_doesnotexist' } });
    });

    it('rejects a malformed program id with 400 naming the path parameter', async () => {
      assertProblem(await t.call('GET', '/v1/programs/not-an-id'), 400, 'VALIDATION_FAILED', { path: '/programId', location: 'params' });
    });
  });

  describe('list', () => {
    it('pages through programs with a cursor, each exactly once', async () => {
      for (let i = 0; i < 5; i++) await createProgram(t, { name: `Paged ${i}` });
      const expected = (await allPrograms()).map((p) => p.id);
      assert.ok(expected.length >= 5);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Json = ok(await t.call('GET', `/v1/programs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200);
        assert.equal(page.object, 'list');
        assert.ok(page.data.length <= 2);
        assert.equal(page.has_more, page.next_cursor !== null);
        seen.push(...page.data.map((p: Json) => p.id));
        cursor = page.next_cursor;
        pages += 1;
      } while (cursor && pages < 100);
      assert.deepEqual(seen, expected);
      assert.equal(new Set(seen).size, seen.length);
    });

    it('rejects a cursor it did not issue with 400 INVALID_CURSOR', async () => {
      for (const cursor of ['garbage!', forgeCursor({ not: 'a list' }), forgeCursor(['a', 'b'])]) {
        assertProblem(await t.call('GET', `/v1/programs?cursor=${encodeURIComponent(cursor)}`), 400, 'INVALID_CURSOR', {
          path: '/cursor',
          location: 'querystring',
        });
      }
    });

    it('rejects a page size outside 1..100 and unknown query parameters', async () => {
      for (const limit of ['0', '101', '-1', '2.5', 'ten']) {
        assertProblem(await t.call('GET', `/v1/programs?limit=${limit}`), 400, 'VALIDATION_FAILED', { path: '/limit', location: 'querystring' });
      }
      assertProblem(await t.call('GET', '/v1/programs?sort=name'), 400, 'VALIDATION_FAILED', { path: '/sort', location: 'querystring' });
    });
  });

  describe('update', () => {
    it('changes the fields sent and moves updated_at', async () => {
      const p = await createProgram(t, { name: 'Before', pending_days: 0 });
      t.clock.advance(60_000);
      const updated = ok(
        await t.call('PATCH', `/v1/programs/${p.id}`, { body: { name: 'After', pending_days: 7, expiry_policy: { type: 'rolling', months: 24 } } }),
        200,
      );
      assert.equal(updated.name, 'After');
      assert.equal(updated.pending_days, 7);
      assert.deepEqual(updated.expiry_policy, { type: 'rolling', months: 24 });
      assert.equal(updated.created_at, p.created_at);
      assert.equal(updated.updated_at, t.clock.now().toISOString());
      assert.deepEqual(await getProgram(p.id), updated);
    });

    it('applies a new pending period to later credits', async () => {
      const p = await createProgram(t);
      const m = await createMember(t, p.id);
      ok(await t.call('PATCH', `/v1/programs/${p.id}`, { body: { pending_days: 3 } }), 200);
      const c = ok(await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: 10 }, idem: true }), 201);
      assert.equal(c.lot.state, 'pending');
      assert.equal(c.balance.pending, 10);
      assert.equal(c.balance.available, 0);
    });

    it('keeps every field that the patch does not mention', async () => {
      const p = await createProgram(t, { time_zone: 'Europe/Paris', currency: 'EUR', point_name: '茶叶', point_name_en: 'leaves' });
      const updated = ok(await t.call('PATCH', `/v1/programs/${p.id}`, { body: { name: 'Renamed' } }), 200);
      assert.equal(updated.name, 'Renamed');
      assert.equal(updated.time_zone, 'Europe/Paris');
      assert.equal(updated.currency, 'EUR');
      assert.deepEqual([updated.point_name, updated.point_name_en], ['茶叶', 'leaves']);
      const renamed = ok(await t.call('PATCH', `/v1/programs/${p.id}`, { body: { point_name_en: 'tea leaves' } }), 200);
      assert.deepEqual([renamed.point_name, renamed.point_name_en], ['茶叶', 'tea leaves']);
      assertProblem(await t.call('PATCH', `/v1/programs/${p.id}`, { body: { point_name_en: '' } }), 400, 'VALIDATION_FAILED');
    });

    it('rejects an empty patch with 400', async () => {
      const p = await createProgram(t, { time_zone: 'Europe/Paris' });
      assertProblem(await t.call('PATCH', `/v1/programs/${p.id}`, { body: {} }), 400, 'VALIDATION_FAILED');
      assert.deepEqual(await getProgram(p.id), p);
    });

    it('returns 404 PROGRAM_NOT_FOUND when patching an unknown program', async () => {
      assertProblem(await t.call('PATCH', '/v1/programs/prg_doesnotexist', { body: { name: 'x' } }), 404, 'PROGRAM_NOT_FOUND');
    });
  });

  describe('invalid program input changes nothing', () => {
    const badCreates: [string, Record<string, unknown>, string][] = [
      ['an unknown time zone', { time_zone: 'Mars/Olympus_Mons' }, '/time_zone'],
      ['a time zone abbreviation that is not IANA', { time_zone: 'Not/AZone' }, '/time_zone'],
      ['an empty time zone', { time_zone: '' }, '/time_zone'],
      ['an unknown expiry policy type', { expiry_policy: { type: 'sometimes' } }, '/expiry_policy/type'],
      ['a rolling policy without months', { expiry_policy: { type: 'rolling' } }, '/expiry_policy/months'],
      ['a rolling policy with 0 months', { expiry_policy: { type: 'rolling', months: 0 } }, '/expiry_policy/months'],
      ['a rolling policy with fractional months', { expiry_policy: { type: 'rolling', months: 1.5 } }, '/expiry_policy/months'],
      ['a rolling policy with months as a string', { expiry_policy: { type: 'rolling', months: '12' } }, '/expiry_policy/months'],
      ['a never policy with months', { expiry_policy: { type: 'never', months: 12 } }, '/expiry_policy/months'],
      ['an end_of_period policy without a unit', { expiry_policy: { type: 'end_of_period', offset: 1 } }, '/expiry_policy/unit'],
      ['an end_of_period policy with an unknown unit', { expiry_policy: { type: 'end_of_period', unit: 'week' } }, '/expiry_policy/unit'],
      ['a rolling policy with an offset', { expiry_policy: { type: 'rolling', months: 12, offset: 1 } }, '/expiry_policy/offset'],
      ['a hard cap shorter than months', { expiry_policy: { type: 'activity_extended', months: 12, hard_cap_months: 6 } }, '/expiry_policy/hard_cap_months'],
      ['an unknown field in the policy', { expiry_policy: { type: 'rolling', months: 12, grace: 1 } }, '/expiry_policy/grace'],
      ['a policy that is a string', { expiry_policy: 'never' }, '/expiry_policy'],
      ['a lowercase currency', { currency: 'usd' }, '/currency'],
      ['negative pending days', { pending_days: -1 }, '/pending_days'],
      ['an unknown negative balance policy', { negative_balance_policy: 'forgive' }, '/negative_balance_policy'],
      ['a zero redemption rate', { redemption_rate: 0 }, '/redemption_rate'],
      ['a zero hold timeout', { hold_timeout_seconds: 0 }, '/hold_timeout_seconds'],
      ['a hold timeout over 30 days', { hold_timeout_seconds: 2_592_001 }, '/hold_timeout_seconds'],
      ['metadata with more than 50 keys', { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, '/metadata'],
      ['an unknown field', { colour: 'red' }, '/colour'],
      ['an empty name', { name: '' }, '/name'],
      ['a name that is a number', { name: 42 }, '/name'],
    ];

    for (const [what, patch, path] of badCreates) {
      it(`refuses to create a program with ${what} (400 at ${path})`, async () => {
        const before = await allPrograms();
        assertProblem(await t.call('POST', '/v1/programs', { body: { name: 'Bad', ...patch } }), 400, 'VALIDATION_FAILED', { path });
        assert.deepEqual(await allPrograms(), before);
      });
    }

    it('refuses to create a program without a name', async () => {
      const before = await allPrograms();
      assertProblem(await t.call('POST', '/v1/programs', { body: { time_zone: 'UTC' } }), 400, 'VALIDATION_FAILED', { path: '/name' });
      assert.deepEqual(await allPrograms(), before);
    });

    it('refuses malformed JSON with 400 INVALID_JSON', async () => {
      const before = await allPrograms();
      assertProblem(await t.call('POST', '/v1/programs', { body: '{"name": "x",' }), 400, 'INVALID_JSON');
      assert.deepEqual(await allPrograms(), before);
    });

    for (const [what, patch, path] of badCreates.filter(([, p]) => !('name' in p))) {
      it(`refuses to update a program to ${what} and leaves it as it was`, async () => {
        const p = await createProgram(t, { expiry_policy: { type: 'rolling', months: 12 } });
        assertProblem(await t.call('PATCH', `/v1/programs/${p.id}`, { body: patch }), 400, 'VALIDATION_FAILED', { path });
        assert.deepEqual(await getProgram(p.id), p);
      });
    }
  });

  describe('idempotency of program writes', () => {
    it('replays a create with the same key: same status, same program, no second one', async () => {
      const key = `prog-create-${Date.now()}`;
      const first = await t.call('POST', '/v1/programs', { body: { name: 'Once' }, idem: key });
      const count = (await allPrograms()).length;
      const again = await t.call('POST', '/v1/programs', { body: { name: 'Once' }, idem: key });
      assert.equal(first.statusCode, 201);
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(first.headers['idempotent-replayed'], undefined);
      assert.deepEqual(again.json(), first.json());
      assert.equal((await allPrograms()).length, count);
      assertProblem(await t.call('POST', '/v1/programs', { body: { name: 'Twice' }, idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal((await allPrograms()).length, count);
    });

    it('replays an update with the same key and refuses the key for another patch', async () => {
      const p = await createProgram(t);
      const key = `prog-update-${Date.now()}`;
      const first = await t.call('PATCH', `/v1/programs/${p.id}`, { body: { pending_days: 2 }, idem: key });
      const again = await t.call('PATCH', `/v1/programs/${p.id}`, { body: { pending_days: 2 }, idem: key });
      assert.equal(first.statusCode, 200);
      assert.equal(again.statusCode, 200);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.json(), first.json());
      const current = await getProgram(p.id);
      assertProblem(await t.call('PATCH', `/v1/programs/${p.id}`, { body: { pending_days: 5 }, idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED');
      assert.deepEqual(await getProgram(p.id), current);
    });
  });
});
