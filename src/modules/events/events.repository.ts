import type { Queryable } from '../../db/db.ts';
import type { MemberProfile } from '../members/index.ts';
import type { EvaluationProgram } from '../programs/index.ts';
import type { AwardDayRow, AwardTotalRow } from '../rules/index.ts';
import type { EventResultView } from './events.schemas.ts';

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
  const [row] = await db.query<{ result: EventResultView }>('SELECT jf_event_view(e) AS result FROM event e WHERE e.program_id = $1 AND e.external_id = $2', [
    programId,
    externalId,
  ]);
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

export interface ProgramEventFilter {
  type?: string;
  outcome?: 'awarded' | 'reversed' | 'no_points';
  memberId?: string;
  externalId?: string;
  from?: string;
  to?: string;
}

/**
 * A program's events, newest first (occurred_at, id), each filter optional. Served by
 * event_program_idx (program_id, occurred_at DESC, id DESC); a member's by event_member_idx, an
 * external id by the program's unique key.
 */
export async function listProgramEvents(db: Queryable, programId: string, filter: ProgramEventFilter, limit: number, before: [string, string] | undefined) {
  return db.query<{ result: EventResultView; at: string; id: string }>(
    `SELECT jf_event_view(e) AS result, occurred_at::text AS at, id FROM event e
      WHERE program_id = $1
        -- always true (the column is NOT NULL): what lets event_program_idx, a partial index, serve the list
        AND occurred_at IS NOT NULL
        AND ($2::text IS NULL OR type = $2)
        AND ($3::text IS NULL OR ($3 = 'awarded' AND points > 0) OR ($3 = 'reversed' AND points < 0) OR ($3 = 'no_points' AND points = 0))
        AND ($4::text IS NULL OR member_id = $4)
        AND ($5::text IS NULL OR external_id = $5)
        AND ($6::timestamptz IS NULL OR occurred_at >= $6::timestamptz)
        AND ($7::timestamptz IS NULL OR occurred_at < $7::timestamptz)
        AND ($8::timestamptz IS NULL OR (occurred_at, id) < ($8::timestamptz, $9::text))
      ORDER BY occurred_at DESC, id DESC LIMIT $10`,
    [
      programId,
      filter.type ?? null,
      filter.outcome ?? null,
      filter.memberId ?? null,
      filter.externalId ?? null,
      filter.from ?? null,
      filter.to ?? null,
      before?.[0] ?? null,
      before?.[1] ?? null,
      limit + 1,
    ],
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
  /** For a program with a tier ladder: qualifying activity and upgrades (the flow's TierBook). */
  tiers?: {
    activity: { member_id: string[]; day: string[]; spend: number[]; points: number[]; orders: number[] };
    upgrades: { member_id: string; event: number; from: string; to: string; effective: string; value: number; threshold: number }[];
    renewals: { member_id: string; event: number; value: number; threshold: number }[];
  };
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
  /** What the event stores of its result, as JSON: awards, reversals, skipped, warnings if any (jf_event_view adds the rest when read). */
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
  ruleName: string | null;
  points: number;
  /** Whose points, award by award (stored with the reversal as they are). */
  awards: { rule_id: string; rule_version: number | null; rule_name: string | null; points: number }[];
}

/** A reversal as written: the ids of the entries the database wrote for it. */
export interface WrittenReversal {
  entry_id: string;
  rule_id: string | null;
  rule_name: string | null;
  points: number;
  awards: CommitReversal['awards'];
  /** What became of `points` (they add up to it): taken from the member, expired already, owed by an open hold, written off. */
  taken_back: number;
  expired: number;
  on_hold: number;
  written_off: number;
  reversal_entry_ids: string[];
}

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
    reversals: c.reversals.map((r) => ({
      event: r.event,
      order_id: r.orderId,
      entry_id: r.entryId,
      rule_id: r.ruleId,
      rule_name: r.ruleName,
      points: r.points,
      awards: r.awards,
    })),
    active,
    ...(c.tiers ? { tiers: c.tiers } : {}),
  };
  return [JSON.stringify(p), c.events.map((e) => e.outcome).join('\n')];
}

