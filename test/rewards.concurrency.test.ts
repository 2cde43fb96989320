/**
 * Rewards under concurrency, on real PostgreSQL (PGlite has one connection: nothing races there):
 * 200 redemptions of a reward with stock 50 at once (exactly 50 succeed, the stock ends at 0,
 * nobody is overdrawn, the audit is clean), one member racing a per-member limit, replays of one
 * Idempotency-Key at once, and concurrent cancels restoring the points and the stock exactly once.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { activeReward, fundedMember, type Json, ok, redeem, rewardProgram } from './helpers/rewards.ts';

const DAY = 86_400_000;

forEachDatabase(
  'rewards concurrency',
  (getDb) => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp(getDb(), '2026-03-02T02:00:00.000Z');
    });
    const audit = async (programId: string) => {
      const a = ok(await t.call('GET', `/v1/audit?program_id=${programId}`));
      assert.equal(a.ok, true, JSON.stringify(a.violations));
    };
    const statuses = (results: { statusCode: number; json: () => Json }[]) => {
      const by: Record<string, number> = {};
      for (const r of results) {
        const k = r.statusCode < 300 ? String(r.statusCode) : `${r.statusCode} ${r.json().code}`;
        by[k] = (by[k] ?? 0) + 1;
      }
      return by;
    };
    const row = async (sql: string, params: unknown[]) => (await getDb().db.query<Json>(sql, params))[0];

    it('200 redemptions of a reward with stock 50 at once: exactly 50 succeed, stock 0, nobody overdrawn, audit clean', async () => {
      const p = await rewardProgram(t);
      const members: string[] = [];
      for (let i = 0; i < 200; i++) members.push(await fundedMember(t, p, i % 10 === 9 ? 99 : 100));
      const r = await activeReward(t, p, { points_cost: 100, stock: 50 });
      const results = await Promise.all(members.map((m) => redeem(t, m, { reward_id: r.id })));
      const by = statuses(results);
      assert.equal(by['201'], 50, JSON.stringify(by));
      assert.equal((by['422 REWARD_OUT_OF_STOCK'] ?? 0) + (by['422 INSUFFICIENT_POINTS'] ?? 0), 150, JSON.stringify(by));
      assert.deepEqual(
        Object.keys(by).sort(),
        Object.keys(by)
          .filter((k) => ['201', '422 REWARD_OUT_OF_STOCK', '422 INSUFFICIENT_POINTS'].includes(k))
          .sort(),
      );
      assert.equal(ok(await t.call('GET', `/v1/rewards/${r.id}`)).stock_left, 0);
      const winners = new Set(results.filter((x) => x.statusCode === 201).map((x) => x.json().member_id));
      const accounts = await getDb().db.query<Json>('SELECT member_id, balance::int, held::int FROM member_account WHERE program_id = $1', [p]);
      for (const a of accounts) {
        const start = members.indexOf(a.member_id) % 10 === 9 ? 99 : 100;
        assert.equal(a.balance, winners.has(a.member_id) ? start - 100 : start, a.member_id);
        assert.ok(a.balance >= 0 && a.held === 0);
      }
      assert.equal((await row('SELECT count(*)::int AS n FROM redemption WHERE reward_id = $1', [r.id])).n, 50);
      assert.equal((await row(`SELECT count(*)::int AS n FROM hold WHERE program_id = $1 AND status = 'open'`, [p])).n, 0);
      await audit(p);
    });

    it('one member racing a per-member limit of 3: exactly 3 redemptions', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 10_000);
      const r = await activeReward(t, p, { points_cost: 10, limit: { per_member: 3, period: 'ever' } });
      const results = await Promise.all(Array.from({ length: 30 }, () => redeem(t, m, { reward_id: r.id })));
      assert.deepEqual(statuses(results), { '201': 3, '422 LIMIT_REACHED': 27 });
      assert.equal((await row('SELECT balance::int AS b FROM member_account WHERE member_id = $1', [m])).b, 10_000 - 30);
      await audit(p);
    });

    it('replays of one Idempotency-Key at once: one redemption, every answer the same', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 10_000);
      const r = await activeReward(t, p, { points_cost: 10, stock: 100 });
      const key = unique('same');
      const results = await Promise.all(Array.from({ length: 20 }, () => redeem(t, m, { reward_id: r.id }, key)));
      assert.deepEqual(statuses(results), { '201': 20 });
      assert.equal(new Set(results.map((x) => x.json().id)).size, 1);
      assert.equal((await row('SELECT count(*)::int AS n FROM redemption WHERE member_id = $1', [m])).n, 1);
      assert.equal(ok(await t.call('GET', `/v1/rewards/${r.id}`)).stock_left, 99);
      await audit(p);
    });

    it('concurrent cancels restore the points (with their original expiry) and the stock exactly once', async () => {
      const p = await rewardProgram(t);
      const m = await fundedMember(t, p, 0);
      const soon = new Date(t.clock.now().getTime() + 30 * DAY).toISOString();
      const late = new Date(t.clock.now().getTime() + 300 * DAY).toISOString();
      ok(await t.call('POST', `/v1/members/${m}/credits`, { body: { points: 70, expires_at: soon }, idem: true }), 201);
      ok(await t.call('POST', `/v1/members/${m}/credits`, { body: { points: 100, expires_at: late }, idem: true }), 201);
      const r = await activeReward(t, p, { points_cost: 150, stock: 1 });
      const d = ok(await redeem(t, m, { reward_id: r.id }), 201);
      const cancels = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          t.call('POST', `/v1/redemptions/${d.id}/${i % 2 ? 'cancel' : 'reject'}`, { body: { reason: `race ${i}` }, idem: true }),
        ),
      );
      assert.deepEqual(statuses(cancels), { '200': 1, '409 REDEMPTION_STATUS_CONFLICT': 11 });
      const won = cancels.find((c) => c.statusCode === 200)!.json();
      assert.deepEqual(
        won.restored.lots.map((l: Json) => [l.points, l.expires_at]),
        [
          [70, soon],
          [80, late],
        ],
      );
      assert.equal((await row('SELECT balance::int AS b FROM member_account WHERE member_id = $1', [m])).b, 170);
      assert.equal(ok(await t.call('GET', `/v1/rewards/${r.id}`)).stock_left, 1);
      assert.equal((await row(`SELECT count(*)::int AS n FROM redemption_history WHERE redemption_id = $1`, [d.id])).n, 2);
      // the same key sent at once answers the one cancellation
      const e = ok(await redeem(t, m, { reward_id: r.id }), 201);
      const key = unique('cancel');
      const twins = await Promise.all(Array.from({ length: 8 }, () => t.call('POST', `/v1/redemptions/${e.id}/cancel`, { body: {}, idem: key })));
      assert.deepEqual(statuses(twins), { '200': 8 });
      assert.equal((await row('SELECT balance::int AS b FROM member_account WHERE member_id = $1', [m])).b, 170);
      assert.equal(ok(await t.call('GET', `/v1/rewards/${r.id}`)).stock_left, 1);
      await audit(p);
    });
  },
  { kinds: ['postgres'], poolSize: 20 },
);
