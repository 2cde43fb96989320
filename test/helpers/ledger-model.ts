/**
 * A reference model of the points ledger, in memory, for the model-based test (ledger.model.test.ts).
 *
 * It implements the ledger's documented semantics directly on plain objects: lots, holds with their
 * lot allocations, debt, lifetime counters and the double-entry journal (aggregated per member by
 * kind and accounts). Times are epoch milliseconds. Ids (lots, holds, entries) are assigned by the
 * real system and handed in by the test, because the allocation order breaks ties on the lot id.
 *
 * Every operation mutates the model in place and throws ModelError with the API error code when the
 * real operation must fail; callers run operations on a clone() and keep it only on success (a
 * failed write changes nothing, not even the lazy hold release and debt repayment done first).
 */

export const SECOND_MS = 1000;
export const DAY_MS = 86_400_000;
/** Idempotency keys older than this are purged by the sweep (ledger.service.ts sweep default). */
export const IDEMPOTENCY_RETENTION_MS = 30 * DAY_MS;

export type ExpiryPolicy =
  | { type: 'never' }
  | { type: 'rolling'; months: number }
  | { type: 'end_of_period'; unit: 'month' | 'quarter' | 'year'; offset: number };

export type NegativeBalancePolicy = 'write_off' | 'allow_negative';

/** The program settings the ledger reads. The model assumes time_zone 'UTC'. */
export interface ProgramRules {
  expiryPolicy: ExpiryPolicy;
  pendingDays: number;
  negativeBalancePolicy: NegativeBalancePolicy;
  holdTimeoutSeconds: number;
}

export class ModelError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

export interface ModelLot {
  id: string;
  member: string;
  entryId: string;
  amount: number;
  remaining: number;
  held: number;
  spent: number;
  expired: number;
  reversed: number;
  /** Reversal requested against this credit so far (including written-off parts). */
  reversalTotal: number;
  /** Reversal owed on points of this lot that were held when it was asked (write_off): settled when the hold resolves. */
  reversalHeld: number;
  earnedAt: number;
  availableAt: number;
  expiresAt: number | null;
}

export type HoldStatus = 'open' | 'captured' | 'voided' | 'expired';

export interface ModelHold {
  id: string;
  member: string;
  amount: number;
  captured: number;
  status: HoldStatus;
  createdAt: number;
  expiresAt: number;
  allocations: { lotId: string; amount: number }[];
}

export type MemberStatus = 'active' | 'frozen';

export type EventKind = 'available' | 'expiry' | 'held-expiry' | 'hold-deadline';

export interface ModelMember {
  id: string;
  status: MemberStatus;
  debt: number;
  lifetimeEarned: number;
  lifetimeSpent: number;
  lifetimeExpired: number;
}

/** A credit entry (something with a lot) that a reversal may target. */
export interface ModelCredit {
  entryId: string;
  member: string;
  kind: 'earn' | 'adjust' | 'transfer_in';
  /** The lot of an earn or positive adjust; transfer_in entries have several lots and none here. */
  lotId: string | null;
}

/** The balance fields the test compares with GET balance. */
export interface BalanceFields {
  available: number;
  pending: number;
  held: number;
  debt: number;
  lifetime_earned: number;
  lifetime_spent: number;
  lifetime_expired: number;
}

/** Entries of one member aggregated by `kind debit>credit`. */
export type EntryTotals = Record<string, { count: number; amount: number }>;

export interface ReversalSummary {
  requested: number;
  from_lot: number;
  from_expired: number;
  from_balance: number;
  to_debt: number;
  on_hold: number;
  written_off: number;
}

