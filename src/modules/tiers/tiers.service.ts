import type { Db, Queryable } from '../../db/db.ts';
import { DomainError, type FieldError, type FieldParams, type FieldRule } from '../../shared/errors.ts';
import { type IdempotencyContext, type WriteResult, withIdempotency } from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { type ProgramScope, visible } from '../api-keys/index.ts';
import { getMember } from '../members/index.ts';
import { getProgram } from '../programs/index.ts';
import type { StoredTier } from './tiers.repository.ts';
import * as repo from './tiers.repository.ts';
import type { TierChange, TierHistoryType, TierLadder, TierLadderInput, TierMix, TierStatus } from './tiers.schemas.ts';

const DAY_MS = 86_400_000;
/** An override lasts at most this long. */
const MAX_OVERRIDE_MS = 5 * 366 * DAY_MS;
/** Days in each month, February with its 29th (until_date uses the month's last day in other years). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function ladderNotFound(programId: string): DomainError {
  return new DomainError('TIER_LADDER_NOT_FOUND', `Program ${programId} has no tier ladder`, { program_id: programId });
}

/**
 * Every rule of a ladder TypeBox cannot say (docs/tiers.md, "The ladder"), each problem at its
 * field's path: the base tier's entry 0, strictly increasing entries, retention at most entry,
 * unique codes and grant keys, one of points or coupon_prefix per grant, the fields each window
 * and validity type needs (and no others), and the combinations that make sense.
 */
export function ladderProblems(input: TierLadderInput): FieldError[] {
  const issues: FieldError[] = [];
  const add = (path: string, message: string, rule: FieldRule, params: FieldParams = {}) => issues.push({ path, location: 'body', message, rule, params });
  const w = input.qualifying_window;
  if (w.type === 'rolling_months' && w.months === undefined)
    add('/qualifying_window/months', 'is required for rolling_months', 'required_for', { field: 'type', value: 'rolling_months' });
  if (w.type !== 'rolling_months' && w.months !== undefined)
    add('/qualifying_window/months', 'is only for rolling_months', 'only_for', { field: 'type', value: 'rolling_months' });
  const v = input.validity;
  const need: readonly string[] = { months: ['months'], period_and_next: [], until_date: ['month', 'day', 'years'] }[v.type];
  for (const f of ['months', 'month', 'day', 'years'] as const) {
    if (need.includes(f) && v[f] === undefined) add(`/validity/${f}`, `is required for ${v.type}`, 'required_for', { field: 'type', value: v.type });
    if (!need.includes(f) && v[f] !== undefined)
      add(`/validity/${f}`, `is not used by ${v.type}`, 'only_for', { field: 'type', value: f === 'months' ? 'months' : 'until_date' });
  }
  if (v.type === 'until_date' && v.month !== undefined && v.day !== undefined && v.day > MONTH_DAYS[v.month - 1]!)
    add('/validity/day', `month ${v.month} has no day ${v.day}`, 'no_such_day', { month: v.month, day: v.day });
  if (v.type === 'period_and_next' && w.type === 'rolling_months')
    add('/validity/type', 'period_and_next needs a calendar_year or membership_year window (a rolling window has no period)', 'needs_window', {
      value: 'period_and_next',
      windows: 'calendar_year, membership_year',
    });
  if (v.type === 'until_date' && w.type !== 'calendar_year')
    add('/validity/type', 'until_date needs a calendar_year window', 'needs_window', { value: 'until_date', windows: 'calendar_year' });
  const codes = new Map<string, number>();
  input.tiers.forEach((t, i) => {
    const at = `/tiers/${i}`;
    if (i === 0 && t.entry !== 0) add(`${at}/entry`, 'must be 0: the first tier is the base tier every member starts at', 'base_tier_entry');
    if (i > 0 && t.entry <= input.tiers[i - 1]!.entry)
      add(`${at}/entry`, `must be more than the entry of ${input.tiers[i - 1]!.code}`, 'more_than_tier', { tier: input.tiers[i - 1]!.code });
    if (t.retention !== undefined && t.retention > t.entry) add(`${at}/retention`, 'must be at most entry', 'at_most_field', { field: 'entry' });
    if (codes.has(t.code)) add(`${at}/code`, `is already the code of /tiers/${codes.get(t.code)}`, 'duplicate', { path: `/tiers/${codes.get(t.code)}` });
    else codes.set(t.code, i);
    const keys = new Set<string>();
    (t.grants ?? []).forEach((g, j) => {
      if ((g.points === undefined) === (g.coupon_prefix === undefined))
        add(`${at}/grants/${j}`, 'must have exactly one of points and coupon_prefix', 'exactly_one_of', { fields: 'points, coupon_prefix' });
      if (keys.has(g.key)) add(`${at}/grants/${j}/key`, 'is already a grant of this tier', 'duplicate');
      keys.add(g.key);
    });
  });
  return issues;
}

