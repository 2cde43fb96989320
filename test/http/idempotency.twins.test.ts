/**
 * Twin requests: the same write sent twice at once with one Idempotency-Key. Both wait for the same
 * row lock; the first commits its change, the second then finds the state it was about to change
 * already changed (hold resolved, credit reversed, rule archived). It must answer what the first
 * answered (a replay), never an error the first request caused. Found by the fuzzer on PostgreSQL.
 *
 * Deterministic: a transaction of the test holds the row lock while both twins are sent, so both are
 * past their idempotency look-up and waiting when it is released. PostgreSQL only: PGlite runs one
 * transaction at a time, so twins never interleave there.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { unique } from '../helpers/factories.ts';
import { createMember, createProgram, credit, hold, ok, type Res } from './support.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

forEachDatabase(
  'HTTP idempotency twins',
  (getDb) => {
    let t: TestApp;
    let programId: string;
    before(async () => {
      t = await createTestApp(getDb());
      programId = (await createProgram(t, { name: 'Twins program' })).id;
    });
    after(() => t.close());

    /** Sends the request twice at once while `lockSql` (FOR UPDATE of the row both need) is held. */
    async function twins(lockSql: string, lockParams: unknown[], send: () => Promise<Res>): Promise<[Res, Res]> {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const holder = getDb().db.transaction(async (tx) => {
        await tx.query(lockSql, lockParams);
        locked();
        await released;
      });
      await isLocked;
      const both = Promise.all([send(), send()]);
      await sleep(300); // both are now waiting for the lock
      release();
      await holder;
      return both;
    }

    function sameAnswer(a: Res, b: Res, status: number) {
      assert.equal(a.statusCode, status, a.body);
      assert.equal(b.statusCode, status, b.body);
      assert.deepEqual(a.json(), b.json());
      assert.deepEqual([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].sort(), ['true', undefined]);
    }

    it('answers twin voids of a hold with one 200, the other a replay', async () => {
      const m = await createMember(t, programId);
      await credit(t, m.id, 100);
      const h = await hold(t, m.id, 40);
      const key = unique('void');
      const [a, b] = await twins('SELECT 1 FROM hold WHERE id = $1 FOR UPDATE', [h.hold.id], () =>
        t.call('POST', `/v1/holds/${h.hold.id}/void`, { body: {}, idem: key }),
      );
      sameAnswer(a, b, 200);
      assert.equal(ok(await t.call('GET', `/v1/members/${m.id}/balance`)).available, 100);
    });

    it('answers twin captures of a hold with one 200, the other a replay', async () => {
      const m = await createMember(t, programId);
      await credit(t, m.id, 100);
      const h = await hold(t, m.id, 40);
      const key = unique('capture');
      const [a, b] = await twins('SELECT 1 FROM hold WHERE id = $1 FOR UPDATE', [h.hold.id], () =>
        t.call('POST', `/v1/holds/${h.hold.id}/capture`, { body: { points: 30 }, idem: key }),
      );
      sameAnswer(a, b, 200);
      assert.equal(ok(await t.call('GET', `/v1/members/${m.id}/balance`)).available, 70);
    });

    it('answers twin reversals of a whole credit with one 201, the other a replay', async () => {
      const m = await createMember(t, programId);
      const c = await credit(t, m.id, 50);
      const key = unique('refund');
      const [a, b] = await twins('SELECT 1 FROM member_account WHERE member_id = $1 FOR UPDATE', [m.id], () =>
        t.call('POST', `/v1/entries/${c.entry.id}/reversals`, { body: { points: 50 }, idem: key }),
      );
      sameAnswer(a, b, 201);
      assert.equal(ok(await t.call('GET', `/v1/members/${m.id}/balance`)).available, 0);
    });

    it('answers twin archives of a rule with one 200, the other a replay', async () => {
      const rule = ok(
        await t.call('POST', `/v1/programs/${programId}/rules`, {
          idem: true,
          body: { definition: { name: 'Twin rule', triggers: ['checkin'], effect: { type: 'fixed', points: 5 } } },
        }),
        201,
      );
      const key = unique('archive');
      const [a, b] = await twins('SELECT 1 FROM rule WHERE id = $1 FOR UPDATE', [rule.id], () =>
        t.call('POST', `/v1/rules/${rule.id}/archive`, { body: {}, idem: key }),
      );
      sameAnswer(a, b, 200);
    });

    it('still refuses a second, different request that finds the hold resolved', async () => {
      const m = await createMember(t, programId);
      await credit(t, m.id, 100);
      const h = await hold(t, m.id, 40);
      ok(await t.call('POST', `/v1/holds/${h.hold.id}/void`, { body: {}, idem: unique('void') }), 200);
      const again = await t.call('POST', `/v1/holds/${h.hold.id}/void`, { body: {}, idem: unique('void') });
      assert.equal(again.statusCode, 409, again.body);
      assert.equal(again.json().code, 'HOLD_ALREADY_RESOLVED');
    });
  },
  { kinds: ['postgres'] },
);
