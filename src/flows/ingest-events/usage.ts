import type { Queryable } from '../../db/db.ts';
import { isLimited, type RuleSet, loadUsage as readUsage, UsageBook } from '../../modules/rules/index.ts';
import { periodOf } from '../../shared/time.ts';
import type { Prepared, Run } from './context.ts';

/**
 * Step 4: what the rules already awarded these members (caps, frequency). The snapshot has it when
 * it was read for this rule set; on a contended retry it is read again after the members are locked.
 */
export async function usageOf(run: Run, todo: Prepared[], ruleSet: RuleSet): Promise<UsageBook> {
  if (!run.lockFirst && run.snapshot.usageFor === ruleSet) return new UsageBook(run.snapshot.recent, run.snapshot.lifetime);
  return loadUsage(run.db, run.program.time_zone, todo, ruleSet);
}

/** Reads only what the events' rules need: awards of the rules in force with caps or frequency limits. */
export async function loadUsage(db: Queryable, tz: string, todo: Prepared[], ruleSet: Pick<RuleSet, 'at'>): Promise<UsageBook> {
  const limited = new Set<string>();
  let lifetime = false;
  for (const p of todo) {
    for (const r of ruleSet.at(p.occurredAt)) {
      if (isLimited(r.def)) limited.add(r.ruleId);
      if (r.def.caps?.per_member?.lifetime !== undefined || r.def.frequency?.per === 'lifetime') lifetime = true;
    }
  }
  if (limited.size === 0 || todo.length === 0) return new UsageBook();
  const earliest = new Date(Math.min(...todo.map((p) => p.occurredAt.getTime())));
  // the local month and week of the earliest event: the longest windows a cap or frequency counts
  const since = new Date(Math.min(periodOf(earliest, tz, 'month')[0].getTime(), periodOf(earliest, tz, 'week')[0].getTime()));
  return readUsage(db, { memberIds: [...new Set(todo.map((p) => p.member!.id))], ruleIds: [...limited], since, tz, lifetime });
}