function normalizedTiers(input: TierLadderInput): StoredTier[] {
  return input.tiers.map((t, i) => ({
    code: t.code,
    name: t.name,
    entry: t.entry,
    retention: i === 0 ? 0 : (t.retention ?? t.entry),
    multiplier: t.multiplier ?? '1',
    birthday_points: t.birthday_points ?? 0,
    welcome_points: t.welcome_points ?? 0,
    grants: t.grants ?? [],
    perks: t.perks ?? [],
  }));
}

function ladderView(l: repo.LadderRow, members: Map<string, number>): TierLadder {
  return {
    object: 'tier_ladder',
    program_id: l.program_id,
    metric: l.metric,
    qualifying_window: l.qualifying_window,
    validity: l.validity,
    downgrade_policy: l.downgrade_policy,
    grace_days: l.grace_days,
    upgrade_event_rate: l.upgrade_event_rate,
    tiers: l.tiers.map((t, rank) => ({ ...t, rank, members: members.get(t.code) ?? 0 })),
    revision: l.revision,
    created_at: l.created_at,
    updated_at: l.updated_at,
  };
}

export async function getLadder(db: Queryable, programId: string): Promise<TierLadder> {
  const l = await repo.findLadder(db, programId);
  if (!l) {
    await getProgram(db, programId);
    throw ladderNotFound(programId);
  }
  return ladderView(l, await repo.membersPerTier(db, programId));
}

/** Whether the program's tiers follow a ladder (then the plain tier attribute is refused). */
export function hasLadder(db: Queryable, programId: string): Promise<boolean> {
  return repo.hasLadder(db, programId);
}

/**
 * Creates (201) or replaces (200) the program's ladder, and in the same transaction brings its
 * members in line (tiers_rebuild: backfill on creation, upgrades, the migration's overrides,
 * member.tier). A tier members hold cannot be removed (409 TIER_IN_USE).
 */
