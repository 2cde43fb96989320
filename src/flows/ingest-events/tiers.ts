import type { Queryable } from '../../db/db.ts';
import { type LadderView, type TierStateView, tierStates } from '../../modules/events/index.ts';
import type { Evaluation, RuleSet, TierBenefit } from '../../modules/rules/index.ts';
import { localParts } from '../../shared/time.ts';

/** What a refund takes off the qualifying metric: its amount, on the day of the order it refunds; an order refunded in full counts one order less. */
export interface TierRefund {
  day: string;
  amount: number;
  full: boolean;
}

/** What the batch writes for the ladder: qualifying activity per member and day, and upgrades (events_commit). */
export interface TierWrites {
  activity: { member_id: string[]; day: string[]; spend: number[]; points: number[]; orders: number[] };
  upgrades: { member_id: string; event: number; from: string; to: string; effective: string; value: number; threshold: number }[];
  renewals: { member_id: string; event: number; value: number; threshold: number }[];
}

interface MemberTiers {
  /** rank the metric earned */
  earned: number;
  /** rank of an override in force, -1 without */
  override: number;
  /** the metric in the current window so far */
  value: number;
  /** current window, local days [start, end); undefined: the member has no state yet (registered by this batch), every day counts */
  start?: string;
  end?: string;
  /** the status would be renewed by reaching the earned tier's entry in this window (cleared once sent) */
  renewable: boolean;
}

/** What the book reads of an event on its way through the flow (context.ts's Prepared). */
export interface TierEvent {
  input: { type: string };
  occurredAt: Date;
  data: Record<string, unknown>;
  member?: { id: string };
  reversals?: { rule_id?: string | null; points: number }[];
  tierRefund?: TierRefund;
}

