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

  it('passes the audit', async () => {
    const report = await runAudit(getDb().db, NOW);
    assert.equal(report.ok, true, JSON.stringify(report.violations));
  });
});
