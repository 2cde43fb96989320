import type { Queryable } from '../../db/db.ts';
import * as events from '../../modules/events/events.repository.ts';
import { isLimited, type RuleSet, type Usage } from '../../modules/rules/index.ts';
import { periodOf } from '../../shared/time.ts';
import type { Prepared, Run } from './context.ts';

/** Per rule and member, the points and number of awards of one local day (`at`: the day's start). */
export interface DayRow { member_id: string; rule_id: string; points: number | string; count: number | string; at: string }
/** Per rule and member, all its awards. */
export interface LifetimeRow { member_id: string; rule_id: string; points: number | string; count: number | string }

/**
 * What rules already awarded one member: per rule, the points and number of awards of each local
 * day (the database sums them by day in the program's time zone; every cap and frequency window
 * is whole local days), plus lifetime totals. Evaluation adds the awards of the batch as it goes.
 */
class MemberUsage implements Usage {
  readonly rows = new Map<string, { at: number; points: number; count: number }[]>();
  readonly lifetime = new Map<string, { points: number; count: number }>();

  points(ruleId: string, from?: Date, to?: Date): number {
    if (!from) return this.lifetime.get(ruleId)?.points ?? 0;
    return this.#window(ruleId, from, to).reduce((s, r) => s + r.points, 0);
  }

  count(ruleId: string, from?: Date, to?: Date): number {
    if (!from) return this.lifetime.get(ruleId)?.count ?? 0;
    return this.#window(ruleId, from, to).reduce((s, r) => s + r.count, 0);
  }

  #window(ruleId: string, from: Date, to?: Date) {
    const a = from.getTime();
    const b = to ? to.getTime() : Infinity;
    return (this.rows.get(ruleId) ?? []).filter((r) => r.at >= a && r.at < b);
  }

  push(ruleId: string, at: number, points: number, count = 1) {
    const rows = this.rows.get(ruleId);
    if (rows) rows.push({ at, points, count });
    else this.rows.set(ruleId, [{ at, points, count }]);
  }

  /** An award of the batch, counted by the events after it. */
  add(ruleId: string, at: Date, points: number) {
    this.push(ruleId, at.getTime(), points);
    const l = this.lifetime.get(ruleId) ?? { points: 0, count: 0 };
    this.lifetime.set(ruleId, { points: l.points + points, count: l.count + 1 });
  }
}

/** Usage of every member of a run (a member without awards gets an empty one). */
export class UsageBook {
  readonly #byMember = new Map<string, MemberUsage>();

  constructor(recent: readonly DayRow[], lifetime: readonly LifetimeRow[]) {
    for (const r of recent) this.of(r.member_id).push(r.rule_id, Date.parse(r.at), Number(r.points), Number(r.count));
    for (const t of lifetime) this.of(t.member_id).lifetime.set(t.rule_id, { points: Number(t.points), count: Number(t.count) });
  }

  of(memberId: string): MemberUsage {
    let u = this.#byMember.get(memberId);
    if (!u) this.#byMember.set(memberId, (u = new MemberUsage()));
    return u;
  }
}

/**
 * Step 4: what the rules already awarded these members (caps, frequency). The snapshot has it when
 * it was read for this rule set; on a contended retry it is read again after the members are locked.
 */
export async function usageOf(run: Run, todo: Prepared[], ruleSet: RuleSet): Promise<UsageBook> {
  if (!run.lockFirst && run.snapshot.usageFor === ruleSet) return new UsageBook(run.snapshot.recent, run.snapshot.lifetime);
  return loadUsage(run.db, run.program.time_zone, todo, ruleSet);
}

/** Reads only what the events' rules need: awards of the rules in force with caps or frequency limits. */
export async function loadUsage(db: Queryable, tz: string, todo: Prepared[], ruleSet: RuleSet): Promise<UsageBook> {
  const limited = new Set<string>();
  let lifetime = false;
  for (const p of todo) {
    for (const r of ruleSet.at(p.occurredAt)) {
      if (isLimited(r.def)) limited.add(r.ruleId);
      if (r.def.caps?.per_member?.lifetime !== undefined || r.def.frequency?.per === 'lifetime') lifetime = true;
    }
  }
  if (limited.size === 0 || todo.length === 0) return new UsageBook([], []);
  const memberIds = [...new Set(todo.map((p) => p.member!.id))];
  const earliest = new Date(Math.min(...todo.map((p) => p.occurredAt.getTime())));
  // the local month and week of the earliest event: the longest windows a cap or frequency counts
  const since = new Date(Math.min(periodOf(earliest, tz, 'month')[0].getTime(), periodOf(earliest, tz, 'week')[0].getTime()));
  const [recent, totals] = await Promise.all([
    events.recentAwards(db, memberIds, [...limited], since, tz),
    lifetime ? events.lifetimeAwards(db, memberIds, [...limited]) : Promise.resolve([]),
  ]);
  return new UsageBook(recent, totals);
}
