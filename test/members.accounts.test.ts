import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Queryable } from '../src/db/db.ts';
import { addMembers } from '../src/modules/members/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { makeProgram, unique } from './helpers/factories.ts';

/** A handle that counts the statements sent through it. */
function counting(q: Queryable): Queryable & { count: number } {
  const c = {
    count: 0,
    query: <T>(text: string, params?: unknown[]) => {
      c.count++;
      return q.query<T>(text, params);
    },
    exec: (text: string) => {
      c.count++;
      return q.exec(text);
    },
  };
  return c;
}

forEachDatabase('members and their ledger accounts', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb());
  });
  after(() => t.close());

  const accountsOf = async (ids: string[]) =>
    (
      await getDb().db.query<{ member_id: string; program_id: string }>(
        'SELECT member_id, program_id FROM member_account WHERE member_id = ANY ($1::text[]) ORDER BY member_id',
        [ids],
      )
    ).map((a) => ({ ...a }));

  it('makes members with their accounts in three statements however many (the ladder lock, the members, their accounts), skipping external ids the program has', async () => {
    const { db } = getDb();
    const now = t.clock.now();
    const program = await makeProgram(db, now);
    const [existing] = await db.transaction((tx) => addMembers(tx, program.id, [{ external_id: 'known' }], now));
    const counted = await db.transaction(async (tx) => {
      const q = counting(tx);
      const made = await addMembers(
        q,
        program.id,
        [
          { external_id: 'b', name: 'B', tags: ['z', 'a'], attributes: { k: [1] }, birthday: '1990-05-20', tier: 'gold' },
          { external_id: 'known' },
          { external_id: 'a' },
          { external_id: 'b', name: 'a repeat' },
          { external_id: 'c' },
        ],
        now,
      );
      return { made, statements: q.count };
    });
    assert.equal(counted.statements, 3);
    assert.deepEqual(counted.made.map((m) => m.external_id).sort(), ['a', 'b', 'c']);
    const b = counted.made.find((m) => m.external_id === 'b')!;
    assert.deepEqual([b.name, b.tags, b.attributes, b.birthday, b.tier], ['B', ['z', 'a'], { k: [1] }, '1990-05-20', 'gold']);
    const ids = [existing!.id, ...counted.made.map((m) => m.id)];
    assert.deepEqual(
      await accountsOf(ids),
      ids.sort().map((id) => ({ member_id: id, program_id: program.id })),
    );
    // nothing new: the lock and the insert, no statement for the accounts
    const again = await db.transaction(async (tx) => {
      const q = counting(tx);
      return { made: (await addMembers(q, program.id, [{ external_id: 'a' }], now)).length, statements: q.count };
    });
    assert.deepEqual(again, { made: 0, statements: 2 });
  });

  it('leaves room on the pages of members and accounts: a credit, or a new name, keeps the row on its page (no new index entries)', async () => {
    const { db } = getDb();
    const now = t.clock.now();
    const program = await makeProgram(db, now);
    // enough members to fill several pages of both tables, written in one statement each
    const made = await db.transaction((tx) =>
      addMembers(
        tx,
        program.id,
        Array.from({ length: 400 }, (_, i) => ({ external_id: `room-${i}`, name: `Member ${i}` })),
        now,
      ),
    );
    const blockOf = async (table: 'member' | 'member_account', column: 'id' | 'member_id', id: string) => {
      const [row] = await db.query<{ block: string }>(`SELECT (ctid::text::point)[0]::text AS block FROM ${table} WHERE ${column} = $1`, [id]);
      return Number(row!.block);
    };
    // the first member of the batch: its pages were filled by the members after it
    const first = made.sort((a, b) => (a.id < b.id ? -1 : 1))[0]!;
    const [last] = await db.query<{ block: string }>(
      'SELECT max((ctid::text::point)[0])::text AS block FROM member_account WHERE member_id = ANY ($1::text[])',
      [made.map((m) => m.id)],
    );
    const lastAccountBlock = Number(last!.block);
    const accountBlock = await blockOf('member_account', 'member_id', first.id);
    const memberBlock = await blockOf('member', 'id', first.id);
    assert.ok(accountBlock < lastAccountBlock, 'the account is on a page the batch filled');
    const credit = await t.call('POST', `/v1/members/${first.id}/credits`, { body: { points: 5 }, idem: true });
    assert.equal(credit.statusCode, 201, credit.body);
    const renamed = await t.call('PATCH', `/v1/members/${first.id}`, { body: { name: 'Renamed' } });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal(await blockOf('member_account', 'member_id', first.id), accountBlock);
    assert.equal(await blockOf('member', 'id', first.id), memberBlock);
  });

  it('opens an account for every member a batch of member.registered events makes', async () => {
    const program = (await t.call('POST', '/v1/programs', { body: { name: unique('registrations') } })).json().id as string;
    const known = (await t.call('POST', `/v1/programs/${program}/members`, { body: { external_id: 'reg-known' } })).json().id as string;
    const registered = (external: string, name: string) => ({ id: unique('e'), type: 'member.registered', external_member_id: external, data: { name } });
    const res = await t.call('POST', '/v1/events/batch', {
      key: t.keys.integration,
      body: {
        program_id: program,
        events: [registered('reg-2', 'Two'), registered('reg-1', 'One'), registered('reg-known', 'Known'), registered('reg-2', 'Two again')],
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      res.json().results.map((r: { status: number }) => r.status),
      [201, 201, 201, 201],
    );
    const members = (await t.call('GET', `/v1/programs/${program}/members?limit=100`)).json().data as {
      id: string;
      external_id: string;
      name: string | null;
    }[];
    assert.deepEqual(members.map((m) => [m.external_id, m.name]).sort(), [
      ['reg-1', 'One'],
      ['reg-2', 'Two'],
      ['reg-known', null],
    ]);
    assert.ok(members.some((m) => m.id === known));
    assert.deepEqual((await accountsOf(members.map((m) => m.id))).length, 3);
    for (const m of members) assert.equal((await t.call('GET', `/v1/members/${m.id}/balance`)).statusCode, 200);
    assert.equal((await t.call('GET', `/v1/audit?program_id=${program}`)).json().ok, true);
  });
});