export async function putLadder(
  db: Db,
  programId: string,
  input: TierLadderInput,
  now: Date,
  actor: string,
  idem?: IdempotencyContext,
): Promise<WriteResult<TierLadder>> {
  await getProgram(db, programId);
  const issues = ladderProblems(input);
  if (input.keep_current_tiers_until !== undefined) {
    const today = await repo.localToday(db, programId, now);
    if (input.keep_current_tiers_until <= today)
      issues.push({ path: '/keep_current_tiers_until', location: 'body', message: 'must be after today', rule: 'after_today' });
    else if (Date.parse(input.keep_current_tiers_until) - Date.parse(today) > MAX_OVERRIDE_MS)
      issues.push({
        path: '/keep_current_tiers_until',
        location: 'body',
        message: 'must be at most 5 years ahead',
        rule: 'at_most_years_ahead',
        params: { years: 5 },
      });
  }
  if (issues.length > 0) throw new DomainError('VALIDATION_FAILED', issues.map((i) => `${i.path} ${i.message}`).join('; '), {}, issues);
  const tiers = normalizedTiers(input);
  return withIdempotency(db, idem, now, async (tx) => {
    // first: members registered or given a plain tier meanwhile wait, and those already writing
    // commit before the rebuild reads the members (jf_tier_ladder_lock)
    await repo.lockLadderWriters(tx, programId);
    const old = await repo.findLadder(tx, programId, true);
    if (old && input.keep_current_tiers_until !== undefined)
      throw new DomainError('VALIDATION_FAILED', '/keep_current_tiers_until is only for the first ladder of a program', {}, [
        { path: '/keep_current_tiers_until', location: 'body', message: "is only for the program's first ladder", rule: 'first_ladder_only' },
      ]);
    if (old) {
      const kept = new Set(tiers.map((t) => t.code));
      const removed = old.tiers.map((t) => t.code).filter((c) => !kept.has(c));
      const inUse = await repo.tiersInUse(tx, programId, removed);
      if (inUse.length > 0)
        throw new DomainError(
          'TIER_IN_USE',
          `Members hold ${inUse.map((u) => `${u.code} (${u.members})`).join(', ')}: a tier members hold cannot be removed (renaming a code is a removal)`,
          { tiers: inUse },
        );
    }
    const first = await repo.upsertLadder(
      tx,
      {
        programId,
        metric: input.metric,
        qualifyingWindow: input.qualifying_window,
        validity: input.validity,
        downgradePolicy: input.downgrade_policy,
        graceDays: input.grace_days ?? 0,
        upgradeEventRate: input.upgrade_event_rate ?? 'old',
        tiers,
      },
      now,
    );
    await repo.rebuild(tx, programId, now, first, first ? (input.keep_current_tiers_until ?? null) : null, actor);
    const l = (await repo.findLadder(tx, programId))!;
    return { status: first ? 201 : 200, body: ladderView(l, await repo.membersPerTier(tx, programId)) };
  });
}

