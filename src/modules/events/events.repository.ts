import type { EventResultView } from './events.schemas.ts';
import type { Queryable } from '../../db/db.ts';

export interface StoredEvent {
  external_id: string;
  type: string;
  data: Record<string, unknown>;
  result: EventResultView;
}

export async function findEvent(db: Queryable, id: string): Promise<EventResultView | undefined> {
  const [row] = await db.query<{ result: EventResultView }>('SELECT jf_event_view(e) AS result FROM event e WHERE e.id = $1', [id]);
  return row?.result;
}

export async function findEventByExternalId(db: Queryable, programId: string, externalId: string): Promise<EventResultView | undefined> {
  const [row] = await db.query<{ result: EventResultView }>('SELECT jf_event_view(e) AS result FROM event e WHERE e.program_id = $1 AND e.external_id = $2', [programId, externalId]);
  return row?.result;
}

export async function listMemberEvents(db: Queryable, memberId: string, type: string | undefined, limit: number, before: [string, string] | undefined) {
  return db.query<{ result: EventResultView; at: string; id: string }>(
    `SELECT jf_event_view(e) AS result, occurred_at::text AS at, id FROM event e
      WHERE member_id = $1 AND ($2::text IS NULL OR type = $2)
        AND ($3::timestamptz IS NULL OR (occurred_at, id) < ($3::timestamptz, $4::text))
      ORDER BY occurred_at DESC, id DESC LIMIT $5`,
    [memberId, type ?? null, before?.[0] ?? null, before?.[1] ?? null, limit + 1],
  );
}

export interface EventMember {
  id: string;
  external_id: string;
  tier: string | null;
  tags: string[];
  birthday: string | null;
  attributes: Record<string, unknown>;
  status: 'active' | 'frozen' | 'closed';
  award_version: number;
}

export async function loadMembers(db: Queryable, programId: string, ids: string[], externalIds: string[]): Promise<EventMember[]> {
  return db.query<EventMember>(
    `SELECT m.id, m.external_id, m.tier, m.tags, to_char(m.birthday, 'YYYY-MM-DD') AS birthday, m.attributes, m.status, a.award_version
       FROM member m JOIN member_account a ON a.member_id = m.id
      WHERE m.program_id = $1 AND (m.id = ANY ($2::text[]) OR m.external_id = ANY ($3::text[]))`,
    [programId, ids, externalIds],
  );
}

/** Points and number of awards of a rule to a member on one local day (`at`: the day's start). */
export interface AwardRow { member_id: string; rule_id: string; points: number; count: number; at: string }

/** Awards of these rules to these members since `since`, by local day in `tz` (for day/week/month caps and frequency). */
export async function recentAwards(db: Queryable, memberIds: string[], ruleIds: string[], since: Date, tz: string): Promise<AwardRow[]> {
  return db.query<AwardRow>(
    `SELECT member_id, rule_id, sum(points)::bigint AS points, count(*)::int AS count, jf_ts(date_trunc('day', awarded_at, $4)) AS at
       FROM rule_award
      WHERE member_id = ANY ($1::text[]) AND rule_id = ANY ($2::text[]) AND awarded_at >= $3
      GROUP BY member_id, rule_id, date_trunc('day', awarded_at, $4)`,
    [memberIds, ruleIds, since.toISOString(), tz],
  );
}

export async function lifetimeAwards(db: Queryable, memberIds: string[], ruleIds: string[]): Promise<{ member_id: string; rule_id: string; points: number; count: number }[]> {
  return db.query(
    `SELECT member_id, rule_id, sum(points)::bigint AS points, count(*)::int AS count FROM rule_award
      WHERE member_id = ANY ($1::text[]) AND rule_id = ANY ($2::text[]) GROUP BY member_id, rule_id`,
    [memberIds, ruleIds],
  );
}

/** The order.paid and earlier order.refunded events of these orders, oldest first. */
export async function orderEvents(db: Queryable, programId: string, orderIds: string[]): Promise<StoredEvent[]> {
  return db.query<StoredEvent>(
    `SELECT external_id, type, data, jf_event_view(e) AS result FROM event e
      WHERE program_id = $1 AND data ? 'order_id' AND data->>'order_id' = ANY ($2::text[]) AND type IN ('order.paid', 'order.refunded')
      ORDER BY processed_at, id`,
    [programId, orderIds],
  );
}

