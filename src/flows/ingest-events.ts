import type { Db, Queryable } from '../db/db.ts';
import * as events from '../modules/events/events.repository.ts';
import type { EventInput, EventResultView } from '../modules/events/events.schemas.ts';
import { payloadValidator } from '../modules/events/events.payloads.ts';
import { type AwardLine, OrderRefunds, type PaidOrder, type RefundRequest } from '../modules/events/refunds.ts';
import { insertMember } from '../modules/members/members.repository.ts';
import { isIntlTimeZone, unsupportedTimeZone } from '../modules/programs/time-zones.ts';
import { type EvalMember, type Evaluation, evaluate, type Explanation, isLimited, MAX_AMOUNT, type RuleCache, type RuleSet, type Skip, type Usage } from '../modules/rules/index.ts';
import { DomainError, fromDatabaseError } from '../shared/errors.ts';
import { fieldErrors } from '../shared/json-schema.ts';
import { timestampOf } from '../shared/formats.ts';
import { newId } from '../shared/ids.ts';
import { periodOf } from '../shared/time.ts';

/**
 * Events in, points out. For a batch of events of one programme:
 *   1. validate each payload against its type (built-in or the programme's custom schema);
 *   2. replay events already processed (an event id is processed once per programme);
 *   3. find the members (member.registered creates an unknown one);
 *   4. read what each rule already awarded them (caps, frequency) and, for refunds, what the order earned;
 *   5. evaluate every event with the rule versions in force at its occurred_at (in process);
 *   6. write it all in one round trip (events_commit), which re-checks the members' award
 *      versions under lock; if someone else awarded them meanwhile, evaluate again.
 * One bad event does not fail the others: each gets its own result.
 */

export interface IngestDeps {
  db: Db;
  rules: RuleCache;
}

export interface ItemOutcome {
  index: number;
  event_id: string | null;
  status: number;
  result?: EventResultView;
  /** The result as JSON, when it was serialized already (for storage): a batch response reuses it. */
  json?: string;
  error?: DomainError;
}

interface Prepared {
  index: number;
  input: EventInput;
  occurredAt: Date;
  data: Record<string, unknown>;
  member?: events.EventMember;
  evaluation?: Evaluation;
  reversals?: { entry_id: string; rule_id: string | null; points: number }[];
}

const MAX_ATTEMPTS = 5;

function fail(path: string, message: string, code: 'VALIDATION_FAILED' | 'UNKNOWN_EVENT_TYPE' = 'VALIDATION_FAILED'): DomainError {
  return new DomainError(code, `${path} ${message}`, {}, [{ path, location: 'body', message }]);
}

