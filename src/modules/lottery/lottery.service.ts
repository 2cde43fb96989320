import type { Db, Queryable } from '../../db/db.ts';
import { DomainError, fieldError } from '../../shared/errors.ts';
import { type IdempotencyContext, idempotencyParams, idempotentWrite, type WriteResult, withIdempotency } from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import type { ProgramScope } from '../api-keys/index.ts';
import { getReward, type RewardName } from '../rewards/index.ts';
import { drawOutcome, MAX_PRIZES, newClientSeed, newSeed, seedHash } from './lottery.engine.ts';
import * as repo from './lottery.repository.ts';
import type {
  ClientSeed,
  ClientSeedInput,
  Draw,
  DrawCreate,
  DrawListItem,
  DrawListQuery,
  MemberLotteryPrizes,
  MemberLotteryPrizesQuery,
  Prize,
  PrizeCreate,
  PrizeUpdate,
  Seed,
  SeedListQuery,
  SeedRotation,
  Verification,
} from './lottery.schemas.ts';

/** Who writes and how: the clock's instant, the actor, the idempotency key, the caller's programs. */
export interface LotteryWriteContext {
  now: Date;
  actor: string;
  idempotency?: IdempotencyContext;
  scope?: ProgramScope;
}

const prizeNotFound = (id: string) => new DomainError('LOTTERY_PRIZE_NOT_FOUND', `No prize ${id} in this lottery`, { prize_id: id });
const drawNotFound = (id: string) => new DomainError('LOTTERY_DRAW_NOT_FOUND', `No lottery draw ${id}`, { draw_id: id });

/** The reward, visible to the caller (404 REWARD_NOT_FOUND otherwise) and a lottery (422 NOT_A_LOTTERY otherwise). */
async function lottery(db: Queryable, rewardId: string, now: Date, scope: ProgramScope | undefined) {
  const r = await getReward(db, rewardId, now, scope ?? null);
  if (r.type !== 'lottery')
    throw new DomainError('NOT_A_LOTTERY', `Reward ${rewardId} is a ${r.type} reward, not a lottery`, { reward_id: rewardId, type: r.type });
  return r;
}

// ─── the prize table ───

const PRIZE_REWARD_TYPES = new Set(['coupon', 'physical', 'service', 'experience']);

/** The reward a prize issues: of the lottery's program, a coupon, goods, a service or an experience, not archived. */
async function checkPrizeReward(db: Queryable, programId: string, id: string | null | undefined, now: Date): Promise<void> {
  if (id === null || id === undefined) return;
  const r = await getReward(db, id, now).catch((err: unknown) => {
    if (err instanceof DomainError && err.code === 'REWARD_NOT_FOUND') return undefined;
    throw err;
  });
  if (!r || r.program_id !== programId) throw fieldError('/prize_reward_id', 'is not a reward of this program', 'not_in_program');
  if (!PRIZE_REWARD_TYPES.has(r.type))
    throw fieldError('/prize_reward_id', `is a ${r.type} reward: a prize issues a coupon, goods, a service or an experience`, 'prize_reward_type', {
      type: r.type,
    });
  if (r.status === 'archived') throw fieldError('/prize_reward_id', 'is archived', 'archived');
}

