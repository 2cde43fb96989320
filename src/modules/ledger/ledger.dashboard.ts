import { type Static, Type } from 'typebox';
import type { Db, Queryable } from '../../db/db.ts';

/**
 * The program dashboard (GET /v1/programs/{id}/dashboard): points issued, redeemed, expired and
 * adjusted, what is outstanding and its money value, member counts, the daily series and what
 * expires soon. Read from the ledger's rollups and indexes, never by scanning ledger_entry
 * (docs/ledger.md, "Dashboard rollups"; docs/console.md, "Dashboard", for what each figure means):
 *
 *   - ledger_daily (+ the deltas not yet compacted): one row per program and program-local day;
 *   - member_account of the program (member_account_program_idx): counts, balances, held points;
 *   - lots with points left by expiry (lot_program_expiry_idx) and pending (lot_program_pending_idx).
 *
 * The program's settings (time zone, currency, redemption rate) are handed in by the caller (the
 * route reads them through the programs module), so this module does not import programs.
 */

const Count = Type.Integer({ minimum: 0 });
const PointsTotal = Type.Integer({ description: 'Points (a sum: may be 0 or negative where it is a net figure).' });

export const DashboardQuery = Type.Object(
  {
    days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 366, default: 90, description: 'The window, in calendar days of the program ending today (default 90).' }),
    ),
  },
  { additionalProperties: false },
);

export const Dashboard = Type.Object(
  {
    object: Type.Literal('dashboard'),
    program_id: Type.String(),
    as_of: Type.String({ format: 'date-time' }),
    time_zone: Type.String(),
    currency: Type.String({ description: 'ISO 4217 code of outstanding_value_minor.' }),
    redemption_rate: Type.Integer({ minimum: 1, description: "The program's points per one currency unit." }),
    totals: Type.Object({
      issued: PointsTotal,
      redeemed: PointsTotal,
      expired: PointsTotal,
      reversed: PointsTotal,
      adjusted: PointsTotal,
      outstanding: PointsTotal,
      pending: PointsTotal,
      held: PointsTotal,
      outstanding_value_minor: Type.Integer({
        description: 'outstanding / redemption_rate in minor units of the currency (fen, cents), rounded half up.',
      }),
    }),
    window: Type.Object({
      days: Type.Integer({ minimum: 1 }),
      from: Type.String({ format: 'date', description: 'First day of the window (program-local).' }),
      to: Type.String({ format: 'date', description: 'Last day of the window: today in the program.' }),
      issued: PointsTotal,
      redeemed: PointsTotal,
      expired: PointsTotal,
      redemption_rate: Type.Number({ minimum: 0, maximum: 1, description: 'redeemed / issued over the window, at most 1; 0 when nothing was issued.' }),
    }),
    members: Type.Object({
      total: Count,
      active_30d: Count,
      earning_30d: Count,
    }),
    daily: Type.Array(
      Type.Object({
        date: Type.String({ format: 'date' }),
        issued: PointsTotal,
        redeemed: PointsTotal,
        expired: PointsTotal,
      }),
      { description: 'Every day of the window, oldest first; days without entries are zeros.' },
    ),
    expiring: Type.Object({
      within_30d: PointsTotal,
      within_60d: PointsTotal,
      within_90d: PointsTotal,
    }),
  },
  { additionalProperties: false },
);
export type Dashboard = Static<typeof Dashboard>;

/** What the dashboard needs of the program (programs' Program has these). */
export interface DashboardProgram {
  id: string;
  time_zone: string;
  currency: string;
  redemption_rate: number;
}

/** Folds the rollup deltas into ledger_daily (ledger_compact_daily); the number of deltas folded. */
export async function compactDailyRollups(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT ledger_compact_daily() AS n');
  return row!.n;
}

/** Minor units in one unit of the currency: 100 for CNY and USD, 1 for JPY (ISO 4217 digits). */
export function minorUnitsOf(currency: string): bigint {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return 10n ** BigInt(digits);
}

/** points / rate currency units, in minor units, rounded half up (half away from zero for negatives). */
export function valueInMinorUnits(points: bigint, rate: number, currency: string): bigint {
  const num = points * minorUnitsOf(currency);
  const den = BigInt(rate);
  const sign = num < 0n ? -1n : 1n;
  const abs = num * sign;
  return sign * ((abs * 2n + den) / (2n * den));
}

interface RollupRow {
  totals: Record<'issued' | 'redeemed' | 'expired' | 'reversed' | 'adjusted', string>;
  daily: { date: string; issued: string; redeemed: string; expired: string }[];
  from: string;
  to: string;
}

async function rollups(db: Queryable, program: DashboardProgram, now: Date, days: number): Promise<RollupRow> {
  const [row] = await db.query<RollupRow>(
    `WITH r AS (
       SELECT day, issued, redeemed, expired, reversed, adjusted FROM ledger_daily WHERE program_id = $1
       UNION ALL
       SELECT day, issued, redeemed, expired, reversed, adjusted FROM ledger_daily_delta WHERE program_id = $1
     ), d AS (
       SELECT day, sum(issued) AS issued, sum(redeemed) AS redeemed, sum(expired) AS expired,
              sum(reversed) AS reversed, sum(adjusted) AS adjusted
         FROM r GROUP BY day
     ), w AS (
       SELECT ($2::timestamptz AT TIME ZONE $3)::date AS today
     )
     SELECT (SELECT json_build_object('issued', coalesce(sum(issued), 0)::text, 'redeemed', coalesce(sum(redeemed), 0)::text,
                                      'expired', coalesce(sum(expired), 0)::text, 'reversed', coalesce(sum(reversed), 0)::text,
                                      'adjusted', coalesce(sum(adjusted), 0)::text) FROM d) AS totals,
            (SELECT json_agg(json_build_object('date', g.day::date::text, 'issued', coalesce(d.issued, 0)::text,
                                               'redeemed', coalesce(d.redeemed, 0)::text, 'expired', coalesce(d.expired, 0)::text)
                             ORDER BY g.day)
               FROM generate_series(w.today - ($4::integer - 1), w.today, interval '1 day') AS g(day)
               LEFT JOIN d ON d.day = g.day::date) AS daily,
            (w.today - ($4::integer - 1))::text AS from, w.today::text AS to
       FROM w`,
    [program.id, now.toISOString(), program.time_zone, days],
  );
  return row!;
}