/** Processes the events of one programme. `prefix` is the JSON pointer of the events in the request. */
export async function ingestEvents(deps: IngestDeps, programId: string, inputs: { index: number; input: EventInput; prefix: string }[], now: Date): Promise<ItemOutcome[]> {
  const { db } = deps;
  const read = (q: Queryable) => snapshot(q, deps.rules, programId, inputs.map((i) => i.input), now);
  const first = await read(db);
  const program = first.snap.program;
  if (!program) {
    const err = new DomainError('PROGRAM_NOT_FOUND', `No programme ${programId}`, { program_id: programId });
    return inputs.map(({ index, input }) => ({ index, event_id: input.id, status: 404, error: err }));
  }
  const outcomes = new Map<number, ItemOutcome>();
  const custom = new Map(first.snap.custom_types.map((t) => [t.type, t]));

  // 1. payloads
  const valid: Prepared[] = [];
  for (const { index, input, prefix } of inputs) {
    const error = validatePayload(input, program.currency, custom, prefix);
    if (error) outcomes.set(index, { index, event_id: input.id, status: error.status, error });
    else valid.push({ index, input, occurredAt: input.occurred_at ? new Date(input.occurred_at) : now, data: input.data ?? {} });
  }

  for (let attempt = 1; ; attempt++) {
    try {
      const pending = valid.filter((p) => !outcomes.has(p.index));
      if (attempt === 1) {
        // optimistic: evaluate outside any transaction; events_commit checks nothing moved
        await processValid(db, deps.rules, first, pending, inputs, outcomes, now, false, (fn) => db.transaction(fn));
      } else {
        // contended: lock the members first, so this attempt cannot be overtaken. db.transaction may
        // run this again from the start (deadlock, serialization failure): each run starts from the
        // outcomes decided before it, not from those of a run that was rolled back.
        const decided = new Map(outcomes);
        await db.transaction(async (tx) => {
          outcomes.clear();
          for (const [k, v] of decided) outcomes.set(k, v);
          return processValid(tx, deps.rules, await read(tx), pending, inputs, outcomes, now, true, (fn) => fn(tx));
        });
      }
      break;
    } catch (err) {
      const e = err as { code?: string; constraint?: string; constraint_name?: string; message?: string };
      const domain = err instanceof DomainError ? err : fromDatabaseError(err);
      const stale = domain?.code === 'EVALUATION_STALE' || (e.code === '23505' && /event_program_id_external_id_key/.test(`${e.constraint ?? e.constraint_name ?? ''} ${e.message ?? ''}`));
      const undecided = inputs.filter((i) => !outcomes.has(i.index) && valid.some((p) => p.index === i.index));
      if (domain?.code === 'BALANCE_LIMIT_EXCEEDED' && undecided.length > 1) {
        // a member's total would pass 2^53 − 1 (nothing of the batch was written): only the events
        // that would take it there are refused — each remaining event on its own, in order (rare)
        for (const one of undecided) {
          try {
            outcomes.set(one.index, (await ingestEvents(deps, programId, [one], now))[0]!);
          } catch (refused) {
            if (!(refused instanceof DomainError)) throw refused;
            outcomes.set(one.index, { index: one.index, event_id: one.input.id, status: refused.status, error: refused });
          }
        }
        break;
      }
      if (!stale || attempt >= MAX_ATTEMPTS) throw fromDatabaseError(err) ?? err;
      // someone wrote for the same members or events meanwhile: start over from what is stored now
    }
  }
  return inputs.map(({ index }) => outcomes.get(index)!);
}

function validatePayload(input: EventInput, currency: string, custom: Map<string, events.EventTypeRow>, prefix: string): DomainError | undefined {
  const validate = payloadValidator(input.type, custom);
  if (!validate) return fail(`${prefix}/type`, `is not a built-in event type or one declared by the programme`, 'UNKNOWN_EVENT_TYPE');
  if (!input.member_id && !input.external_member_id) return fail(`${prefix}/member_id`, 'is required (or external_member_id)');
  if (input.member_id && input.external_member_id) return fail(`${prefix}/external_member_id`, 'cannot be combined with member_id');
  const data = input.data ?? {};
  if (!validate(data)) {
    const errors = fieldErrors(validate.errors ?? [], 'body', `${prefix}/data`);
    return new DomainError('VALIDATION_FAILED', `${errors[0]?.path} ${errors[0]?.message}`, {}, errors);
  }
  if (input.type === 'order.paid' && data.currency !== currency) {
    return new DomainError('CURRENCY_MISMATCH', `The programme counts in ${currency}`, { expected: currency }, [{ path: `${prefix}/data/currency`, location: 'body', message: `must be ${currency}` }]);
  }
  if (input.type === 'order.refunded' && data.amount !== undefined && data.items !== undefined) return fail(`${prefix}/data/items`, 'cannot be combined with amount');
  if (input.type === 'order.paid' && Array.isArray(data.items)) {
    const lines = data.items as { quantity: number; unit_price: number }[];
    if (lines.reduce((s, l) => s + l.quantity * l.unit_price, 0) > MAX_AMOUNT) return fail(`${prefix}/data/items`, `must come to at most ${MAX_AMOUNT} minor units together (quantity × unit_price)`);
  }
  return undefined;
}

