import type { Queryable } from '../../db/db.ts';
import { type CommitEntry, commitEvents, type EventResultView, type EventsCommit, reserveBudgets } from '../../modules/events/index.ts';
import type { Explanation, RuleSet, Skip } from '../../modules/rules/index.ts';
import { timestampOf } from '../../shared/formats.ts';
import { newId } from '../../shared/ids.ts';
import type { Prepared } from './context.ts';
import type { TierBook } from './tiers.ts';

/** What a commit gives back: each event's result, and the same as JSON (for storage, and reused by a batch response). */
export interface Committed {
  results: EventResultView[];
  json: string[];
}

/**
 * An award's explanation without what the award itself says (rule id and version, points, text):
 * the breakdown — base, multipliers, stacking, rounding, caps.
 */
export function breakdown(e: Explanation): Record<string, unknown> {
  const { rule_id: _r, rule_version: _v, points: _p, text: _t, ...rest } = e;
  return rest;
}

/** The first n characters (code points, as PostgreSQL's left() counts them). */
function leftChars(s: string, n: number): string {
  return s.length <= n ? s : Array.from(s).slice(0, n).join('');
}

// rules whose condition, targeting or schedule did not match are noise in a stored event (a
// preview lists them); skips that cost the member points (caps, limits, budget) are kept
const KEPT_SKIP = (k: Skip) => k.reason !== 'condition' && k.reason !== 'targeting' && k.reason !== 'schedule';

/**
 * Step 6: builds every event's result (what the API returns and the event stores) and writes the
 * batch in one round trip (events_commit). Awards of an event with the same pending period become
 * one entry and one lot. Program budgets, if any award has one, are taken first in the same
 * transaction: an award gets what is left of its budget, possibly nothing (then it is a skip).
 */
export async function commitBatch(
  q: Queryable,
  programId: string,
  rulesRevision: number,
  ruleSet: RuleSet,
  todo: Prepared[],
  now: Date,
  tiers?: TierBook,
): Promise<Committed> {
  const grants = await grantBudgets(q, todo);
  const batch: EventsCommit = { now: now.toISOString(), programId, rulesRevision, members: new Map(), events: [], entries: [], awards: [], reversals: [] };
  // when a pending period ends: the same few instants for the whole batch, written once each
  const ends = new Map<number, string>();
  const availableAt = (days: number) => {
    let at = ends.get(days);
    if (at === undefined) ends.set(days, (at = timestampOf(now.getTime() + days * 86_400_000)));
    return at;
  };
  const results = todo.map((p, i) => resultOf(batch, ruleSet, p, i, grants, availableAt));
  const tierWrites = tiers?.writes();
  if (tiers && tierWrites) {
    batch.tiers = tierWrites;
    // a member whose tier activity or tier changes: its award version moves, so a concurrent
    // evaluation of the same member (which read the metric before) is stale and runs again
    for (const [id, account] of batch.members) if (tiers.touches(id)) account.entries += 1;
  }
  const written = await commitEvents(q, batch);
  const json = results.map((r, i) => resultJson(r, batch.events[i]!.outcome));
  // a refund's reversals carry the ids of the entries the database wrote for them and what became
  // of their points: the event's points are what the member lost, not what was written off
  for (const [i, reversals] of written) {
    results[i]!.reversals = reversals;
    results[i]!.points += reversals.reduce((s, r) => s + r.points - r.taken_back, 0);
    json[i] = JSON.stringify(results[i]);
  }
  return { results, json };
}

/**
 * JSON.stringify(result), reusing the stored part already serialized (`outcome`: awards, reversals,
 * skipped, warnings if any), in EventResult's key order. Serializing the awards twice cost 9.0 µs an event against
 * 4.9 µs this way (500 order.paid results of the 50-rule bench set, 3.9 awards each, measured in
 * process), where the server spends some 35–60 µs an event in a batch (bench/events).
 */
function resultJson(r: EventResultView, outcome: string): string {
  const head = JSON.stringify({
    object: r.object,
    id: r.id,
    event_id: r.event_id,
    program_id: r.program_id,
    type: r.type,
    member_id: r.member_id,
    occurred_at: r.occurred_at,
    processed_at: r.processed_at,
    points: r.points,
  });
  return `${head.slice(0, -1)},${outcome.slice(1, -1)}${r.warnings.length > 0 ? '' : ',"warnings":[]'},"data":${JSON.stringify(r.data)}}`;
}

/** Budget grants by award (`event:award` positions), when an award of the batch has a program budget. */
async function grantBudgets(q: Queryable, todo: Prepared[]): Promise<Map<string, number> | undefined> {
  const budgetAwards: { key: string; rule_id: string; points: number; period_start: string | null; budget_limit: number }[] = [];
  todo.forEach((p, i) => {
    p.evaluation!.awards.forEach((a, j) => {
      if (a.budget)
        budgetAwards.push({ key: `${i}:${j}`, rule_id: a.rule_id, points: a.points, period_start: a.budget.period_start, budget_limit: a.budget.points });
    });
  });
  if (budgetAwards.length === 0) return undefined;
  return reserveBudgets(q, budgetAwards, {
    members: [...new Set(todo.map((p) => p.member!.id))],
    reversal_entries: todo.flatMap((p) => (p.reversals ?? []).map((r) => r.entry_id)),
  });
}

