import type { Static } from 'typebox';
import type { Db, Queryable } from '../../db/db.ts';
import { DomainError, fieldError, fromDatabaseError } from '../../shared/errors.ts';
import { normalizeDateTime } from '../../shared/formats.ts';
import {
  type IdempotencyContext,
  idempotencyParams,
  purgeIdempotencyKeys,
  replayAfterConflict,
  retryingIdempotencyRace,
  storedResult,
  type WriteResult,
} from '../../shared/idempotency.ts';
import { ledgerOperations } from '../../shared/metrics.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { firstOutOfScope, type ProgramOf, type ProgramScope, rememberOwner, visible } from '../api-keys/index.ts';
import { compactDailyRollups } from './ledger.dashboard.ts';
import * as repo from './ledger.repository.ts';
import type {
  AdjustRequest,
  AdjustResult,
  Balance,
  CreditRequest,
  CreditResult,
  DebitRequest,
  DebitResult,
  Entry,
  EntryListQuery,
  Hold,
  HoldListQuery,
  HoldRequest,
  HoldResolveResult,
  HoldResult,
  Lot,
  LotListQuery,
  ReverseRequest,
  ReverseResult,
  TransferRequest,
  TransferResult,
} from './ledger.schemas.ts';

export type BalanceView = Static<typeof Balance>;
export type EntryView = Static<typeof Entry>;
export type LotView = Static<typeof Lot>;
export type HoldView = Static<typeof Hold>;

/** Who asked, and the key that makes it safe to retry. */
export interface WriteContext {
  now: Date;
  actor?: string;
  idempotency?: IdempotencyContext;
  /** The API key's programs (absent or null: the whole deployment). */
  programs?: ProgramScope;
}

const NOT_FOUND = {
  member: (id: string) => new DomainError('MEMBER_NOT_FOUND', undefined, { member_id: id }),
  hold: (id: string) => new DomainError('HOLD_NOT_FOUND', undefined, { hold_id: id }),
  entry: (id: string) => new DomainError('ENTRY_NOT_FOUND', undefined, { entry_id: id }),
} as const;

type LedgerResource = { kind: 'member' | 'hold' | 'entry'; id: string };

/** The program of a member (its account), hold or entry, from the ledger's own tables. */
const programOf: ProgramOf<LedgerResource> = (db, r) =>
  r.kind === 'member' ? repo.programOfMember(db, r.id) : r.kind === 'hold' ? repo.programOfHold(db, r.id) : repo.programOfEntry(db, r.id);

/**
 * A key limited to programs, on another program's member, hold or entry: answered as the ledger
 * function answers an unknown one (jf_raise: the code's title, the id), after what the function
 * checks first, the idempotency key (a key reused with another request is 409 either way).
 */
async function refuseOutOfScope<T>(db: Queryable, ctx: WriteContext, resources: LedgerResource[]): Promise<WriteResult<T> | undefined> {
  const refused = await firstOutOfScope(db, ctx.programs ?? null, resources, programOf);
  if (!refused) return undefined;
  const stored = ctx.idempotency ? await storedResult<T>(db, ctx.idempotency) : undefined;
  if (stored) return stored;
  throw NOT_FOUND[refused.kind](refused.id);
}

/** A key limited to programs will likely use the hold or entry it just made: remember their program. */
function rememberWritten(body: unknown): void {
  for (const key of ['hold', 'entry'] as const) {
    const o = (body as Record<string, { id?: unknown; program_id?: unknown } | undefined> | null)?.[key];
    if (typeof o?.id === 'string' && typeof o.program_id === 'string') rememberOwner(o.id, o.program_id);
  }
}

async function run<T>(
  db: Queryable,
  operation: string,
  fn: repo.LedgerFunction,
  p: Record<string, unknown>,
  ctx: WriteContext,
  resources: LedgerResource[] = [],
): Promise<WriteResult<T>> {
  try {
    const params = { ...p, actor: p.actor ?? ctx.actor ?? null, now: ctx.now.toISOString(), ...idempotencyParams(ctx.idempotency) };
    const refused = ctx.programs ? await refuseOutOfScope<T>(db, ctx, resources) : undefined;
    const result = refused ?? (await retryingIdempotencyRace(() => repo.callLedger<T>(db, fn, params)));
    if (ctx.programs) rememberWritten(result.body);
    ledgerOperations.inc({ operation, outcome: result.replayed ? 'replayed' : 'ok' });
    return result;
  } catch (err) {
    const domain = err instanceof DomainError ? err : fromDatabaseError(err);
    const replay = await replayAfterConflict<T>(db, ctx.idempotency, domain);
    if (replay) {
      ledgerOperations.inc({ operation, outcome: 'replayed' });
      return replay;
    }
    ledgerOperations.inc({ operation, outcome: domain?.code ?? 'error' });
    throw domain ?? err;
  }
}

