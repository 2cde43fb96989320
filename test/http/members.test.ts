import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { unique } from '../helpers/factories.ts';
import { assertProblem, balance, createMember, createProgram, credit, forgeCursor, hold, type Json, memberState, ok, unchanged } from './support.ts';

forEachDatabase('HTTP members', (getDb) => {
  let t: TestApp;
  let program: Json;
  before(async () => {
    t = await createTestApp(getDb());
    program = await createProgram(t, { name: 'Members program' });
  });
  after(() => t.close());

  const listAll = async (programId = program.id): Promise<Json[]> => ok(await t.call('GET', `/v1/programs/${programId}/members?limit=100`), 200).data;
  const getMember = async (id: string): Promise<Json> => ok(await t.call('GET', `/v1/members/${id}`), 200);

  describe('create', () => {
    it('creates a member with its profile and an empty balance', async () => {
      const body = {
        external_id: unique('user'),
        name: '李伟 Li Wei',
        phone: '+8613800138000',
        email: 'li.wei@example.com',
        birthday: '1990-05-20',
        tags: ['vip', 'coffee-lover'],
        attributes: { city: 'Shanghai', visits: 3 },
      };
      const m = ok(await t.call('POST', `/v1/programs/${program.id}/members`, { body }), 201);
      assert.match(m.id, /^mbr_/);
      assert.equal(m.object, 'member');
      assert.equal(m.program_id, program.id);
      for (const [k, v] of Object.entries(body)) assert.deepEqual(m[k], v, k);
      assert.equal(m.status, 'active');
      assert.equal(m.status_reason, null);
      assert.deepEqual(await getMember(m.id), m);
      const b = await balance(t, m.id);
      assert.equal(b.available, 0);
      assert.equal(b.pending, 0);
      assert.equal(b.held, 0);
    });

    it('is idempotent on external_id: 201 then 200 with the same member, profile untouched', async () => {
      const external_id = unique('user');
      const first = ok(await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id, name: 'First' } }), 201);
      const count = (await listAll()).length;
      const second = await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id, name: 'Second' } });
      assert.equal(second.statusCode, 200, second.body);
      assert.equal(second.json().id, first.id);
      assert.equal(second.json().name, 'First');
      assert.equal((await listAll()).length, count);
    });

    it('treats the same external_id in another program as another member', async () => {
      const other = await createProgram(t, { name: 'Other' });
      const external_id = unique('user');
      const a = ok(await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id } }), 201);
      const b = ok(await t.call('POST', `/v1/programs/${other.id}/members`, { body: { external_id } }), 201);
      assert.notEqual(a.id, b.id);
      assert.equal(b.program_id, other.id);
    });

    it('replays a create with the same Idempotency-Key and refuses the key for another member', async () => {
      const key = unique('idem');
      const external_id = unique('user');
      const first = await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id }, idem: key });
      const again = await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id }, idem: key });
      assert.equal(first.statusCode, 201);
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.json(), first.json());
      const count = (await listAll()).length;
      assertProblem(
        await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id: unique('user') }, idem: key }),
        409,
        'IDEMPOTENCY_KEY_REUSED',
      );
      assert.equal((await listAll()).length, count);
    });

    it('returns 404 PROGRAM_NOT_FOUND for an unknown program', async () => {
      assertProblem(await t.call('POST', '/v1/programs/prg_doesnotexist/members', { body: { external_id: 'x' } }), 404, 'PROGRAM_NOT_FOUND');
    });

    const badCreates: [string, unknown, string][] = [
      ['no external_id', { name: 'x' }, '/external_id'],
      ['an empty external_id', { external_id: '' }, '/external_id'],
      ['an external_id over 128 characters', { external_id: 'x'.repeat(129) }, '/external_id'],
      ['a numeric external_id', { external_id: 10086 }, '/external_id'],
      ['an invalid email', { external_id: 'e', email: 'not-an-email' }, '/email'],
      ['an invalid phone', { external_id: 'e', phone: 'call me' }, '/phone'],
      ['an invalid birthday', { external_id: 'e', birthday: '20/05/1990' }, '/birthday'],
      ['a birthday that does not exist', { external_id: 'e', birthday: '2026-02-30' }, '/birthday'],
      ['duplicate tags', { external_id: 'e', tags: ['vip', 'vip'] }, '/tags'],
      ['tags that are not a list', { external_id: 'e', tags: 'vip' }, '/tags'],
      ['a status', { external_id: 'e', status: 'frozen' }, '/status'],
      ['an unknown field', { external_id: 'e', nickname: 'x' }, '/nickname'],
    ];
    for (const [what, body, path] of badCreates) {
      it(`refuses to create a member with ${what} (400 at ${path}) and creates nothing`, async () => {
        const before = await listAll();
        assertProblem(await t.call('POST', `/v1/programs/${program.id}/members`, { body }), 400, 'VALIDATION_FAILED', { path });
        assert.deepEqual(await listAll(), before);
      });
    }

    it('refuses malformed JSON with 400 INVALID_JSON and creates nothing', async () => {
      const before = await listAll();
      assertProblem(await t.call('POST', `/v1/programs/${program.id}/members`, { body: '{"external_id": ' }), 400, 'INVALID_JSON');
      assert.deepEqual(await listAll(), before);
    });

    it('refuses a birthday in year 0 with a 400, not a 500', async () => {
      const before = await listAll();
      const res = await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id: unique('user'), birthday: '0000-01-01' } });
      assertProblem(res, 400, 'VALIDATION_FAILED', { path: '/birthday' });
      assert.deepEqual(await listAll(), before);
    });

    it('refuses a NUL character in text with a 400, not a 500', async () => {
      const res = await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id: unique('user'), name: 'a\u0000b' } });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode} ${res.body}`);
      assertProblem(res, 400, 'VALIDATION_FAILED', { path: '/name' });
    });
  });

  describe('read', () => {
    it('returns 404 MEMBER_NOT_FOUND for an unknown member and 400 for a malformed id', async () => {
      assertProblem(await t.call('GET', '/v1/members/mbr_doesnotexist'), 404, 'MEMBER_NOT_FOUND', { extra: { member_id: 'mbr_doesnotexist' } });
      assertProblem(await t.call('GET', '/v1/members/prg_wrongprefix'), 400, 'VALIDATION_FAILED', { path: '/memberId', location: 'params' });
    });

    it('finds a member by external id, including ids that need URL encoding', async () => {
      for (const external_id of ['plain-id', 'with/slash', 'with space', '用户_10086', 'a?b#c&d']) {
        const m = await createMember(t, program.id, { external_id: `${external_id}-${Date.now()}` });
        const found = ok(await t.call('GET', `/v1/programs/${program.id}/members/by-external-id/${encodeURIComponent(m.external_id)}`), 200);
        assert.deepEqual(found, m);
      }
    });

    it('does not find a member by external id through another program', async () => {
      const other = await createProgram(t, { name: 'Elsewhere' });
      const m = await createMember(t, program.id);
      assertProblem(await t.call('GET', `/v1/programs/${other.id}/members/by-external-id/${m.external_id}`), 404, 'MEMBER_NOT_FOUND', {
        extra: { external_id: m.external_id },
      });
    });

    it('returns 404 MEMBER_NOT_FOUND for an unknown external id and PROGRAM_NOT_FOUND for an unknown program', async () => {
      assertProblem(await t.call('GET', `/v1/programs/${program.id}/members/by-external-id/nobody-${Date.now()}`), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('GET', '/v1/programs/prg_doesnotexist/members/by-external-id/x'), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await t.call('GET', '/v1/programs/prg_doesnotexist/members'), 404, 'PROGRAM_NOT_FOUND');
    });
  });

  describe('list and search', () => {
    let p: Json;
    let people: Json[];
    before(async () => {
      p = await createProgram(t, { name: 'Search program' });
      people = [];
      const rows = [
        { name: 'Li Wei', phone: '+8613800000001', email: 'li@example.com', tags: ['vip'] },
        { name: 'Wang Fang', phone: '+8613800000002', email: 'Wang.Fang@Example.com', tags: [] },
        { name: '50%_off Zhao', phone: '+8613800000003', email: 'zhao@example.com', tags: ['vip', 'promo'] },
        { name: 'Zhang Wei', phone: '+8613800000004', email: 'zhang@example.com', tags: ['promo'] },
        { name: 'Chen Jing', phone: '+8613800000005', email: 'chen@example.com', tags: [] },
      ];
      for (const [i, row] of rows.entries()) people.push(await createMember(t, p.id, { external_id: `search-${i}`, ...row }));
      ok(await t.call('POST', `/v1/members/${people[4]!.id}/freeze`, { body: {} }), 200);
    });

    const names = async (qs: string) =>
      ok(await t.call('GET', `/v1/programs/${p.id}/members?${qs}`), 200)
        .data.map((m: Json) => m.name)
        .sort();

    it('lists members newest first (ids are time-sortable)', async () => {
      const data = await listAll(p.id);
      assert.deepEqual(data.map((m) => m.external_id).sort(), ['search-0', 'search-1', 'search-2', 'search-3', 'search-4']);
      const ids = data.map((m) => m.id);
      assert.deepEqual(ids, [...ids].sort().reverse());
      // created one after the other, so (barring two in the same millisecond) in reverse order of creation
      assert.equal(data[data.length - 1].external_id, 'search-0');
    });

    it('searches by part of the name, case-insensitively', async () => {
      assert.deepEqual(await names('q=wei'), ['Li Wei', 'Zhang Wei']);
      assert.deepEqual(await names('q=FANG'), ['Wang Fang']);
    });

    it('searches by exact external id, phone and email (email case-insensitively)', async () => {
      assert.deepEqual(await names('q=search-2'), ['50%_off Zhao']);
      assert.deepEqual(await names(`q=${encodeURIComponent('+8613800000004')}`), ['Zhang Wei']);
      assert.deepEqual(await names(`q=${encodeURIComponent('wang.fang@example.com')}`), ['Wang Fang']);
    });

    it('treats % and _ in the search as literal characters', async () => {
      assert.deepEqual(await names(`q=${encodeURIComponent('%')}`), ['50%_off Zhao']);
      assert.deepEqual(await names(`q=${encodeURIComponent('_')}`), ['50%_off Zhao']);
      assert.deepEqual(await names(`q=${encodeURIComponent('0%_o')}`), ['50%_off Zhao']);
    });

    it('filters by status and by tag, and combines filters', async () => {
      assert.deepEqual(await names('status=frozen'), ['Chen Jing']);
      assert.equal((await names('status=active')).length, 4);
      assert.deepEqual(await names('status=closed'), []);
      assert.deepEqual(await names('tag=vip'), ['50%_off Zhao', 'Li Wei']);
      assert.deepEqual(await names('tag=promo&q=wei'), ['Zhang Wei']);
      assert.deepEqual(await names('q=nobody-matches-this'), []);
    });

    it('pages through members with a cursor, each exactly once, also with a filter', async () => {
      for (const [qs, expected] of [
        ['', 5],
        ['status=active&', 4],
        ['tag=promo&', 2],
      ] as const) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: Json = ok(await t.call('GET', `/v1/programs/${p.id}/members?${qs}limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200);
          assert.equal(page.has_more, page.next_cursor !== null);
          seen.push(...page.data.map((m: Json) => m.id));
          cursor = page.next_cursor;
          pages += 1;
        } while (cursor && pages < 20);
        assert.equal(seen.length, expected, qs);
        assert.equal(new Set(seen).size, expected, qs);
      }
    });

    it('rejects invalid list parameters with 400 naming the parameter', async () => {
      assertProblem(await t.call('GET', `/v1/programs/${p.id}/members?status=deleted`), 400, 'VALIDATION_FAILED', { path: '/status', location: 'querystring' });
      assertProblem(await t.call('GET', `/v1/programs/${p.id}/members?q=`), 400, 'VALIDATION_FAILED', { path: '/q', location: 'querystring' });
      assertProblem(await t.call('GET', `/v1/programs/${p.id}/members?limit=0`), 400, 'VALIDATION_FAILED', { path: '/limit', location: 'querystring' });
      assertProblem(await t.call('GET', `/v1/programs/${p.id}/members?order=asc`), 400, 'VALIDATION_FAILED', { path: '/order', location: 'querystring' });
      for (const cursor of ['%%%', forgeCursor('just a string'), forgeCursor([1, 2])]) {
        assertProblem(await t.call('GET', `/v1/programs/${p.id}/members?cursor=${encodeURIComponent(cursor)}`), 400, 'INVALID_CURSOR', {
          path: '/cursor',
          location: 'querystring',
        });
      }
    });
  });

  describe('update', () => {
    it('changes only the fields sent, clears fields sent as null and moves updated_at', async () => {
      const m = await createMember(t, program.id, {
        name: 'Old',
        phone: '+8613900000000',
        email: 'old@example.com',
        birthday: '1980-01-01',
        tags: ['a'],
        attributes: { x: 1 },
      });
      t.clock.advance(1000);
      const res = await t.call('PATCH', `/v1/members/${m.id}`, { body: { name: 'New', phone: null, tags: ['b', 'c'] } });
      const u = ok(res, 200);
      assert.equal(u.name, 'New');
      assert.equal(u.phone, null);
      assert.equal(u.email, 'old@example.com');
      assert.equal(u.birthday, '1980-01-01');
      assert.deepEqual(u.tags, ['b', 'c']);
      assert.deepEqual(u.attributes, { x: 1 });
      assert.equal(u.external_id, m.external_id);
      assert.equal(u.updated_at, t.clock.now().toISOString());
      assert.deepEqual(await getMember(m.id), u);
    });

    it('replays an update with the same key and refuses the key for another patch', async () => {
      const m = await createMember(t, program.id);
      const key = unique('idem');
      const first = await t.call('PATCH', `/v1/members/${m.id}`, { body: { name: 'A' }, idem: key });
      const again = await t.call('PATCH', `/v1/members/${m.id}`, { body: { name: 'A' }, idem: key });
      assert.equal(again.statusCode, 200);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.json(), first.json());
      assertProblem(await t.call('PATCH', `/v1/members/${m.id}`, { body: { name: 'B' }, idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal((await getMember(m.id)).name, 'A');
    });

    const badPatches: [string, unknown, string][] = [
      ['an empty patch', {}, '/'],
      ['an invalid email', { email: 'nope' }, '/email'],
      ['an invalid phone', { phone: '12' }, '/phone'],
      ['an invalid birthday', { birthday: '1990-13-01' }, '/birthday'],
      ['tags as null', { tags: null }, '/tags'],
      ['an external_id', { external_id: 'new' }, '/external_id'],
      ['a status', { status: 'closed' }, '/status'],
      ['an empty name', { name: '' }, '/name'],
    ];
    for (const [what, body, path] of badPatches) {
      it(`refuses a member patch with ${what} (400 at ${path}) and changes nothing`, async () => {
        const m = await createMember(t, program.id, { name: 'Keep', email: 'keep@example.com' });
        assertProblem(await t.call('PATCH', `/v1/members/${m.id}`, { body }), 400, 'VALIDATION_FAILED', { path });
        assert.deepEqual(await getMember(m.id), m);
      });
    }

    it('returns 404 MEMBER_NOT_FOUND when patching an unknown member', async () => {
      assertProblem(await t.call('PATCH', '/v1/members/mbr_doesnotexist', { body: { name: 'x' } }), 404, 'MEMBER_NOT_FOUND');
    });
  });

  describe('freeze, unfreeze, close', () => {
    it('freezes with a reason and unfreezes back to active', async () => {
      const m = await createMember(t, program.id);
      const frozen = ok(await t.call('POST', `/v1/members/${m.id}/freeze`, { body: { reason: 'suspected fraud' } }), 200);
      assert.equal(frozen.status, 'frozen');
      assert.equal(frozen.status_reason, 'suspected fraud');
      assert.equal((await getMember(m.id)).status, 'frozen');
      const again = ok(await t.call('POST', `/v1/members/${m.id}/freeze`, { body: {} }), 200);
      assert.equal(again.status, 'frozen');
      const active = ok(await t.call('POST', `/v1/members/${m.id}/unfreeze`, { body: {} }), 200);
      assert.equal(active.status, 'active');
      assert.equal(active.status_reason, null);
    });

    it('replays a freeze with the same Idempotency-Key', async () => {
      const m = await createMember(t, program.id);
      const key = unique('idem');
      const first = await t.call('POST', `/v1/members/${m.id}/freeze`, { body: { reason: 'r' }, idem: key });
      const again = await t.call('POST', `/v1/members/${m.id}/freeze`, { body: { reason: 'r' }, idem: key });
      assert.equal(again.statusCode, 200);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.json(), first.json());
      assertProblem(await t.call('POST', `/v1/members/${m.id}/freeze`, { body: { reason: 'other' }, idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('closes a member: status closed, remaining points forfeited, balance zero', async () => {
      const m = await createMember(t, program.id);
      await credit(t, m.id, 120);
      const closed = ok(await t.call('POST', `/v1/members/${m.id}/close`, { body: { reason: 'account deleted' } }), 200);
      assert.equal(closed.status, 'closed');
      assert.equal(closed.status_reason, 'account deleted');
      const b = await balance(t, m.id);
      assert.equal(b.available, 0);
      assert.equal(b.pending, 0);
      const forfeits = ok(await t.call('GET', `/v1/members/${m.id}/entries?kind=forfeit`), 200).data;
      assert.equal(forfeits.length, 1);
      assert.equal(forfeits[0].amount, 120);
      assert.equal(forfeits[0].delta, -120);
    });

    it('refuses to close a member with open holds (409 MEMBER_HAS_OPEN_HOLDS) and changes nothing', async () => {
      const m = await createMember(t, program.id);
      await credit(t, m.id, 50);
      await hold(t, m.id, 20);
      await unchanged(t, [m.id], async () => {
        assertProblem(await t.call('POST', `/v1/members/${m.id}/close`, { body: {} }), 409, 'MEMBER_HAS_OPEN_HOLDS', { extra: { held: 20 } });
      });
    });

    it('refuses every status change of a closed member with 422 MEMBER_CLOSED', async () => {
      const m = await createMember(t, program.id);
      ok(await t.call('POST', `/v1/members/${m.id}/close`, { body: {} }), 200);
      await unchanged(t, [m.id], async () => {
        for (const action of ['freeze', 'unfreeze', 'close']) {
          assertProblem(await t.call('POST', `/v1/members/${m.id}/${action}`, { body: {} }), 422, 'MEMBER_CLOSED');
        }
      });
    });

    it('returns 404 MEMBER_NOT_FOUND for status changes of an unknown member', async () => {
      for (const action of ['freeze', 'unfreeze', 'close']) {
        assertProblem(await t.call('POST', `/v1/members/mbr_doesnotexist/${action}`, { body: {} }), 404, 'MEMBER_NOT_FOUND');
      }
    });

    it('refuses an invalid status change body (400 at the field) and changes nothing', async () => {
      const m = await createMember(t, program.id);
      await unchanged(t, [m.id], async () => {
        assertProblem(await t.call('POST', `/v1/members/${m.id}/freeze`, { body: { reason: '' } }), 400, 'VALIDATION_FAILED', { path: '/reason' });
        assertProblem(await t.call('POST', `/v1/members/${m.id}/freeze`, { body: { reason: 'x'.repeat(501) } }), 400, 'VALIDATION_FAILED', { path: '/reason' });
        assertProblem(await t.call('POST', `/v1/members/${m.id}/close`, { body: { status: 'closed' } }), 400, 'VALIDATION_FAILED', { path: '/status' });
      });
      assert.equal((await memberState(t, m.id)).member.status, 'active');
    });
  });
});