interface Read {
  snap: events.Snapshot;
  /** The rule set whose limited rules the snapshot's usage covers, if it was known. */
  usageFor?: RuleSet;
}

/**
 * One round trip: the programme, custom types, already-processed events, members, and — for the
 * rules last compiled for the programme — what they already awarded these members.
 */
async function snapshot(db: Queryable, rules: RuleCache, programId: string, inputs: EventInput[], now: Date): Promise<Read> {
  const known = rules.peek(programId);
  const limited = known?.limited();
  const earliest = Math.min(now.getTime(), ...inputs.map((i) => (i.occurred_at ? Date.parse(i.occurred_at) : now.getTime())).filter(Number.isFinite));
  const snap = await events.prepare(db, {
    program_id: programId,
    external_ids: [...new Set(inputs.map((i) => i.id))],
    member_ids: [...new Set(inputs.flatMap((i) => (i.member_id ? [i.member_id] : [])))],
    external_member_ids: [...new Set(inputs.flatMap((i) => (i.external_member_id ? [i.external_member_id] : [])))],
    // 32 days back covers the local day, week and month of the earliest event in any time zone
    ...(limited && limited.ruleIds.length > 0 ? { usage: { rule_ids: limited.ruleIds, since: new Date(earliest - 32 * 86_400_000).toISOString(), lifetime: limited.lifetime } } : {}),
  });
  return { snap, usageFor: known };
}

