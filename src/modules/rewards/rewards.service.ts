import type { Db, Queryable } from '../../db/db.ts';
import { DomainError, type FieldError, type FieldParams, type FieldRule } from '../../shared/errors.ts';
import { normalizeDateTime } from '../../shared/formats.ts';
import { type IdempotencyContext, idempotencyParams, idempotentWrite, type WriteResult, withIdempotency } from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { type ProgramScope, visible } from '../api-keys/index.ts';
import { listMemberEvents } from '../events/index.ts';
import { getMember } from '../members/index.ts';
import { getProgram } from '../programs/index.ts';
import { catalogueState, rankWithinReach } from './rewards.engine.ts';
import * as repo from './rewards.repository.ts';
import type {
  Catalogue,
  CatalogueItem,
  CatalogueQuery,
  DonationTotals,
  EndInput,
  MemberRedemptionListQuery,
  PriceChange,
  PriceChangeInput,
  Redemption,
  RedemptionCreate,
  RedemptionListItem,
  RedemptionListQuery,
  Reward,
  RewardCreate,
  RewardListQuery,
  RewardName,
  RewardUpdate,
  ShipInput,
  TopRewards,
  TopRewardsQuery,
  WithinReach,
} from './rewards.schemas.ts';

/** Who writes and how: the clock's instant, the actor, the idempotency key, the caller's programs. */
export interface RewardWriteContext {
  now: Date;
  actor: string;
  idempotency?: IdempotencyContext;
  scope?: ProgramScope;
}

const rewardNotFound = (id: string) => new DomainError('REWARD_NOT_FOUND', `No reward ${id}`, { reward_id: id });
const redemptionNotFound = (id: string) => new DomainError('REDEMPTION_NOT_FOUND', `No redemption ${id}`, { redemption_id: id });
const invalid = (issues: FieldError[]) => new DomainError('VALIDATION_FAILED', issues.map((i) => `${i.path} ${i.message}`).join('; '), {}, issues);

const ts = (v: string | null | undefined) => (v === null || v === undefined ? v : normalizeDateTime(v));

/** The reward as stored after a create or an update: defaults filled in, instants normalised. */
function rowOf(input: RewardCreate): repo.RewardRow {
  return {
    type: input.type,
    name: input.name,
    description: input.description ?? {},
    image_urls: input.image_urls ?? [],
    category: input.category ?? null,
    points_cost: input.points_cost,
    cash_part: input.cash_part ?? null,
    stock: input.stock ?? null,
    stock_left: input.stock ?? null,
    limit_per_member: input.limit?.per_member ?? null,
    limit_period: input.limit?.period ?? null,
    min_tier: input.min_tier ?? null,
    segment_id: input.segment_id ?? null,
    available_from: ts(input.available_from) ?? null,
    available_until: ts(input.available_until) ?? null,
    schedule_days: input.schedule ? [...input.schedule.days].sort((a, b) => a - b) : null,
    schedule_from: input.schedule?.from ?? null,
    schedule_until: input.schedule?.until ?? null,
    donation_project: input.donation_project ?? null,
    status: input.status ?? 'draft',
    metadata: input.metadata ?? {},
  };
}

/**
 * What the schema cannot say of a reward (stored or about to be), each at its field's path: the
 * window's order, the sale hours' order, a donation has no cash part, a donation project is for
 * donations, the tier is one of the ladder's, the segment one of the program's.
 */
async function rewardProblems(db: Queryable, programId: string, r: repo.RewardRow): Promise<FieldError[]> {
  const issues: FieldError[] = [];
  const add = (path: string, message: string, rule: FieldRule, params: FieldParams = {}) => issues.push({ path, location: 'body', message, rule, params });
  if (r.available_from !== null && r.available_until !== null && Date.parse(r.available_until) <= Date.parse(r.available_from))
    add('/available_until', 'must be after available_from', 'after_field', { field: 'available_from' });
  if (r.schedule_from !== null && r.schedule_until !== null && r.schedule_until <= r.schedule_from)
    add('/schedule/until', 'must be after from', 'after_field', { field: 'from' });
  if (r.type === 'donation' && r.cash_part !== null) add('/cash_part', 'a donation has no cash part', 'not_for', { field: 'type', value: 'donation' });
  if (r.type !== 'donation' && r.donation_project !== null)
    add('/donation_project', 'is only for donation rewards', 'only_for', { field: 'type', value: 'donation' });
  if (r.min_tier !== null) {
    const codes = await repo.ladderCodes(db, programId);
    if (!codes) add('/min_tier', 'the program has no tier ladder', 'no_ladder');
    else if (!codes.includes(r.min_tier)) add('/min_tier', `is not a tier of the ladder (${codes.join(', ')})`, 'not_a_tier', { tiers: codes.join(', ') });
  }
  if (r.segment_id !== null && (await repo.segmentProgram(db, r.segment_id)) !== programId)
    add('/segment_id', 'is not a segment of the program', 'not_in_program');
  return issues;
}

