import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { DEMO_BEAUTY_PROGRAM_ID, DEMO_PROGRAM_ID, seedDemo } from '../src/demo/seed-demo.ts';
import { runAudit } from '../src/modules/audit/index.ts';
import { forEachDatabase } from './helpers/db.ts';

const NOW = new Date('2026-12-02T04:00:00.000Z');

forEachDatabase('the demo', (getDb) => {
  let seconds = 0;
  before(async () => {
    const t0 = performance.now();
    assert.equal(await seedDemo(getDb().db, NOW), true);
    seconds = (performance.now() - t0) / 1000;
    process.stderr.write(`demo seed (${getDb().kind}): ${seconds.toFixed(1)} s\n`);
  });

  it('seeds once: a second start does nothing', async () => {
    const { db } = getDb();
    const count = async () => (await db.query<{ n: number }>('SELECT (SELECT count(*) FROM ledger_entry) + (SELECT count(*) FROM event) AS n'))[0]!.n;
    const before = await count();
    assert.equal(await seedDemo(db, new Date(NOW.getTime() + 60_000)), false);
    assert.equal(await count(), before);
  });

  it('has ~200 members across the coffee chain and the beauty shop, who climbed both ladders with their orders', async () => {
    const rows = await getDb().db.query<{ program_id: string; tier: string | null; n: number }>(
      'SELECT program_id, tier, count(*)::int AS n FROM member GROUP BY program_id, tier ORDER BY 1, 2',
    );
    const total = rows.reduce((s, r) => s + r.n, 0);
    assert.ok(total >= 180 && total <= 220, `${total} members`);
    const programs = new Set(rows.map((r) => r.program_id));
    assert.deepEqual([...programs].sort(), [DEMO_PROGRAM_ID, DEMO_BEAUTY_PROGRAM_ID].sort());
    const tiers = (program: string) => new Map(rows.filter((r) => r.program_id === program).map((r) => [r.tier, r.n]));
    // every tier of the coffee chain's ladder has members; the beauty shop's first three do
    const coffee = tiers(DEMO_PROGRAM_ID);
    for (const t of ['green', 'silver', 'gold']) assert.ok((coffee.get(t) ?? 0) > 0, `coffee ${t}: ${JSON.stringify([...coffee])}`);
    const beauty = tiers(DEMO_BEAUTY_PROGRAM_ID);
    for (const t of ['bronze', 'silver', 'gold']) assert.ok((beauty.get(t) ?? 0) > 0, `beauty ${t}: ${JSON.stringify([...beauty])}`);
    assert.equal(coffee.get(null) ?? 0, 0);
    // upgraded by their orders, at once, with the history to show it
    const [h] = await getDb().db.query<{ up: number; events: number }>(
      "SELECT count(*)::int AS up, count(DISTINCT payload->>'event_id')::int AS events FROM tier_history WHERE type = 'tier.upgraded'",
    );
    assert.ok(h!.up > 20 && h!.events === h!.up, JSON.stringify(h));
  });

  it('has a year of orders through ingestion, refunds, spends, check-ins and reviews', async () => {
    const events = await getDb().db.query<{ program_id: string; type: string; n: number; first: string }>(
      'SELECT program_id, type, count(*)::int AS n, min(occurred_at)::text AS first FROM event GROUP BY 1, 2',
    );
    const n = (program: string, type: string) => events.find((e) => e.program_id === program && e.type === type)?.n ?? 0;
    for (const program of [DEMO_PROGRAM_ID, DEMO_BEAUTY_PROGRAM_ID]) {
      assert.ok(n(program, 'order.paid') > 500, `${program} orders`);
      assert.ok(n(program, 'order.refunded') > 5, `${program} refunds`);
      assert.ok(n(program, 'checkin') > 50, `${program} check-ins`);
    }
    assert.ok(n(DEMO_BEAUTY_PROGRAM_ID, 'review.posted') > 20);
    const first = Math.min(...events.map((e) => Date.parse(e.first)));
    assert.ok(NOW.getTime() - first > 350 * 86_400_000, 'history spans a year');
    const kinds = await getDb().db.query<{ program_id: string; kind: string; n: number }>(
      'SELECT m.program_id, e.kind, count(*)::int AS n FROM ledger_entry e JOIN member m ON m.id = e.member_id GROUP BY 1, 2',
    );
    const k = (program: string, kind: string) => kinds.find((e) => e.program_id === program && e.kind === kind)?.n ?? 0;
    for (const program of [DEMO_PROGRAM_ID, DEMO_BEAUTY_PROGRAM_ID]) {
      assert.ok(k(program, 'spend') > 20, `${program} spends: ${JSON.stringify(kinds)}`);
      assert.ok(k(program, 'reverse') > 5, `${program} reverses: ${JSON.stringify(kinds)}`);
    }
  });

  it('has points expiring within 30 days for some members of both programs, and points pending', async () => {
    const rows = await getDb().db.query<{ program_id: string; members: number }>(
      `SELECT m.program_id, count(DISTINCT l.member_id)::int AS members FROM lot l JOIN member m ON m.id = l.member_id
        WHERE l.remaining > 0 AND l.expires_at > $1 AND l.expires_at <= $2 GROUP BY 1`,
      [NOW.toISOString(), new Date(NOW.getTime() + 30 * 86_400_000).toISOString()],
    );
    for (const program of [DEMO_PROGRAM_ID, DEMO_BEAUTY_PROGRAM_ID])
      assert.ok((rows.find((r) => r.program_id === program)?.members ?? 0) >= 10, `${program}: ${JSON.stringify(rows)}`);
    const [{ pending }] = (await getDb().db.query<{ pending: number }>('SELECT count(*)::int AS pending FROM lot WHERE remaining > 0 AND available_at > $1', [
      NOW.toISOString(),
    ])) as [{ pending: number }];
    assert.ok(pending > 0);
  });

  it('has a catalogue of every kind in both programs, gated, limited, timed and priced ahead, and lotteries with prizes and a published seed', async () => {
    const { db } = getDb();
    const rewards = await db.query<{
      program_id: string;
      type: string;
      stock: number | null;
      cash_part: number | null;
      min_tier: string | null;
      schedule_days: number[] | null;
      available_from: string | null;
      donation_project: string | null;
      codes: number;
    }>(
      `SELECT r.program_id, r.type, r.stock, r.cash_part, r.min_tier, r.schedule_days, r.available_from::text, r.donation_project,
              (SELECT count(*)::int FROM reward_code c WHERE c.reward_id = r.id) AS codes
         FROM reward r WHERE r.status = 'active'`,
    );
    for (const program of [DEMO_PROGRAM_ID, DEMO_BEAUTY_PROGRAM_ID]) {
      const mine = rewards.filter((r) => r.program_id === program);
      const has = (what: string, test: (r: (typeof mine)[number]) => boolean) => assert.ok(mine.some(test), `${program}: no ${what}`);
      has('coupon with a code pool', (r) => r.type === 'coupon' && r.codes >= 100);
      has('limited physical reward', (r) => r.type === 'physical' && r.stock !== null && r.stock <= 100);
      has('service or experience', (r) => r.type === 'service' || r.type === 'experience');
      has('donation project', (r) => r.type === 'donation' && r.donation_project !== null);
      has('lottery', (r) => r.type === 'lottery');
      has('points+cash reward', (r) => r.cash_part !== null && r.cash_part > 0);
      has('tier-only reward', (r) => r.min_tier !== null);
      has('flash sale', (r) => r.schedule_days !== null);
    }
    // a tier-only reward names a tier of its program's ladder
    const tiers = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM reward r JOIN tier_ladder l ON l.program_id = r.program_id
        WHERE r.min_tier IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(l.tiers) t WHERE t->>'code' = r.min_tier)`,
    );
    assert.equal(tiers[0]!.n, 0, 'a min_tier outside the ladder');
    assert.ok(
      rewards.some((r) => r.available_from !== null && Date.parse(r.available_from) > NOW.getTime()),
      'a reward not on sale yet',
    );
    const [prices] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reward_price_change WHERE announce_at <= $1 AND effective_at > $1', [
      NOW.toISOString(),
    ]);
    assert.ok(prices!.n >= 2, 'price changes announced ahead');
    const lotteries = await db.query<{ prizes: number; seeds: number }>(
      `SELECT (SELECT count(*)::int FROM lottery_prize p WHERE p.reward_id = r.id) AS prizes,
              (SELECT count(*)::int FROM lottery_seed s WHERE s.reward_id = r.id AND s.status = 'active') AS seeds
         FROM reward r WHERE r.type = 'lottery'`,
    );
    assert.equal(lotteries.length, 2);
    const [issuing] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM lottery_prize p JOIN reward r ON r.id = p.prize_reward_id WHERE r.type = 'physical' AND r.status = 'draft'",
    );
    assert.equal(issuing!.n, 1, 'a prize issues a prize-only reward');
    for (const l of lotteries) assert.ok(l.prizes >= 3 && l.seeds === 1, JSON.stringify(l));
  });

  it('has past redemptions: an order delivered, one shipped with its tracking number, one cancelled with its points back, orders to ship, coupons with codes, donations and draws', async () => {
    const { db } = getDb();
    const rows = await db.query<{
      program_id: string;
      reward_type: string;
      status: string;
      carrier: string | null;
      tracking_number: string | null;
      codes: number;
      restored: boolean;
    }>(
      `SELECT program_id, reward_type, status, carrier, tracking_number, cardinality(codes) AS codes, restore_txn_id IS NOT NULL AS restored
         FROM redemption`,
    );
    for (const program of [DEMO_PROGRAM_ID, DEMO_BEAUTY_PROGRAM_ID]) {
      const mine = rows.filter((r) => r.program_id === program);
      const has = (what: string, test: (r: (typeof mine)[number]) => boolean) => assert.ok(mine.some(test), `${program}: no ${what}: ${JSON.stringify(mine)}`);
      has('delivered order', (r) => r.reward_type === 'physical' && r.status === 'delivered');
      has('shipped order with tracking', (r) => r.status === 'shipped' && r.carrier !== null && /^[A-Z]{2,3}\d{10}$/.test(r.tracking_number ?? ''));
      has('cancelled order with its points back', (r) => r.status === 'cancelled' && r.restored);
      has('order to ship', (r) => r.reward_type === 'physical' && r.status === 'confirmed');
      has('coupon with its code', (r) => r.reward_type === 'coupon' && r.codes === 1);
      has('donation', (r) => r.reward_type === 'donation');
      has('lottery draw', (r) => r.reward_type === 'lottery' && r.status === 'delivered');
    }
    const [{ history }] = (await db.query<{ history: number }>(
      "SELECT count(*)::int AS history FROM redemption_history WHERE type IN ('redemption.shipped', 'redemption.delivered', 'redemption.cancelled')",
    )) as [{ history: number }];
    assert.ok(history >= 6, `${history} history rows`);
    // the stock took what was redeemed and got the cancelled units back
    const [stock] = await db.query<{ wrong: number }>(
      `SELECT count(*)::int AS wrong FROM reward r WHERE r.stock IS NOT NULL AND r.type <> 'lottery' AND r.stock - r.stock_left <>
         (SELECT coalesce(sum(d.quantity), 0) FROM redemption d WHERE d.reward_id = r.id AND d.status NOT IN ('cancelled', 'rejected'))`,
    );
    assert.equal(stock!.wrong, 0);
  });

  it('uses points at checkout: both programs have a policy on, and coffee app orders were paid partly with points', async () => {
    const { db } = getDb();
    const policies = await db.query<{ program_id: string; enabled: boolean }>('SELECT program_id, enabled FROM checkout_policy ORDER BY program_id');
    assert.deepEqual(
      policies.map((p) => [p.program_id, p.enabled]),
      [DEMO_BEAUTY_PROGRAM_ID, DEMO_PROGRAM_ID].sort().map((id) => [id, true]),
    );
    const [d] = await db.query<{ captured: number }>(
      `SELECT count(*)::int AS captured FROM checkout_deduction c JOIN hold h ON h.id = c.hold_id
        WHERE c.program_id = $1 AND h.status = 'captured'`,
      [DEMO_PROGRAM_ID],
    );
    assert.ok(d!.captured >= 10, JSON.stringify(d));
  });

  it('passes the audit', async () => {
    const report = await runAudit(getDb().db, NOW);
    assert.equal(report.ok, true, JSON.stringify(report.violations));
  });
});