async function processValid(
  db: Queryable, rules: RuleCache, read: Read, valid: Prepared[], inputs: { index: number; input: EventInput; prefix: string }[], outcomes: Map<number, ItemOutcome>, now: Date,
  lockFirst: boolean, begin: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>,
) {
  if (valid.length === 0) return;
  const program = read.snap.program!;
  const prefixOf = new Map(inputs.map((i) => [i.index, i.prefix]));

  // 2. already processed: replay; the same id twice in one batch: the second replays the first
  const stored = new Map(read.snap.existing.map((e) => [e.external_id, e]));
  const firstInBatch = new Map<string, Prepared>();
  let todo: Prepared[] = [];
  const repeats: Prepared[] = [];
  for (const p of valid) {
    const done = stored.get(p.input.id);
    if (done) outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: 200, result: done.result });
    else if (firstInBatch.has(p.input.id)) repeats.push(p);
    else {
      firstInBatch.set(p.input.id, p);
      todo.push(p);
    }
  }

  // a zone stored before zones were checked on both sides: refused, as the engine cannot use it
  if (todo.length > 0 && !isIntlTimeZone(program.time_zone)) {
    const err = unsupportedTimeZone(program.id, program.time_zone);
    for (const p of todo) outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: err.status, error: err });
    resolveRepeats(repeats, outcomes, firstInBatch);
    return;
  }

  // 3. members
  const wantIds = todo.flatMap((p) => (p.input.member_id ? [p.input.member_id] : []));
  const wantExternal = todo.flatMap((p) => (p.input.external_member_id ? [p.input.external_member_id] : []));
  let members = read.snap.members;
  const registering = todo.filter((p) => p.input.type === 'member.registered' && p.input.external_member_id && !members.some((m) => m.external_id === p.input.external_member_id));
  if (registering.length > 0) {
    // in external id order: under lock (a retry), two batches registering the same members wait on
    // the unique key in one order
    registering.sort((a, b) => Buffer.compare(Buffer.from(a.input.external_member_id!), Buffer.from(b.input.external_member_id!)));
    for (const p of registering) {
      const d = p.data as { name?: string; phone?: string; email?: string; birthday?: string };
      await insertMember(db, newId('mbr'), program.id, { external_id: p.input.external_member_id!, name: d.name, phone: d.phone, email: d.email, birthday: d.birthday }, now);
    }
    members = await events.loadMembers(db, program.id, wantIds, wantExternal);
  }
  if (lockFirst && members.length > 0) {
    const refunded = [...new Set(todo.filter((p) => p.input.type === 'order.refunded').map((p) => String(p.data.order_id)))];
    const locked = new Map((await events.lockAccounts(db, members.map((m) => m.id), program.id, refunded)).map((a) => [a.member_id, a.award_version]));
    members = members.map((m) => ({ ...m, award_version: locked.get(m.id) ?? m.award_version }));
  }
  const byId = new Map(members.map((m) => [m.id, m]));
  const byExternal = new Map(members.map((m) => [m.external_id, m]));
  todo = todo.filter((p) => {
    const m = p.input.member_id ? byId.get(p.input.member_id) : byExternal.get(p.input.external_member_id!);
    const prefix = prefixOf.get(p.index)!;
    if (!m) {
      outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: 404, error: new DomainError('MEMBER_NOT_FOUND', `No member ${p.input.member_id ?? p.input.external_member_id} in ${program.id}`, {}, [{ path: `${prefix}/${p.input.member_id ? 'member_id' : 'external_member_id'}`, location: 'body', message: 'is not a member of the programme' }]) });
      return false;
    }
    if (m.status === 'closed') {
      outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: 422, error: new DomainError('MEMBER_CLOSED', `Member ${m.id} is closed`, { member_id: m.id }) });
      return false;
    }
    p.member = m;
    return true;
  });

  const ruleSet = await rules.get(db, program.id, Number(program.rules_revision));

  // 4. what rules already awarded, and what refunded orders earned
  // the snapshot read usage and award versions together; under lock (lockFirst) read usage after locking
  const usage = !lockFirst && read.usageFor === ruleSet ? usageFromSnapshot(read.snap) : await loadUsage(db, program.time_zone, todo, ruleSet);
  await prepareRefunds(db, program.id, todo, prefixOf, outcomes);
  todo = todo.filter((p) => !outcomes.has(p.index));

  // 5. evaluate
  for (const p of todo) {
    const m = p.member!;
    const member: EvalMember = { id: m.id, tier: m.tier, tags: m.tags, birthday: m.birthday, attributes: m.attributes };
    const memberUsage = usage.of(m.id);
    try {
      p.evaluation = evaluate(ruleSet.at(p.occurredAt), { id: p.input.id, type: p.input.type, occurred_at: p.occurredAt, data: p.data }, member, program, now, memberUsage);
    } catch (err) {
      // an award beyond the limits (AWARD_LIMIT_EXCEEDED): this event is refused, the others go on
      if (!(err instanceof DomainError)) throw err;
      outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: err.status, error: err });
      continue;
    }
    for (const a of p.evaluation.awards) memberUsage.add(a.rule_id, p.occurredAt, a.points);
  }
  todo = todo.filter((p) => p.evaluation !== undefined);
  if (todo.length === 0) {
    resolveRepeats(repeats, outcomes, firstInBatch);
    return;
  }

  // 6. write (with programme budgets, which need a transaction of their own unless already in one)
  const write = (q: Queryable) => writeBatch(q, program.id, Number(program.rules_revision), ruleSet, todo, now);
  const budgeted = todo.some((p) => p.evaluation!.awards.some((a) => a.budget));
  const { results, json } = budgeted ? await begin(write) : await write(db);
  todo.forEach((p, i) => outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: 201, result: results[i], json: json[i] }));
  resolveRepeats(repeats, outcomes, firstInBatch);
}

/** The first n characters (code points, as PostgreSQL's left() counts them). */
function leftChars(s: string, n: number): string {
  return s.length <= n ? s : Array.from(s).slice(0, n).join('');
}

/**
 * Builds every event's result (what the API returns and the event stores) and writes the batch in
 * one round trip (events_commit). Awards of an event with the same pending period become one entry
 * and one lot. Programme budgets, if any award has one, are taken first in the same transaction:
 * an award gets what is left of its budget, possibly nothing (then it is a skip).
 */