export function credit(db: Queryable, memberId: string, req: CreditRequest, ctx: WriteContext) {
  if (req.available_at !== undefined && req.pending_days !== undefined)
    throw fieldError('/pending_days', 'cannot be combined with available_at', 'not_with', { field: 'available_at' });
  // instants as the API writes them (UTC, milliseconds): what the database stores is what was validated
  const times: { available_at?: string; expires_at?: string } = {};
  if (req.available_at !== undefined) times.available_at = normalizeDateTime(req.available_at);
  if (typeof req.expires_at === 'string') times.expires_at = normalizeDateTime(req.expires_at);
  return run<Static<typeof CreditResult>>(db, 'credit', 'ledger_credit', { ...req, ...times, member_id: memberId }, ctx, [{ kind: 'member', id: memberId }]);
}

export function debit(db: Queryable, memberId: string, req: DebitRequest, ctx: WriteContext) {
  return run<Static<typeof DebitResult>>(db, 'debit', 'ledger_debit', { ...req, member_id: memberId }, ctx, [{ kind: 'member', id: memberId }]);
}

export function hold(db: Queryable, memberId: string, req: HoldRequest, ctx: WriteContext) {
  return run<Static<typeof HoldResult>>(db, 'hold', 'ledger_hold', { ...req, member_id: memberId }, ctx, [{ kind: 'member', id: memberId }]);
}

export function capture(db: Queryable, holdId: string, req: { points?: number; reason?: string; metadata?: Record<string, unknown> }, ctx: WriteContext) {
  return run<Static<typeof HoldResolveResult>>(db, 'capture', 'ledger_hold_resolve', { ...req, hold_id: holdId, action: 'capture' }, ctx, [
    { kind: 'hold', id: holdId },
  ]);
}

export function voidHold(db: Queryable, holdId: string, req: { reason?: string; metadata?: Record<string, unknown> }, ctx: WriteContext) {
  return run<Static<typeof HoldResolveResult>>(db, 'void', 'ledger_hold_resolve', { ...req, hold_id: holdId, action: 'void' }, ctx, [
    { kind: 'hold', id: holdId },
  ]);
}

export function reverse(db: Queryable, entryId: string, req: ReverseRequest, ctx: WriteContext) {
  return run<Static<typeof ReverseResult>>(db, 'reverse', 'ledger_reverse', { ...req, entry_id: entryId }, ctx, [{ kind: 'entry', id: entryId }]);
}

export function adjust(db: Queryable, memberId: string, req: AdjustRequest, ctx: WriteContext) {
  return run<Static<typeof AdjustResult>>(db, 'adjust', 'ledger_adjust', { ...req, member_id: memberId }, ctx, [{ kind: 'member', id: memberId }]);
}

export function transfer(db: Queryable, req: TransferRequest, ctx: WriteContext) {
  // ledger_transfer refuses a transfer to oneself first, then looks both members up in id order
  const { from_member_id: from, to_member_id: to } = req;
  const members = from === to ? [] : [from, to].sort().map((id) => ({ kind: 'member' as const, id }));
  return run<Static<typeof TransferResult>>(db, 'transfer', 'ledger_transfer', { ...req }, ctx, members);
}

/**
 * Sets a member's status (members' setMemberStatus calls it in its transaction) with what it does
 * to the points: closing a member forfeits what is left and writes off its debt; a closed member
 * stays closed (MEMBER_CLOSED), and one with open holds cannot close (MEMBER_HAS_OPEN_HOLDS).
 */
export async function applyMemberStatus(db: Queryable, memberId: string, status: string, reason: string | undefined, now: Date): Promise<void> {
  await repo.setStatus(db, memberId, status, reason, now);
}

/** Qualifying activity without points: extends expiry under the activity_extended policy. */
export function recordActivity(db: Queryable, memberId: string, ctx: WriteContext) {
  return run<BalanceView>(db, 'activity', 'ledger_record_activity', { member_id: memberId }, { ...ctx, idempotency: undefined }, [
    { kind: 'member', id: memberId },
  ]);
}