/** YYYY-MM-DD, the local day of an instant in a time zone. */
export function localDay(at: Date, tz: string): string {
  const p = localParts(at, tz);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/**
 * A program's tier ladder as the batch uses it: each member's tier as events move it, so an event
 * that crosses a threshold upgrades the member at once and every later event of the batch earns at
 * the new rate (docs/tiers.md, "Upgrades at once"). Built from the snapshot (events_prepare) or, for
 * members read after it, from events_tier_states.
 */
export class TierBook {
  readonly ladder: LadderView;
  readonly #tz: string;
  readonly #now: Date;
  readonly #members = new Map<string, MemberTiers>();
  readonly #activity = new Map<string, { member: string; day: string; spend: number; points: number; orders: number }>();
  readonly upgrades: TierWrites['upgrades'] = [];
  readonly renewals: TierWrites['renewals'] = [];
  /** members the batch writes something for (activity, an upgrade or a renewal) */
  readonly #touched = new Set<string>();
  readonly #benefits: (TierBenefit | undefined)[];

  constructor(ladder: LadderView, tz: string, now: Date) {
    this.ladder = ladder;
    this.#tz = tz;
    this.#now = now;
    this.#benefits = ladder.tiers.map((t) => ({ value: t.multiplier, label: t.label ?? t.code }));
  }

  /** Adds members' states (a member already in the book keeps its state, unless `replace`: states read under lock, before any event was applied). */
  load(states: Record<string, TierStateView | null | undefined>, replace = false): void {
    for (const [id, s] of Object.entries(states)) if (replace || !this.#members.has(id)) this.#members.set(id, this.#fromState(s ?? undefined));
  }

  #fromState(s: TierStateView | undefined): MemberTiers {
    if (!s) return { earned: 0, override: -1, value: 0, renewable: false };
    const overrideActive = s.override_tier !== null && s.override_until !== null && Date.parse(s.override_until) > this.#now.getTime();
    return {
      earned: Math.max(this.#rank(s.tier), 0),
      override: overrideActive ? this.#rank(s.override_tier) : -1,
      value: Number(s.value),
      start: s.window_start,
      end: s.window_end,
      renewable: s.renewable === true,
    };
  }

  #rank(code: string | null): number {
    return code === null ? -1 : this.ladder.tiers.findIndex((t) => t.code === code);
  }

  #of(memberId: string): MemberTiers {
    let m = this.#members.get(memberId);
    if (!m) this.#members.set(memberId, (m = { earned: 0, override: -1, value: 0, renewable: false }));
    return m;
  }

  /** The highest rank whose entry the value reaches. */
  #qualifies(value: number): number {
    let r = 0;
    this.ladder.tiers.forEach((t, i) => {
      if (value >= Number(t.entry)) r = i;
    });
    return r;
  }

  code(rank: number): string {
    return this.ladder.tiers[rank]!.code;
  }

  /** The rank the member has now (earned, or an override above it). */
  effective(memberId: string): number {
    const m = this.#of(memberId);
    return Math.max(m.earned, m.override);
  }

  benefit(rank: number): TierBenefit | undefined {
    return this.#benefits[rank];
  }

  /**
   * One event: evaluates it (through `evaluateAt`, with a tier rank) at the member's tier — or, when
   * it crosses a threshold and the ladder says `upgrade_event_rate: new`, at the new one — and
   * records what it adds to the metric and the upgrade it makes. `index`: the event's position in
   * the commit.
   */
  apply(p: TierEvent, index: number, ruleSet: RuleSet, evaluateAt: (rank: number) => Evaluation): Evaluation {
    const memberId = p.member!.id;
    const m = this.#of(memberId);
    const metric = this.ladder.metric;
    const refund = p.input.type === 'order.refunded' ? p.tierRefund : undefined;
    const day = refund?.day ?? localDay(p.occurredAt, this.#tz);
    const inWindow = m.start === undefined || (day >= m.start && day < m.end!);
    let spend = 0;
    let orders = 0;
    if (p.input.type === 'order.paid' && typeof p.data.amount === 'number' && Number.isSafeInteger(p.data.amount) && p.data.amount >= 0) {
      spend = p.data.amount;
      orders = 1;
    } else if (refund) {
      spend = -refund.amount;
      orders = refund.full ? -1 : 0;
    }
    const before = Math.max(m.earned, m.override);
    const known = metric === 'spend' ? spend : metric === 'orders' ? orders : 0;
    let target = inWindow && known > 0 ? Math.max(m.earned, this.#qualifies(m.value + known)) : m.earned;
    const newRate = this.ladder.upgrade_event_rate === 'new';
    let rank = newRate ? Math.max(target, m.override) : before;
    let evaluation = evaluateAt(rank);
    let points = qualifyingPoints(evaluation, ruleSet) - (p.reversals ?? []).reduce((s, r) => s + (isQualifying(ruleSet, r.rule_id) ? r.points : 0), 0);
    if (metric === 'points') {
      target = inWindow && points > 0 ? Math.max(m.earned, this.#qualifies(m.value + points)) : m.earned;
      if (newRate && Math.max(target, m.override) > rank) {
        rank = Math.max(target, m.override);
        evaluation = evaluateAt(rank);
        points = qualifyingPoints(evaluation, ruleSet);
        target = Math.max(target, this.#qualifies(m.value + points));
      }
    }
    const value = metric === 'spend' ? spend : metric === 'orders' ? orders : points;
    if (inWindow) m.value += value;
    if (spend !== 0 || orders !== 0 || points !== 0) {
      const key = `${memberId}|${day}`;
      let a = this.#activity.get(key);
      if (!a) this.#activity.set(key, (a = { member: memberId, day, spend: 0, points: 0, orders: 0 }));
      this.#touched.add(memberId);
      a.spend += spend;
      a.points += points;
      a.orders += orders;
    }
    if (target === m.earned && m.renewable && inWindow && value > 0 && m.earned > 0 && m.value >= Number(this.ladder.tiers[m.earned]!.entry)) {
      // the earned tier's entry reached again in a later window: renewed at once (once a batch)
      m.renewable = false;
      this.renewals.push({ member_id: memberId, event: index, value: m.value, threshold: Number(this.ladder.tiers[m.earned]!.entry) });
      this.#touched.add(memberId);
    }
    if (target > m.earned) {
      m.renewable = false;
      const from = m.earned;
      m.earned = target;
      this.#touched.add(memberId);
      this.upgrades.push({
        member_id: memberId,
        event: index,
        from: this.code(from),
        to: this.code(target),
        effective: this.code(Math.max(target, m.override)),
        value: m.value,
        threshold: Number(this.ladder.tiers[target]!.entry),
      });
    }
    return evaluation;
  }

  /** Whether the batch writes anything for this member (its account's award version then moves: concurrent evaluations see it). */
  touches(memberId: string): boolean {
    return this.#touched.has(memberId);
  }

  /** What events_commit writes, or undefined when nothing. Events dropped after evaluation (not committed) are left out by `keep`. */
  writes(): TierWrites | undefined {
    if (this.#activity.size === 0 && this.upgrades.length === 0 && this.renewals.length === 0) return undefined;
    const rows = [...this.#activity.values()].sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : a.day < b.day ? -1 : 1));
    return {
      activity: {
        member_id: rows.map((r) => r.member),
        day: rows.map((r) => r.day),
        spend: rows.map((r) => r.spend),
        points: rows.map((r) => r.points),
        orders: rows.map((r) => r.orders),
      },
      upgrades: this.upgrades,
      renewals: this.renewals,
    };
  }
}

function isQualifying(ruleSet: RuleSet, ruleId: string | null | undefined): boolean {
  if (!ruleId) return true;
  return !ruleSet.nonQualifyingIds.has(ruleId);
}

function qualifyingPoints(e: Evaluation, ruleSet: RuleSet): number {
  let s = 0;
  for (const a of e.awards) if (isQualifying(ruleSet, a.rule_id)) s += a.points;
  return s;
}

/** The ladder's book for a run, from the snapshot; undefined for a program without a ladder. */
export function tierBook(
  snapshot: { ladder?: LadderView | null; members: { id: string; tier_state?: TierStateView | null }[] },
  tz: string,
  now: Date,
): TierBook | undefined {
  if (!snapshot.ladder) return undefined;
  const book = new TierBook(snapshot.ladder, tz, now);
  book.load(Object.fromEntries(snapshot.members.map((m) => [m.id, m.tier_state])));
  return book;
}

/** Reads the states of members the snapshot does not have (or, under lock, all of them again). */
export async function loadTierStates(db: Queryable, book: TierBook, programId: string, memberIds: string[], now: Date, replace: boolean): Promise<void> {
  if (memberIds.length === 0) return;
  book.load(await tierStates(db, programId, memberIds, now), replace);
}