export async function createReward(db: Db, programId: string, input: RewardCreate, ctx: RewardWriteContext): Promise<WriteResult<Reward>> {
  await getProgram(db, programId);
  const row = rowOf(input);
  const issues = await rewardProblems(db, programId, row);
  if (issues.length > 0) throw invalid(issues);
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => ({
    status: 201,
    body: await repo.insertReward(tx, newId('rwd'), programId, row, ctx.now),
  }));
}

async function visibleRow(db: Queryable, id: string, scope: ProgramScope | undefined, lock = false) {
  const row = await repo.findRewardRow(db, id, lock);
  if (!row || !visible(scope ?? null, id, row.program_id)) throw rewardNotFound(id);
  return row;
}

export async function getReward(db: Queryable, id: string, now: Date, scope: ProgramScope = null): Promise<Reward> {
  await visibleRow(db, id, scope);
  return (await repo.rewardJson(db, id, now))!;
}

export async function listRewards(db: Queryable, programId: string, query: RewardListQuery, now: Date): Promise<Page<Reward>> {
  await getProgram(db, programId);
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const rows = await repo.listRewards(db, programId, query, limit, before, now);
  const page = toPage(rows, limit, (r) => [r.at, r.id]);
  return { ...page, data: page.data.map((r) => r.r) };
}

/**
 * A change to a reward (not its type, not its price: a price change does that). A new stock moves
 * stock_left by the difference (under the reward's row lock, so a redemption's stock take and the
 * change do not cross); it cannot go below what was redeemed already.
 */
export async function updateReward(db: Db, id: string, input: RewardUpdate, ctx: RewardWriteContext): Promise<WriteResult<Reward>> {
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    const old = await visibleRow(tx, id, ctx.scope, true);
    if (old.status === 'archived') throw new DomainError('REWARD_ARCHIVED', `Reward ${id} is archived`, { reward_id: id });
    const changes: Partial<repo.RewardRow> = {};
    const set = <K extends keyof repo.RewardRow>(k: K, v: repo.RewardRow[K]) => {
      changes[k] = v;
    };
    if (input.name !== undefined) set('name', input.name);
    if (input.description !== undefined) set('description', input.description);
    if (input.image_urls !== undefined) set('image_urls', input.image_urls);
    if (input.category !== undefined) set('category', input.category);
    if (input.limit !== undefined) {
      set('limit_per_member', input.limit?.per_member ?? null);
      set('limit_period', input.limit?.period ?? null);
    }
    if (input.min_tier !== undefined) set('min_tier', input.min_tier);
    if (input.segment_id !== undefined) set('segment_id', input.segment_id);
    if (input.available_from !== undefined) set('available_from', ts(input.available_from) ?? null);
    if (input.available_until !== undefined) set('available_until', ts(input.available_until) ?? null);
    if (input.schedule !== undefined) {
      set('schedule_days', input.schedule ? [...input.schedule.days].sort((a, b) => a - b) : null);
      set('schedule_from', input.schedule?.from ?? null);
      set('schedule_until', input.schedule?.until ?? null);
    }
    if (input.donation_project !== undefined) set('donation_project', input.donation_project);
    if (input.status !== undefined) set('status', input.status);
    if (input.metadata !== undefined) set('metadata', input.metadata);
    const issues: FieldError[] = [];
    if (input.stock !== undefined) {
      if (input.stock === null) {
        set('stock', null);
        set('stock_left', null);
      } else {
        const redeemed = old.stock === null ? 0 : old.stock - (old.stock_left ?? 0);
        if (input.stock < redeemed)
          issues.push({
            path: '/stock',
            location: 'body',
            message: `must be at least ${redeemed}, the units redeemed already (and not given back)`,
            rule: 'at_least_redeemed',
            params: { limit: redeemed },
          });
        set('stock', input.stock);
        set('stock_left', input.stock - redeemed);
      }
    }
    issues.push(...(await rewardProblems(tx, old.program_id, { ...old, ...changes })));
    if (issues.length > 0) throw invalid(issues);
    return { status: 200, body: await repo.updateReward(tx, id, changes, ctx.now) };
  });
}