async function writeBatch(q: Queryable, programId: string, rulesRevision: number, ruleSet: RuleSet, todo: Prepared[], now: Date): Promise<{ results: EventResultView[]; json: string[] }> {
  const budgetAwards: { key: string; rule_id: string; points: number; period_start: string | null; budget_limit: number }[] = [];
  todo.forEach((p, i) => p.evaluation!.awards.forEach((a, j) => {
    if (a.budget) budgetAwards.push({ key: `${i}:${j}`, rule_id: a.rule_id, points: a.points, period_start: a.budget.period_start, budget_limit: a.budget.points });
  }));
  const grants = budgetAwards.length > 0
    ? await events.reserveBudgets(q, budgetAwards, {
      members: [...new Set(todo.map((p) => p.member!.id))],
      reversal_entries: todo.flatMap((p) => (p.reversals ?? []).map((r) => r.entry_id)),
    })
    : undefined;

  const processedAt = now.toISOString();
  // per member: [award version the evaluation saw, points credited, entries written, active]; activity is
  // every event but a refund (it extends expiry under activity_extended)
  const members: Record<string, [number, number, number, boolean]> = {};
  type EntryRow = { event: number; entry_id: string; lot_id: string; pending_days: number; points: number; texts: string[]; rule_ids: string[]; reason: string };
  const rows = { events: [] as Record<string, unknown>[], entries: [] as EntryRow[], awards: [] as Record<string, unknown>[], reversals: [] as unknown[] };
  const results: EventResultView[] = [];
  todo.forEach((p, i) => {
    const m = p.member!;
    members[m.id] ??= [Number(m.award_version), 0, 0, false];
    const id = newId('evt');
    const occurredAt = p.occurredAt.toISOString();
    const awards: EventResultView['awards'] = [];
    const budgetSkips: Skip[] = [];
    const entries = new Map<number, EntryRow & { index: number }>();
    let points = 0;
    p.evaluation!.awards.forEach((a, j) => {
      const granted = grants?.get(`${i}:${j}`) ?? a.points;
      if (granted <= 0) {
        budgetSkips.push({ rule_id: a.rule_id, reason: 'budget', detail: 'the programme budget of this rule is used up' });
        return;
      }
      let entry = entries.get(a.pending_days);
      if (!entry) {
        // the lot and the transaction share the entry's random part (events_commit derives them)
        const entryId = newId('ent');
        entry = { index: rows.entries.length, event: i, entry_id: entryId, lot_id: `lot_${entryId.slice(4)}`, pending_days: a.pending_days, points: 0, texts: [], rule_ids: [], reason: '' };
        entries.set(a.pending_days, entry);
        rows.entries.push(entry);
      }
      entry.points += granted;
      entry.texts.push(a.explanation.text);
      entry.rule_ids.push(a.rule_id);
      points += granted;
      // what later evaluations count: recorded for rules with per-member caps or frequency limits only
      if (ruleSet.limitedIds.has(a.rule_id)) rows.awards.push({ entry: entry.index, rule_id: a.rule_id, rule_version: a.rule_version, points: granted });
      const cut = granted < a.points;
      const text = cut ? `${a.explanation.text} → ${granted} (programme budget ${a.budget!.points})` : a.explanation.text;
      const b = breakdown(a.explanation);
      awards.push({
        rule_id: a.rule_id, rule_version: a.rule_version, points: granted, entry_id: entry.entry_id, lot_id: entry.lot_id,
        available_at: timestampOf(now.getTime() + a.pending_days * 86_400_000), text,
        explanation: cut ? { ...b, caps: [...a.explanation.caps, { cap: 'budget', limit: a.budget!.points, before: a.points, after: granted }] } : b,
      });
    });
    for (const e of entries.values()) e.reason = leftChars(e.texts.join('; '), 500);
    const reversals = (p.reversals ?? []).map((r) => ({ entry_id: r.entry_id, rule_id: r.rule_id, points: r.points, reversal_entry_ids: [] as string[] }));
    for (const r of reversals) {
      rows.reversals.push({ event: i, order_id: String(p.data.order_id), entry_id: r.entry_id, rule_id: r.rule_id, points: r.points });
      points -= r.points;
    }
    rows.events.push({
      id, external_id: p.input.id, type: p.input.type, member_id: m.id, occurred_at: occurredAt, data: p.data, metadata: p.input.metadata ?? {}, points,
    });
    results.push({
      object: 'event', id, event_id: p.input.id, program_id: programId, type: p.input.type, member_id: m.id,
      occurred_at: occurredAt, processed_at: processedAt, points, awards, reversals,
      // rules whose condition, targeting or schedule did not match are noise in a stored event (a
      // preview lists them); skips that cost the member points (caps, limits, budget) are kept
      skipped: [...p.evaluation!.skipped.filter((k) => k.reason !== 'condition' && k.reason !== 'targeting' && k.reason !== 'schedule'), ...budgetSkips],
      data: p.data,
    });
  });
  // stored: what only processing knows (jf_event_view adds the columns when read); returned: the whole result
  const outcomes = results.map((r) => JSON.stringify({ awards: r.awards, reversals: r.reversals, skipped: r.skipped }));
  const programJson = JSON.stringify(programId);
  const json = results.map((r, i) =>
    `{"object":"event","id":"${r.id}","event_id":${JSON.stringify(r.event_id)},"program_id":${programJson},"type":${JSON.stringify(r.type)},` +
    `"member_id":${JSON.stringify(r.member_id)},"occurred_at":"${r.occurred_at}","processed_at":"${processedAt}","points":${r.points},` +
    `${outcomes[i]!.slice(1, -1)},"data":${JSON.stringify(r.data)}}`);
  for (const e of rows.entries) {
    const m = members[todo[e.event]!.member!.id]!;
    m[1] += e.points;
    m[2] += 1;
  }
  const active = [...new Set(todo.filter((p) => p.input.type !== 'order.refunded').map((p) => p.member!.id))];
  for (const memberId of active) members[memberId]![3] = true;
  const written = await events.commit(q, {
    now: processedAt,
    program_id: programId,
    rules_revision: rulesRevision,
    members,
    events: columns(rows.events, ['id', 'external_id', 'type', 'member_id', 'occurred_at', 'data', 'metadata', 'points']),
    entries: columns(rows.entries, ['event', 'entry_id', 'pending_days', 'points', 'reason', 'rule_ids']),
    awards: columns(rows.awards, ['entry', 'rule_id', 'rule_version', 'points']),
    reversals: rows.reversals,
    active,
  }, outcomes.join('\n'));
  for (const [i, reversals] of written) {
    results[i]!.reversals = reversals;
    json[i] = JSON.stringify(results[i]);
  }
  return { results, json };
}

