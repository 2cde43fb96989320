import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { assertProblem, balance, createMember, createProgram, credit, forgeCursor, hold, type Json, ok, unchanged } from './support.ts';

const DAY = 86_400_000;

forEachDatabase('HTTP ledger', (getDb) => {
  let t: TestApp;
  let program: Json;
  before(async () => {
    t = await createTestApp(getDb());
    program = await createProgram(t, { name: 'Ledger program' });
  });
  after(() => t.close());

  /** A new member of the shared program (or of `programId`), with `points` available. */
  const member = async (points = 0, programId = program.id): Promise<Json> => {
    const m = await createMember(t, programId);
    if (points > 0) await credit(t, m.id, points);
    return m;
  };
  const post = (url: string, body?: unknown, options: { idem?: string | true; key?: string } = {}) =>
    t.call('POST', url, { body, idem: options.idem ?? true, key: options.key });
  const get = async (url: string): Promise<Json> => ok(await t.call('GET', url), 200);
  const freeze = async (id: string) => ok(await t.call('POST', `/v1/members/${id}/freeze`, { body: {} }), 200);
  const close = async (id: string) => ok(await t.call('POST', `/v1/members/${id}/close`, { body: {} }), 200);

  describe('credits', () => {
    it('credits points: an earn entry, an available lot and the new balance', async () => {
      const m = await member();
      const body = ok(await post(`/v1/members/${m.id}/credits`, { points: 250, reason: 'Order #1', reference: 'order_1', metadata: { store: 'SH-01' } }), 201);
      assert.equal(body.entry.object, 'entry');
      assert.match(body.entry.id, /^ent_/);
      assert.equal(body.entry.kind, 'earn');
      assert.equal(body.entry.amount, 250);
      assert.equal(body.entry.delta, 250);
      assert.equal(body.entry.held_delta, 0);
      assert.equal(body.entry.debit_account, 'issued');
      assert.equal(body.entry.credit_account, 'member');
      assert.equal(body.entry.member_id, m.id);
      assert.equal(body.entry.program_id, program.id);
      assert.equal(body.entry.reason, 'Order #1');
      assert.equal(body.entry.reference, 'order_1');
      assert.deepEqual(body.entry.metadata, { store: 'SH-01' });
      assert.match(body.entry.actor, /^api_key:key_/);
      assert.equal(body.lot.amount, 250);
      assert.equal(body.lot.remaining, 250);
      assert.equal(body.lot.state, 'available');
      assert.equal(body.lot.expires_at, null);
      assert.equal(body.balance.available, 250);
      assert.equal(body.balance.lifetime_earned, 250);
      assert.deepEqual(await balance(t, m.id), body.balance);
      assert.deepEqual(await get(`/v1/entries/${body.entry.id}`), body.entry);
    });

    it('keeps points pending for pending_days, then makes them available without any job', async () => {
      const m = await member();
      const body = ok(await post(`/v1/members/${m.id}/credits`, { points: 40, pending_days: 7 }), 201);
      assert.equal(body.lot.state, 'pending');
      assert.equal(body.balance.pending, 40);
      assert.equal(body.balance.available, 0);
      assertProblem(await post(`/v1/members/${m.id}/debits`, { points: 1 }), 422, 'INSUFFICIENT_POINTS', { extra: { available: 0, requested: 1 } });
      t.clock.advance(7 * DAY);
      const b = await balance(t, m.id);
      assert.equal(b.available, 40);
      assert.equal(b.pending, 0);
    });

    it('uses available_at and expires_at when given', async () => {
      const m = await member();
      const now = t.clock.now().getTime();
      const availableAt = new Date(now + DAY).toISOString();
      const expiresAt = new Date(now + 20 * DAY).toISOString();
      const body = ok(await post(`/v1/members/${m.id}/credits`, { points: 30, available_at: availableAt, expires_at: expiresAt }), 201);
      assert.equal(body.lot.available_at, availableAt);
      assert.equal(body.lot.expires_at, expiresAt);
      assert.equal(body.balance.pending, 30);
      t.clock.advance(DAY);
      const b = await balance(t, m.id);
      assert.equal(b.available, 30);
      assert.deepEqual(b.next_expiry, { at: expiresAt, points: 30 });
      assert.equal(b.expiring.days_30, 30);
    });

    it('never expires a credit sent with expires_at null, whatever the policy', async () => {
      const p = await createProgram(t, { expiry_policy: { type: 'rolling', months: 1 } });
      const m = await member(0, p.id);
      const policy = ok(await post(`/v1/members/${m.id}/credits`, { points: 5 }), 201);
      assert.ok(policy.lot.expires_at);
      const never = ok(await post(`/v1/members/${m.id}/credits`, { points: 5, expires_at: null }), 201);
      assert.equal(never.lot.expires_at, null);
    });

    it('refuses pending_days together with available_at (400 at /pending_days) and changes nothing', async () => {
      const m = await member(10);
      await unchanged(t, [m.id], async () => {
        const res = await post(`/v1/members/${m.id}/credits`, {
          points: 5,
          pending_days: 1,
          available_at: new Date(t.clock.now().getTime() + DAY).toISOString(),
        });
        assertProblem(res, 400, 'VALIDATION_FAILED', { path: '/pending_days' });
      });
    });

    it('refuses an expiry that is not after availability (422 INVALID_EXPIRY at /expires_at) and changes nothing', async () => {
      const m = await member(10);
      await unchanged(t, [m.id], async () => {
        const past = new Date(t.clock.now().getTime() - DAY).toISOString();
        assertProblem(await post(`/v1/members/${m.id}/credits`, { points: 5, expires_at: past }), 422, 'INVALID_EXPIRY', { path: '/expires_at' });
        const soon = new Date(t.clock.now().getTime() + DAY).toISOString();
        assertProblem(await post(`/v1/members/${m.id}/credits`, { points: 5, pending_days: 2, expires_at: soon }), 422, 'INVALID_EXPIRY', {
          path: '/expires_at',
        });
        assertProblem(await post(`/v1/members/${m.id}/credits`, { points: 5, expires_at: 'tomorrow' }), 400, 'VALIDATION_FAILED', { path: '/expires_at' });
      });
    });

    it('returns 404 MEMBER_NOT_FOUND for an unknown member', async () => {
      assertProblem(await post('/v1/members/mbr_doesnotexist/credits', { points: 5 }), 404, 'MEMBER_NOT_FOUND', { extra: { member_id: 'mbr_doesnotexist' } });
    });
  });

  describe('debits', () => {
    it('spends the soonest-expiring points first', async () => {
      const m = await member();
      const forever = await credit(t, m.id, 100);
      const expiring = await credit(t, m.id, 50, { expires_at: new Date(t.clock.now().getTime() + 30 * DAY).toISOString() });
      const body = ok(await post(`/v1/members/${m.id}/debits`, { points: 70, reference: 'order_9' }), 201);
      assert.equal(body.entry.kind, 'spend');
      assert.equal(body.entry.amount, 70);
      assert.equal(body.entry.delta, -70);
      assert.equal(body.entry.credit_account, 'redeemed');
      assert.equal(body.balance.available, 80);
      assert.equal(body.balance.lifetime_spent, 70);
      const lots = (await get(`/v1/members/${m.id}/lots?state=all`)).data;
      const byId = new Map(lots.map((l: Json) => [l.id, l]));
      assert.equal((byId.get(expiring.lot.id) as Json).remaining, 0);
      assert.equal((byId.get(expiring.lot.id) as Json).state, 'consumed');
      assert.equal((byId.get(forever.lot.id) as Json).remaining, 80);
    });

    it('never overdraws: 422 INSUFFICIENT_POINTS with available and requested, and nothing changes', async () => {
      const m = await member(100);
      await credit(t, m.id, 50, { pending_days: 5 });
      await unchanged(t, [m.id], async () => {
        assertProblem(await post(`/v1/members/${m.id}/debits`, { points: 101 }), 422, 'INSUFFICIENT_POINTS', { extra: { available: 100, requested: 101 } });
        assertProblem(await post(`/v1/members/${m.id}/debits`, { points: 150 }), 422, 'INSUFFICIENT_POINTS', { extra: { available: 100, requested: 150 } });
      });
      ok(await post(`/v1/members/${m.id}/debits`, { points: 100 }), 201);
      assert.equal((await balance(t, m.id)).available, 0);
    });

    it('returns 404 MEMBER_NOT_FOUND for an unknown member', async () => {
      assertProblem(await post('/v1/members/mbr_doesnotexist/debits', { points: 5 }), 404, 'MEMBER_NOT_FOUND');
    });
  });

  describe('holds, capture and void', () => {
    it('holds points, shows the hold, and captures all of it when no points are given', async () => {
      const m = await member(100);
      const h = await hold(t, m.id, 30, { reference: 'checkout_1', reason: 'Checkout', expires_in_seconds: 600 });
      assert.match(h.hold.id, /^hld_/);
      assert.equal(h.hold.status, 'open');
      assert.equal(h.hold.amount, 30);
      assert.equal(h.hold.reference, 'checkout_1');
      assert.equal(h.hold.expires_at, new Date(t.clock.now().getTime() + 600_000).toISOString());
      assert.equal(h.entry.kind, 'hold');
      assert.equal(h.entry.held_delta, 30);
      assert.equal(h.balance.available, 70);
      assert.equal(h.balance.held, 30);
      assert.deepEqual(await get(`/v1/holds/${h.hold.id}`), h.hold);

      const captured = ok(await t.call('POST', `/v1/holds/${h.hold.id}/capture`, { body: {} }), 200);
      assert.equal(captured.hold.status, 'captured');
      assert.equal(captured.hold.captured, 30);
      assert.deepEqual(
        captured.entries.map((e: Json) => [e.kind, e.amount]),
        [['capture', 30]],
      );
      assert.equal(captured.balance.available, 70);
      assert.equal(captured.balance.held, 0);
      assert.equal(captured.balance.lifetime_spent, 30);
      assert.equal((await get(`/v1/holds/${h.hold.id}`)).status, 'captured');
    });

    it('captures part of a hold and releases the rest', async () => {
      const m = await member(100);
      const h = await hold(t, m.id, 40);
      const res = ok(await t.call('POST', `/v1/holds/${h.hold.id}/capture`, { body: { points: 25 } }), 200);
      assert.equal(res.hold.captured, 25);
      assert.deepEqual(
        res.entries.map((e: Json) => [e.kind, e.amount]),
        [
          ['capture', 25],
          ['release', 15],
        ],
      );
      assert.equal(res.balance.available, 75);
      assert.equal(res.balance.held, 0);
    });

    it('voids a hold and gives the points back', async () => {
      const m = await member(100);
      const h = await hold(t, m.id, 40);
      const res = ok(await t.call('POST', `/v1/holds/${h.hold.id}/void`, { body: { reason: 'cancelled' } }), 200);
      assert.equal(res.hold.status, 'voided');
      assert.deepEqual(
        res.entries.map((e: Json) => [e.kind, e.amount]),
        [['release', 40]],
      );
      assert.equal(res.balance.available, 100);
    });

    it('refuses to capture more than held (422 CAPTURE_EXCEEDS_HOLD at /points) and leaves the hold open', async () => {
      const m = await member(100);
      const h = await hold(t, m.id, 20);
      await unchanged(t, [m.id], async () => {
        assertProblem(await t.call('POST', `/v1/holds/${h.hold.id}/capture`, { body: { points: 21 } }), 422, 'CAPTURE_EXCEEDS_HOLD', {
          path: '/points',
          extra: { hold_amount: 20, requested: 21 },
        });
      });
      assert.equal((await get(`/v1/holds/${h.hold.id}`)).status, 'open');
    });

    it('resolves a hold at most once: 409 HOLD_ALREADY_RESOLVED afterwards', async () => {
      const m = await member(100);
      const h = await hold(t, m.id, 20);
      ok(await t.call('POST', `/v1/holds/${h.hold.id}/void`, { body: {} }), 200);
      await unchanged(t, [m.id], async () => {
        assertProblem(await t.call('POST', `/v1/holds/${h.hold.id}/capture`, { body: {} }), 409, 'HOLD_ALREADY_RESOLVED', { extra: { hold_id: h.hold.id } });
        assertProblem(await t.call('POST', `/v1/holds/${h.hold.id}/void`, { body: {} }), 409, 'HOLD_ALREADY_RESOLVED');
      });
    });

    it('expires a hold at its deadline: points available again, capture refused with 409 HOLD_EXPIRED', async () => {
      const m = await member(100);
      const h = await hold(t, m.id, 60, { expires_in_seconds: 60 });
      t.clock.advance(61_000);
      assert.equal((await get(`/v1/holds/${h.hold.id}`)).status, 'expired');
      assert.equal((await balance(t, m.id)).available, 100);
      assert.deepEqual(
        (await get(`/v1/members/${m.id}/holds?status=expired`)).data.map((x: Json) => x.id),
        [h.hold.id],
      );
      assert.deepEqual((await get(`/v1/members/${m.id}/holds?status=open`)).data, []);
      assertProblem(await t.call('POST', `/v1/holds/${h.hold.id}/capture`, { body: {} }), 409, 'HOLD_EXPIRED');
      assert.equal((await balance(t, m.id)).available, 100);
    });

    it("lists a member's holds by status, newest first, with a cursor", async () => {
      const m = await member(100);
      const open = [await hold(t, m.id, 1), await hold(t, m.id, 2), await hold(t, m.id, 3)];
      const captured = await hold(t, m.id, 4);
      ok(await t.call('POST', `/v1/holds/${captured.hold.id}/capture`, { body: {} }), 200);
      const voided = await hold(t, m.id, 5);
      ok(await t.call('POST', `/v1/holds/${voided.hold.id}/void`, { body: {} }), 200);
      const all: string[] = (await get(`/v1/members/${m.id}/holds`)).data.map((x: Json) => x.id);
      assert.deepEqual([...all].sort(), [voided, captured, ...open].map((x) => x.hold.id).sort());
      assert.deepEqual(all, [...all].sort().reverse(), 'newest (largest time-sortable id) first');
      assert.deepEqual(
        (await get(`/v1/members/${m.id}/holds?status=captured`)).data.map((x: Json) => x.id),
        [captured.hold.id],
      );
      assert.deepEqual(
        (await get(`/v1/members/${m.id}/holds?status=voided`)).data.map((x: Json) => x.id),
        [voided.hold.id],
      );
      assert.equal((await get(`/v1/members/${m.id}/holds?status=open`)).data.length, 3);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Json = await get(`/v1/members/${m.id}/holds?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        seen.push(...page.data.map((x: Json) => x.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, all);
      assertProblem(await t.call('GET', `/v1/members/${m.id}/holds?status=pending`), 400, 'VALIDATION_FAILED', { path: '/status', location: 'querystring' });
      assertProblem(await t.call('GET', `/v1/members/${m.id}/holds?cursor=${forgeCursor([1, 2])}`), 400, 'INVALID_CURSOR', {
        path: '/cursor',
        location: 'querystring',
      });
    });

    it('refuses a hold over the available points (422 INSUFFICIENT_POINTS) and changes nothing', async () => {
      const m = await member(50);
      await hold(t, m.id, 30);
      await unchanged(t, [m.id], async () => {
        assertProblem(await post(`/v1/members/${m.id}/holds`, { points: 21 }), 422, 'INSUFFICIENT_POINTS', { extra: { available: 20, requested: 21 } });
      });
    });

    it('returns 404 HOLD_NOT_FOUND for an unknown hold and 404 MEMBER_NOT_FOUND for holds of an unknown member', async () => {
      assertProblem(await t.call('GET', '/v1/holds/hld_doesnotexist'), 404, 'HOLD_NOT_FOUND', { extra: { hold_id: 'hld_doesnotexist' } });
      assertProblem(await t.call('POST', '/v1/holds/hld_doesnotexist/capture', { body: {} }), 404, 'HOLD_NOT_FOUND');
      assertProblem(await t.call('POST', '/v1/holds/hld_doesnotexist/void', { body: {} }), 404, 'HOLD_NOT_FOUND');
      assertProblem(await post('/v1/members/mbr_doesnotexist/holds', { points: 1 }), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('GET', '/v1/members/mbr_doesnotexist/holds'), 404, 'MEMBER_NOT_FOUND');
    });
  });

  describe('reversals', () => {
    it('reverses a whole unspent credit when no points are given', async () => {
      const m = await member();
      const c = await credit(t, m.id, 80);
      const body = ok(await post(`/v1/entries/${c.entry.id}/reversals`, {}), 201);
      assert.deepEqual(body.reversal, {
        entry_id: c.entry.id,
        requested: 80,
        from_lot: 80,
        from_expired: 0,
        from_balance: 0,
        to_debt: 0,
        on_hold: 0,
        written_off: 0,
      });
      assert.deepEqual(
        body.entries.map((e: Json) => [e.kind, e.amount, e.reverses_entry_id]),
        [['reverse', 80, c.entry.id]],
      );
      assert.equal(body.balance.available, 0);
      assert.equal(body.balance.lifetime_earned, 0);
    });

    it('reverses part of a credit, then refuses more than is left (422 REVERSAL_EXCEEDS_CREDIT) without changing anything', async () => {
      const m = await member();
      const c = await credit(t, m.id, 100);
      ok(await post(`/v1/entries/${c.entry.id}/reversals`, { points: 60 }), 201);
      assert.equal((await balance(t, m.id)).available, 40);
      await unchanged(t, [m.id], async () => {
        assertProblem(await post(`/v1/entries/${c.entry.id}/reversals`, { points: 41 }), 422, 'REVERSAL_EXCEEDS_CREDIT', {
          path: '/points',
          extra: { reversible: 40, requested: 41 },
        });
      });
      ok(await post(`/v1/entries/${c.entry.id}/reversals`, { points: 40 }), 201);
      await unchanged(t, [m.id], async () => {
        assertProblem(await post(`/v1/entries/${c.entry.id}/reversals`, {}), 409, 'ENTRY_ALREADY_REVERSED');
        assertProblem(await post(`/v1/entries/${c.entry.id}/reversals`, { points: 1 }), 409, 'ENTRY_ALREADY_REVERSED');
      });
    });

    it('refuses to reverse a debit, a hold or a negative adjustment (422 ENTRY_NOT_REVERSIBLE) and changes nothing', async () => {
      const m = await member(100);
      const debit = ok(await post(`/v1/members/${m.id}/debits`, { points: 10 }), 201);
      const h = await hold(t, m.id, 10);
      const adj = ok(await post(`/v1/members/${m.id}/adjustments`, { points: -5, reason_code: 'correction' }), 201);
      await unchanged(t, [m.id], async () => {
        for (const [entry, kind] of [
          [debit.entry, 'spend'],
          [h.entry, 'hold'],
          [adj.entry, 'adjust'],
        ] as const) {
          assertProblem(await post(`/v1/entries/${entry.id}/reversals`, {}), 422, 'ENTRY_NOT_REVERSIBLE', { extra: { kind } });
          assertProblem(await post(`/v1/entries/${entry.id}/reversals`, { points: 1 }), 422, 'ENTRY_NOT_REVERSIBLE');
        }
      });
    });

    it('reverses a positive adjustment', async () => {
      const m = await member();
      const adj = ok(await post(`/v1/members/${m.id}/adjustments`, { points: 30, reason_code: 'goodwill' }), 201);
      const body = ok(await post(`/v1/entries/${adj.entry.id}/reversals`, { points: 30 }), 201);
      assert.equal(body.balance.available, 0);
    });

    it('records a debt when spent points are reversed under allow_negative', async () => {
      const p = await createProgram(t, { negative_balance_policy: 'allow_negative' });
      const m = await member(0, p.id);
      const c = await credit(t, m.id, 100);
      ok(await post(`/v1/members/${m.id}/debits`, { points: 90 }), 201);
      const body = ok(await post(`/v1/entries/${c.entry.id}/reversals`, {}), 201);
      assert.equal(body.reversal.from_lot, 10);
      assert.equal(body.reversal.to_debt, 90);
      assert.equal(body.balance.debt, 90);
      assert.equal(body.balance.available, -90);
      await credit(t, m.id, 100);
      const b = await balance(t, m.id);
      assert.equal(b.debt, 0);
      assert.equal(b.available, 10);
    });

    it('writes off spent points that cannot be taken back under write_off', async () => {
      const m = await member();
      const c = await credit(t, m.id, 100);
      ok(await post(`/v1/members/${m.id}/debits`, { points: 100 }), 201);
      await credit(t, m.id, 30);
      const body = ok(await post(`/v1/entries/${c.entry.id}/reversals`, {}), 201);
      assert.equal(body.reversal.from_balance, 30);
      assert.equal(body.reversal.written_off, 70);
      assert.equal(body.balance.available, 0);
      assert.equal(body.balance.debt, 0);
    });

    it('returns 404 ENTRY_NOT_FOUND for an unknown entry', async () => {
      assertProblem(await post('/v1/entries/ent_doesnotexist/reversals', {}), 404, 'ENTRY_NOT_FOUND', { extra: { entry_id: 'ent_doesnotexist' } });
      assertProblem(await t.call('GET', '/v1/entries/ent_doesnotexist'), 404, 'ENTRY_NOT_FOUND');
    });
  });

  describe('adjustments', () => {
    it('adds points with a positive adjustment and removes them with a negative one, recording the actor', async () => {
      const m = await member(10);
      const up = ok(await post(`/v1/members/${m.id}/adjustments`, { points: 50, reason_code: 'goodwill', reason: 'Late delivery', actor: 'ops:li.wei' }), 201);
      assert.equal(up.entry.kind, 'adjust');
      assert.equal(up.entry.delta, 50);
      assert.equal(up.entry.reason_code, 'goodwill');
      assert.match(up.entry.actor, /^ops:li\.wei \(api_key:key_/);
      assert.equal(up.lot.amount, 50);
      assert.equal(up.balance.available, 60);
      const down = ok(await post(`/v1/members/${m.id}/adjustments`, { points: -45, reason_code: 'correction' }), 201);
      assert.equal(down.entry.delta, -45);
      assert.equal(down.lot, null);
      assert.equal(down.balance.available, 15);
    });

    it('refuses a negative adjustment that would overdraw (422 INSUFFICIENT_POINTS) and changes nothing', async () => {
      const m = await member(10);
      await unchanged(t, [m.id], async () => {
        assertProblem(await post(`/v1/members/${m.id}/adjustments`, { points: -11, reason_code: 'correction' }), 422, 'INSUFFICIENT_POINTS', {
          extra: { available: 10, requested: 11 },
        });
      });
    });

    it('refuses a zero adjustment and a bad reason code (400 at the field) and changes nothing', async () => {
      const m = await member(10);
      await unchanged(t, [m.id], async () => {
        const zero = assertProblem(await post(`/v1/members/${m.id}/adjustments`, { points: 0, reason_code: 'goodwill' }), 400, 'VALIDATION_FAILED', {
          path: '/points',
        });
        assert.ok(
          zero.errors.some((e: Json) => e.message === 'must not be 0'),
          JSON.stringify(zero),
        );
        for (const reason_code of ['Goodwill', 'x', 'has space', '9lives']) {
          assertProblem(await post(`/v1/members/${m.id}/adjustments`, { points: 5, reason_code }), 400, 'VALIDATION_FAILED', { path: '/reason_code' });
        }
        assertProblem(await post(`/v1/members/${m.id}/adjustments`, { points: 5 }), 400, 'VALIDATION_FAILED', { path: '/reason_code' });
        assertProblem(await post(`/v1/members/${m.id}/adjustments`, { points: -1_000_000_000_001, reason_code: 'goodwill' }), 400, 'VALIDATION_FAILED', {
          path: '/points',
        });
      });
    });

    it('returns 404 MEMBER_NOT_FOUND for an unknown member', async () => {
      assertProblem(await post('/v1/members/mbr_doesnotexist/adjustments', { points: 5, reason_code: 'goodwill' }), 404, 'MEMBER_NOT_FOUND');
    });
  });

  describe('transfers', () => {
    it("moves points between two members of a program, keeping the sender's expiry", async () => {
      const from = await member();
      const to = await member();
      const expiresAt = new Date(t.clock.now().getTime() + 40 * DAY).toISOString();
      await credit(t, from.id, 100, { expires_at: expiresAt });
      const body = ok(await post('/v1/transfers', { from_member_id: from.id, to_member_id: to.id, points: 60, reason: 'gift' }), 201);
      assert.equal(body.object, 'transfer');
      assert.match(body.id, /^txn_/);
      assert.equal(body.points, 60);
      assert.deepEqual(
        body.entries.map((e: Json) => [e.kind, e.member_id, e.delta]),
        [
          ['transfer_out', from.id, -60],
          ['transfer_in', to.id, 60],
        ],
      );
      assert.equal(body.from_balance.available, 40);
      assert.equal(body.to_balance.available, 60);
      const toLots = (await get(`/v1/members/${to.id}/lots`)).data;
      assert.deepEqual(
        toLots.map((l: Json) => [l.remaining, l.expires_at]),
        [[60, expiresAt]],
      );
    });

    it('refuses a transfer to oneself (422 TRANSFER_TO_SELF at /to_member_id) and changes nothing', async () => {
      const m = await member(100);
      await unchanged(t, [m.id], async () => {
        assertProblem(await post('/v1/transfers', { from_member_id: m.id, to_member_id: m.id, points: 10 }), 422, 'TRANSFER_TO_SELF', {
          path: '/to_member_id',
        });
      });
    });

    it('refuses a transfer across programs (422 TRANSFER_ACROSS_PROGRAMS) and changes nothing', async () => {
      const other = await createProgram(t, { name: 'Other program' });
      const from = await member(100);
      const to = await member(0, other.id);
      await unchanged(t, [from.id, to.id], async () => {
        assertProblem(await post('/v1/transfers', { from_member_id: from.id, to_member_id: to.id, points: 10 }), 422, 'TRANSFER_ACROSS_PROGRAMS', {
          path: '/to_member_id',
        });
      });
    });

    it("refuses a transfer over the sender's available points (422 INSUFFICIENT_POINTS) and changes nothing", async () => {
      const from = await member(100);
      const to = await member();
      await unchanged(t, [from.id, to.id], async () => {
        assertProblem(await post('/v1/transfers', { from_member_id: from.id, to_member_id: to.id, points: 101 }), 422, 'INSUFFICIENT_POINTS', {
          extra: { available: 100, requested: 101 },
        });
      });
    });

    it('returns 404 MEMBER_NOT_FOUND when either member is unknown, and changes nothing', async () => {
      const m = await member(100);
      await unchanged(t, [m.id], async () => {
        assertProblem(await post('/v1/transfers', { from_member_id: m.id, to_member_id: 'mbr_doesnotexist', points: 1 }), 404, 'MEMBER_NOT_FOUND', {
          extra: { member_id: 'mbr_doesnotexist' },
        });
        assertProblem(await post('/v1/transfers', { from_member_id: 'mbr_doesnotexist', to_member_id: m.id, points: 1 }), 404, 'MEMBER_NOT_FOUND', {
          extra: { member_id: 'mbr_doesnotexist' },
        });
      });
    });

    it('refuses malformed member ids in the body (400 at the field)', async () => {
      const m = await member(100);
      await unchanged(t, [m.id], async () => {
        assertProblem(await post('/v1/transfers', { from_member_id: m.id, to_member_id: 'user_42', points: 1 }), 400, 'VALIDATION_FAILED', {
          path: '/to_member_id',
        });
        assertProblem(await post('/v1/transfers', { to_member_id: m.id, points: 1 }), 400, 'VALIDATION_FAILED', { path: '/from_member_id' });
      });
    });
  });

  describe('frozen and closed members', () => {
    it('lets a frozen member receive credits, transfers and adjustments but not debit, hold, transfer or capture', async () => {
      const m = await member(100);
      const friend = await member(100);
      const h = await hold(t, m.id, 10);
      await freeze(m.id);
      await unchanged(t, [m.id, friend.id], async () => {
        assertProblem(await post(`/v1/members/${m.id}/debits`, { points: 1 }), 422, 'MEMBER_FROZEN', { extra: { member_id: m.id } });
        assertProblem(await post(`/v1/members/${m.id}/holds`, { points: 1 }), 422, 'MEMBER_FROZEN');
        assertProblem(await post('/v1/transfers', { from_member_id: m.id, to_member_id: friend.id, points: 1 }), 422, 'MEMBER_FROZEN');
        assertProblem(await t.call('POST', `/v1/holds/${h.hold.id}/capture`, { body: {} }), 422, 'MEMBER_FROZEN');
        assertProblem(await t.call('POST', `/v1/holds/${h.hold.id}/capture`, { body: { points: 5 } }), 422, 'MEMBER_FROZEN');
      });
      assert.equal((await get(`/v1/holds/${h.hold.id}`)).status, 'open');
      const c = ok(await post(`/v1/members/${m.id}/credits`, { points: 5 }), 201);
      assert.equal(c.balance.available, 95);
      const tr = ok(await post('/v1/transfers', { from_member_id: friend.id, to_member_id: m.id, points: 5 }), 201);
      assert.equal(tr.to_balance.available, 100);
      const adj = ok(await post(`/v1/members/${m.id}/adjustments`, { points: 5, reason_code: 'goodwill' }), 201);
      assert.equal(adj.balance.available, 105);
      const voided = ok(await t.call('POST', `/v1/holds/${h.hold.id}/void`, { body: {} }), 200);
      assert.equal(voided.balance.available, 115);
      ok(await t.call('POST', `/v1/members/${m.id}/unfreeze`, { body: {} }), 200);
      ok(await post(`/v1/members/${m.id}/debits`, { points: 115 }), 201);
    });

    it('refuses every ledger write for a closed member with 422 MEMBER_CLOSED', async () => {
      const m = await member(100);
      const friend = await member(100);
      const c = (await get(`/v1/members/${m.id}/entries?kind=earn`)).data[0];
      await close(m.id);
      await unchanged(t, [m.id, friend.id], async () => {
        assertProblem(await post(`/v1/members/${m.id}/credits`, { points: 1 }), 422, 'MEMBER_CLOSED');
        assertProblem(await post(`/v1/members/${m.id}/debits`, { points: 1 }), 422, 'MEMBER_CLOSED');
        assertProblem(await post(`/v1/members/${m.id}/holds`, { points: 1 }), 422, 'MEMBER_CLOSED');
        assertProblem(await post(`/v1/members/${m.id}/adjustments`, { points: 1, reason_code: 'goodwill' }), 422, 'MEMBER_CLOSED');
        assertProblem(await post(`/v1/entries/${c.id}/reversals`, {}), 422, 'MEMBER_CLOSED');
        assertProblem(await post('/v1/transfers', { from_member_id: friend.id, to_member_id: m.id, points: 1 }), 422, 'MEMBER_CLOSED');
        assertProblem(await post('/v1/transfers', { from_member_id: m.id, to_member_id: friend.id, points: 1 }), 422, 'MEMBER_CLOSED');
        assertProblem(await t.call('POST', `/v1/members/${m.id}/activity`, { body: {} }), 422, 'MEMBER_CLOSED');
      });
    });
  });

  describe('history, lots, balance, activity and sweep', () => {
    it('lists entries newest first and filters them by kind', async () => {
      const m = await member();
      for (let i = 1; i <= 4; i++) {
        await credit(t, m.id, i);
        t.clock.advance(1000);
      }
      ok(await post(`/v1/members/${m.id}/debits`, { points: 3 }), 201);
      const all = (await get(`/v1/members/${m.id}/entries`)).data;
      assert.deepEqual(
        all.map((e: Json) => [e.kind, e.amount]),
        [
          ['spend', 3],
          ['earn', 4],
          ['earn', 3],
          ['earn', 2],
          ['earn', 1],
        ],
      );
      assert.deepEqual(
        (await get(`/v1/members/${m.id}/entries?kind=spend`)).data.map((e: Json) => e.id),
        [all[0].id],
      );
      assert.deepEqual((await get(`/v1/members/${m.id}/entries?kind=hold`)).data, []);
    });

    it('pages through entries written at the same instant, each exactly once, also with a kind filter', async () => {
      const m = await member();
      for (let i = 1; i <= 7; i++) await credit(t, m.id, i);
      ok(await post(`/v1/members/${m.id}/debits`, { points: 3 }), 201);
      const all = (await get(`/v1/members/${m.id}/entries?limit=100`)).data;
      assert.equal(all.length, 8);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Json = await get(`/v1/members/${m.id}/entries?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.ok(page.data.length <= 3);
        assert.equal(page.has_more, page.next_cursor !== null);
        seen.push(...page.data.map((e: Json) => e.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(
        seen,
        all.map((e: Json) => e.id),
      );
      const earns: string[] = [];
      cursor = null;
      do {
        const page: Json = await get(`/v1/members/${m.id}/entries?kind=earn&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        earns.push(...page.data.map((e: Json) => e.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(
        earns,
        all.filter((e: Json) => e.kind === 'earn').map((e: Json) => e.id),
      );
    });

    it('orders entries written at the same instant by insertion, newest first', async () => {
      // A busy server: concurrent writes open several pooled connections, then one client writes in sequence.
      for (let round = 0; round < 3; round++) {
        const busy = await member();
        await Promise.all(Array.from({ length: 10 }, (_, i) => credit(t, busy.id, i + 1)));
        const m = await member();
        for (let i = 1; i <= 7; i++) await credit(t, m.id, i);
        ok(await post(`/v1/members/${m.id}/debits`, { points: 3 }), 201);
        const all = (await get(`/v1/members/${m.id}/entries`)).data;
        assert.deepEqual(
          all.map((e: Json) => `${e.kind}:${e.amount}`),
          ['spend:3', 'earn:7', 'earn:6', 'earn:5', 'earn:4', 'earn:3', 'earn:2', 'earn:1'],
          `round ${round}`,
        );
      }
    });

    it('rejects an unknown entry kind and invalid cursors', async () => {
      const m = await member(5);
      assertProblem(await t.call('GET', `/v1/members/${m.id}/entries?kind=refund`), 400, 'VALIDATION_FAILED', { path: '/kind', location: 'querystring' });
      for (const cursor of ['not-base64-json', forgeCursor(['2026-01-01T00:00:00Z']), forgeCursor({ at: 1 }), forgeCursor([null, null])]) {
        assertProblem(await t.call('GET', `/v1/members/${m.id}/entries?cursor=${encodeURIComponent(cursor)}`), 400, 'INVALID_CURSOR', {
          path: '/cursor',
          location: 'querystring',
        });
        assertProblem(await t.call('GET', `/v1/members/${m.id}/lots?cursor=${encodeURIComponent(cursor)}`), 400, 'INVALID_CURSOR', {
          path: '/cursor',
          location: 'querystring',
        });
      }
    });

    it('rejects a well-formed cursor with values of the wrong type with 400 INVALID_CURSOR, not a 500', async () => {
      const m = await member(5);
      for (const url of [
        `/v1/members/${m.id}/entries?cursor=${forgeCursor(['garbage', 1])}`,
        `/v1/members/${m.id}/entries?cursor=${forgeCursor(['2026-01-01T00:00:00Z', 'x'])}`,
        `/v1/members/${m.id}/entries?cursor=${forgeCursor(['2026-01-01T00:00:00Z', 1e300])}`,
        `/v1/members/${m.id}/lots?cursor=${forgeCursor(['garbage', 'lot_x'])}`,
      ]) {
        assertProblem(await t.call('GET', url), 400, 'INVALID_CURSOR', { path: '/cursor', location: 'querystring' });
      }
    });

    it('lists open lots by default and every lot with state=all, with a cursor', async () => {
      const m = await member();
      const a = await credit(t, m.id, 10);
      const b = await credit(t, m.id, 20, { pending_days: 3 });
      const c = await credit(t, m.id, 30);
      ok(await post(`/v1/members/${m.id}/debits`, { points: 40 }), 201);
      const open = (await get(`/v1/members/${m.id}/lots`)).data;
      assert.deepEqual(
        open.map((l: Json) => [l.id, l.state]),
        [[b.lot.id, 'pending']],
      );
      const all = (await get(`/v1/members/${m.id}/lots?state=all`)).data;
      assert.deepEqual(new Set(all.map((l: Json) => l.id)), new Set([a.lot.id, b.lot.id, c.lot.id]));
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Json = await get(`/v1/members/${m.id}/lots?state=all&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        paged.push(...page.data.map((l: Json) => l.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(
        paged,
        all.map((l: Json) => l.id),
      );
      assertProblem(await t.call('GET', `/v1/members/${m.id}/lots?state=expired`), 400, 'VALIDATION_FAILED', { path: '/state', location: 'querystring' });
    });

    it('reports balance buckets: pending, held, expiring and the next expiry', async () => {
      const m = await member();
      const now = t.clock.now().getTime();
      await credit(t, m.id, 10, { expires_at: new Date(now + 10 * DAY).toISOString() });
      await credit(t, m.id, 20, { expires_at: new Date(now + 45 * DAY).toISOString() });
      await credit(t, m.id, 40, { expires_at: new Date(now + 80 * DAY).toISOString() });
      await credit(t, m.id, 5, { pending_days: 2 });
      await hold(t, m.id, 15);
      const b = await balance(t, m.id);
      assert.equal(b.object, 'balance');
      assert.equal(b.member_id, m.id);
      assert.equal(b.available, 55);
      assert.equal(b.pending, 5);
      assert.equal(b.held, 15);
      assert.equal(b.lifetime_earned, 75);
      assert.deepEqual(b.next_expiry, { at: new Date(now + 45 * DAY).toISOString(), points: 15 });
      assert.deepEqual(b.expiring, { days_30: 0, days_60: 15, days_90: 55 });
      assert.equal(b.as_of, t.clock.now().toISOString());
      assertProblem(await t.call('GET', '/v1/members/mbr_doesnotexist/balance'), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('GET', '/v1/members/mbr_doesnotexist/entries'), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('GET', '/v1/members/mbr_doesnotexist/lots'), 404, 'MEMBER_NOT_FOUND');
    });

    it('extends expiry on recorded activity under the activity_extended policy', async () => {
      const p = await createProgram(t, { expiry_policy: { type: 'activity_extended', months: 1 } });
      const m = await member(0, p.id);
      const c = await credit(t, m.id, 10);
      t.clock.advance(20 * DAY);
      const b = ok(await t.call('POST', `/v1/members/${m.id}/activity`, { body: { type: 'app.opened' } }), 200);
      assert.equal(b.object, 'balance');
      assert.equal(b.last_activity_at, t.clock.now().toISOString());
      const lot = (await get(`/v1/members/${m.id}/lots`)).data[0];
      assert.ok(new Date(lot.expires_at).getTime() > new Date(c.lot.expires_at).getTime(), `${lot.expires_at} should be after ${c.lot.expires_at}`);
      assertProblem(await t.call('POST', '/v1/members/mbr_doesnotexist/activity', { body: {} }), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('POST', `/v1/members/${m.id}/activity`, { body: { type: '' } }), 400, 'VALIDATION_FAILED', { path: '/type' });
    });

    it('runs the sweep: releases overdue holds, expires due lots and reports the counts', async () => {
      const m = await member(70);
      await hold(t, m.id, 50, { expires_in_seconds: 60 });
      await credit(t, m.id, 30, { expires_at: new Date(t.clock.now().getTime() + 5 * DAY).toISOString() });
      t.clock.advance(6 * DAY);
      const report = ok(await t.call('POST', '/v1/jobs/sweep'), 200);
      assert.ok(report.holds_released >= 1, JSON.stringify(report));
      assert.ok(report.lots_expired >= 1, JSON.stringify(report));
      assert.equal(report.as_of, t.clock.now().toISOString());
      const b = await balance(t, m.id);
      assert.equal(b.available, 70);
      assert.equal(b.held, 0);
      assert.equal(b.lifetime_expired, 30);
      const again = ok(await t.call('POST', '/v1/jobs/sweep'), 200);
      assert.equal(again.holds_released, 0);
      assert.equal(again.lots_expired, 0);
    });

    it('passes the audit after everything above', async () => {
      const audit = ok(await t.call('GET', '/v1/audit'), 200);
      assert.equal(audit.object, 'audit');
      assert.deepEqual(audit.violations, []);
      assert.equal(audit.ok, true);
      assert.ok(audit.checked.entries > 0);
      const scoped = ok(await t.call('GET', `/v1/audit?program_id=${program.id}`), 200);
      assert.equal(scoped.program_id, program.id);
      assert.equal(scoped.ok, true);
      assertProblem(await t.call('GET', '/v1/audit?program_id=nope'), 400, 'VALIDATION_FAILED', { path: '/program_id', location: 'querystring' });
    });
  });
});