/** One event's result; adds what it writes to `batch` (its row, entries, awards, reversals, its member's account). */
function resultOf(
  batch: EventsCommit,
  ruleSet: RuleSet,
  p: Prepared,
  i: number,
  grants: Map<string, number> | undefined,
  availableAt: (pendingDays: number) => string,
): EventResultView {
  const m = p.member!;
  const id = newId('evt');
  let account = batch.members.get(m.id);
  if (!account) batch.members.set(m.id, (account = { awardVersion: Number(m.award_version), points: 0, entries: 0, active: false }));
  // activity is every event but a refund
  if (p.input.type !== 'order.refunded') account.active = true;

  const awards: EventResultView['awards'] = [];
  const budgetSkips: Skip[] = [];
  const byPendingDays = new Map<number, { entry: CommitEntry; index: number; texts: string[]; lotId: string }>();
  let points = 0;
  p.evaluation!.awards.forEach((a, j) => {
    const granted = grants?.get(`${i}:${j}`) ?? a.points;
    if (granted <= 0) {
      budgetSkips.push({ rule_id: a.rule_id, reason: 'budget', detail: 'the program budget of this rule is used up' });
      return;
    }
    let credit = byPendingDays.get(a.pending_days);
    if (!credit) {
      // the lot and the transaction share the entry's random part (events_commit derives them)
      const entryId = newId('ent');
      credit = {
        entry: { event: i, entryId, pendingDays: a.pending_days, points: 0, reason: '', ruleIds: [] },
        index: batch.entries.length,
        texts: [],
        lotId: `lot_${entryId.slice(4)}`,
      };
      byPendingDays.set(a.pending_days, credit);
      batch.entries.push(credit.entry);
      account.entries += 1;
    }
    credit.entry.points += granted;
    credit.entry.ruleIds.push(a.rule_id);
    credit.texts.push(a.explanation.text);
    account.points += granted;
    points += granted;
    // what later evaluations count: recorded for rules with per-member caps or frequency limits only
    if (ruleSet.limitedIds.has(a.rule_id)) batch.awards.push({ entry: credit.index, ruleId: a.rule_id, ruleVersion: a.rule_version, points: granted });
    const cut = granted < a.points;
    const b = breakdown(a.explanation);
    awards.push({
      rule_id: a.rule_id,
      rule_version: a.rule_version,
      points: granted,
      entry_id: credit.entry.entryId,
      lot_id: credit.lotId,
      available_at: availableAt(a.pending_days),
      text: cut ? `${a.explanation.text} → ${granted} (program budget ${a.budget!.points})` : a.explanation.text,
      explanation: cut ? { ...b, caps: [...a.explanation.caps, { cap: 'budget', limit: a.budget!.points, before: a.points, after: granted }] } : b,
    });
  });
  for (const c of byPendingDays.values()) c.entry.reason = leftChars(c.texts.join('; '), 500);

  // what became of the reversals' points, and their entries, events_commit says (see commitBatch)
  const reversals = (p.reversals ?? []).map((r) => ({
    ...r,
    taken_back: r.points,
    expired: 0,
    on_hold: 0,
    written_off: 0,
    reversal_entry_ids: [] as string[],
  }));
  for (const r of reversals) {
    batch.reversals.push({
      event: i,
      orderId: String(p.data.order_id),
      entryId: r.entry_id,
      ruleId: r.rule_id,
      ruleName: r.rule_name,
      points: r.points,
      awards: r.awards,
    });
    points -= r.points;
  }
  const skipped = [...p.evaluation!.skipped.filter(KEPT_SKIP), ...budgetSkips];
  const occurredAt = p.occurredAt.toISOString();
  const { warnings } = p.evaluation!;
  // stored: what only processing knows (jf_event_view adds the columns when read, and warnings: [] when there are none)
  const outcome = JSON.stringify(warnings.length > 0 ? { awards, reversals, skipped, warnings } : { awards, reversals, skipped });
  batch.events.push({
    id,
    externalId: p.input.id,
    type: p.input.type,
    memberId: m.id,
    occurredAt,
    data: p.data,
    metadata: p.input.metadata ?? {},
    points,
    outcome,
  });
  return {
    object: 'event',
    id,
    event_id: p.input.id,
    program_id: batch.programId,
    type: p.input.type,
    member_id: m.id,
    occurred_at: occurredAt,
    processed_at: batch.now,
    points,
    awards,
    reversals,
    skipped,
    warnings,
    data: p.data,
  };
}