/** Archived: members no longer see or redeem it; its redemptions keep their course (ship, cancel). */
export async function archiveReward(db: Db, id: string, ctx: RewardWriteContext): Promise<WriteResult<Reward>> {
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    const old = await visibleRow(tx, id, ctx.scope, true);
    if (old.status === 'archived') throw new DomainError('REWARD_ARCHIVED', `Reward ${id} is archived already`, { reward_id: id });
    return { status: 200, body: await repo.archiveReward(tx, id, ctx.now) };
  });
}

// ─── price changes ───

/** A price from effective_at (now or later), announced from announce_at (default now). */
export async function createPriceChange(db: Db, rewardId: string, input: PriceChangeInput, ctx: RewardWriteContext): Promise<WriteResult<PriceChange>> {
  const effectiveAt = normalizeDateTime(input.effective_at);
  const announceAt = input.announce_at === undefined ? ctx.now.toISOString() : normalizeDateTime(input.announce_at);
  const issues: FieldError[] = [];
  if (Date.parse(effectiveAt) < ctx.now.getTime()) issues.push({ path: '/effective_at', location: 'body', message: 'must be now or later', rule: 'not_past' });
  if (Date.parse(announceAt) > Date.parse(effectiveAt))
    issues.push({ path: '/announce_at', location: 'body', message: 'must be at most effective_at', rule: 'at_most_field', params: { field: 'effective_at' } });
  if (issues.length > 0) throw invalid(issues);
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    const r = await visibleRow(tx, rewardId, ctx.scope, true);
    if (r.status === 'archived') throw new DomainError('REWARD_ARCHIVED', `Reward ${rewardId} is archived`, { reward_id: rewardId });
    if (r.type === 'donation' && input.cash_part != null)
      throw invalid([
        { path: '/cash_part', location: 'body', message: 'a donation has no cash part', rule: 'not_for', params: { field: 'type', value: 'donation' } },
      ]);
    const clash = await repo.priceChangeAt(tx, rewardId, effectiveAt);
    if (clash)
      throw invalid([
        {
          path: '/effective_at',
          location: 'body',
          message: `price change ${clash} takes effect at this instant already`,
          rule: 'instant_taken',
          params: { id: clash },
        },
      ]);
    const body = await repo.insertPriceChange(
      tx,
      {
        id: newId('rpc'),
        rewardId,
        programId: r.program_id,
        pointsCost: input.points_cost,
        cashPart: input.cash_part ?? null,
        announceAt,
        effectiveAt,
        by: ctx.actor,
      },
      ctx.now,
    );
    return { status: 201, body };
  });
}

export async function listPriceChanges(db: Queryable, rewardId: string, now: Date, scope: ProgramScope = null): Promise<PriceChange[]> {
  await visibleRow(db, rewardId, scope);
  return repo.listPriceChanges(db, rewardId, now);
}

/** Withdraws a change not yet in effect (409 PRICE_CHANGE_IN_EFFECT after). Answers the reward. */
export async function deletePriceChange(db: Db, rewardId: string, changeId: string, ctx: RewardWriteContext): Promise<WriteResult<Reward>> {
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    await visibleRow(tx, rewardId, ctx.scope, true);
    const pc = await repo.findPriceChange(tx, rewardId, changeId, ctx.now);
    if (!pc) throw new DomainError('PRICE_CHANGE_NOT_FOUND', `Reward ${rewardId} has no price change ${changeId}`, { price_change_id: changeId });
    if (pc.in_effect)
      throw new DomainError('PRICE_CHANGE_IN_EFFECT', `Price change ${changeId} took effect at ${pc.effective_at}`, {
        price_change_id: changeId,
        effective_at: pc.effective_at,
      });
    await repo.deletePriceChange(tx, changeId);
    return { status: 200, body: (await repo.rewardJson(tx, rewardId, ctx.now))! };
  });
}

// ─── redemptions ───

/** Calls a redemption function: one round trip; an idempotency race is run again (and replays), a refusal after a twin committed replays it. */
async function callRedemption<T>(db: Db, fn: repo.RedemptionFunction, p: Record<string, unknown>, ctx: RewardWriteContext): Promise<WriteResult<T>> {
  const params = { ...p, actor: ctx.actor, now: ctx.now.toISOString(), programs: ctx.scope ?? null, ...idempotencyParams(ctx.idempotency) };
  return idempotentWrite(db, ctx.idempotency, () => repo.callRewards<T>(db, fn, params));
}

/**
 * Redeems a reward for a member (rewards_redeem: checks, hold → fulfil → capture, stock last, in
 * one round trip). Every refusal is a 4xx with its code and writes nothing.
 */