/** The member exists and is one of the key's programs' (one query, as memberExists was). */
async function memberVisible(db: Queryable, memberId: string, scope: ProgramScope): Promise<boolean> {
  const programId = await repo.programOfMember(db, memberId);
  return programId !== undefined && visible(scope, memberId, programId);
}

function memberNotFound(memberId: string) {
  return new DomainError('MEMBER_NOT_FOUND', `No member ${memberId}`, { member_id: memberId });
}

export async function getBalance(db: Queryable, memberId: string, now: Date, scope: ProgramScope = null): Promise<BalanceView> {
  if (await firstOutOfScope(db, scope, [{ kind: 'member', id: memberId }], programOf)) throw memberNotFound(memberId);
  const balance = await repo.balanceOf<BalanceView>(db, memberId, now);
  if (!balance) throw memberNotFound(memberId);
  return balance;
}

export async function getEntry(db: Queryable, entryId: string, scope: ProgramScope = null): Promise<EntryView> {
  const entry = await repo.findEntry<EntryView>(db, entryId);
  if (!entry || !visible(scope, entryId, entry.program_id)) throw new DomainError('ENTRY_NOT_FOUND', `No entry ${entryId}`, { entry_id: entryId });
  return entry;
}

export async function listEntries(db: Queryable, memberId: string, query: EntryListQuery, scope: ProgramScope = null): Promise<Page<EntryView>> {
  if (!(await memberVisible(db, memberId, scope))) throw memberNotFound(memberId);
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'seq']) as [string, number] | undefined;
  const rows = await repo.listEntries<EntryView>(db, memberId, query.kind, limit, before);
  const page = toPage(rows, limit, (r) => [r.at, r.seq]);
  return { ...page, data: page.data.map((r) => r.e) };
}

export async function listLots(db: Queryable, memberId: string, query: LotListQuery, now: Date, scope: ProgramScope = null): Promise<Page<LotView>> {
  if (!(await memberVisible(db, memberId, scope))) throw memberNotFound(memberId);
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const rows = await repo.listLots<LotView>(db, memberId, (query.state ?? 'open') === 'open', now, limit, before);
  const page = toPage(rows, limit, (r) => [r.at, r.id]);
  return { ...page, data: page.data.map((r) => r.l) };
}

export async function getHold(db: Queryable, holdId: string, now: Date, scope: ProgramScope = null): Promise<HoldView> {
  const found = await repo.findHold<HoldView>(db, holdId, now);
  if (!found || !visible(scope, holdId, found.program_id)) throw new DomainError('HOLD_NOT_FOUND', `No hold ${holdId}`, { hold_id: holdId });
  return found;
}

export async function listHolds(db: Queryable, memberId: string, query: HoldListQuery, now: Date, scope: ProgramScope = null): Promise<Page<HoldView>> {
  if (!(await memberVisible(db, memberId, scope))) throw memberNotFound(memberId);
  const limit = query.limit ?? 20;
  const [before] = (decodeCursor(query.cursor, ['id']) ?? []) as [string?];
  const rows = await repo.listHolds<HoldView>(db, memberId, query.status, now, limit, before);
  const page = toPage(rows, limit, (r) => [r.id]);
  return { ...page, data: page.data.map((r) => r.h) };
}

export interface SweepReport {
  holds_released: number;
  lots_expired: number;
  idempotency_keys_purged: number;
  as_of: string;
}

/**
 * Runs the time-driven jobs until there is nothing left due: release holds past their deadline,
 * expire lots past expires_at, purge old idempotency keys. Safe to run on several instances at once.
 */
export async function sweep(db: Db, now: Date, options: { batch?: number; idempotencyRetentionDays?: number } = {}): Promise<SweepReport> {
  const batch = options.batch ?? 5000;
  const report: SweepReport = { holds_released: 0, lots_expired: 0, idempotency_keys_purged: 0, as_of: now.toISOString() };
  for (let n = await repo.releaseDueHolds(db, now, batch); n > 0; n = await repo.releaseDueHolds(db, now, batch)) report.holds_released += n;
  for (let n = await repo.expireDueLots(db, now, batch); n > 0; n = await repo.expireDueLots(db, now, batch)) report.lots_expired += n;
  const cutoff = new Date(now.getTime() - (options.idempotencyRetentionDays ?? 30) * 86_400_000);
  for (let n = await purgeIdempotencyKeys(db, cutoff, batch); n > 0; n = await purgeIdempotencyKeys(db, cutoff, batch)) report.idempotency_keys_purged += n;
  // the dashboard's rollup deltas, folded into one row per program and day (ledger.dashboard.ts)
  await compactDailyRollups(db);
  return report;
}
