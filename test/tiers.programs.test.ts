/**
 * Real programs as tests (issue 11, docs/tiers.md): the seed ladder (青铜/白银/黄金/钻石 by yearly
 * spend), Starbucks Rewards from 10 March 2026 (stars in a rolling 12 months, status for 12 months),
 * Sephora (calendar-year spend, kept through the next year) and a Delta-style status valid until
 * 31 January of the year after next — driven by the clock across review dates, year ends and
 * 29 February. Each ladder is written straight into tier_ladder (the ladder API is tested on its
 * own); events go through POST /v1/events, reviews through the job's function.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { reviewDue } from '../src/modules/tiers/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { insertLadder } from './helpers/tiers.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers and rows
type Json = any;

const tier = (code: string, zh: string, en: string, entry: number, multiplier: string, retention = entry) => ({
  code,
  name: { 'zh-CN': zh, en },
  entry,
  retention,
  multiplier,
  birthday_points: 0,
  welcome_points: 0,
  grants: [],
  perks: [],
});

interface Ladder {
  metric: 'spend' | 'points' | 'orders';
  window: Json;
  validity: Json;
  policy: 'one_step' | 'requalify' | 'never';
  tiers: Json[];
}

forEachDatabase('real tier programs', (getDb) => {
  let t: TestApp;
  const q = <T = Json>(sql: string, params: unknown[] = []) => getDb().db.query<T>(sql, params);
  const ok = (res: { statusCode: number; body: string; json: () => Json }, status = 200): Json => {
    assert.equal(res.statusCode, status, res.body);
    return res.json();
  };

  async function program(tz: string, currency: string, ladder: Ladder, rule: Json): Promise<string> {
    const id = ok(await t.call('POST', '/v1/programs', { body: { name: unique('p'), pending_days: 0, time_zone: tz, currency } }), 201).id;
    ok(await t.call('POST', `/v1/programs/${id}/rules`, { body: { definition: rule } }), 201);
    await insertLadder(
      getDb().db,
      id,
      { metric: ladder.metric, window: ladder.window, validity: ladder.validity, policy: ladder.policy, tiers: ladder.tiers },
      t.clock.now(),
    );
    return id;
  }
  const member = async (programId: string) =>
    ok(await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id: unique('m') } }), 201).id as string;
  const pay = async (programId: string, memberId: string, amount: number, currency: string) =>
    ok(
      await t.call('POST', '/v1/events', {
        key: t.keys.integration,
        body: {
          id: unique('evt'),
          type: 'order.paid',
          program_id: programId,
          member_id: memberId,
          occurred_at: t.clock.now().toISOString(),
          data: { order_id: unique('o'), amount, currency },
        },
      }),
      201,
    ).points as number;
  const status = async (id: string) =>
    (
      await q(`SELECT m.tier, mt.tier AS earned, mt.valid_until, mt.review_at FROM member m LEFT JOIN member_tier mt ON mt.member_id = m.id WHERE m.id = $1`, [
        id,
      ])
    )[0];
  const windowValue = async (programId: string, id: string) =>
    (await q<{ s: Json }>('SELECT events_tier_states($1, ARRAY[$2], $3) AS s', [programId, id, t.clock.now().toISOString()]))[0]!.s[id];
  const at = (iso: string) => t.clock.set(iso);
  const review = () => reviewDue(getDb().db, t.clock.now());
  const iso = (v: string | Date | null) => (v === null ? null : new Date(v).toISOString());

  before(async () => {
    t = await createTestApp(getDb(), '2026-01-01T00:00:00.000Z');
  });

  describe('the seed ladder: 青铜 / 白银 ¥1,000 / 黄金 ¥5,000 / 钻石 ¥20,000 a calendar year, 1× / 1.2× / 1.5× / 2×', () => {
    const ladder: Ladder = {
      metric: 'spend',
      window: { type: 'calendar_year' },
      validity: { type: 'period_and_next' },
      policy: 'one_step',
      tiers: [
        tier('bronze', '青铜', 'Bronze', 0, '1'),
        tier('silver', '白银', 'Silver', 100_000, '1.2'),
        tier('gold', '黄金', 'Gold', 500_000, '1.5'),
        tier('diamond', '钻石', 'Diamond', 2_000_000, '2'),
      ],
    };
    const rule = { name: '消费积分', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } };

    it('climbs a tier at a time through the year, each order after an upgrade earning at the new rate, and steps down one tier a year when spending stops', async () => {
      at('2026-02-01T04:00:00.000Z');
      const p = await program('Asia/Shanghai', 'CNY', ladder, rule);
      const m = await member(p);
      assert.equal(await pay(p, m, 150_000, 'CNY'), 1_500); // → silver (this order at 1×)
      assert.equal(await pay(p, m, 400_000, 'CNY'), 4_800); // 1.2× → gold (¥5,500)
      assert.equal(await pay(p, m, 1_500_000, 'CNY'), 22_500); // 1.5× → diamond (¥20,500)
      assert.equal(await pay(p, m, 10_000, 'CNY'), 200); // 2×
      const s = await status(m);
      assert.equal(s.tier, 'diamond');
      assert.equal(iso(s.valid_until), '2027-12-31T16:00:00.000Z');
      // the counter restarts on 1 January (Shanghai); the status does not
      at('2026-12-31T16:30:00.000Z');
      assert.equal(Number((await windowValue(p, m)).value), 0);
      // nothing in 2027: at the review (1 January 2028) diamond goes one step down, to gold, kept through 2028 and 2029? no: gold for 2028 and 2029's review
      at('2027-12-31T16:00:00.000Z');
      await review();
      const after = await status(m);
      assert.equal(after.tier, 'gold');
      // a lower tier is kept as if reached at the end of the review window (2027): through 2028
      assert.equal(iso(after.valid_until), '2028-12-31T16:00:00.000Z');
      at('2028-12-31T16:00:00.000Z');
      await review();
      assert.equal((await status(m)).tier, 'silver');
      at('2029-12-31T16:00:00.000Z');
      await review();
      const last = await status(m);
      assert.deepEqual([last.tier, last.valid_until], ['bronze', null]);
    });
  });

  describe('Starbucks Rewards from 10 March 2026: Gold at 500 stars in a rolling 12 months, Reserve at 2,500; 1 / 1.2 / 1.7 stars per $1; status for 12 months', () => {
    const ladder: Ladder = {
      metric: 'points',
      window: { type: 'rolling_months', months: 12 },
      validity: { type: 'months', months: 12 },
      policy: 'one_step',
      tiers: [tier('green', '绿卡', 'Green', 0, '1'), tier('gold', '金卡', 'Gold', 500, '1.2'), tier('reserve', '臻选', 'Reserve', 2_500, '1.7')],
    };
    const rule = { name: 'Stars', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } };

    it('reaches Gold on the order that makes 500 stars, earns 1.2 stars/$ after, keeps Gold for 12 months and re-qualifies on the stars of the 12 months before the review', async () => {
      at('2026-03-10T18:00:00.000Z'); // 10 March, 11:00 in Los Angeles
      const p = await program('America/Los_Angeles', 'USD', ladder, rule);
      const m = await member(p);
      assert.equal(await pay(p, m, 40_000, 'USD'), 400);
      assert.equal(await pay(p, m, 10_000, 'USD'), 100); // 500 stars: Gold, this order at the Green rate
      let s = await status(m);
      assert.equal(s.tier, 'gold');
      assert.equal(iso(s.valid_until), '2027-03-10T08:00:00.000Z'); // midnight, 10 March 2027, Pacific (PST)
      at('2026-03-11T18:00:00.000Z');
      assert.equal(await pay(p, m, 10_000, 'USD'), 120);
      // a year on: 520 stars earned after the qualifying day (the review counts whole days after it) keep Gold for another 12 months
      at('2026-09-01T18:00:00.000Z');
      assert.equal(await pay(p, m, 33_400, 'USD'), 400);
      at('2027-03-10T08:00:00.000Z');
      await review();
      s = await status(m);
      assert.equal(s.tier, 'gold');
      assert.equal(iso(s.valid_until), '2028-03-10T08:00:00.000Z');
      // nothing more: in March 2028 the stars of the 12 months before are 0, Gold steps down to Green
      at('2028-03-10T08:00:00.000Z');
      await review();
      assert.deepEqual([(await status(m)).tier, (await status(m)).valid_until], ['green', null]);
    });

    it('a status reached on 29 February lasts until 28 February of the next year', async () => {
      at('2028-02-29T20:00:00.000Z');
      const p = await program('America/Los_Angeles', 'USD', ladder, rule);
      const m = await member(p);
      await pay(p, m, 50_000, 'USD');
      assert.equal(iso((await status(m)).valid_until), '2029-02-28T08:00:00.000Z');
    });
  });

  describe('Sephora: VIB at $350 and Rouge at $1,000 of spend in a calendar year, kept through the next year', () => {
    const ladder: Ladder = {
      metric: 'spend',
      window: { type: 'calendar_year' },
      validity: { type: 'period_and_next' },
      policy: 'requalify',
      tiers: [tier('insider', 'Insider', 'Insider', 0, '1'), tier('vib', 'VIB', 'VIB', 35_000, '1'), tier('rouge', 'Rouge', 'Rouge', 100_000, '1')],
    };
    const rule = { name: 'Beauty points', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } };

    it('qualifies in 2026, keeps Rouge through 2027 whatever 2027 brings, and on 1 January 2028 is re-ranked by what 2027 spent', async () => {
      at('2026-11-20T15:00:00.000Z');
      const p = await program('America/New_York', 'USD', ladder, rule);
      const m = await member(p);
      await pay(p, m, 120_000, 'USD');
      const s = await status(m);
      assert.equal(s.tier, 'rouge');
      assert.equal(iso(s.valid_until), '2028-01-01T05:00:00.000Z');
      // the counter resets on 1 January (New York): 2027 starts at $0, the status stays
      at('2027-01-01T05:00:00.000Z');
      assert.equal(Number((await windowValue(p, m)).value), 0);
      assert.equal((await status(m)).tier, 'rouge');
      at('2027-06-01T15:00:00.000Z');
      await pay(p, m, 40_000, 'USD'); // $400 in 2027: VIB's threshold, not Rouge's
      at('2028-01-01T05:00:00.000Z');
      await review();
      const after = await status(m);
      assert.equal(after.tier, 'vib');
      assert.equal(iso(after.valid_until), '2029-01-01T05:00:00.000Z');
    });
  });

  describe('Delta-style: a calendar-year status valid until 31 January of the year after next', () => {
    const ladder: Ladder = {
      metric: 'spend',
      window: { type: 'calendar_year' },
      validity: { type: 'until_date', month: 1, day: 31, years: 2 },
      policy: 'one_step',
      tiers: [
        tier('member', '会员', 'Member', 0, '1'),
        tier('silver', '银卡', 'Silver Medallion', 500_000, '1.4'),
        tier('gold', '金卡', 'Gold Medallion', 1_200_000, '1.6'),
      ],
    };
    const rule = { name: 'Miles', triggers: ['order.paid'], effect: { type: 'rate', points: 5, per_amount: 100 } };

    it('keeps a 2026 status to the end of 31 January 2028; the review then counts 2027, renewing to 31 January 2029 or stepping down', async () => {
      at('2026-08-01T14:00:00.000Z');
      const p = await program('America/New_York', 'USD', ladder, rule);
      const kept = await member(p);
      const lapsed = await member(p);
      await pay(p, kept, 1_300_000, 'USD');
      await pay(p, lapsed, 1_300_000, 'USD');
      assert.equal(iso((await status(kept)).valid_until), '2028-02-01T05:00:00.000Z');
      at('2027-05-01T14:00:00.000Z');
      await pay(p, kept, 1_250_000, 'USD');
      // January 2028 does not count for the review: it is after the qualifying year 2027
      at('2028-01-15T14:00:00.000Z');
      await pay(p, lapsed, 1_250_000, 'USD');
      at('2028-02-01T05:00:00.000Z');
      await review();
      const k = await status(kept);
      assert.equal(k.tier, 'gold');
      assert.equal(iso(k.valid_until), '2029-02-01T05:00:00.000Z');
      // the other spent nothing in 2027 but reached Gold's entry again in 2028's window: renewed at
      // once (to 31 January 2030), so no review was due for it
      const l = await status(lapsed);
      assert.equal(l.tier, 'gold');
      assert.equal(iso(l.valid_until), '2030-02-01T05:00:00.000Z');
      const renewed = await q("SELECT payload FROM tier_history WHERE member_id = $1 AND type = 'tier.renewed'", [lapsed]);
      assert.equal(renewed.length, 1);
      assert.equal(iso(renewed[0].payload.previous_valid_until), '2028-02-01T05:00:00.000Z');
    });
  });
});
