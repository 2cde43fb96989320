import type { Static } from 'typebox';
import type { Db, Queryable } from '../../db/db.ts';
import { DomainError, fieldError, fromDatabaseError } from '../../shared/errors.ts';
import { type IdempotencyContext, idempotencyParams, retryingIdempotencyRace, type WriteResult } from '../../shared/idempotency.ts';
import { ledgerOperations } from '../../shared/metrics.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import * as repo from './ledger.repository.ts';
import type {
  AdjustRequest, AdjustResult, Balance, CreditRequest, CreditResult, DebitRequest, DebitResult, Entry, EntryListQuery, Hold,
  HoldListQuery, HoldResolveResult, HoldRequest, HoldResult, Lot, LotListQuery, ReverseRequest, ReverseResult, TransferRequest,
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
}

async function run<T>(db: Queryable, operation: string, fn: repo.LedgerFunction, p: Record<string, unknown>, ctx: WriteContext): Promise<WriteResult<T>> {
  try {
    const params = { ...p, actor: p.actor ?? ctx.actor ?? null, now: ctx.now.toISOString(), ...idempotencyParams(ctx.idempotency) };
    const result = await retryingIdempotencyRace(() => repo.callLedger<T>(db, fn, params));
    ledgerOperations.inc({ operation, outcome: result.replayed ? 'replayed' : 'ok' });
    return result;
  } catch (err) {
    const domain = fromDatabaseError(err);
    ledgerOperations.inc({ operation, outcome: domain?.code ?? 'error' });
    throw domain ?? err;
  }
}

export function credit(db: Queryable, memberId: string, req: CreditRequest, ctx: WriteContext) {
  if (req.available_at !== undefined && req.pending_days !== undefined) throw fieldError('/pending_days', 'cannot be combined with available_at');
  return run<Static<typeof CreditResult>>(db, 'credit', 'ledger_credit', { ...req, member_id: memberId }, ctx);
}

export function debit(db: Queryable, memberId: string, req: DebitRequest, ctx: WriteContext) {
  return run<Static<typeof DebitResult>>(db, 'debit', 'ledger_debit', { ...req, member_id: memberId }, ctx);
}

export function hold(db: Queryable, memberId: string, req: HoldRequest, ctx: WriteContext) {
  return run<Static<typeof HoldResult>>(db, 'hold', 'ledger_hold', { ...req, member_id: memberId }, ctx);
}

export function capture(db: Queryable, holdId: string, req: { points?: number; reason?: string; metadata?: Record<string, unknown> }, ctx: WriteContext) {
  return run<Static<typeof HoldResolveResult>>(db, 'capture', 'ledger_hold_resolve', { ...req, hold_id: holdId, action: 'capture' }, ctx);
}

export function voidHold(db: Queryable, holdId: string, req: { reason?: string; metadata?: Record<string, unknown> }, ctx: WriteContext) {
  return run<Static<typeof HoldResolveResult>>(db, 'void', 'ledger_hold_resolve', { ...req, hold_id: holdId, action: 'void' }, ctx);
}

export function reverse(db: Queryable, entryId: string, req: ReverseRequest, ctx: WriteContext) {
  return run<Static<typeof ReverseResult>>(db, 'reverse', 'ledger_reverse', { ...req, entry_id: entryId }, ctx);
}

export function adjust(db: Queryable, memberId: string, req: AdjustRequest, ctx: WriteContext) {
  return run<Static<typeof AdjustResult>>(db, 'adjust', 'ledger_adjust', { ...req, member_id: memberId }, ctx);
}

export function transfer(db: Queryable, req: TransferRequest, ctx: WriteContext) {
  return run<Static<typeof TransferResult>>(db, 'transfer', 'ledger_transfer', { ...req }, ctx);
}

/** Qualifying activity without points: extends expiry under the activity_extended policy. */
export function recordActivity(db: Queryable, memberId: string, ctx: WriteContext) {
  return run<BalanceView>(db, 'activity', 'ledger_record_activity', { member_id: memberId }, { ...ctx, idempotency: undefined });
}

function memberNotFound(memberId: string) {
  return new DomainError('MEMBER_NOT_FOUND', `No member ${memberId}`, { member_id: memberId });
}

export async function getBalance(db: Queryable, memberId: string, now: Date): Promise<BalanceView> {
  const balance = await repo.balanceOf<BalanceView>(db, memberId, now);
  if (!balance) throw memberNotFound(memberId);
  return balance;
}

export async function getEntry(db: Queryable, entryId: string): Promise<EntryView> {
  const entry = await repo.findEntry<EntryView>(db, entryId);
  if (!entry) throw new DomainError('ENTRY_NOT_FOUND', `No entry ${entryId}`, { entry_id: entryId });
  return entry;
}

export async function listEntries(db: Queryable, memberId: string, query: EntryListQuery): Promise<Page<EntryView>> {
  if (!(await repo.memberExists(db, memberId))) throw memberNotFound(memberId);
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'seq']) as [string, number] | undefined;
  const rows = await repo.listEntries<EntryView>(db, memberId, query.kind, limit, before);
  const page = toPage(rows, limit, (r) => [r.at, r.seq]);
  return { ...page, data: page.data.map((r) => r.e) };
}

export async function listLots(db: Queryable, memberId: string, query: LotListQuery, now: Date): Promise<Page<LotView>> {
  if (!(await repo.memberExists(db, memberId))) throw memberNotFound(memberId);
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const rows = await repo.listLots<LotView>(db, memberId, (query.state ?? 'open') === 'open', now, limit, before);
  const page = toPage(rows, limit, (r) => [r.at, r.id]);
  return { ...page, data: page.data.map((r) => r.l) };
}

export async function getHold(db: Queryable, holdId: string, now: Date): Promise<HoldView> {
  const found = await repo.findHold<HoldView>(db, holdId, now);
  if (!found) throw new DomainError('HOLD_NOT_FOUND', `No hold ${holdId}`, { hold_id: holdId });
  return found;
}

export async function listHolds(db: Queryable, memberId: string, query: HoldListQuery, now: Date): Promise<Page<HoldView>> {
  if (!(await repo.memberExists(db, memberId))) throw memberNotFound(memberId);
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
  for (let n = await repo.purgeIdempotencyKeys(db, cutoff, batch); n > 0; n = await repo.purgeIdempotencyKeys(db, cutoff, batch)) report.idempotency_keys_purged += n;
  return report;
}