export async function lotsOfEntries(db: Queryable, entryIds: string[]): Promise<{ entry_id: string; amount: number; reversal_total: number }[]> {
  if (entryIds.length === 0) return [];
  return db.query(
    'SELECT l.entry_id, l.amount, l.reversal_total FROM ledger_entry e JOIN lot l ON l.id = e.lot_id WHERE e.id = ANY ($1::text[])',
    [entryIds],
  );
}

/**
 * A batch of processed events, as events_commit writes it in one round trip (members locked in id
 * order; award versions and the rules revision re-checked under the lock, EVALUATION_STALE if
 * they moved; entries, lots, rule awards, refunds' reversals, events). Positions (`event`,
 * `entry`) index `events` and `entries`. `commitWire` maps it to what events_commit parses.
 */
export interface EventsCommit {
  /** processed_at of the events, and the instant of every entry. */
  now: string;
  programId: string;
  /** The program's rules revision the batch was evaluated with. */
  rulesRevision: number;
  members: Map<string, CommitMember>;
  events: CommitEvent[];
  entries: CommitEntry[];
  /** Awards of rules with per-member caps or frequency limits (what later evaluations count). */
  awards: CommitAward[];
  reversals: CommitReversal[];
}

/** What the batch does to one member's account. */
export interface CommitMember {
  /** The award version the evaluation saw: if it moved, someone else awarded the member meanwhile. */
  awardVersion: number;
  /** Points credited (balance and lifetime earned). */
  points: number;
  /** Entries written (the award version moves by as many). */
  entries: number;
  /** An event of theirs other than a refund: activity (extends expiry under activity_extended). */
  active: boolean;
}

export interface CommitEvent {
  id: string;
  externalId: string;
  type: string;
  memberId: string;
  occurredAt: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  points: number;
  /** What the event stores of its result, as JSON: awards, reversals, skipped (jf_event_view adds the rest when read). */
  outcome: string;
}

/** One credit (entry and lot; their ids share the entry's random part) of an event's awards with one pending period. */
export interface CommitEntry {
  event: number;
  entryId: string;
  pendingDays: number;
  points: number;
  reason: string;
  ruleIds: string[];
}

export interface CommitAward {
  entry: number;
  ruleId: string;
  ruleVersion: number;
  points: number;
}

/** Points a refund takes back from one credit (through ledger_reverse). */
export interface CommitReversal {
  event: number;
  orderId: string;
  entryId: string;
  ruleId: string | null;
  points: number;
}

/** A reversal as written: the ids of the entries the database wrote for it. */
export interface WrittenReversal { entry_id: string; rule_id: string | null; points: number; reversal_entry_ids: string[] }

/**
 * The arguments of events_commit(p jsonb, p_outcomes text): rows as columns, one array per field
 * (cheaper to parse than objects); members as id → [award version, points, entries, active]; the
 * stored results one per line, in the order of the events (JSON has no raw line breaks).
 */
export function commitWire(c: EventsCommit): [string, string] {
  const members: Record<string, [number, number, number, boolean]> = {};
  const active: string[] = [];
  for (const [id, m] of c.members) {
    members[id] = [m.awardVersion, m.points, m.entries, m.active];
    if (m.active) active.push(id);
  }
  const p = {
    now: c.now,
    program_id: c.programId,
    rules_revision: c.rulesRevision,
    members,
    events: {
      id: c.events.map((e) => e.id),
      external_id: c.events.map((e) => e.externalId),
      type: c.events.map((e) => e.type),
      member_id: c.events.map((e) => e.memberId),
      occurred_at: c.events.map((e) => e.occurredAt),
      data: c.events.map((e) => e.data),
      metadata: c.events.map((e) => e.metadata),
      points: c.events.map((e) => e.points),
    },
    entries: {
      event: c.entries.map((e) => e.event),
      entry_id: c.entries.map((e) => e.entryId),
      pending_days: c.entries.map((e) => e.pendingDays),
      points: c.entries.map((e) => e.points),
      reason: c.entries.map((e) => e.reason),
      rule_ids: c.entries.map((e) => e.ruleIds),
    },
    awards: {
      entry: c.awards.map((a) => a.entry),
      rule_id: c.awards.map((a) => a.ruleId),
      rule_version: c.awards.map((a) => a.ruleVersion),
      points: c.awards.map((a) => a.points),
    },
    reversals: c.reversals.map((r) => ({ event: r.event, order_id: r.orderId, entry_id: r.entryId, rule_id: r.ruleId, points: r.points })),
    active,
  };
  return [JSON.stringify(p), c.events.map((e) => e.outcome).join('\n')];
}