export async function createPrize(db: Db, rewardId: string, input: PrizeCreate, ctx: LotteryWriteContext): Promise<WriteResult<Prize>> {
  const r = await lottery(db, rewardId, ctx.now, ctx.scope);
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    // the code's uniqueness under the lottery's rotation lock: two creations of one code do not race
    await repo.lockRotation(tx, rewardId);
    if (await repo.prizeCodeTaken(tx, rewardId, input.code))
      throw new DomainError('LOTTERY_PRIZE_CODE_TAKEN', `The lottery has a prize ${input.code} already`, { code: input.code }, [
        { path: '/code', location: 'body', message: 'is taken by another prize of this lottery', rule: 'taken' },
      ]);
    // the engine draws over at most MAX_PRIZES weights (their total stays below 2^32)
    if ((await repo.listPrizes(tx, rewardId, false)).length >= MAX_PRIZES)
      throw fieldError('/code', `cannot be added: the lottery has ${MAX_PRIZES} prizes already (archive one first)`, 'too_many', { limit: MAX_PRIZES });
    await checkPrizeReward(tx, r.program_id, input.prize_reward_id, ctx.now);
    const body = await repo.insertPrize(
      tx,
      {
        id: newId('lpz'),
        rewardId,
        programId: r.program_id,
        code: input.code,
        name: input.name,
        weight: input.weight,
        stock: input.stock ?? null,
        points: input.points ?? null,
        prizeRewardId: input.prize_reward_id ?? null,
      },
      ctx.now,
    );
    return { status: 201, body };
  });
}

export async function listPrizes(db: Queryable, rewardId: string, archived: boolean, now: Date, scope: ProgramScope = null): Promise<Prize[]> {
  await lottery(db, rewardId, now, scope);
  return repo.listPrizes(db, rewardId, archived);
}

/**
 * A change to a prize: its name, weight, points, or stock (stock_left moves by the difference, and
 * the stock cannot go below the units given out). Draws record the weights they used, so past
 * draws verify the same after a change.
 */
export async function updatePrize(db: Db, rewardId: string, prizeId: string, input: PrizeUpdate, ctx: LotteryWriteContext): Promise<WriteResult<Prize>> {
  const r = await lottery(db, rewardId, ctx.now, ctx.scope);
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    const old = await repo.findPrize(tx, rewardId, prizeId, true);
    if (!old || old.archived_at !== null) throw prizeNotFound(prizeId);
    await checkPrizeReward(tx, r.program_id, input.prize_reward_id, ctx.now);
    const changes: Parameters<typeof repo.updatePrize>[2] = {
      name: input.name,
      weight: input.weight,
      points: input.points,
      prizeRewardId: input.prize_reward_id,
    };
    if (input.stock !== undefined) {
      const given = old.stock === null ? 0 : old.stock - (old.stock_left ?? 0);
      if (input.stock === null) {
        changes.stock = null;
        changes.stockLeft = null;
      } else {
        if (input.stock < given) throw fieldError('/stock', `must be at least ${given}, the units given out already`, 'at_least_given', { limit: given });
        changes.stock = input.stock;
        changes.stockLeft = input.stock - given;
      }
    }
    return { status: 200, body: await repo.updatePrize(tx, prizeId, changes, ctx.now) };
  });
}

/** Archived: no longer drawn; the draws that gave it keep it (and verify the same). */
export async function archivePrize(db: Db, rewardId: string, prizeId: string, ctx: LotteryWriteContext): Promise<WriteResult<Prize>> {
  await lottery(db, rewardId, ctx.now, ctx.scope);
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    const old = await repo.findPrize(tx, rewardId, prizeId, true);
    if (!old || old.archived_at !== null) throw prizeNotFound(prizeId);
    return { status: 200, body: await repo.archivePrize(tx, prizeId, ctx.now) };
  });
}

// ─── seeds ───

/**
 * Rotates the lottery's seed: the active one (if any) is revealed, after the draws under way under
 * it have committed, and a new seed is drawn whose SHA-256 is published at once, before any draw
 * under it.
 */
export async function rotateSeed(db: Db, rewardId: string, ctx: LotteryWriteContext): Promise<WriteResult<SeedRotation>> {
  const r = await lottery(db, rewardId, ctx.now, ctx.scope);
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    await repo.lockRotation(tx, rewardId);
    const activeId = await repo.activeSeedId(tx, rewardId);
    const revealed = activeId ? await repo.revealSeed(tx, activeId, ctx.now) : null;
    const seed = newSeed();
    const active = await repo.insertSeed(tx, { id: newId('lsd'), rewardId, programId: r.program_id, seed, seedHash: seedHash(seed) }, ctx.now);
    return { status: 201, body: { object: 'lottery_seed_rotation' as const, revealed, active } };
  });
}