function statusView(memberId: string, s: repo.StatusRow, now: Date): TierStatus {
  const ranks = new Map(s.tiers.map((t, i) => [t.code, i]));
  const ref = (rank: number) => ({ code: s.tiers[rank]!.code, rank, name: s.tiers[rank]!.name });
  const earnedRank = ranks.get(s.earned) ?? 0;
  const overrideActive = s.override_tier !== null && s.override_until !== null && Date.parse(s.override_until) > now.getTime();
  const effectiveRank = s.tier !== null && ranks.has(s.tier) ? ranks.get(s.tier)! : earnedRank;
  const effective = s.tiers[effectiveRank]!;
  const value = Number(s.value);
  const nextTier = s.tiers[effectiveRank + 1];
  const rolling = s.qualifying_window.type === 'rolling_months';
  const lastDay = new Date(Date.parse(`${s.window_end}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
  let keep: TierStatus['keep'] = null;
  if (earnedRank > 0 && s.downgrade_policy !== 'never' && s.review_at !== null && s.keep_start !== null && s.keep_end !== null) {
    const threshold = s.tiers[earnedRank]!.retention;
    const kept = Number(s.keep_value ?? 0);
    const review = Date.parse(s.review_at);
    keep = {
      threshold,
      window: { start: s.keep_start, end: s.keep_end, value: kept },
      needed: Math.max(0, threshold - kept),
      review_at: s.review_at,
      at_risk: review > now.getTime() && review <= now.getTime() + 30 * DAY_MS && kept < threshold,
    };
  }
  return {
    object: 'tier_status',
    member_id: memberId,
    program_id: s.program_id,
    metric: s.metric,
    currency: s.currency,
    tier: { ...ref(effectiveRank), multiplier: effective.multiplier, perks: effective.perks },
    earned: {
      code: s.tiers[earnedRank]!.code,
      since: s.since,
      valid_until: s.valid_until,
      review_at: s.review_at,
      in_grace: s.valid_until !== null && s.review_at !== null && now.getTime() >= Date.parse(s.valid_until) && now.getTime() < Date.parse(s.review_at),
    },
    override: overrideActive ? { tier: s.override_tier!, until: s.override_until!, reason: s.override_reason ?? '', by: s.override_by ?? '' } : null,
    window: { start: s.window_start, end: s.window_end, value },
    next: nextTier
      ? {
          tier: ref(effectiveRank + 1),
          threshold: nextTier.entry,
          needed: Math.max(0, nextTier.entry - value),
          by: rolling ? null : lastDay,
        }
      : null,
    keep,
    ladder: s.tiers.map((t, i) => ({
      ...ref(i),
      entry: t.entry,
      multiplier: t.multiplier,
      birthday_points: t.birthday_points,
      welcome_points: t.welcome_points,
      perks: t.perks,
      grants: t.grants.map((g) => ({
        key: g.key,
        name: g.name,
        every: g.every,
        ...(g.points !== undefined ? { points: g.points } : {}),
        coupon: g.coupon_prefix !== undefined,
      })),
    })),
    grants: s.grants.map((g) => ({ ...g, points: Number(g.points) })),
  };
}

async function statusIn(db: Queryable, memberId: string, now: Date, scope: ProgramScope): Promise<TierStatus> {
  const s = await repo.status(db, memberId, now);
  if (!s) {
    const m = await getMember(db, memberId, scope);
    throw ladderNotFound(m.program_id);
  }
  if (!visible(scope, memberId, s.program_id)) throw new DomainError('MEMBER_NOT_FOUND', `No member ${memberId}`, { member_id: memberId });
  return statusView(memberId, s, now);
}

/** A member's tier status (one round trip): effective and earned tier, override, window, next tier, what keeps it, the ladder, grants. */
export function getTierStatus(db: Queryable, memberId: string, now: Date, scope: ProgramScope = null): Promise<TierStatus> {
  return statusIn(db, memberId, now, scope);
}

async function lockedMember(tx: Queryable, memberId: string, scope: ProgramScope): Promise<{ program_id: string; ladder: repo.LadderRow }> {
  const m = await repo.lockMember(tx, memberId);
  if (!m || !visible(scope, memberId, m.program_id)) throw new DomainError('MEMBER_NOT_FOUND', `No member ${memberId}`, { member_id: memberId });
  const ladder = await repo.findLadder(tx, m.program_id);
  if (!ladder) throw ladderNotFound(m.program_id);
  return { program_id: m.program_id, ladder };
}

/**
 * An operator's override: a floor (the effective tier is the higher of the earned one and the
 * override) until `until`, with its reason, shown as an override; tier.override_set. Under the
 * member's lock, in one transaction.
 */
export async function setOverride(
  db: Db,
  memberId: string,
  input: { tier: string; until: string; reason: string },
  now: Date,
  actor: string,
  idem?: IdempotencyContext,
  scope: ProgramScope = null,
): Promise<WriteResult<TierStatus>> {
  const until = Date.parse(input.until);
  if (!(until > now.getTime()))
    throw new DomainError('VALIDATION_FAILED', '/until must be in the future', {}, [
      { path: '/until', location: 'body', message: 'must be in the future', rule: 'in_future' },
    ]);
  if (until - now.getTime() > MAX_OVERRIDE_MS)
    throw new DomainError('VALIDATION_FAILED', '/until must be at most 5 years ahead', {}, [
      { path: '/until', location: 'body', message: 'must be at most 5 years ahead', rule: 'at_most_years_ahead', params: { years: 5 } },
    ]);
  return withIdempotency(db, idem, now, async (tx) => {
    const { program_id, ladder } = await lockedMember(tx, memberId, scope);
    if (!ladder.tiers.some((t) => t.code === input.tier))
      throw new DomainError('VALIDATION_FAILED', `/tier ${input.tier} is not a tier of the ladder`, {}, [
        {
          path: '/tier',
          location: 'body',
          message: `is not a tier of the ladder (${ladder.tiers.map((t) => t.code).join(', ')})`,
          rule: 'not_a_tier',
          params: { tiers: ladder.tiers.map((t) => t.code).join(', ') },
        },
      ]);
    const before = await repo.findMemberTier(tx, memberId);
    const untilIso = new Date(until).toISOString();
    await repo.setOverride(
      tx,
      { memberId, programId: program_id, baseTier: ladder.tiers[0]!.code, tier: input.tier, until: untilIso, reason: input.reason, by: actor },
      now,
    );
    const from = before?.override_tier && before.override_until && Date.parse(before.override_until) > now.getTime() ? before.override_tier : null;
    await repo.insertHistory(
      tx,
      {
        id: newId('tch'),
        programId: program_id,
        memberId,
        type: 'tier.override_set',
        from: from ?? before?.tier ?? ladder.tiers[0]!.code,
        to: input.tier,
        reason: input.reason,
        actor,
        payload: { until: untilIso, reason: input.reason },
      },
      now,
    );
    await repo.applyTier(tx, memberId, now);
    return { status: 200, body: await statusIn(tx, memberId, now, null) };
  });
}

/** Ends the member's override now (tier.override_ended): back at the earned tier. None in force: 404 TIER_OVERRIDE_NOT_FOUND. */
export async function endOverride(
  db: Db,
  memberId: string,
  reason: string,
  now: Date,
  actor: string,
  idem?: IdempotencyContext,
  scope: ProgramScope = null,
): Promise<WriteResult<TierStatus>> {
  return withIdempotency(db, idem, now, async (tx) => {
    const { program_id } = await lockedMember(tx, memberId, scope);
    const mt = await repo.findMemberTier(tx, memberId);
    if (!mt?.override_tier || !mt.override_until || Date.parse(mt.override_until) <= now.getTime())
      throw new DomainError('TIER_OVERRIDE_NOT_FOUND', `Member ${memberId} has no tier override in force`, { member_id: memberId });
    await repo.clearOverride(tx, memberId, now);
    await repo.insertHistory(
      tx,
      {
        id: newId('tch'),
        programId: program_id,
        memberId,
        type: 'tier.override_ended',
        from: mt.override_tier,
        to: mt.tier,
        reason,
        actor,
        payload: { until: mt.override_until, reason: mt.override_reason, ended_early: true },
      },
      now,
    );
    await repo.applyTier(tx, memberId, now);
    return { status: 200, body: await statusIn(tx, memberId, now, null) };
  });
}

export interface HistoryQuery {
  type?: TierHistoryType;
  limit?: number;
  cursor?: string;
}

async function historyPage(db: Queryable, by: { memberId: string } | { programId: string }, query: HistoryQuery): Promise<Page<TierChange>> {
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const rows = await repo.listHistory(db, by, query.type, limit, before);
  return toPage(rows, limit, (h) => [h.at, h.id]);
}

/** A member's tier history, newest first (cursor pages, by type). */
export async function memberHistory(db: Queryable, memberId: string, query: HistoryQuery, scope: ProgramScope = null): Promise<Page<TierChange>> {
  await getMember(db, memberId, scope);
  return historyPage(db, { memberId }, query);
}

/** The program's feed of tier changes, newest first (what webhooks and a stream will publish). */
export async function programHistory(db: Queryable, programId: string, query: HistoryQuery): Promise<Page<TierChange>> {
  await getProgram(db, programId);
  return historyPage(db, { programId }, query);
}

/** Members per effective tier, overrides, upgrades and downgrades of the last 30 days, members at risk. */
export async function getTierMix(db: Queryable, programId: string, now: Date): Promise<TierMix> {
  const m = await repo.mix(db, programId, now);
  if (!m) {
    await getProgram(db, programId);
    throw ladderNotFound(programId);
  }
  return {
    object: 'tier_mix',
    program_id: programId,
    tiers: m.tiers.map((t) => ({ ...t, members: Number(t.members), overrides: Number(t.overrides) })),
    upgrades_30d: Number(m.upgrades_30d),
    downgrades_30d: Number(m.downgrades_30d),
    at_risk: Number(m.at_risk),
  };
}
