import type { Db, Queryable } from '../../db/db.ts';
import type { EventInput, EventResultView, EventsSnapshot, PlannedReversal } from '../../modules/events/index.ts';
import type { MemberProfile } from '../../modules/members/index.ts';
import type { Evaluation, RuleCache, RuleSet } from '../../modules/rules/index.ts';
import { DomainError, type FieldParams, type FieldRule } from '../../shared/errors.ts';
import type { TierBook, TierRefund } from './tiers.ts';

/** What ingestion needs: the database and the compiled rules of every program. */
export interface IngestDeps {
  db: Db;
  rules: RuleCache;
}

/** One event of the request, with the JSON pointer of where it sits in it (`/events/3`, or '' for a single event). */
export interface IngestItem {
  index: number;
  input: EventInput;
  prefix: string;
}

/** What became of one event: 201 processed, 200 processed before (its first result), 4xx refused (`error`). */
export interface ItemOutcome {
  index: number;
  event_id: string | null;
  status: number;
  result?: EventResultView;
  /** The result as JSON, when it was serialized already (for storage): a batch response reuses it. */
  json?: string;
  error?: DomainError;
}

/** A member as a run works with them: the profile evaluation needs, and the account's award version (what the commit checks). */
export interface EventMember extends MemberProfile {
  award_version: number;
  /** The member's segments (read only when a rule targets segments). */
  segments?: string[] | null;
}

/** What a run starts from: everything read before evaluating. */
export interface Snapshot extends EventsSnapshot {
  /** The rule set whose limited rules `recent` and `lifetime` cover, if one was compiled for the program before. */
  usageFor?: RuleSet;
}

/** A valid event on its way through the steps: each step fills in what it found out. */
export interface Prepared extends IngestItem {
  occurredAt: Date;
  data: Record<string, unknown>;
  /** members step */
  member?: EventMember;
  /** refunds: the credits this refund takes points back from */
  reversals?: PlannedReversal[];
  /** refunds, for a program with a tier ladder: what the refund takes off the qualifying metric */
  tierRefund?: TierRefund;
  /** evaluate step */
  evaluation?: Evaluation;
}

/** One run of steps 2–6 (a run is repeated, from what is stored now, when another writer got there first). */
export interface Run {
  /** The pool (the optimistic first attempt) or the run's own transaction (a contended retry). */
  db: Queryable;
  rules: RuleCache;
  snapshot: Snapshot;
  program: NonNullable<Snapshot['program']>;
  now: Date;
  /** Decided so far, by index; a step that refuses an event records why here. */
  outcomes: Map<number, ItemOutcome>;
  /** A contended retry: the members' accounts are locked before anything is read of them. */
  lockFirst: boolean;
  /** Runs `fn` in a transaction: a new one (first attempt), or the run's own. */
  begin: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>;
  /** The program's tier ladder and its members' tiers as the batch moves them (none without a ladder). */
  tiers?: TierBook;
}

export function refuse(outcomes: Map<number, ItemOutcome>, p: { index: number; input: EventInput }, error: DomainError): void {
  outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: error.status, error });
}

/** A 400 on one field of the request (or another code of the same shape). */
export function fieldProblem(
  path: string,
  message: string,
  rule?: FieldRule,
  params: FieldParams = {},
  code: 'VALIDATION_FAILED' | 'UNKNOWN_EVENT_TYPE' = 'VALIDATION_FAILED',
): DomainError {
  return new DomainError(code, `${path} ${message}`, {}, [{ path, location: 'body', message, ...(rule ? { rule, params } : {}) }]);
}
