import type { Queryable } from '../../db/db.ts';
import type { Usage } from './rules.engine.ts';

/**
 * What rules already awarded members (rule_award: the awards of rules with per-member caps or
 * frequency limits), as the engine's Usage: per rule, the points and number of awards of each
 * local day (the database sums them by day in the program's time zone; every cap and frequency
 * window is whole local days), plus lifetime totals.
 */

/** A rule's award as an event's stored result has it: the rule_award row it makes. */
export interface PastAward {
  member_id: string;
  rule_version: number;
  event_id: string;
  entry_id: string;
  points: number;
  /** The event's occurred_at, as the database wrote it (microseconds kept). */
  awarded_at: string;
}

/**
 * Reads a rule's past awards from the events' results, page by page, in the caller's transaction:
 * the events module's awardsOfRule. Rules does not read event (the events module's table) and
 * cannot import the events module (which imports rules), so the caller hands it in.
 */
export type PastAwards = (db: Queryable, programId: string, ruleId: string) => AsyncIterable<PastAward[]>;

/** Points and number of awards of a rule to a member on one local day (`at`: the day's start). */
export interface AwardDayRow {
  member_id: string;
  rule_id: string;
  points: number | string;
  count: number | string;
  at: string;
}
/** Points and number of all awards of a rule to a member. */
export interface AwardTotalRow {
  member_id: string;
  rule_id: string;
  points: number | string;
  count: number | string;
}

/** Awards of these rules to these members since `since`, by local day in `tz` (for day/week/month caps and frequency). */
export async function recentAwards(db: Queryable, memberIds: string[], ruleIds: string[], since: Date, tz: string): Promise<AwardDayRow[]> {
  return db.query<AwardDayRow>(
    `SELECT member_id, rule_id, sum(points)::bigint AS points, count(*)::int AS count, jf_ts(date_trunc('day', awarded_at, $4)) AS at
       FROM rule_award
      WHERE member_id = ANY ($1::text[]) AND rule_id = ANY ($2::text[]) AND awarded_at >= $3
      GROUP BY member_id, rule_id, date_trunc('day', awarded_at, $4)`,
    [memberIds, ruleIds, since.toISOString(), tz],
  );
}

/** All awards of these rules to these members, per member and rule (for lifetime caps and frequency). */
export async function lifetimeAwards(db: Queryable, memberIds: string[], ruleIds: string[]): Promise<AwardTotalRow[]> {
  return db.query<AwardTotalRow>(
    `SELECT member_id, rule_id, sum(points)::bigint AS points, count(*)::int AS count FROM rule_award
      WHERE member_id = ANY ($1::text[]) AND rule_id = ANY ($2::text[]) GROUP BY member_id, rule_id`,
    [memberIds, ruleIds],
  );
}

/** One member's usage; evaluation adds the awards of a batch as it goes (`add`), so its later events count them. */
export class MemberUsage implements Usage {
  readonly #days = new Map<string, { at: number; points: number; count: number }[]>();
  readonly #lifetime = new Map<string, { points: number; count: number }>();

  points(ruleId: string, from?: Date, to?: Date): number {
    if (!from) return this.#lifetime.get(ruleId)?.points ?? 0;
    return this.#window(ruleId, from, to).reduce((s, r) => s + r.points, 0);
  }

  count(ruleId: string, from?: Date, to?: Date): number {
    if (!from) return this.#lifetime.get(ruleId)?.count ?? 0;
    return this.#window(ruleId, from, to).reduce((s, r) => s + r.count, 0);
  }

  #window(ruleId: string, from: Date, to?: Date) {
    const a = from.getTime();
    const b = to ? to.getTime() : Infinity;
    return (this.#days.get(ruleId) ?? []).filter((r) => r.at >= a && r.at < b);
  }

  day(ruleId: string, at: number, points: number, count: number): void {
    const rows = this.#days.get(ruleId);
    if (rows) rows.push({ at, points, count });
    else this.#days.set(ruleId, [{ at, points, count }]);
  }

  total(ruleId: string, points: number, count: number): void {
    this.#lifetime.set(ruleId, { points, count });
  }

  /** An award made now, at `at`: counted in its day and in the lifetime total. */
  add(ruleId: string, at: Date, points: number): void {
    this.day(ruleId, at.getTime(), points, 1);
    const l = this.#lifetime.get(ruleId) ?? { points: 0, count: 0 };
    this.#lifetime.set(ruleId, { points: l.points + points, count: l.count + 1 });
  }
}

/** The usage of every member of a batch, from the rows read (a member without awards gets an empty one). */
export class UsageBook {
  readonly #byMember = new Map<string, MemberUsage>();

  constructor(days: readonly AwardDayRow[] = [], totals: readonly AwardTotalRow[] = []) {
    for (const r of days) this.of(r.member_id).day(r.rule_id, Date.parse(r.at), Number(r.points), Number(r.count));
    for (const t of totals) this.of(t.member_id).total(t.rule_id, Number(t.points), Number(t.count));
  }

  of(memberId: string): MemberUsage {
    let u = this.#byMember.get(memberId);
    if (!u) this.#byMember.set(memberId, (u = new MemberUsage()));
    return u;
  }
}

/**
 * Reads the usage of these members for these rules: days since `since` (in `tz`), and lifetime
 * totals when a rule counts a member's whole history.
 */
export async function loadUsage(db: Queryable, q: { memberIds: string[]; ruleIds: string[]; since: Date; tz: string; lifetime: boolean }): Promise<UsageBook> {
  const [days, totals] = await Promise.all([
    recentAwards(db, q.memberIds, q.ruleIds, q.since, q.tz),
    q.lifetime ? lifetimeAwards(db, q.memberIds, q.ruleIds) : Promise.resolve([]),
  ]);
  return new UsageBook(days, totals);
}
