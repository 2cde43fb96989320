/**
 * The tier jobs (src/modules/tiers/tiers.jobs.ts, docs/tiers.md "Jobs"): birthday points and
 * periodic grants exactly once per member and period, even with several runners at once and
 * reruns; tier.at_risk once per review with what is needed; an override's end brings the member
 * back to its earned tier; a review that stopped half-way and ran again reviews each member once.
 * The ladder is written straight into tier_ladder (the ladder API has its own tests).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { endOverrides, flagAtRisk, grantBenefits, reviewDue, runTierJobs } from '../src/modules/tiers/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase, holdOpen } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { insertLadder } from './helpers/tiers.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers and rows
type Json = any;

const name = (zh: string, en: string) => ({ 'zh-CN': zh, en });
const tier = (code: string, entry: number, extra: Record<string, unknown> = {}) => ({
  code,
  name: name(code, code),
  entry,
  retention: entry,
  multiplier: '1',
  birthday_points: 0,
  welcome_points: 0,
  grants: [],
  perks: [],
  ...extra,
});
const TIERS = [
  tier('member', 0, { birthday_points: 50 }),
  tier('silver', 100_000, { retention: 80_000, birthday_points: 100 }),
  tier('gold', 500_000, {
    birthday_points: 200,
    grants: [
      { key: 'monthly_points', name: name('月度礼', 'Monthly points'), every: 'month', points: 30 },
      { key: 'free_shipping', name: name('包邮券', 'Free shipping'), every: 'month', coupon_prefix: 'FREESHIP' },
    ],
  }),
];

forEachDatabase('tier jobs', (getDb, kind) => {
  let t: TestApp;
  const q = <T = Json>(sql: string, params: unknown[] = []) => getDb().db.query<T>(sql, params);
  const ok = (res: { statusCode: number; body: string; json: () => Json }, status = 200): Json => {
    assert.equal(res.statusCode, status, res.body);
    return res.json();
  };

  async function program(
    extra: { validity?: Record<string, unknown>; window?: Record<string, unknown>; policy?: 'one_step' | 'requalify' | 'never' } = {},
  ): Promise<string> {
    const id = ok(await t.call('POST', '/v1/programs', { body: { name: unique('tiers'), pending_days: 0, time_zone: 'Asia/Shanghai' } }), 201).id;
    ok(
      await t.call('POST', `/v1/programs/${id}/rules`, {
        body: { definition: { name: '消费积分', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } } },
      }),
      201,
    );
    await insertLadder(
      getDb().db,
      id,
      {
        window: extra.window ?? { type: 'rolling_months', months: 12 },
        validity: extra.validity ?? { type: 'months', months: 12 },
        policy: extra.policy,
        tiers: TIERS,
      },
      t.clock.now(),
    );
    return id;
  }
  const member = async (programId: string, birthday?: string) =>
    ok(await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id: unique('m'), ...(birthday ? { birthday } : {}) } }), 201).id as string;
  const pay = async (programId: string, memberId: string, amount: number) =>
    ok(
      await t.call('POST', '/v1/events', {
        key: t.keys.integration,
        body: {
          id: unique('evt'),
          type: 'order.paid',
          program_id: programId,
          member_id: memberId,
          occurred_at: t.clock.now().toISOString(),
          data: { order_id: unique('o'), amount, currency: 'CNY' },
        },
      }),
      201,
    );
  const balance = async (id: string) => ok(await t.call('GET', `/v1/members/${id}/balance`)).available as number;
  const tierOf = async (id: string) => (await q<{ tier: string }>('SELECT tier FROM member WHERE id = $1', [id]))[0]!.tier;

  before(async () => {
    t = await createTestApp(getDb(), '2026-04-10T04:00:00.000Z');
  });

  describe('grants', () => {
    it('gives birthday points on the birthday and the monthly grants of the tier once per period, whatever the reruns and concurrent runners', async () => {
      t.clock.set('2026-04-10T04:00:00.000Z');
      const p = await program();
      const gold = await member(p, '1990-04-10');
      const plain = await member(p, '1991-04-11');
      await pay(p, gold, 600_000);
      assert.equal(await tierOf(gold), 'gold');
      const before = { gold: await balance(gold), plain: await balance(plain) };

      // four runners at once, then two reruns
      const now = t.clock.now();
      await Promise.all([1, 2, 3, 4].map(() => grantBenefits(getDb().db, now, 1)));
      await grantBenefits(getDb().db, now);
      await grantBenefits(getDb().db, now);
      const grants = await q('SELECT grant_key, kind, points::int, coupon_code FROM tier_grant WHERE member_id = $1 ORDER BY grant_key', [gold]);
      assert.deepEqual(
        grants.map((g: Json) => [g.grant_key, g.kind, g.points]),
        [
          ['birthday', 'birthday', 200],
          ['grant:gold:free_shipping', 'periodic', 0],
          ['grant:gold:monthly_points', 'periodic', 30],
        ],
      );
      assert.match(grants[1].coupon_code, /^FREESHIP-[0-9A-HJKMNP-TV-Z]{10}$/);
      assert.equal((await balance(gold)) - before.gold, 200 + 30);
      // not the plain member's birthday (tomorrow), and the base tier has no monthly grant
      assert.equal(await balance(plain), before.plain);
      t.clock.set('2026-04-11T04:00:00.000Z');
      await grantBenefits(getDb().db, t.clock.now());
      assert.equal((await balance(plain)) - before.plain, 50);
      // a new month: the monthly grants again, not the birthday
      t.clock.set('2026-05-01T04:00:00.000Z');
      await grantBenefits(getDb().db, t.clock.now());
      await grantBenefits(getDb().db, t.clock.now());
      assert.equal((await balance(gold)) - before.gold, 200 + 30 + 30);
      const entries = await q<{ n: number }>("SELECT count(*)::int AS n FROM ledger_entry WHERE member_id = $1 AND actor = 'tiers'", [gold]);
      assert.equal(entries[0]!.n, 3);
    });

    it('gives a 29 February birthday on 28 February in a common year', async () => {
      t.clock.set('2027-02-28T04:00:00.000Z');
      const p = await program();
      const m = await member(p, '2000-02-29');
      await grantBenefits(getDb().db, t.clock.now());
      assert.equal(await balance(m), 50);
    });
  });

  /** A program whose members, one in goldEvery at gold (¥6,000 in 2026) and the others at silver (¥1,200), are due for review on 2 February 2027. */
  const dueMembers = async (count: number, goldEvery: number) => {
    t.clock.set('2026-02-01T04:00:00.000Z');
    const p = await program();
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const m = await member(p);
      await pay(p, m, i % goldEvery === 0 ? 600_000 : 120_000);
      ids.push(m);
    }
    t.clock.set('2027-02-02T00:00:00.000Z');
    return { p, ids };
  };
  /** How many review rows (renewed or downgraded) each member of the program has. */
  const reviewsOf = async (p: string) =>
    (
      await q<{ member_id: string; n: number }>(
        "SELECT member_id, count(*)::int AS n FROM tier_history WHERE program_id = $1 AND type IN ('tier.downgraded', 'tier.renewed') GROUP BY 1",
        [p],
      )
    ).map((r) => ({ ...r }));

  describe('at risk, overrides, review', () => {
    it('warns once per review, within 30 days of it and below retention, with what is needed', async () => {
      t.clock.set('2026-01-10T04:00:00.000Z');
      const p = await program({ validity: { type: 'months', months: 18 } });
      const m = await member(p);
      await pay(p, m, 120_000);
      assert.equal(await tierOf(m), 'silver');
      // silver until 10 July 2027; the review counts the 12 months before it, which the January 2026 order is not in
      t.clock.set('2027-06-01T04:00:00.000Z');
      assert.equal(await flagAtRisk(getDb().db, t.clock.now()), 0);
      t.clock.set('2027-06-15T04:00:00.000Z');
      await pay(p, m, 10_000);
      assert.equal(await flagAtRisk(getDb().db, t.clock.now()), 1);
      assert.equal(await flagAtRisk(getDb().db, t.clock.now()), 0);
      const rows = await q("SELECT from_tier, payload FROM tier_history WHERE member_id = $1 AND type = 'tier.at_risk'", [m]);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].from_tier, 'silver');
      assert.deepEqual([rows[0].payload.value, rows[0].payload.threshold, rows[0].payload.needed], [10_000, 80_000, 70_000]);
      assert.equal(new Date(rows[0].payload.review_at).toISOString(), '2027-07-09T16:00:00.000Z');
    });

    it('ends an override at its end, back to the earned tier, with a history row', async () => {
      t.clock.set('2026-06-01T04:00:00.000Z');
      const p = await program();
      const m = await member(p);
      await q(
        `INSERT INTO member_tier (member_id, program_id, tier, since, override_tier, override_until, override_reason, override_by, updated_at)
         VALUES ($1, $2, 'member', $3, 'gold', $4, 'VIP guest', 'test', $3)`,
        [m, p, t.clock.now().toISOString(), '2026-07-01T00:00:00.000Z'],
      );
      await q('UPDATE member SET tier = $2 WHERE id = $1', [m, 'gold']);
      assert.equal(await endOverrides(getDb().db, t.clock.now()), 0);
      t.clock.set('2026-07-01T00:00:00.000Z');
      assert.equal(await endOverrides(getDb().db, t.clock.now()), 1);
      assert.equal(await tierOf(m), 'member');
      const [h] = await q("SELECT from_tier, to_tier FROM tier_history WHERE member_id = $1 AND type = 'tier.override_ended'", [m]);
      assert.deepEqual([h.from_tier, h.to_tier], ['gold', 'member']);
      assert.equal(await endOverrides(getDb().db, t.clock.now()), 0);
    });

    it('a review in small batches on two connections walks every due member once (its cursor), and one locked meanwhile comes in the next run', async () => {
      const { p, ids } = await dueMembers(9, 3);
      const reviewed = () => reviewsOf(p);
      // PostgreSQL: another writer holds one member's account for the whole run (SKIP LOCKED leaves it)
      const locked = ids[4]!;
      const holding =
        kind === 'postgres'
          ? await holdOpen(getDb().db, (tx) => tx.query('SELECT 1 FROM member_account WHERE member_id = $1 FOR UPDATE', [locked]))
          : undefined;
      const first = await reviewDue(getDb().db, t.clock.now(), 2, 2);
      await holding?.release();
      const expectFirst = kind === 'postgres' ? 8 : 9;
      assert.equal(first.reviewed, expectFirst);
      assert.equal((await reviewed()).length, expectFirst);
      const second = await reviewDue(getDb().db, t.clock.now(), 2, 2);
      assert.equal(second.reviewed, 9 - expectFirst);
      const counts = await reviewed();
      assert.equal(counts.length, 9);
      assert.ok(counts.every((c) => c.n === 1));
      assert.equal((await reviewDue(getDb().db, t.clock.now(), 2, 2)).reviewed, 0);
    });

    it('a review stopped after its first batch and run again reviews every member exactly once', async () => {
      const { p, ids } = await dueMembers(7, 2);
      // two reviewers at once over the first batch (members read without a lock: the second finds
      // the status changed under it and drops those members), then "killed": only that committed
      await Promise.all([q('SELECT tiers_review($1, 3)', [t.clock.now().toISOString()]), q('SELECT tiers_review($1, 3)', [t.clock.now().toISOString()])]);
      const [after] = await q<{ n: number }>(
        "SELECT count(*)::int AS n FROM tier_history WHERE program_id = $1 AND type IN ('tier.downgraded', 'tier.renewed')",
        [p],
      );
      assert.ok(after!.n >= 3 && after!.n <= 6, `${after!.n} reviewed`);
      const report = await runTierJobs(getDb().db, t.clock.now());
      assert.equal(report.reviewed, 7 - after!.n);
      assert.deepEqual((await reviewDue(getDb().db, t.clock.now())).reviewed, 0);
      const counts = await reviewsOf(p);
      assert.equal(counts.length, 7);
      assert.ok(counts.every((c) => c.n === 1));
      // nothing spent in the year before the review: gold one step down to silver, silver to the base tier
      for (const [i, m] of ids.entries()) assert.equal(await tierOf(m), i % 2 === 0 ? 'silver' : 'member');
    });
  });
});
