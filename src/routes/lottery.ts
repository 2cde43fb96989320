import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { scopeOf } from '../modules/api-keys/index.ts';
import * as lottery from '../modules/lottery/index.ts';
import {
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
} from '../modules/lottery/index.ts';
import type { MemberPrincipal } from '../modules/me/index.ts';
import type { Json } from '../plugins/change-log.ts';
import { type App, actorOf, emptyBodyIsObject, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { type IdempotencyContext, requestHash } from '../shared/idempotency.ts';
import { IdParam, PageOf, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Lottery'];
const RewardParams = IdParam('rewardId', 'rwd');
const PrizeParams = Type.Object({ ...RewardParams.properties, ...IdParam('prizeId', 'lpz').properties });
const DrawParams = IdParam('drawId', 'ldr');
const PrizeListQuery = Type.Object(
  { archived: Type.Optional(Type.Boolean({ default: false, description: 'Archived prizes too.' })) },
  { additionalProperties: false },
);
const Empty = Type.Object({}, { additionalProperties: false });
const security = [{ memberToken: [] }];
const member = { member: true } as const;

function principal(request: FastifyRequest): MemberPrincipal {
  // the member-auth hook has run: routes marked member never reach here without one
  return request.member!;
}

/** A member's own writes: keys are scoped to the member (no API key sends them). */
function memberIdempotency(request: FastifyRequest, operation: string): IdempotencyContext | undefined {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') return undefined;
  return { scope: `member:${principal(request).member.id}`, key, hash: requestHash(operation, { params: request.params, body: request.body }) };
}

const drawSummary = (_request: FastifyRequest, after: Json | undefined) => ({
  reward_id: after?.reward_id,
  member_id: after?.member_id,
  prize: after?.prize?.code,
  points: after?.points_cost,
  nonce: after?.nonce,
});

/** Lotteries (积分抽奖): prize tables, seeds, verifiable draws and their public verification (docs/rewards.md, "Lottery"). */
export async function lotteryRoutes(app: App, { db, clock }: AppDeps) {
  const ctx = (request: FastifyRequest, operation: string) => ({
    now: clock.now(),
    actor: actorOf(request),
    idempotency: idempotencyOf(request, operation),
    scope: scopeOf(request),
  });
  const prizeBefore = async (request: FastifyRequest) => {
    const { rewardId, prizeId } = request.params as { rewardId: string; prizeId: string };
    return (await lottery.listPrizes(db, rewardId, true, clock.now(), scopeOf(request))).find((z) => z.id === prizeId) ?? null;
  };

  // ─── the operator's ───

  app.post(
    '/v1/rewards/:rewardId/lottery-prizes',
    {
      config: { scope: 'admin', changeLog: { resource: 'lottery_prize' } },
      schema: {
        tags,
        summary: 'Add a prize to a lottery',
        operationId: 'createLotteryPrize',
        description:
          'A prize of a lottery reward: code, names, weight (its chance is weight ÷ the total weight of the prizes in stock at the draw), stock (null: unlimited; at 0 it is left out of draws), points credited to the winner (null: handed over by the operator, or a "thank you" entry). Not a lottery: 422 NOT_A_LOTTERY.',
        params: RewardParams,
        headers: IdempotencyHeaders,
        body: PrizeCreate,
        response: { 201: Prize, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await lottery.createPrize(db, request.params.rewardId, request.body, ctx(request, 'createLotteryPrize'))),
  );

  app.get(
    '/v1/rewards/:rewardId/lottery-prizes',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A lottery's prize table",
        operationId: 'listLotteryPrizes',
        description: 'In the order draws use them (oldest first).',
        params: RewardParams,
        querystring: PrizeListQuery,
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Prize) }), ...problems(404, 422) },
      },
    },
    async (request) => ({
      object: 'list' as const,
      data: await lottery.listPrizes(db, request.params.rewardId, request.query.archived ?? false, clock.now(), scopeOf(request)),
    }),
  );

  app.patch(
    '/v1/rewards/:rewardId/lottery-prizes/:prizeId',
    {
      config: { scope: 'admin', changeLog: { resource: 'lottery_prize', before: prizeBefore } },
      schema: {
        tags,
        summary: 'Update a lottery prize',
        operationId: 'updateLotteryPrize',
        description:
          'Only what is sent changes. A new stock moves stock_left by the difference and cannot be below the units given out. Draws record the weights they used: past draws verify the same.',
        params: PrizeParams,
        headers: IdempotencyHeaders,
        body: PrizeUpdate,
        response: { 200: Prize, ...problems(404, 422) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await lottery.updatePrize(db, request.params.rewardId, request.params.prizeId, request.body, ctx(request, 'updateLotteryPrize'))),
  );

  app.delete(
    '/v1/rewards/:rewardId/lottery-prizes/:prizeId',
    {
      config: { scope: 'admin', changeLog: { resource: 'lottery_prize', before: prizeBefore } },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Archive a lottery prize',
        operationId: 'archiveLotteryPrize',
        description: 'No longer drawn; the draws that gave it keep it. Archived already: 404 LOTTERY_PRIZE_NOT_FOUND.',
        params: PrizeParams,
        headers: IdempotencyHeaders,
        body: Empty,
        response: { 200: Prize, ...problems(404, 422) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await lottery.archivePrize(db, request.params.rewardId, request.params.prizeId, ctx(request, 'archiveLotteryPrize'))),
  );

  app.post(
    '/v1/rewards/:rewardId/lottery-seeds',
    {
      config: {
        scope: 'admin',
        changeLog: { resource: 'lottery_seed', resourceId: (_r, after) => after?.active?.id, programId: (_r, after) => after?.active?.program_id },
      },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: "Rotate a lottery's seed",
        operationId: 'rotateLotterySeed',
        description:
          'Reveals the active seed (its draws can then be verified by anyone) and publishes the SHA-256 of a new one, before any draw under it. The first rotation only publishes. Draws under way finish under the old seed first.',
        params: RewardParams,
        headers: IdempotencyHeaders,
        body: Empty,
        response: { 201: SeedRotation, ...problems(404, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await lottery.rotateSeed(db, request.params.rewardId, ctx(request, 'rotateLotterySeed'))),
  );

  app.get(
    '/v1/rewards/:rewardId/lottery-seeds',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A lottery's seeds",
        operationId: 'listLotterySeeds',
        description: 'Newest first: the active one with its published hash only, the revealed ones with their seed.',
        params: RewardParams,
        querystring: SeedListQuery,
        response: { 200: PageOf(Seed, 'LotterySeed'), ...problems(404, 422) },
      },
    },
    async (request) => lottery.listSeeds(db, request.params.rewardId, request.query, clock.now(), scopeOf(request)),
  );

  app.get(
    '/v1/rewards/:rewardId/lottery-draws',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A lottery's draws",
        operationId: 'listLotteryDraws',
        description: 'Newest first, each with the member who drew (name, external id); filter by seed.',
        params: RewardParams,
        querystring: DrawListQuery,
        response: { 200: PageOf(DrawListItem, 'LotteryDrawOfLottery'), ...problems(404, 422) },
      },
    },
    async (request) => lottery.listLotteryDraws(db, request.params.rewardId, request.query, clock.now(), scopeOf(request)),
  );

  // ─── the member's own ───

  const meCtx = (request: FastifyRequest, operation: string) => ({
    now: clock.now(),
    actor: `member:${principal(request).member.id}`,
    idempotency: memberIdempotency(request, operation),
  });

  app.get(
    '/v1/me/lottery-prizes',
    {
      config: member,
      schema: {
        tags,
        summary: "The prizes of the member's lotteries",
        operationId: 'listMyLotteryPrizes',
        security,
        description:
          "Every active lottery of the member's program with its prizes (not archived), in the order draws use: name, points, weight, whether in stock now, the chance now (weight ÷ the total weight in stock), and the reward a prize issues (goods need a shipping address with the draw). Filter by reward_id.",
        querystring: MemberLotteryPrizesQuery,
        response: { 200: MemberLotteryPrizes, ...problems() },
      },
    },
    async (request) => lottery.memberLotteryPrizes(db, principal(request).member.id, request.query),
  );

  app.post(
    '/v1/me/lottery-draws',
    {
      config: { ...member, changeLog: { resource: 'lottery_draw', summary: drawSummary } },
      schema: {
        tags,
        summary: 'Draw (the member)',
        operationId: 'drawMyLottery',
        security,
        description:
          "Spends the lottery's points (a redemption of the reward, delivered at once) and draws: HMAC-SHA256(seed, client_seed:nonce) over the weights of the prizes in stock, under the active seed whose hash is published. Refusals as for redemptions (INSUFFICIENT_POINTS, NOT_AVAILABLE_NOW, …), 409 LOTTERY_NO_ACTIVE_SEED, 422 LOTTERY_NO_PRIZES, 422 NOT_A_LOTTERY; none changes anything. Send an Idempotency-Key: a retry answers the first draw.",
        headers: IdempotencyHeaders,
        body: DrawCreate,
        response: { 201: Draw, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await lottery.draw(db, principal(request).member.id, request.body, meCtx(request, 'drawMyLottery'))),
  );

  app.get(
    '/v1/me/lottery-draws',
    {
      config: member,
      schema: {
        tags,
        summary: "The member's draws",
        operationId: 'listMyLotteryDraws',
        security,
        description: 'Newest first, each with its verification path.',
        querystring: DrawListQuery,
        response: { 200: PageOf(Draw, 'LotteryDraw'), ...problems(404) },
      },
    },
    async (request) => lottery.listMemberDraws(db, principal(request).member.id, request.query),
  );

  app.get(
    '/v1/me/lottery-client-seed',
    {
      config: member,
      schema: {
        tags,
        summary: "The member's client seed",
        operationId: 'getMyLotteryClientSeed',
        security,
        description: 'Mixed into every draw of the member. A random one is set at the first draw; before it, an empty one with updated_at null.',
        response: { 200: ClientSeed, ...problems(404) },
      },
    },
    async (request) => lottery.getClientSeed(db, principal(request).member.id),
  );

  app.put(
    '/v1/me/lottery-client-seed',
    {
      config: { ...member, changeLog: { resource: 'lottery_client_seed', resourceId: (request) => request.member?.member.id ?? null } },
      schema: {
        tags,
        summary: "Set the member's client seed",
        operationId: 'setMyLotteryClientSeed',
        security,
        description: 'The next draws use it; the nonce goes on counting the draws under the server seed.',
        headers: IdempotencyHeaders,
        body: ClientSeedInput,
        response: { 200: ClientSeed, ...problems(404, 409) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await lottery.setClientSeed(db, principal(request).member.id, request.body, meCtx(request, 'setMyLotteryClientSeed'))),
  );

  // ─── public ───

  app.get(
    '/v1/lottery-draws/:drawId/verification',
    {
      schema: {
        tags,
        summary: 'Verify a draw (public)',
        operationId: 'verifyLotteryDraw',
        security: [],
        description:
          "No authentication. The draw's seed hash, client seed, nonce and weights; once the seed is revealed, the seed, whether SHA-256(seed) is the hash published before the draw, the recomputed HMAC and prize, and whether they match the record.",
        params: DrawParams,
        response: { 200: Verification, ...problems(404) },
      },
    },
    async (request) => lottery.verifyDraw(db, request.params.drawId),
  );
}