/** Writes a batch (see EventsCommit). Returns the reversals of refund events by event position. */
export async function commitEvents(db: Queryable, batch: EventsCommit): Promise<Map<number, WrittenReversal[]>> {
  const rows = await db.query<{ i: number; reversals: WrittenReversal[] }>(
    'SELECT i, reversals FROM events_commit($1::text::jsonb, $2::text)',
    commitWire(batch),
  );
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
  const [row] = await db.query<{ grants: Record<string, number | string> }>('SELECT events_reserve_budgets($1::text::jsonb) AS grants', [
    JSON.stringify({ awards, ...lock }),
  ]);
  return new Map(Object.entries(row!.grants).map(([k, v]) => [k, Number(v)]));
}

export interface EventTypeRow {
  type: string;
  description: string | null;
  schema: Record<string, unknown>;
}

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

/**
 * The members who paid these orders (their order.paid events): a refund reverses their credits,
 * so a batch that refunds them locks their accounts too.
 */
export async function payersOfOrders(db: Queryable, programId: string, orderIds: string[]): Promise<string[]> {
  if (orderIds.length === 0) return [];
  const rows = await db.query<{ member_id: string }>(
    `SELECT DISTINCT e.member_id FROM event e
      WHERE e.program_id = $1 AND e.data ? 'order_id' AND e.data->>'order_id' = ANY ($2::text[]) AND e.type = 'order.paid'`,
    [programId, orderIds],
  );
  return rows.map((r) => r.member_id);
}

/**
 * What events_prepare answers. Its parts are the owning modules' data, in their shapes: the
 * program (programs' EvaluationProgram), the members (members' MemberProfile with the ledger's
 * award version), usage (rules' award rows).
 */
export interface EventsSnapshot {
  program: EvaluationProgram | null;
  custom_types: EventTypeRow[];
  existing: StoredEvent[];
  /** The program's tier ladder (tiers module), null without one. */
  ladder?: LadderView | null;
  members: (MemberProfile & { award_version: number; tier_state?: TierStateView | null; segments?: string[] | null })[];
  recent: AwardDayRow[];
  lifetime: AwardTotalRow[];
}

/** What evaluation needs of a program's tier ladder: its metric, the rate of the event that upgrades, the tiers lowest first. */
export interface LadderView {
  metric: 'spend' | 'points' | 'orders';
  upgrade_event_rate: 'old' | 'new';
  tiers: { code: string; entry: number | string; multiplier: string; label: string | null }[];
}

/** A member's tier status as evaluation needs it (jf_tier_state): earned tier, override, the current window (local days) and its metric so far. */
export interface TierStateView {
  tier: string | null;
  override_tier: string | null;
  override_until: string | null;
  window_start: string;
  window_end: string;
  value: number | string;
  /** Reaching the earned tier's entry in this window would renew the status (a later calendar or membership window). */
  renewable?: boolean | null;
}

/** Tier states of members read after the snapshot (events_tier_states): by member id; {} for a program without a ladder. */
export async function tierStates(db: Queryable, programId: string, memberIds: string[], now: Date): Promise<Record<string, TierStateView>> {
  const [row] = await db.query<{ s: Record<string, TierStateView> }>('SELECT events_tier_states($1, $2::text[], $3) AS s', [
    programId,
    memberIds,
    now.toISOString(),
  ]);
  return row?.s ?? {};
}

/**
 * Everything event processing reads before evaluating, in one round trip (events_prepare, the
 * events module's SQL function): the one read of this module that spans other modules' tables
 * (program, member, member_account, rule_award) besides its own. It is one statement, so the
 * members' award versions and their usage are read at the same instant — events_commit's version
 * check then covers the usage — and a batch costs one round trip whatever its size. Reads of
 * those tables outside the snapshot go through their modules (members, ledger, programs, rules).
 */
export async function prepareEvents(
  db: Queryable,
  p: {
    program_id: string;
    external_ids: string[];
    member_ids: string[];
    external_member_ids: string[];
    usage?: { rule_ids: string[]; since: string; lifetime: boolean };
    /** the tier windows' today */
    now?: string;
    /** read the members' segments (for rules that target segments) */
    segments?: boolean;
  },
): Promise<EventsSnapshot> {
  const [row] = await db.query<{ s: EventsSnapshot }>('SELECT events_prepare($1::text::jsonb) AS s', [JSON.stringify(p)]);
  return row!.s;
}