export async function listSeeds(db: Queryable, rewardId: string, query: SeedListQuery, now: Date, scope: ProgramScope = null): Promise<Page<Seed>> {
  await lottery(db, rewardId, now, scope);
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const page = toPage(await repo.listSeeds(db, rewardId, limit, before), limit, (x) => [x.at, x.id]);
  return { ...page, data: page.data.map((x) => x.s) };
}

// ─── draws ───

/**
 * A member's draw, in one transaction: lottery_draw_begin checks and locks (the member, the
 * active seed, the prizes with a stock), the engine computes the outcome from the seed, the
 * member's client seed and nonce over the weights of the prizes in stock, and lottery_draw_commit
 * pays (hold → capture), records and gives the prize. Every refusal is a 4xx and writes nothing.
 */
export async function draw(db: Db, memberId: string, input: DrawCreate, ctx: LotteryWriteContext): Promise<WriteResult<Draw>> {
  const params = {
    member_id: memberId,
    reward_id: input.reward_id,
    ...(input.expected_points !== undefined ? { expected_points: input.expected_points } : {}),
    ...(input.shipping !== undefined ? { shipping: input.shipping } : {}),
    client_seed_default: newClientSeed(),
    actor: ctx.actor,
    now: ctx.now.toISOString(),
    programs: ctx.scope ?? null,
    ...idempotencyParams(ctx.idempotency),
  };
  const attempt = () =>
    db.transaction(async (tx) => {
      const begun = await repo.callDraw<repo.BeginResult>(tx, 'lottery_draw_begin', params);
      if (begun.replayed !== undefined) return begun as WriteResult<Draw>;
      const inputs = begun as repo.DrawInputs;
      const outcome = drawOutcome(
        inputs.seed,
        inputs.client_seed,
        inputs.nonce,
        inputs.weights.map((w) => w.weight),
      );
      return repo.callDraw<WriteResult<Draw>>(tx, 'lottery_draw_commit', { ...params, draw: inputs, outcome_index: outcome.index, hmac: outcome.hmac });
    });
  return idempotentWrite(db, ctx.idempotency, attempt);
}

export async function listLotteryDraws(
  db: Queryable,
  rewardId: string,
  query: DrawListQuery,
  now: Date,
  scope: ProgramScope = null,
): Promise<Page<DrawListItem>> {
  await lottery(db, rewardId, now, scope);
  return drawPage(db, { rewardId, seedId: query.seed_id }, query);
}

export async function listMemberDraws(db: Queryable, memberId: string, query: DrawListQuery): Promise<Page<Draw>> {
  return drawPage(db, { memberId, seedId: query.seed_id }, query);
}

async function drawPage(db: Queryable, f: { rewardId?: string; memberId?: string; seedId?: string }, query: DrawListQuery): Promise<Page<DrawListItem>> {
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const page = toPage(await repo.listDraws(db, f, limit, before), limit, (x) => [x.at, x.id]);
  return { ...page, data: page.data.map((x) => x.d) };
}

/** A member's own draw (404 for another member's). */
export async function getMemberDraw(db: Queryable, memberId: string, id: string): Promise<Draw> {
  const d = await repo.findDraw(db, id);
  if (!d || d.member_id !== memberId) throw drawNotFound(id);
  return d;
}

// ─── client seeds ───

/** The member's client seed (one is set at the first draw; before it, none: the answer says so with null updated_at). */
export async function getClientSeed(db: Queryable, memberId: string): Promise<ClientSeed> {
  return (await repo.findClientSeed(db, memberId)) ?? { object: 'lottery_client_seed', client_seed: '', updated_at: null };
}