/** Rows as columns, one array per field (what events_commit takes: cheaper to parse than objects). */
function columns<T extends object>(rows: T[], fields: (keyof T & string)[]): Record<string, unknown[]> {
  return Object.fromEntries(fields.map((f) => [f, rows.map((r) => r[f])]));
}

/**
 * An award's explanation without what the award itself says (rule id and version, points, text):
 * the breakdown — base, multipliers, stacking, rounding, caps.
 */
export function breakdown(e: Explanation): Record<string, unknown> {
  const { rule_id: _r, rule_version: _v, points: _p, text: _t, ...rest } = e;
  return rest;
}

function resolveRepeats(repeats: Prepared[], outcomes: Map<number, ItemOutcome>, first: Map<string, Prepared>) {
  for (const p of repeats) {
    const o = outcomes.get(first.get(p.input.id)!.index)!;
    outcomes.set(p.index, { ...o, index: p.index, status: o.result ? 200 : o.status });
  }
}

/**
 * What rules already awarded one member: per rule, the points and number of awards of each local
 * day (the database sums them by day in the programme's time zone; every cap and frequency window
 * is whole local days), plus lifetime totals.
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

  add(ruleId: string, at: Date, points: number) {
    this.push(ruleId, at.getTime(), points);
    const l = this.lifetime.get(ruleId) ?? { points: 0, count: 0 };
    this.lifetime.set(ruleId, { points: l.points + points, count: l.count + 1 });
  }
}

function usageFromSnapshot(snap: events.Snapshot) {
  const byMember = new Map<string, MemberUsage>();
  const of = (memberId: string) => {
    let u = byMember.get(memberId);
    if (!u) byMember.set(memberId, (u = new MemberUsage()));
    return u;
  };
  for (const r of snap.recent) {
    const u = of(r.member_id);
    u.push(r.rule_id, Date.parse(r.at), Number(r.points), Number(r.count));
  }
  for (const t of snap.lifetime) of(t.member_id).lifetime.set(t.rule_id, { points: Number(t.points), count: Number(t.count) });
  return { of };
}

/** Reads only what the batch's rules need: awards of rules with caps or frequency limits. */
async function loadUsage(db: Queryable, tz: string, todo: Prepared[], ruleSet: RuleSet) {
  const byMember = new Map<string, MemberUsage>();
  const of = (memberId: string) => {
    let u = byMember.get(memberId);
    if (!u) byMember.set(memberId, (u = new MemberUsage()));
    return u;
  };
  const limited = new Set<string>();
  let lifetime = false;
  for (const p of todo) {
    for (const r of ruleSet.at(p.occurredAt)) {
      if (isLimited(r.def)) limited.add(r.ruleId);
      if (r.def.caps?.per_member?.lifetime !== undefined || r.def.frequency?.per === 'lifetime') lifetime = true;
    }
  }
  if (limited.size > 0 && todo.length > 0) {
    const memberIds = [...new Set(todo.map((p) => p.member!.id))];
    const earliest = new Date(Math.min(...todo.map((p) => p.occurredAt.getTime())));
    const since = new Date(Math.min(periodOf(earliest, tz, 'month')[0].getTime(), periodOf(earliest, tz, 'week')[0].getTime()));
    const [recent, totals] = await Promise.all([
      events.recentAwards(db, memberIds, [...limited], since, tz),
      lifetime ? events.lifetimeAwards(db, memberIds, [...limited]) : Promise.resolve([]),
    ]);
    for (const r of recent) {
      const u = of(r.member_id);
      u.push(r.rule_id, Date.parse(r.at), Number(r.points), Number(r.count));
    }
    for (const t of totals) of(t.member_id).lifetime.set(t.rule_id, { points: Number(t.points), count: Number(t.count) });
  }
  return { of };
}