/** Writes a batch (see EventsCommit). Returns the reversals of refund events by event position. */
export async function commit(db: Queryable, batch: EventsCommit): Promise<Map<number, WrittenReversal[]>> {
  const rows = await db.query<{ i: number; reversals: WrittenReversal[] }>('SELECT i, reversals FROM events_commit($1::text::jsonb, $2::text)', commitWire(batch));
  return new Map(rows.map((r) => [Number(r.i), r.reversals]));
}

/**
 * Takes awards out of their program budgets, in order; returns the points granted by award key (see
 * events_reserve_budgets). The batch's members and those of the credits its refunds reverse are
 * locked first, in id order: every writer locks members before budgets.
 */
export async function reserveBudgets(
  db: Queryable,
  awards: { key: string; rule_id: string; points: number; period_start: string | null; budget_limit: number }[],
  lock: { members: string[]; reversal_entries: string[] },
): Promise<Map<string, number>> {
  const [row] = await db.query<{ grants: Record<string, number | string> }>('SELECT events_reserve_budgets($1::text::jsonb) AS grants', [JSON.stringify({ awards, ...lock })]);
  return new Map(Object.entries(row!.grants).map(([k, v]) => [k, Number(v)]));
}

export interface EventTypeRow { type: string; description: string | null; schema: Record<string, unknown> }

export async function customTypes(db: Queryable, programId: string): Promise<EventTypeRow[]> {
  return db.query<EventTypeRow>('SELECT type, description, schema FROM event_type WHERE program_id = $1 ORDER BY type', [programId]);
}

export async function insertEventType(db: Queryable, programId: string, row: EventTypeRow, now: Date): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO event_type (program_id, type, description, schema, created_at) VALUES ($1, $2, $3, $4::text::jsonb, $5)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [programId, row.type, row.description, JSON.stringify(row.schema), now.toISOString()],
  );
  return rows.length > 0;
}

export interface EventProgram { id: string; time_zone: string; currency: string; pending_days: number; rules_revision: number }

export async function loadProgram(db: Queryable, programId: string): Promise<EventProgram | undefined> {
  const [row] = await db.query<EventProgram>('SELECT id, time_zone, currency, pending_days, rules_revision FROM program WHERE id = $1', [programId]);
  return row;
}

/**
 * Locks member accounts in id order (the order every ledger write uses) and returns their award
 * versions: these members, and those who paid the orders `refundedOrders` refunds (their credits are
 * reversed in the same transaction, so they are locked now, in the same order).
 */
export async function lockAccounts(db: Queryable, memberIds: string[], programId: string, refundedOrders: string[] = []): Promise<{ member_id: string; award_version: number }[]> {
  if (refundedOrders.length === 0) {
    return db.query(
      'SELECT member_id, award_version FROM member_account WHERE member_id = ANY ($1::text[]) ORDER BY member_id FOR UPDATE',
      [memberIds],
    );
  }
  return db.query(
    `SELECT member_id, award_version FROM member_account
      WHERE member_id = ANY (ARRAY(SELECT x COLLATE "C" FROM unnest($1::text[]) x
                                   UNION SELECT e.member_id FROM event e
                                          WHERE e.program_id = $2 AND e.data ? 'order_id' AND e.data->>'order_id' = ANY ($3::text[]) AND e.type = 'order.paid'))
      ORDER BY member_id FOR UPDATE`,
    [memberIds, programId, refundedOrders],
  );
}

export interface Snapshot {
  program: EventProgram | null;
  custom_types: EventTypeRow[];
  existing: StoredEvent[];
  members: EventMember[];
  recent: AwardRow[];
  lifetime: { member_id: string; rule_id: string; points: number; count: number }[];
}

/** Everything event processing reads before evaluating, in one round trip (see events_prepare). */
export async function prepare(
  db: Queryable,
  p: { program_id: string; external_ids: string[]; member_ids: string[]; external_member_ids: string[]; usage?: { rule_ids: string[]; since: string; lifetime: boolean } },
): Promise<Snapshot> {
  const [row] = await db.query<{ s: Snapshot }>('SELECT events_prepare($1::text::jsonb) AS s', [JSON.stringify(p)]);
  return row!.s;
}
