import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Db, Queryable } from '../src/db/db.ts';
import { DEMO_BEAUTY_PROGRAM_ID, DEMO_PROGRAM_ID, seedDemo } from '../src/demo/seed-demo.ts';
import { runAudit } from '../src/modules/audit/index.ts';
import * as ledger from '../src/modules/ledger/index.ts';
import { applyMemberStatus, compactDailyRollups, getDashboard, valueInMinorUnits } from '../src/modules/ledger/index.ts';
import { getProgram } from '../src/modules/programs/index.ts';
import { forEachDatabase } from './helpers/db.ts';
import { makeMember, makeProgram, writeCtx } from './helpers/factories.ts';

type Flows = { issued: bigint; redeemed: bigint; expired: bigint; reversed: bigint; adjusted: bigint; written_off: bigint; forfeited: bigint };
const zero = (): Flows => ({ issued: 0n, redeemed: 0n, expired: 0n, reversed: 0n, adjusted: 0n, written_off: 0n, forfeited: 0n });

/**
 * The rollups recounted from scratch: every entry of the program, its day in the program's time
 * zone (computed here with Intl, not by the database), its flows by kind and accounts.
 */
async function recount(db: Queryable, programId: string): Promise<Map<string, Flows>> {
  const [program] = await db.query<{ time_zone: string }>('SELECT time_zone FROM program WHERE id = $1', [programId]);
  const dayOf = new Intl.DateTimeFormat('en-CA', { timeZone: program!.time_zone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const entries = await db.query<{ kind: string; debit_account: string; credit_account: string; amount: string; occurred_at: string }>(
    `SELECT kind, debit_account, credit_account, amount::text AS amount, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at
       FROM ledger_entry WHERE program_id = $1`,
    [programId],
  );
  const days = new Map<string, Flows>();
  for (const e of entries) {
    const day = dayOf.format(new Date(e.occurred_at));
    const f = days.get(day) ?? zero();
    days.set(day, f);
    const a = BigInt(e.amount);
    switch (e.kind) {
      case 'earn':
        f.issued += a;
        break;
      case 'spend':
      case 'capture':
        f.redeemed += a;
        break;
      case 'expire':
        f.expired += a;
        break;
      case 'reverse':
        // a cancelled or rejected redemption's points back (jf_restore_capture): less redeemed that day, not a reversal
        if (e.debit_account === 'redeemed') {
          f.redeemed -= a;
          break;
        }
        f.reversed += a;
        // points that had expired, taken back by a refund, are no longer expired
        if (e.debit_account === 'expired') f.expired -= a;
        break;
      case 'write_off':
        f.written_off += a;
        if (e.credit_account === 'reversed') f.reversed += a;
        break;
      case 'adjust':
        f.adjusted += e.credit_account === 'member' ? a : -a;
        break;
      case 'forfeit':
        f.forfeited += a;
        break;
      default:
        assert.ok(['hold', 'release', 'transfer_out', 'transfer_in'].includes(e.kind), e.kind);
    }
  }
  for (const [day, f] of days) if (Object.values(f).every((v) => v === 0n)) days.delete(day);
  return days;
}

/** What the rollups hold per day: ledger_daily plus the deltas not yet compacted. */
async function rollups(db: Queryable, programId: string): Promise<Map<string, Flows>> {
  const rows = await db.query<Record<keyof Flows | 'day', string>>(
    `SELECT day::text AS day, sum(issued)::text AS issued, sum(redeemed)::text AS redeemed, sum(expired)::text AS expired,
            sum(reversed)::text AS reversed, sum(adjusted)::text AS adjusted, sum(written_off)::text AS written_off, sum(forfeited)::text AS forfeited
       FROM (SELECT * FROM ledger_daily WHERE program_id = $1 UNION ALL SELECT * FROM ledger_daily_delta WHERE program_id = $1) r
      GROUP BY day`,
    [programId],
  );
  const days = new Map<string, Flows>();
  for (const r of rows) {
    const f: Flows = {
      issued: BigInt(r.issued),
      redeemed: BigInt(r.redeemed),
      expired: BigInt(r.expired),
      reversed: BigInt(r.reversed),
      adjusted: BigInt(r.adjusted),
      written_off: BigInt(r.written_off),
      forfeited: BigInt(r.forfeited),
    };
    if (!Object.values(f).every((v) => v === 0n)) days.set(r.day, f);
  }
  return days;
}

const sorted = (m: Map<string, Flows>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));

async function assertRollupsEqualRecount(db: Queryable, programId: string) {
  const expected = await recount(db, programId);
  assert.ok(expected.size > 0, 'the program has entries');
  assert.deepEqual(sorted(await rollups(db, programId)), sorted(expected));
}

async function dashboard(db: Db, programId: string, now: Date, days = 90) {
  return getDashboard(db, await getProgram(db, programId), now, days);
}

// Asia/Shanghai is UTC+8: 15:00Z is 23:00 on 1 March there, 17:00Z is 01:00 on 2 March (the same UTC day)
const t1 = new Date('2026-03-01T15:00:00.000Z');
const t2 = new Date('2026-03-01T17:00:00.000Z');
// after the lots earned at t1 expired (23:00 on 1 April, local), before the one earned at t2 (01:00 on 2 April)
const t3 = new Date('2026-04-01T16:30:00.000Z');

forEachDatabase('dashboard rollups', (getDb) => {
  it('gives exact figures for a scripted history across a day boundary of the program', async () => {
    const { db } = getDb();
    const program = await makeProgram(db, t1, {
      time_zone: 'Asia/Shanghai',
      currency: 'CNY',
      redemption_rate: 100,
      expiry_policy: { type: 'rolling', months: 1 },
    });
    const empty = await dashboard(db, program.id, t1);
    assert.deepEqual(empty.totals, {
      issued: 0,
      redeemed: 0,
      expired: 0,
      reversed: 0,
      adjusted: 0,
      outstanding: 0,
      pending: 0,
      held: 0,
      outstanding_value_minor: 0,
    });
    assert.equal(empty.daily.length, 90);
    assert.deepEqual(empty.members, { total: 0, active_30d: 0, earning_30d: 0 });

    const a = await makeMember(db, program.id, t1);
    const b = await makeMember(db, program.id, t1);
    const c = await makeMember(db, program.id, t1);
    // 1 March (local): A earns 1,000 and spends 300; a hold of 200, 150 captured; a hold of 100, voided
    const order = await ledger.credit(db, a.id, { points: 1000, reference: 'order-1' }, writeCtx(t1));
    await ledger.credit(db, b.id, { points: 500, pending_days: 7 }, writeCtx(t1));
    await ledger.adjust(db, c.id, { points: 200, reason_code: 'goodwill', reason: 'sorry' }, writeCtx(t1));
    await ledger.debit(db, a.id, { points: 300 }, writeCtx(t1));
    const h1 = await ledger.hold(db, a.id, { points: 200 }, writeCtx(t1));
    await ledger.capture(db, h1.body.hold.id, { points: 150 }, writeCtx(t1));
    const h2 = await ledger.hold(db, a.id, { points: 100 }, writeCtx(t1));
    await ledger.voidHold(db, h2.body.hold.id, {}, writeCtx(t1));
    // 2 March (local): C earns 400, A's order is partly refunded (100), C is adjusted down by 50, a hold of 100 stays open
    await ledger.credit(db, c.id, { points: 400 }, writeCtx(t2));
    await ledger.reverse(db, order.body.entry.id, { points: 100 }, writeCtx(t2));
    await ledger.adjust(db, c.id, { points: -50, reason_code: 'correction', reason: 'typo' }, writeCtx(t2));
    await ledger.hold(db, c.id, { points: 100, expires_in_seconds: 3600 }, writeCtx(t2));

    const d2 = await dashboard(db, program.id, t2);
    assert.equal(d2.time_zone, 'Asia/Shanghai');
    assert.equal(d2.currency, 'CNY');
    assert.equal(d2.redemption_rate, 100);
    // A 450 (1,000 − 300 − 150 − 100), B 500 pending, C 450 + 100 held
    assert.deepEqual(d2.totals, {
      issued: 1900,
      redeemed: 450,
      expired: 0,
      reversed: 100,
      adjusted: 150,
      outstanding: 1500,
      pending: 500,
      held: 100,
      outstanding_value_minor: 1500, // ¥15.00
    });
    assert.deepEqual(d2.window, { days: 90, from: '2025-12-03', to: '2026-03-02', issued: 1900, redeemed: 450, expired: 0, redemption_rate: 450 / 1900 });
    assert.equal(d2.daily.length, 90);
    assert.deepEqual(d2.daily.at(-2), { date: '2026-03-01', issued: 1500, redeemed: 450, expired: 0 });
    assert.deepEqual(d2.daily.at(-1), { date: '2026-03-02', issued: 400, redeemed: 0, expired: 0 });
    assert.deepEqual(d2.daily[0], { date: '2025-12-03', issued: 0, redeemed: 0, expired: 0 });
    assert.deepEqual(d2.members, { total: 3, active_30d: 3, earning_30d: 3 });
    // everything expires between 30 and 60 days from now: A 450, B 500, C 150 (adjustment lot, 100 of it held: 50) + 400
    assert.deepEqual(d2.expiring, { within_30d: 0, within_60d: 1400, within_90d: 1400 });
    await assertRollupsEqualRecount(db, program.id);

    // 2 April (local), before the sweep: the expired lots are no longer outstanding, though not yet written down
    const before = await dashboard(db, program.id, t3, 30);
    assert.equal(before.totals.expired, 0);
    // C's open hold (past its deadline, its lot expired) still counts as held until it is released
    assert.equal(before.totals.outstanding, 500);
    assert.equal(before.totals.pending, 0);
    const report = await ledger.sweep(db, t3);
    assert.equal(report.holds_released, 1);
    assert.equal(report.lots_expired, 3);
    await ledger.credit(db, b.id, { points: 10 }, writeCtx(t3));
    const d3 = await dashboard(db, program.id, t3, 30);
    assert.deepEqual(d3.totals, {
      issued: 1910,
      redeemed: 450,
      expired: 1100,
      reversed: 100,
      adjusted: 150,
      outstanding: 410,
      pending: 0,
      held: 0,
      outstanding_value_minor: 410,
    });
    assert.deepEqual(d3.window, { days: 30, from: '2026-03-04', to: '2026-04-02', issued: 10, redeemed: 0, expired: 1100, redemption_rate: 0 });
    assert.equal(d3.daily.length, 30);
    assert.deepEqual(d3.daily.at(-1), { date: '2026-04-02', issued: 10, redeemed: 0, expired: 1100 });
    // the last activity of A and C was a month ago; B earned today
    assert.deepEqual(d3.members, { total: 3, active_30d: 1, earning_30d: 1 });
    // C's 400 expire at 01:00 on 2 May; B's 10 at 00:30 on 2 May local, exactly 30 days from now: within 30 days
    assert.deepEqual(d3.expiring, { within_30d: 410, within_60d: 410, within_90d: 410 });
    await assertRollupsEqualRecount(db, program.id);

    // a refund of points that had already expired moves them from expired to reversed; closing forfeits
    await ledger.transfer(db, { from_member_id: c.id, to_member_id: b.id, points: 100 }, writeCtx(t3));
    await ledger.reverse(db, order.body.entry.id, { points: 200 }, writeCtx(t3));
    await applyMemberStatus(db, c.id, 'closed', 'left', t3);
    const d4 = await dashboard(db, program.id, t3, 30);
    assert.equal(d4.totals.expired, 900);
    assert.equal(d4.totals.reversed, 300);
    assert.equal(d4.totals.outstanding, 110);
    assert.equal(d4.daily.at(-1)?.expired, 900);
    await assertRollupsEqualRecount(db, program.id);
    const audit = await runAudit(db, t3, program.id);
    assert.ok(audit.ok, JSON.stringify(audit.violations));
  });

  it('keeps rollups equal to a recount whether or not the deltas were compacted', async () => {
    const { db } = getDb();
    const program = await makeProgram(db, t1, { time_zone: 'America/New_York' });
    const m = await makeMember(db, program.id, t1);
    await ledger.credit(db, m.id, { points: 70 }, writeCtx(t1));
    const [{ n: deltas }] = (await db.query<{ n: number }>('SELECT count(*)::float8 AS n FROM ledger_daily_delta WHERE program_id = $1', [program.id])) as [
      { n: number },
    ];
    assert.equal(deltas, 1);
    await assertRollupsEqualRecount(db, program.id);
    assert.ok((await compactDailyRollups(db)) >= 1);
    await ledger.debit(db, m.id, { points: 20 }, writeCtx(t2));
    await assertRollupsEqualRecount(db, program.id);
    await compactDailyRollups(db);
    const rows = await db.query('SELECT * FROM ledger_daily_delta WHERE program_id = $1', [program.id]);
    assert.equal(rows.length, 0);
    // 15:00Z and 17:00Z are both 1 March in New York
    const r = await rollups(db, program.id);
    assert.deepEqual([...r.keys()], ['2026-03-01']);
    assert.equal(r.get('2026-03-01')?.issued, 70n);
    assert.equal(r.get('2026-03-01')?.redeemed, 20n);
    // the audit checks the rollups against the entries
    assert.ok((await runAudit(db, t2, program.id)).ok);
    await db.query("INSERT INTO ledger_daily_delta (program_id, day, redeemed) VALUES ($1, '2026-03-01', 1)", [program.id]);
    const audit = await runAudit(db, t2, program.id);
    assert.deepEqual(
      audit.violations.map((v) => [v.check, v.detail]),
      [['rollups_equal_entries', { program_id: program.id, redeemed: { rollups: 21, entries: 20 } }]],
    );
    await db.query('DELETE FROM ledger_daily_delta WHERE program_id = $1', [program.id]);
  });

  it('values outstanding points in minor units, rounded half up', () => {
    assert.equal(valueInMinorUnits(1500n, 100, 'CNY'), 1500n);
    assert.equal(valueInMinorUnits(1n, 200, 'CNY'), 1n); // ¥0.005 → 1 fen
    assert.equal(valueInMinorUnits(1n, 201, 'CNY'), 0n);
    assert.equal(valueInMinorUnits(150n, 100, 'JPY'), 2n); // ¥1.5 → ¥2
    assert.equal(valueInMinorUnits(-150n, 100, 'JPY'), -2n);
    assert.equal(valueInMinorUnits(12_345n, 10, 'USD'), 123_450n);
  });
});

forEachDatabase('dashboard rollups of the demo', (getDb) => {
  it("the demo seed's rollups equal a recount", async () => {
    const { db } = getDb();
    const now = new Date('2026-12-02T04:00:00.000Z');
    assert.equal(await seedDemo(db, now), true);
    for (const programId of [DEMO_PROGRAM_ID, DEMO_BEAUTY_PROGRAM_ID]) {
      await assertRollupsEqualRecount(db, programId);
      const d = await dashboard(db, programId, now);
      const [sums] = await db.query<{ balance: string; held: string; members: number }>(
        'SELECT sum(balance)::text AS balance, sum(held)::text AS held, count(*)::float8 AS members FROM member_account WHERE program_id = $1',
        [programId],
      );
      assert.equal(d.members.total, sums!.members);
      assert.ok(d.totals.issued > 0 && d.totals.redeemed > 0 && d.totals.reversed > 0);
      // the ledger's own sums: issued + adjusted − redeemed − expired − reversed − forfeited (+ written-off debts) = what members have
      assert.ok(d.totals.outstanding <= Number(sums!.balance) + Number(sums!.held));
      assert.ok(d.daily.some((x) => x.issued > 0));
    }
    const audit = await runAudit(db, now);
    assert.ok(audit.ok, JSON.stringify(audit.violations.slice(0, 3)));
  });
});

forEachDatabase(
  'dashboard rollups under concurrent writes',
  (getDb) => {
    it('many concurrent writes of one program (and compactions, sweeps) leave the rollups equal to a recount', async () => {
      const { db } = getDb();
      const program = await makeProgram(db, t1, { time_zone: 'Asia/Shanghai', expiry_policy: { type: 'rolling', months: 1 } });
      const members: { id: string }[] = [];
      for (let i = 0; i < 24; i++) members.push(await makeMember(db, program.id, t1));
      const credits = await Promise.all(members.map((m) => ledger.credit(db, m.id, { points: 1000 }, writeCtx(t1))));
      const failures: unknown[] = [];
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 400; i++) {
        const m = members[(i * 7) % members.length]!;
        const now = i % 2 === 0 ? t1 : t2; // two program-local days
        const op = async () => {
          switch (i % 8) {
            case 0:
            case 1:
              return ledger.credit(db, m.id, { points: 10 + (i % 13) }, writeCtx(now));
            case 2:
              return ledger.debit(db, m.id, { points: 3 }, writeCtx(now));
            case 3: {
              const h = await ledger.hold(db, m.id, { points: 5 }, writeCtx(now));
              return i % 16 === 3 ? ledger.capture(db, h.body.hold.id, { points: 4 }, writeCtx(now)) : ledger.voidHold(db, h.body.hold.id, {}, writeCtx(now));
            }
            case 4:
              return ledger.adjust(db, m.id, { points: i % 3 === 0 ? -2 : 2, reason_code: 'test' }, writeCtx(now));
            case 5:
              return ledger.reverse(db, credits[(i * 7) % members.length]!.body.entry.id, { points: 1 }, writeCtx(now));
            case 6:
              return compactDailyRollups(db);
            default:
              return ledger.transfer(db, { from_member_id: m.id, to_member_id: members[(i * 7 + 1) % members.length]!.id, points: 1 }, writeCtx(now));
          }
        };
        ops.push(op().catch((err) => failures.push(err)));
      }
      ops.push(ledger.sweep(db, t2).catch((err) => failures.push(err)));
      await Promise.all(ops);
      assert.deepEqual(failures, []);
      await assertRollupsEqualRecount(db, program.id);
      await compactDailyRollups(db);
      await assertRollupsEqualRecount(db, program.id);
      const audit = await runAudit(db, t3, program.id);
      assert.ok(audit.ok, JSON.stringify(audit.violations));
    });
  },
  { kinds: ['postgres'], poolSize: 16 },
);