/**
 * Refunds reverse what the order earned (the arithmetic: the events module's OrderRefunds). Reads
 * the orders' paid events, their earlier refunds and what was already reversed of their credits;
 * refunds of the same order earlier in the batch count too.
 */
async function prepareRefunds(db: Queryable, programId: string, todo: Prepared[], prefixOf: Map<number, string>, outcomes: Map<number, ItemOutcome>) {
  const refunds = todo.filter((p) => p.input.type === 'order.refunded');
  if (refunds.length === 0) return;
  const orderIds = [...new Set(refunds.map((p) => String(p.data.order_id)))];
  const history = await events.orderEvents(db, programId, orderIds);
  const entryIds = history.filter((e) => e.type === 'order.paid').flatMap((e) => e.result.awards.flatMap((a) => (a.entry_id ? [a.entry_id] : [])));
  const reversed = new Map((await events.lotsOfEntries(db, entryIds)).map((l) => [l.entry_id, Number(l.reversal_total)]));
  const orders = new Map<string, OrderRefunds>();

  for (const p of refunds) {
    const orderId = String(p.data.order_id);
    const prefix = prefixOf.get(p.index)!;
    const paid = history.find((e) => e.type === 'order.paid' && e.data.order_id === orderId);
    if (!paid) {
      outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: 422, error: new DomainError('ORDER_NOT_FOUND', `No order.paid event for order ${orderId}; send it first`, { order_id: orderId }, [{ path: `${prefix}/data/order_id`, location: 'body', message: 'has no order.paid event' }]) });
      continue;
    }
    if (paid.result.member_id !== p.member!.id) {
      // a refund reverses the points of the member who paid: naming another member is a mistake
      // (it would record the refund on one member and take the points of another)
      outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: 422, error: new DomainError('ORDER_NOT_FOUND', `Order ${orderId} was not paid by member ${p.member!.id}`, { order_id: orderId, member_id: p.member!.id }, [{ path: `${prefix}/data/order_id`, location: 'body', message: 'has no order.paid event of this member' }]) });
      continue;
    }
    let order = orders.get(orderId);
    if (!order) {
      const awards = paid.result.awards.map((a) => ({ rule_id: a.rule_id, points: a.points, entry_id: a.entry_id, lines: (a.explanation as { items?: AwardLine[] }).items }));
      const earlier = history.filter((e) => e.type === 'order.refunded' && e.data.order_id === orderId).map((e) => e.data as RefundRequest);
      order = new OrderRefunds(paid.data as PaidOrder, awards, earlier, reversed);
      orders.set(orderId, order);
    }
    const plan = order.refund(p.data as RefundRequest);
    if ('refused' in plan) outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: 400, error: fail(`${prefix}/data/items`, plan.refused) });
    else p.reversals = plan.reversals;
  }
}