interface MemberRow {
  total: number;
  active: number;
  earning: number;
  balance: string;
  held: string;
}

async function memberFigures(db: Queryable, program: DashboardProgram, now: Date): Promise<MemberRow> {
  // "within 30 days" = on one of the 30 program-local calendar days ending today
  const [row] = await db.query<MemberRow>(
    // the boundaries as scalar subqueries: computed once, not once per account
    `SELECT count(*)::float8 AS total,
            count(*) FILTER (WHERE a.last_activity_at >= (SELECT ((($2::timestamptz AT TIME ZONE $3)::date - 29)::timestamp AT TIME ZONE $3)))::float8 AS active,
            count(*) FILTER (WHERE a.earned_day >= (SELECT ($2::timestamptz AT TIME ZONE $3)::date - 29))::float8 AS earning,
            coalesce(sum(a.balance), 0)::text AS balance, coalesce(sum(a.held), 0)::text AS held
       FROM member_account a
      WHERE a.program_id = $1`,
    [program.id, now.toISOString(), program.time_zone],
  );
  return row!;
}

interface LotRow {
  unswept: string;
  d30: string;
  d60: string;
  d90: string;
  pending: string;
}

async function lotFigures(db: Queryable, program: DashboardProgram, now: Date): Promise<LotRow> {
  // the WHERE clauses repeat the indexes' predicates, so the planner takes the partial indexes
  const [row] = await db.query<LotRow>(
    `SELECT coalesce(sum(remaining) FILTER (WHERE expires_at <= $2), 0)::text AS unswept,
            coalesce(sum(remaining) FILTER (WHERE expires_at > $2 AND expires_at <= $2::timestamptz + interval '30 days'), 0)::text AS d30,
            coalesce(sum(remaining) FILTER (WHERE expires_at > $2 AND expires_at <= $2::timestamptz + interval '60 days'), 0)::text AS d60,
            coalesce(sum(remaining) FILTER (WHERE expires_at > $2), 0)::text AS d90,
            (SELECT coalesce(sum(remaining), 0) FROM lot
              WHERE program_id = $1 AND remaining > 0 AND available_at > earned_at
                AND available_at > $2 AND (expires_at IS NULL OR expires_at > $2))::text AS pending
       FROM lot
      WHERE program_id = $1 AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $2::timestamptz + interval '90 days'`,
    [program.id, now.toISOString()],
  );
  return row!;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
function points(x: string | bigint): number {
  const v = typeof x === 'bigint' ? x : BigInt(x);
  if (v > SAFE || v < -SAFE) throw new Error(`dashboard figure ${v} beyond 2^53`);
  return Number(v);
}

/**
 * The dashboard of a program as of `now`, over the `days` program-local days ending today. Folds
 * the rollup deltas first (cheap: a few rows per write since the last sweep), then reads.
 */
export async function getDashboard(db: Db, program: DashboardProgram, now: Date, days = 90): Promise<Dashboard> {
  await compactDailyRollups(db);
  // one snapshot: the three reads agree with each other even while the program is being written to
  const [r, m, l] = await db.transaction(async (tx) => {
    await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return [await rollups(tx, program, now, days), await memberFigures(tx, program, now), await lotFigures(tx, program, now)] as const;
  });
  const balance = BigInt(m.balance);
  const held = BigInt(m.held);
  // outstanding: every member's balance and held points, less lots past expiry the sweep has not written down yet
  const outstanding = balance + held - BigInt(l.unswept);
  const win = { issued: 0n, redeemed: 0n, expired: 0n };
  const daily = (r.daily ?? []).map((d) => {
    const issued = BigInt(d.issued);
    const redeemed = BigInt(d.redeemed);
    const expired = BigInt(d.expired);
    win.issued += issued;
    win.redeemed += redeemed;
    win.expired += expired;
    return { date: d.date, issued: points(issued), redeemed: points(redeemed), expired: points(expired) };
  });
  const rate = win.issued > 0n && win.redeemed > 0n ? Math.min(1, Number(win.redeemed) / Number(win.issued)) : 0;
  return {
    object: 'dashboard',
    program_id: program.id,
    as_of: now.toISOString(),
    time_zone: program.time_zone,
    currency: program.currency,
    redemption_rate: program.redemption_rate,
    totals: {
      issued: points(r.totals.issued),
      redeemed: points(r.totals.redeemed),
      expired: points(r.totals.expired),
      reversed: points(r.totals.reversed),
      adjusted: points(r.totals.adjusted),
      outstanding: points(outstanding),
      pending: points(l.pending),
      held: points(held),
      outstanding_value_minor: points(valueInMinorUnits(outstanding, program.redemption_rate, program.currency)),
    },
    window: { days, from: r.from, to: r.to, issued: points(win.issued), redeemed: points(win.redeemed), expired: points(win.expired), redemption_rate: rate },
    members: { total: m.total, active_30d: m.active, earning_30d: m.earning },
    daily,
    expiring: { within_30d: points(l.d30), within_60d: points(l.d60), within_90d: points(l.d90) },
  };
}
