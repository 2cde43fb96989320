/**
 * Lottery draws under concurrency, on real PostgreSQL (PGlite has one connection: nothing races
 * there): 40 members drawing at once a lottery whose heavy prize has a stock of 3 (given out
 * exactly 3 times, never more, the rest fall to the other prize), one member's 10 draws at once
 * (nonces 0..9, each once), replays of one key at once (one draw), a rotation racing draws (every
 * draw verifies against the seed it was made under), and a clean audit.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { activeReward, fundedMember, type Json, ok, rewardName, rewardProgram } from './helpers/rewards.ts';

forEachDatabase(
  'lottery concurrency',
  (getDb) => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp(getDb(), '2026-03-02T02:00:00.000Z');
    });
    const tokenOf = async (programId: string, memberId: string) =>
      ok(await t.call('POST', `/v1/programs/${programId}/member-tokens`, { key: t.keys.integration, body: { member_id: memberId } }), 201).token as string;
    const draw = (token: string, rewardId: string, idem: string | true = true) =>
      t.call('POST', '/v1/me/lottery-draws', { key: token, body: { reward_id: rewardId }, idem });
    async function lottery(p: string) {
      const l = await activeReward(t, p, { type: 'lottery', name: rewardName('抽奖', 'Draw'), points_cost: 10 });
      const mug = ok(
        await t.call('POST', `/v1/rewards/${l.id}/lottery-prizes`, { body: { code: 'mug', name: rewardName('杯子', 'Mug'), weight: 1_000_000, stock: 3 } }),
        201,
      );
      ok(await t.call('POST', `/v1/rewards/${l.id}/lottery-prizes`, { body: { code: 'thanks', name: rewardName('谢谢', 'Thanks'), weight: 1 } }), 201);
      ok(await t.call('POST', `/v1/rewards/${l.id}/lottery-seeds`, { body: {} }), 201);
      return { id: l.id as string, mugId: mug.id as string };
    }

    it('40 members at once: a prize with stock 3 is given out exactly 3 times; every draw verifies; audit clean', async () => {
      const p = await rewardProgram(t);
      const l = await lottery(p);
      const tokens: string[] = [];
      for (let i = 0; i < 40; i++) tokens.push(await tokenOf(p, await fundedMember(t, p, 10)));
      const results = await Promise.all(tokens.map((k) => draw(k, l.id)));
      assert.deepEqual(
        results.map((r) => r.statusCode),
        results.map(() => 201),
        results.find((r) => r.statusCode !== 201)?.body,
      );
      const codes = results.map((r) => r.json().prize.code as string);
      // the mug outweighs the other prize a million to one while it lasts: it goes exactly 3 times
      assert.equal(codes.filter((c) => c === 'mug').length, 3);
      const prizes = ok(await t.call('GET', `/v1/rewards/${l.id}/lottery-prizes`)).data;
      assert.equal(prizes.find((z: Json) => z.id === l.mugId).stock_left, 0);
      ok(await t.call('POST', `/v1/rewards/${l.id}/lottery-seeds`, { body: {} }), 201);
      for (const r of results) assert.equal(ok(await t.call('GET', r.json().verify_path, { key: null })).matches, true);
      const audit = ok(await t.call('GET', `/v1/audit?program_id=${p}`));
      assert.equal(audit.ok, true, JSON.stringify(audit.violations));
    });

    it("one member's draws at once take nonces 0..9 once each; replays of one key give one draw", async () => {
      const p = await rewardProgram(t);
      const l = await lottery(p);
      const member = await fundedMember(t, p, 1000);
      const token = await tokenOf(p, member);
      const results = await Promise.all(Array.from({ length: 10 }, () => draw(token, l.id)));
      assert.ok(results.every((r) => r.statusCode === 201));
      assert.deepEqual(
        results.map((r) => r.json().nonce).sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      const replays = await Promise.all(Array.from({ length: 10 }, () => draw(token, l.id, 'one-tap')));
      assert.ok(replays.every((r) => r.statusCode === 201));
      assert.equal(new Set(replays.map((r) => r.json().id)).size, 1);
      const balance = ok(await t.call('GET', `/v1/members/${member}/balance`));
      assert.equal(balance.available, 1000 - 11 * 10);
    });

    it('a rotation racing draws: each draw is under the seed it names, and verifies once that seed is revealed', async () => {
      const p = await rewardProgram(t);
      const l = await lottery(p);
      const tokens: string[] = [];
      for (let i = 0; i < 10; i++) tokens.push(await tokenOf(p, await fundedMember(t, p, 10)));
      const [draws, rotation] = await Promise.all([
        Promise.all(tokens.map((k) => draw(k, l.id))),
        t.call('POST', `/v1/rewards/${l.id}/lottery-seeds`, { body: {} }),
      ]);
      ok(rotation, 201);
      ok(await t.call('POST', `/v1/rewards/${l.id}/lottery-seeds`, { body: {} }), 201);
      for (const d of draws) {
        const v = ok(await t.call('GET', ok(d, 201).verify_path, { key: null }));
        assert.equal(v.matches, true, JSON.stringify(v));
      }
    });
  },
  { kinds: ['postgres'], poolSize: 20 },
);