export type { Skip };

export interface Preview {
  object: 'preview';
  points: number;
  awards: { rule_id: string; rule_version: number; points: number; available_at: string | null; text: string; explanation: Record<string, unknown> }[];
  skipped: Skip[];
}

/**
 * "You will earn N points": evaluates an event as if it were processed now, writing nothing. The
 * member is optional (a guest checkout is evaluated as a member without tier or tags). Programme
 * budgets are not applied: they depend on everyone else's awards at the time.
 */
export async function previewEvent(deps: IngestDeps, programId: string, input: EventInput, now: Date): Promise<Preview> {
  const { db } = deps;
  const program = await events.loadProgram(db, programId);
  if (!program) throw new DomainError('PROGRAM_NOT_FOUND', `No programme ${programId}`, { program_id: programId });
  if (!isIntlTimeZone(program.time_zone)) throw unsupportedTimeZone(program.id, program.time_zone);
  const custom = new Map((await events.customTypes(db, programId)).map((t) => [t.type, t]));
  const anonymous = !input.member_id && !input.external_member_id;
  const error = validatePayload(anonymous ? { ...input, member_id: 'mbr_preview' } : input, program.currency, custom, '');
  if (error) throw error;
  const occurredAt = input.occurred_at ? new Date(input.occurred_at) : now;
  const data = input.data ?? {};
  let member: EvalMember = { id: 'guest', tier: null, tags: [], birthday: null, attributes: {} };
  const prepared: Prepared = { index: 0, input, occurredAt, data };
  if (!anonymous) {
    const [m] = await events.loadMembers(db, programId, input.member_id ? [input.member_id] : [], input.external_member_id ? [input.external_member_id] : []);
    if (!m) throw new DomainError('MEMBER_NOT_FOUND', `No member ${input.member_id ?? input.external_member_id} in ${programId}`);
    member = { id: m.id, tier: m.tier, tags: m.tags, birthday: m.birthday, attributes: m.attributes };
    prepared.member = m;
  }
  const ruleSet = await deps.rules.get(db, programId, Number(program.rules_revision));
  const usage = prepared.member ? (await loadUsage(db, program.time_zone, [prepared], ruleSet)).of(member.id) : undefined;
  const evaluation = evaluate(ruleSet.at(occurredAt), { id: input.id, type: input.type, occurred_at: occurredAt, data }, member, program, now, usage);
  return {
    object: 'preview',
    points: evaluation.total,
    awards: evaluation.awards.map((a) => ({
      rule_id: a.rule_id,
      rule_version: a.rule_version,
      points: a.points,
      available_at: timestampOf(now.getTime() + a.pending_days * 86_400_000),
      text: a.explanation.text,
      explanation: breakdown(a.explanation),
    })),
    skipped: evaluation.skipped,
  };
}
