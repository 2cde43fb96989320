import type { Queryable } from '../../db/db.ts';
import * as events from '../../modules/events/index.ts';
import type { RuleCache } from '../../modules/rules/index.ts';
import type { IngestItem, Snapshot } from './context.ts';

/**
 * One round trip (events_prepare, see the events module): the program, its custom event types,
 * the batch's events already processed, its members with their award versions, and — for the
 * rules last compiled for the program — what those rules already awarded these members. Usage
 * is read with the award versions it belongs to, so events_commit's version check covers it.
 */
export async function readSnapshot(db: Queryable, rules: RuleCache, programId: string, items: IngestItem[], now: Date): Promise<Snapshot> {
  const inputs = items.map((i) => i.input);
  const known = rules.peek(programId);
  const limited = known?.limited();
  const earliest = Math.min(now.getTime(), ...inputs.map((i) => (i.occurred_at ? Date.parse(i.occurred_at) : now.getTime())).filter(Number.isFinite));
  const snap = await events.prepareEvents(db, {
    program_id: programId,
    external_ids: [...new Set(inputs.map((i) => i.id))],
    member_ids: [...new Set(inputs.flatMap((i) => (i.member_id ? [i.member_id] : [])))],
    external_member_ids: [...new Set(inputs.flatMap((i) => (i.external_member_id ? [i.external_member_id] : [])))],
    now: now.toISOString(),
    // the members' segments, when a rule compiled for the program targets segments
    ...(known?.usesSegments ? { segments: true } : {}),
    // 32 days back covers the local day, week and month of the earliest event in any time zone
    ...(limited && limited.ruleIds.length > 0
      ? { usage: { rule_ids: limited.ruleIds, since: new Date(earliest - 32 * 86_400_000).toISOString(), lifetime: limited.lifetime } }
      : {}),
  });
  return { ...snap, usageFor: known };
}