export async function redeem(db: Db, memberId: string, input: RedemptionCreate, ctx: RewardWriteContext): Promise<WriteResult<Redemption>> {
  return callRedemption<Redemption>(
    db,
    'rewards_redeem',
    {
      member_id: memberId,
      reward_id: input.reward_id,
      quantity: input.quantity ?? 1,
      ...(input.points !== undefined ? { points: input.points } : {}),
      ...(input.expected_points !== undefined ? { expected_points: input.expected_points } : {}),
      ...(input.shipping !== undefined ? { shipping: input.shipping } : {}),
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    },
    ctx,
  );
}

/** Cancel (while confirmed) or reject (confirmed or shipped): points back as lots with their original expiry, stock back, exactly once. */
export function endRedemption(
  db: Db,
  redemptionId: string,
  action: 'cancel' | 'reject',
  input: EndInput,
  ctx: RewardWriteContext & { memberId?: string },
): Promise<WriteResult<Redemption>> {
  return callRedemption<Redemption>(
    db,
    'rewards_restore',
    {
      redemption_id: redemptionId,
      action,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      ...(ctx.memberId ? { member_id: ctx.memberId } : {}),
    },
    ctx,
  );
}

async function lockedRedemption(tx: Queryable, id: string, scope: ProgramScope | undefined): Promise<Redemption> {
  const d = await repo.findRedemption(tx, id, true);
  if (!d || !visible(scope ?? null, id, d.program_id)) throw redemptionNotFound(id);
  return d;
}

const conflict = (d: Redemption, action: string) =>
  new DomainError('REDEMPTION_STATUS_CONFLICT', `Redemption ${d.id} is ${d.status}: it cannot be ${action}`, {
    redemption_id: d.id,
    redemption_status: d.status,
    action,
  });

/** A physical reward's order leaves: confirmed → shipped, with carrier and tracking number. */
export async function shipRedemption(db: Db, id: string, input: ShipInput, ctx: RewardWriteContext): Promise<WriteResult<Redemption>> {
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    const d = await lockedRedemption(tx, id, ctx.scope);
    if (d.reward_type !== 'physical' || d.status !== 'confirmed') throw conflict(d, 'shipped');
    await repo.advanceRedemption(tx, id, { status: 'shipped', carrier: input.carrier, trackingNumber: input.tracking_number }, ctx.actor, ctx.now);
    return { status: 200, body: (await repo.findRedemption(tx, id))! };
  });
}

/** Delivered: a physical reward arrived (shipped, or picked up while confirmed), or a service or experience was given (from confirmed). */
export async function deliverRedemption(db: Db, id: string, ctx: RewardWriteContext): Promise<WriteResult<Redemption>> {
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    const d = await lockedRedemption(tx, id, ctx.scope);
    const from = d.reward_type === 'physical' ? ['confirmed', 'shipped'] : d.reward_type === 'service' || d.reward_type === 'experience' ? ['confirmed'] : [];
    if (!from.includes(d.status)) throw conflict(d, 'delivered');
    await repo.advanceRedemption(tx, id, { status: 'delivered' }, ctx.actor, ctx.now);
    return { status: 200, body: (await repo.findRedemption(tx, id))! };
  });
}

export async function getRedemption(db: Queryable, id: string, scope: ProgramScope = null, memberId?: string): Promise<Redemption> {
  const d = await repo.findRedemption(db, id);
  if (!d || !visible(scope, id, d.program_id) || (memberId !== undefined && d.member_id !== memberId)) throw redemptionNotFound(id);
  return d;
}

async function redemptionPage(db: Queryable, f: repo.RedemptionFilter, query: { limit?: number; cursor?: string }): Promise<Page<RedemptionListItem>> {
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const rows = await repo.listRedemptions(db, f, limit, before);
  const page = toPage(rows, limit, (r) => [r.at, r.id]);
  return { ...page, data: page.data.map((r) => r.d) };
}

export async function listProgramRedemptions(db: Queryable, programId: string, query: RedemptionListQuery): Promise<Page<RedemptionListItem>> {
  await getProgram(db, programId);
  return redemptionPage(db, { programId, memberId: query.member_id, rewardId: query.reward_id, status: query.status }, query);
}

export async function listMemberRedemptions(
  db: Queryable,
  memberId: string,
  query: MemberRedemptionListQuery,
  scope: ProgramScope = null,
): Promise<Page<Redemption>> {
  await getMember(db, memberId, scope);
  return redemptionPage(db, { memberId, rewardId: query.reward_id, status: query.status }, query);
}

// ─── the member's catalogue ───