/** Sets the member's client seed: their next draws use it, the nonce going on counting under the server seed. */
export async function setClientSeed(db: Db, memberId: string, input: ClientSeedInput, ctx: LotteryWriteContext): Promise<WriteResult<ClientSeed>> {
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    // under the member's lock: a draw under way keeps the client seed it read
    await tx.query('SELECT 1 FROM member_account WHERE member_id = $1 FOR UPDATE', [memberId]);
    return { status: 200, body: await repo.upsertClientSeed(tx, memberId, input.client_seed, ctx.now) };
  });
}

// ─── verification (public) ───

/**
 * Recomputes a draw: once its seed is revealed, SHA-256(seed) against the hash published before
 * the draw, the HMAC and the prize from the recorded client seed, nonce and weights.
 */
export async function verifyDraw(db: Queryable, id: string): Promise<Verification> {
  const v = await repo.verificationRow(db, id);
  if (!v) throw drawNotFound(id);
  const base = {
    object: 'lottery_verification' as const,
    draw_id: v.id,
    reward_id: v.reward_id,
    seed_id: v.seed_id,
    seed_hash: v.seed_hash,
    seed: v.seed,
    seed_status: v.seed_status,
    client_seed: v.client_seed,
    nonce: v.nonce,
    weights: v.weights,
    recorded: { prize_code: v.prize_code, hmac: v.hmac },
  };
  if (v.seed === null)
    return {
      ...base,
      hash_matches: null,
      recomputed: null,
      matches: null,
      message: {
        'zh-CN': '本期种子尚未公开：轮换种子后即可验证这次抽奖。',
        en: 'The seed is not revealed yet: the draw can be verified once the seed is rotated.',
      },
    };
  const out = drawOutcome(
    v.seed,
    v.client_seed,
    v.nonce,
    v.weights.map((w) => w.weight),
  );
  const code = v.weights[out.index]!.code;
  const hashMatches = seedHash(v.seed) === v.seed_hash;
  const matches = hashMatches && out.hmac === v.hmac && code === v.prize_code;
  return {
    ...base,
    hash_matches: hashMatches,
    recomputed: { prize_code: code, index: out.index, value: out.value, total: out.total, hmac: out.hmac },
    matches,
    message: matches
      ? { 'zh-CN': '验证通过：重新计算的结果与记录一致。', en: 'Verified: the recomputed outcome matches the record.' }
      : { 'zh-CN': '验证失败：重新计算的结果与记录不一致。', en: 'Not verified: the recomputed outcome does not match the record.' },
  };
}

/** The lottery and the prize of a member's draws, by draw id (for the member's history). */
export async function drawPrizeNames(db: Queryable, memberId: string, ids: string[]): Promise<Map<string, { lottery: RewardName; prize: RewardName }>> {
  return new Map((await repo.drawPrizeNames(db, memberId, ids)).map((d) => [d.id, { lottery: d.lottery, prize: d.prize }]));
}

/** The prize tables of the member's program's active lotteries, with each prize's chance now and what it gives. */
export async function memberLotteryPrizes(db: Queryable, memberId: string, query: MemberLotteryPrizesQuery): Promise<MemberLotteryPrizes> {
  const rows = await repo.memberLotteryPrizes(db, memberId, query.reward_id ?? null);
  const byLottery = new Map<string, repo.MemberPrizeRow[]>();
  for (const r of rows) {
    const prizes = byLottery.get(r.reward_id);
    if (prizes) prizes.push(r);
    else byLottery.set(r.reward_id, [r]);
  }
  return {
    object: 'list',
    data: [...byLottery].map(([rewardId, prizes]) => {
      const total = prizes.reduce((sum, z) => sum + (z.in_stock ? z.weight : 0), 0);
      return {
        reward_id: rewardId,
        total_weight: total,
        prizes: prizes.map((z) => ({
          code: z.code,
          name: z.name,
          points: z.points,
          weight: z.weight,
          in_stock: z.in_stock,
          chance: z.in_stock && total > 0 ? z.weight / total : 0,
          issues: z.issues ? { ...z.issues, needs_shipping: z.issues.type === 'physical' } : null,
        })),
      };
    }),
  };
}
