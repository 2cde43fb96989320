/**
 * Pure catalogue logic: what a member's catalogue says of a reward now (the state and its figures),
 * when a flash sale opens next, and the "within reach" ranking. No database: the service hands in
 * what it read. The database makes the same decisions when a member redeems (rewards_redeem,
 * src/db/functions/40_rewards.sql): this is the view, that is the rule.
 */
import { fromLocal, localParts } from '../../shared/time.ts';
import type { CatalogueState, RewardSchedule } from './rewards.schemas.ts';

export interface RewardFacts {
  type: string;
  points_cost: number;
  stock_left: number | null;
  codes_left: number | null;
  available_from: string | null;
  available_until: string | null;
  schedule: RewardSchedule | null;
  limit_per_member: number | null;
  min_tier: string | null;
  segment_id: string | null;
}

export interface MemberFacts {
  available_points: number;
  /** The member's rank in the ladder (0 = base); null without a ladder. */
  tier_rank: number | null;
  /** The rank the reward's min_tier has in the ladder; null when it is not a tier of it. */
  required_rank: number | null;
  in_segment: boolean;
  /** Units redeemed in the limit's current period. */
  used: number;
}

export interface CatalogueVerdict {
  state: CatalogueState;
  needs_points: number;
  required_tier: string | null;
  starts_at: string | null;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether the flash schedule is open at `now` in `tz`. */
export function scheduleOpen(schedule: RewardSchedule, now: Date, tz: string): boolean {
  const p = localParts(now, tz);
  const m = p.hour * 60 + p.minute;
  return schedule.days.includes(p.weekday) && m >= minutes(schedule.from) && m < minutes(schedule.until);
}

/** The next instant after `now` at which the schedule opens (within the coming 8 local days). */
export function nextScheduleStart(schedule: RewardSchedule, now: Date, tz: string): Date | null {
  const p = localParts(now, tz);
  const from = minutes(schedule.from);
  for (let d = 0; d <= 8; d++) {
    const day = new Date(Date.UTC(p.year, p.month - 1, p.day + d));
    const weekday = day.getUTCDay() || 7;
    if (!schedule.days.includes(weekday)) continue;
    const start = fromLocal(tz, day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), Math.floor(from / 60), from % 60);
    if (start.getTime() > now.getTime()) return start;
  }
  return null;
}

/**
 * The state of a reward for a member now, first that applies: ended (window over), not_yet (the
 * window or the sale hours open later: starts_at), sold_out (no stock or no codes left),
 * locked_tier, locked_segment, limit_reached, needs_points (how many more), can_redeem.
 */
export function catalogueState(r: RewardFacts, m: MemberFacts, now: Date, tz: string): CatalogueVerdict {
  const t = now.getTime();
  const verdict = (state: CatalogueState, extra: Partial<CatalogueVerdict> = {}): CatalogueVerdict => ({
    state,
    needs_points: Math.max(0, r.points_cost - m.available_points),
    required_tier: r.min_tier,
    starts_at: null,
    ...extra,
  });
  const until = r.available_until === null ? null : Date.parse(r.available_until);
  if (until !== null && t >= until) return verdict('ended');
  if (r.available_from !== null && t < Date.parse(r.available_from)) {
    const from = new Date(r.available_from);
    const opens = r.schedule && !scheduleOpen(r.schedule, from, tz) ? nextScheduleStart(r.schedule, from, tz) : from;
    return opens && (until === null || opens.getTime() < until) ? verdict('not_yet', { starts_at: opens.toISOString() }) : verdict('ended');
  }
  if (r.schedule && !scheduleOpen(r.schedule, now, tz)) {
    const opens = nextScheduleStart(r.schedule, now, tz);
    return opens && (until === null || opens.getTime() < until) ? verdict('not_yet', { starts_at: opens.toISOString() }) : verdict('ended');
  }
  if ((r.stock_left !== null && r.stock_left < 1) || (r.type === 'coupon' && (r.codes_left ?? 0) < 1)) return verdict('sold_out');
  if (r.min_tier !== null && (m.required_rank === null || (m.tier_rank ?? 0) < m.required_rank)) return verdict('locked_tier');
  if (r.segment_id !== null && !m.in_segment) return verdict('locked_segment');
  if (r.limit_per_member !== null && m.used >= r.limit_per_member) return verdict('limit_reached');
  if (m.available_points < r.points_cost) return verdict('needs_points');
  return verdict('can_redeem');
}

export interface Ranked<T> {
  item: T;
  affordability: number;
  affinity: number;
  score: number;
}

/**
 * "Within reach": rewards the member can redeem now or only lacks points for, ranked by
 * affordability (available ÷ cost, at most 1) plus category affinity (the share of the member's
 * recent order lines in the reward's category); ties: the cheaper first, then by id.
 */
export function rankWithinReach<T extends { state: CatalogueState; points_cost: number; category: string | null; id: string }>(
  items: T[],
  availablePoints: number,
  categoryLines: Map<string, number>,
  limit: number,
): Ranked<T>[] {
  const lines = [...categoryLines.values()].reduce((s, n) => s + n, 0);
  return items
    .filter((i) => i.state === 'can_redeem' || i.state === 'needs_points')
    .map((item) => {
      const affordability = Math.min(1, Math.max(0, availablePoints) / item.points_cost);
      const affinity = lines > 0 && item.category !== null ? (categoryLines.get(item.category) ?? 0) / lines : 0;
      return { item, affordability, affinity, score: affordability + affinity };
    })
    .sort((a, b) => b.score - a.score || a.item.points_cost - b.item.points_cost || (a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0))
    .slice(0, limit);
}