async function catalogueItems(
  db: Queryable,
  memberId: string,
  query: { type?: string; category?: string; limit?: number; cursor?: string },
  now: Date,
): Promise<{ page: Page<repo.CatalogueRow>; items: CatalogueItem[]; available: number }> {
  const ctx = await repo.memberContext(db, memberId, now);
  if (!ctx) throw new DomainError('MEMBER_NOT_FOUND', `No member ${memberId}`, { member_id: memberId });
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const page = toPage(await repo.catalogue(db, memberId, ctx, query, limit, before, now), limit, (r) => [r.at, r.id]);
  const items = page.data.map((row): CatalogueItem => {
    const r = row.r;
    const v = catalogueState(
      {
        type: r.type,
        points_cost: r.points_cost,
        stock_left: r.stock_left,
        codes_left: r.codes_left,
        available_from: r.available_from,
        available_until: r.available_until,
        schedule: r.schedule,
        limit_per_member: row.limit_per_member,
        min_tier: r.min_tier,
        segment_id: r.segment_id,
      },
      { available_points: ctx.available, tier_rank: ctx.tier_rank, required_rank: row.required_rank, in_segment: row.in_segment, used: row.used },
      now,
      ctx.time_zone,
    );
    // members see the price changes announced so far, not those still kept for later
    const reward = { ...r, upcoming_prices: r.upcoming_prices.filter((p) => Date.parse(p.announce_at) <= now.getTime()) };
    return { object: 'catalogue_item', reward, ...v, used: row.used };
  });
  return { page, items, available: ctx.available };
}

/** The member's catalogue: every active reward with its state for the member now (docs/rewards.md). */
export async function memberCatalogue(db: Queryable, memberId: string, query: CatalogueQuery, now: Date): Promise<Catalogue> {
  const { page, items, available } = await catalogueItems(db, memberId, query, now);
  return { object: 'list', data: items, has_more: page.has_more, next_cursor: page.next_cursor, available_points: available };
}

/** Categories of the member's recent order lines (the last 100 order.paid events), counted by quantity. */
async function categoryLines(db: Queryable, memberId: string): Promise<Map<string, number>> {
  const events = await listMemberEvents(db, memberId, { type: 'order.paid', limit: 100 });
  const lines = new Map<string, number>();
  for (const e of events.data) {
    const items = (e.data as { items?: { category?: string; quantity?: number }[] }).items ?? [];
    for (const i of items) if (typeof i.category === 'string') lines.set(i.category, (lines.get(i.category) ?? 0) + (i.quantity ?? 1));
  }
  return lines;
}

/** Rewards the member can redeem or only lacks points for, ranked by affordability and category affinity. */
export async function withinReach(db: Queryable, memberId: string, limit: number, now: Date): Promise<WithinReach> {
  const { items, available } = await catalogueItems(db, memberId, { limit: 100 }, now);
  const ranked = rankWithinReach(
    items.map((i) => ({ ...i, points_cost: i.reward.points_cost, category: i.reward.category, id: i.reward.id })),
    available,
    await categoryLines(db, memberId),
    limit,
  );
  return {
    object: 'within_reach',
    available_points: available,
    data: ranked.map(({ item: { points_cost: _p, category: _c, id: _i, ...item }, affordability, affinity, score }) => ({
      ...item,
      affordability,
      affinity,
      score,
    })),
  };
}

/** Points donated per charity project (donation rewards), less cancelled and rejected donations. */
export async function donationTotals(db: Queryable, programId: string): Promise<DonationTotals> {
  await getProgram(db, programId);
  return { object: 'donation_totals', program_id: programId, projects: await repo.donationTotals(db, programId) };
}

/**
 * The rewards most redeemed in the dashboard's window (the `days` program-local days ending
 * today), with the points they spent: the dashboard's "top rewards" card.
 */
export async function topRewards(db: Queryable, programId: string, query: TopRewardsQuery, now: Date): Promise<TopRewards> {
  const program = await getProgram(db, programId);
  const days = query.days ?? 90;
  const { from, to, rows } = await repo.topRewards(db, programId, program.time_zone, now, days, query.limit ?? 5);
  return {
    object: 'top_rewards',
    program_id: programId,
    window: { days, from, to },
    data: rows.map((r) => ({
      ...r,
      reward_type: r.reward_type as TopRewards['data'][number]['reward_type'],
      status: r.status as TopRewards['data'][number]['status'],
    })),
  };
}

/** What a member's holds paid for, by hold id: the redeemed reward's name and type (for the member's history). */
export async function redemptionRewards(db: Queryable, memberId: string, holdIds: string[]): Promise<Map<string, { name: RewardName; type: string }>> {
  return new Map((await repo.redemptionRewards(db, memberId, holdIds)).map((r) => [r.hold_id, { name: r.name, type: r.type }]));
}