/** Adds calendar months in UTC the way PostgreSQL adds an interval of months (day clamped to the month's end). */
export function addMonthsUtc(ms: number, months: number): number {
  const d = new Date(ms);
  const m = d.getUTCMonth() + months;
  const year = d.getUTCFullYear() + Math.floor(m / 12);
  const month = ((m % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(year, month, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** expires_at of a lot earned at `earnedAt` under the policy, in UTC. */
export function policyExpiry(policy: ExpiryPolicy, earnedAt: number): number | null {
  switch (policy.type) {
    case 'never':
      return null;
    case 'rolling':
      return addMonthsUtc(earnedAt, policy.months);
    case 'end_of_period': {
      const d = new Date(earnedAt);
      const y = d.getUTCFullYear();
      const m = d.getUTCMonth();
      const step = policy.unit === 'month' ? 1 : policy.unit === 'quarter' ? 3 : 12;
      const start = policy.unit === 'month' ? Date.UTC(y, m, 1) : policy.unit === 'quarter' ? Date.UTC(y, m - (m % 3), 1) : Date.UTC(y, 0, 1);
      return addMonthsUtc(start, step * (policy.offset + 1));
    }
  }
}

/** Allocation order: soonest expiry first, never-expiring last, then oldest, then lot id. */
export function lotOrder(a: ModelLot, b: ModelLot): number {
  if (a.expiresAt !== b.expiresAt) {
    if (a.expiresAt === null) return 1;
    if (b.expiresAt === null) return -1;
    return a.expiresAt - b.expiresAt;
  }
  if (a.earnedAt !== b.earnedAt) return a.earnedAt - b.earnedAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function isLive(lot: ModelLot, now: number): boolean {
  return lot.expiresAt === null || lot.expiresAt > now;
}

function isSpendable(lot: ModelLot, now: number): boolean {
  return lot.availableAt <= now && isLive(lot, now);
}

export class LedgerModel {
  rules: ProgramRules;
  members: ModelMember[];
  lots: ModelLot[] = [];
  holds: ModelHold[] = [];
  credits: ModelCredit[] = [];
  entries: Record<string, EntryTotals> = {};

  constructor(rules: ProgramRules, memberIds: string[]) {
    this.rules = rules;
    this.members = memberIds.map((id) => ({ id, status: 'active', debt: 0, lifetimeEarned: 0, lifetimeSpent: 0, lifetimeExpired: 0 }));
    for (const id of memberIds) this.entries[id] = {};
  }

  clone(): LedgerModel {
    const copy = Object.create(LedgerModel.prototype) as LedgerModel;
    return Object.assign(copy, structuredClone({ ...this }));
  }

  // ---- lookups ------------------------------------------------------------------------------

  member(id: string): ModelMember {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new Error(`model: no member ${id}`);
    return m;
  }

  lotById(id: string): ModelLot {
    const l = this.lots.find((x) => x.id === id);
    if (!l) throw new Error(`model: no lot ${id}`);
    return l;
  }

  holdById(id: string): ModelHold {
    const h = this.holds.find((x) => x.id === id);
    if (!h) throw new Error(`model: no hold ${id}`);
    return h;
  }

  lotsOf(member: string): ModelLot[] {
    return this.lots.filter((l) => l.member === member);
  }

  spendable(member: string, now: number): number {
    return this.lotsOf(member)
      .filter((l) => l.remaining > 0 && isSpendable(l, now))
      .reduce((s, l) => s + l.remaining, 0);
  }

  /** What the member could spend at `now` (GET balance available). */
  available(member: string, now: number): number {
    return this.balance(member, now).available;
  }

  /** The balance as of `now`, exact in time: no job needs to have run. */
  balance(member: string, now: number): BalanceFields {
    const m = this.member(member);
    const lots = this.lotsOf(member).filter((l) => l.remaining > 0);
    let spendable = 0;
    let pending = 0;
    for (const l of lots) {
      if (!isLive(l, now)) continue;
      if (l.availableAt <= now) spendable += l.remaining;
      else pending += l.remaining;
    }
    let held = 0;
    for (const h of this.holds) {
      if (h.member !== member || h.status !== 'open') continue;
      if (h.expiresAt > now) {
        held += h.amount;
        continue;
      }
      // timed out but not released yet: its points are the member's again if their lot is live
      for (const a of h.allocations) {
        const l = this.lotById(a.lotId);
        if (!isLive(l, now)) continue;
        if (l.availableAt <= now) spendable += a.amount;
        else pending += a.amount;
      }
    }
    return {
      available: spendable - m.debt,
      pending,
      held,
      debt: m.debt,
      lifetime_earned: m.lifetimeEarned,
      lifetime_spent: m.lifetimeSpent,
      lifetime_expired: m.lifetimeExpired,
    };
  }

  /** Stored ledger balance of the member account: lots remaining minus debt (= sum of entry deltas). */
  ledgerBalance(member: string): number {
    return this.lotsOf(member).reduce((s, l) => s + l.remaining, 0) - this.member(member).debt;
  }

  /** Sum of the deltas of the member's entries according to the model's journal. */
  entryDelta(member: string): number {
    let sum = 0;
    for (const [key, t] of Object.entries(this.entries[member] ?? {})) {
      const [, accounts] = key.split(' ');
      const [debit, credit] = accounts!.split('>');
      if (credit === 'member') sum += t.amount;
      else if (debit === 'member') sum -= t.amount;
    }
    return sum;
  }

  /**
   * Upcoming instants at which something changes by itself, soonest first, each with what happens:
   * a lot becomes available, a lot expires (`held-expiry` when some of its points are held), a hold
   * reaches its deadline. The test moves the clock exactly onto them.
   */
  events(now: number): { at: number; kind: EventKind }[] {
    const out: { at: number; kind: EventKind }[] = [];
    for (const l of this.lots) {
      if (l.remaining === 0 && l.held === 0) continue;
      if (l.availableAt > now) out.push({ at: l.availableAt, kind: 'available' });
      if (l.expiresAt !== null && l.expiresAt > now) out.push({ at: l.expiresAt, kind: l.held > 0 ? 'held-expiry' : 'expiry' });
    }
    for (const h of this.holds) if (h.status === 'open' && h.expiresAt > now) out.push({ at: h.expiresAt, kind: 'hold-deadline' });
    return out.sort((a, b) => a.at - b.at);
  }

  // ---- internals ----------------------------------------------------------------------------

  private post(member: string, kind: string, debit: string, credit: string, amount: number): void {
    if (amount <= 0) throw new Error(`model: entry ${kind} of ${amount}`);
    const totals = (this.entries[member] ??= {});
    const key = `${kind} ${debit}>${credit}`;
    const t = (totals[key] ??= { count: 0, amount: 0 });
    t.count += 1;
    t.amount += amount;
  }

  /** Spendable lots in allocation order with how much to take from each to reach `points`. */
  private takeLots(member: string, points: number, now: number): { lot: ModelLot; take: number }[] {
    const out: { lot: ModelLot; take: number }[] = [];
    let left = points;
    const lots = this.lotsOf(member)
      .filter((l) => l.remaining > 0 && isSpendable(l, now))
      .sort(lotOrder);
    for (const lot of lots) {
      if (left <= 0) break;
      const take = Math.min(lot.remaining, left);
      out.push({ lot, take });
      left -= take;
    }
    if (left > 0) throw new Error(`model: takeLots short by ${left}`);
    return out;
  }

  private requireActive(m: ModelMember): void {
    if (m.status === 'frozen') throw new ModelError('MEMBER_FROZEN');
  }

  private requireAvailable(member: string, points: number, now: number): void {
    if (this.spendable(member, now) - this.member(member).debt < points) throw new ModelError('INSUFFICIENT_POINTS');
  }

  /** Capture `capture` points of the hold (soonest-expiring allocations first), return the rest. */
  private resolveHold(h: ModelHold, capture: number, status: HoldStatus, now: number): void {
    const m = this.member(h.member);
    let need = capture;
    let captured = 0;
    let released = 0;
    let reversedNow = 0;
    let writtenOffNow = 0;
    const expiredParts: number[] = [];
    const allocations = h.allocations.map((a) => ({ a, lot: this.lotById(a.lotId) })).sort((x, y) => lotOrder(x.lot, y.lot));
    for (const { a, lot } of allocations) {
      const cap = Math.min(a.amount, need);
      need -= cap;
      // a reversal owed on this lot's held points is paid by released points first; captured ones are written off
      const owed = Math.min(lot.reversalHeld, a.amount);
      const relRev = Math.min(owed, a.amount - cap);
      const rel = a.amount - cap - relRev;
      // points returned to a lot that expired while they were held expire at once
      const exp = lot.expiresAt !== null && lot.expiresAt <= now ? rel : 0;
      lot.held -= a.amount;
      lot.spent += cap;
      lot.reversed += relRev;
      lot.reversalHeld -= owed;
      lot.remaining += rel - exp;
      lot.expired += exp;
      captured += cap;
      released += rel;
      reversedNow += relRev;
      writtenOffNow += owed - relRev;
      if (exp > 0) expiredParts.push(exp);
    }
    if (captured > 0) this.post(h.member, 'capture', 'member_held', 'redeemed', captured);
    if (released > 0) this.post(h.member, 'release', 'member_held', 'member', released);
    if (reversedNow > 0) this.post(h.member, 'reverse', 'member_held', 'reversed', reversedNow);
    if (writtenOffNow > 0) this.post(h.member, 'write_off', 'written_off', 'reversed', writtenOffNow);
    for (const exp of expiredParts) {
      this.post(h.member, 'expire', 'member', 'expired', exp);
      m.lifetimeExpired += exp;
    }
    m.lifetimeSpent += captured;
    h.status = status;
    h.captured = captured;
  }

  /** Repay debt from spendable lots (no entry: the balance does not change). */
  private settleDebt(member: string, now: number): void {
    const m = this.member(member);
    if (m.debt === 0) return;
    const take = Math.min(m.debt, this.spendable(member, now));
    if (take === 0) return;
    for (const t of this.takeLots(member, take, now)) {
      t.lot.remaining -= t.take;
      t.lot.spent += t.take;
    }
    m.debt -= take;
  }

  /** What every write does first: release the member's timed-out holds, then repay debt. */
  private lock(member: string, now: number): ModelMember {
    const due = this.holds.filter((h) => h.member === member && h.status === 'open' && h.expiresAt <= now).sort((a, b) => a.expiresAt - b.expiresAt);
    for (const h of due) this.resolveHold(h, 0, 'expired', now);
    this.settleDebt(member, now);
    return this.member(member);
  }

  // ---- operations ---------------------------------------------------------------------------

  credit(member: string, points: number, pendingDays: number | undefined, now: number, ids: { entryId: string; lotId: string }): ModelLot {
    const m = this.lock(member, now);
    const availableAt = now + (pendingDays ?? this.rules.pendingDays) * DAY_MS;
    const expiresAt = policyExpiry(this.rules.expiryPolicy, now);
    if (expiresAt !== null && expiresAt <= Math.max(now, availableAt)) throw new ModelError('INVALID_EXPIRY');
    const lot = this.newLot(member, ids.lotId, ids.entryId, points, now, availableAt, expiresAt);
    this.post(member, 'earn', 'issued', 'member', points);
    m.lifetimeEarned += points;
    this.credits.push({ entryId: ids.entryId, member, kind: 'earn', lotId: lot.id });
    this.settleDebt(member, now);
    return lot;
  }

  debit(member: string, points: number, now: number): void {
    const m = this.lock(member, now);
    this.requireActive(m);
    this.requireAvailable(member, points, now);
    for (const t of this.takeLots(member, points, now)) {
      t.lot.remaining -= t.take;
      t.lot.spent += t.take;
    }
    this.post(member, 'spend', 'member', 'redeemed', points);
    m.lifetimeSpent += points;
  }

  hold(member: string, points: number, expiresInSeconds: number | undefined, now: number, holdId: string): ModelHold {
    const m = this.lock(member, now);
    this.requireActive(m);
    this.requireAvailable(member, points, now);
    const allocations = this.takeLots(member, points, now).map((t) => {
      t.lot.remaining -= t.take;
      t.lot.held += t.take;
      return { lotId: t.lot.id, amount: t.take };
    });
    const h: ModelHold = {
      id: holdId,
      member,
      amount: points,
      captured: 0,
      status: 'open',
      createdAt: now,
      expiresAt: now + (expiresInSeconds ?? this.rules.holdTimeoutSeconds) * SECOND_MS,
      allocations,
    };
    this.holds.push(h);
    this.post(member, 'hold', 'member', 'member_held', points);
    return h;
  }

  private openHoldForResolve(holdId: string, now: number): { h: ModelHold; m: ModelMember } {
    const found = this.holds.find((x) => x.id === holdId);
    if (!found) throw new ModelError('HOLD_NOT_FOUND');
    const m = this.lock(found.member, now);
    if (found.status === 'expired') throw new ModelError('HOLD_EXPIRED');
    if (found.status !== 'open') throw new ModelError('HOLD_ALREADY_RESOLVED');
    return { h: found, m };
  }

  capture(holdId: string, points: number | undefined, now: number): ModelHold {
    const { h, m } = this.openHoldForResolve(holdId, now);
    this.requireActive(m);
    const capture = points ?? h.amount;
    if (capture > h.amount) throw new ModelError('CAPTURE_EXCEEDS_HOLD');
    this.resolveHold(h, capture, 'captured', now);
    return h;
  }

  void(holdId: string, now: number): ModelHold {
    const { h } = this.openHoldForResolve(holdId, now);
    this.resolveHold(h, 0, 'voided', now);
    return h;
  }

  /**
   * Reverse a credit, whole or part: first what is left in its lot, then its expired points
   * (re-labelled), then the spent rest by the program's policy: debt under allow_negative (the
   * lot's spent points re-labelled as reversed), under write_off taken from the member's other
   * available points with the remainder written off.
   */
  reverse(entryId: string, points: number | undefined, now: number): ReversalSummary {
    const credit = this.credits.find((c) => c.entryId === entryId);
    if (!credit) throw new ModelError('ENTRY_NOT_FOUND');
    if (credit.kind === 'transfer_in' || credit.lotId === null) throw new ModelError('ENTRY_NOT_REVERSIBLE');
    const m = this.lock(credit.member, now);
    const lot = this.lotById(credit.lotId);
    const reversible = lot.amount - lot.reversalTotal;
    const req = points ?? reversible;
    if (reversible === 0) throw new ModelError('ENTRY_ALREADY_REVERSED');
    if (req > reversible) throw new ModelError('REVERSAL_EXCEEDS_CREDIT');

    const fromLot = Math.min(req, lot.remaining);
    const fromExpired = Math.min(req - fromLot, lot.expired);
    const spentPart = req - fromLot - fromExpired;
    const allowNegative = this.rules.negativeBalancePolicy === 'allow_negative';
    const fromSpent = allowNegative ? Math.min(spentPart, lot.spent) : 0;
    const onHold = allowNegative ? 0 : Math.min(spentPart, lot.held - lot.reversalHeld);
    lot.reversalHeld += onHold;
    lot.remaining -= fromLot;
    lot.expired -= fromExpired;
    lot.spent -= fromSpent;
    lot.reversed += fromLot + fromExpired + fromSpent;
    lot.reversalTotal += req;

    let toDebt = 0;
    let taken = 0;
    let writtenOff = 0;
    if (allowNegative) {
      toDebt = spentPart;
    } else {
      taken = Math.min(spentPart - onHold, Math.max(this.spendable(m.id, now) - m.debt, 0));
      writtenOff = spentPart - onHold - taken;
      if (taken > 0) {
        for (const t of this.takeLots(m.id, taken, now)) {
          t.lot.remaining -= t.take;
          t.lot.reversed += t.take;
        }
      }
    }
    if (fromLot + taken + toDebt > 0) this.post(m.id, 'reverse', 'member', 'reversed', fromLot + taken + toDebt);
    if (fromExpired > 0) this.post(m.id, 'reverse', 'expired', 'reversed', fromExpired);
    if (writtenOff > 0) this.post(m.id, 'write_off', 'written_off', 'reversed', writtenOff);
    m.debt += toDebt;
    if (credit.kind === 'earn') m.lifetimeEarned -= req;
    m.lifetimeExpired -= fromExpired;
    this.settleDebt(m.id, now);
    return { requested: req, from_lot: fromLot, from_expired: fromExpired, from_balance: taken, to_debt: toDebt, on_hold: onHold, written_off: writtenOff };
  }

  /** Operator adjustment: positive makes an available lot (policy expiry), negative draws like a debit. */
  adjust(member: string, points: number, now: number, ids: { entryId: string; lotId: string }): ModelLot | null {
    const m = this.lock(member, now);
    if (points > 0) {
      const lot = this.newLot(member, ids.lotId, ids.entryId, points, now, now, policyExpiry(this.rules.expiryPolicy, now));
      this.post(member, 'adjust', 'adjusted', 'member', points);
      this.credits.push({ entryId: ids.entryId, member, kind: 'adjust', lotId: lot.id });
      this.settleDebt(member, now);
      return lot;
    }
    this.requireAvailable(member, -points, now);
    for (const t of this.takeLots(member, -points, now)) {
      t.lot.remaining -= t.take;
      t.lot.spent += t.take;
    }
    this.post(member, 'adjust', 'member', 'adjusted', -points);
    void m;
    return null;
  }

  /**
   * Member-to-member transfer. The recipient gets one lot per sender lot drawn from, with the same
   * expiry. `newLotId` names the real lot created for each part (matched by amount and expiry).
   */
  transfer(
    from: string,
    to: string,
    points: number,
    now: number,
    entryInId: string,
    newLotId: (part: { amount: number; expiresAt: number | null }) => string,
  ): ModelLot[] {
    if (from === to) throw new ModelError('TRANSFER_TO_SELF');
    const [first, second] = from < to ? [from, to] : [to, from];
    this.lock(first, now);
    this.lock(second, now);
    const mFrom = this.member(from);
    this.requireActive(mFrom);
    this.requireAvailable(from, points, now);
    const parts = this.takeLots(from, points, now);
    const created: ModelLot[] = [];
    for (const t of parts) {
      t.lot.remaining -= t.take;
      t.lot.spent += t.take;
      created.push(this.newLot(to, newLotId({ amount: t.take, expiresAt: t.lot.expiresAt }), entryInId, t.take, now, now, t.lot.expiresAt));
    }
    this.post(from, 'transfer_out', 'member', 'transfer', points);
    this.post(to, 'transfer_in', 'transfer', 'member', points);
    this.credits.push({ entryId: entryInId, member: to, kind: 'transfer_in', lotId: null });
    this.settleDebt(to, now);
    return created;
  }

  /** Freeze or unfreeze (the status change locks the member like any write). */
  setStatus(member: string, status: MemberStatus, now: number): void {
    const m = this.lock(member, now);
    m.status = status;
  }

  /**
   * The sweep: release every hold past its deadline; repay every member's debt from their spendable
   * lots (debt is repaid at the next write or sweep, whichever comes first, so points that could
   * repay it do not expire instead); then expire every due lot (one expire entry per lot).
   */
  sweep(now: number): { holdsReleased: number; lotsExpired: number } {
    const due = this.holds.filter((h) => h.status === 'open' && h.expiresAt <= now).sort((a, b) => a.expiresAt - b.expiresAt);
    for (const h of due) this.resolveHold(h, 0, 'expired', now);
    for (const m of this.members) this.settleDebt(m.id, now);
    const dueLots = this.lots.filter((l) => l.remaining > 0 && l.expiresAt !== null && l.expiresAt <= now);
    for (const l of dueLots) {
      const points = l.remaining;
      l.expired += points;
      l.remaining = 0;
      this.post(l.member, 'expire', 'member', 'expired', points);
      this.member(l.member).lifetimeExpired += points;
    }
    return { holdsReleased: due.length, lotsExpired: dueLots.length };
  }

  private newLot(member: string, id: string, entryId: string, points: number, now: number, availableAt: number, expiresAt: number | null): ModelLot {
    const lot: ModelLot = {
      id,
      member,
      entryId,
      amount: points,
      remaining: points,
      held: 0,
      spent: 0,
      expired: 0,
      reversed: 0,
      reversalTotal: 0,
      reversalHeld: 0,
      earnedAt: now,
      availableAt,
      expiresAt,
    };
    this.lots.push(lot);
    return lot;
  }
}
