import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import type { MemberPrincipal } from '../modules/me/index.ts';
import * as rewards from '../modules/rewards/index.ts';
import {
  Catalogue,
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
  RewardUpdate,
  ShipInput,
  WithinReach,
  WithinReachQuery,
} from '../modules/rewards/index.ts';
import type { Json } from '../plugins/change-log.ts';
import { type App, actorOf, emptyBodyIsObject, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { type IdempotencyContext, requestHash } from '../shared/idempotency.ts';
import { IdParam, PageOf, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Rewards'];
const ProgramParams = IdParam('programId', 'prg');
const MemberParams = IdParam('memberId', 'mbr');
const RewardParams = IdParam('rewardId', 'rwd');
const RedemptionParams = IdParam('redemptionId', 'rdm');
const PriceChangeParams = Type.Object({ ...RewardParams.properties, ...IdParam('priceChangeId', 'rpc').properties });
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

const redemptionSummary = (_request: FastifyRequest, after: Json | undefined) => ({
  reward_id: after?.reward_id,
  member_id: after?.member_id,
  quantity: after?.quantity,
  points: after?.points,
  status: after?.status,
});

/** The catalogue (rewards, price changes), redemptions and their order lifecycle, the member's catalogue (docs/rewards.md). */
export async function rewardRoutes(app: App, { db, clock }: AppDeps) {
  const rewardBefore = (request: FastifyRequest) => rewards.getReward(db, (request.params as { rewardId: string }).rewardId, clock.now());
  const redemptionBefore = (request: FastifyRequest) => rewards.getRedemption(db, (request.params as { redemptionId: string }).redemptionId);
  const ctx = (request: FastifyRequest, operation: string) => ({
    now: clock.now(),
    actor: actorOf(request),
    idempotency: idempotencyOf(request, operation),
    scope: scopeOf(request),
  });

  app.post(
    '/v1/programs/:programId/rewards',
    {
      config: { scope: 'admin', changeLog: { resource: 'reward' } },
      schema: {
        tags,
        summary: 'Create a reward',
        operationId: 'createReward',
        description:
          'A reward of the catalogue: type, names, images, category, points cost (and cash part), stock (null: unlimited), per-member limit, tier and segment gating, window and flash-sale hours (docs/rewards.md). Draft by default: members see active rewards only.',
        params: ProgramParams,
        headers: IdempotencyHeaders,
        body: RewardCreate,
        response: { 201: Reward, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      requireProgram(scopeOf(request), request.params.programId);
      return sendResult(reply, await rewards.createReward(db, request.params.programId, request.body, ctx(request, 'createReward')));
    },
  );

  app.get(
    '/v1/programs/:programId/rewards',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List rewards',
        operationId: 'listRewards',
        description: 'Newest first; filter by status, type and category. Each with the price in force now and the changes to come.',
        params: ProgramParams,
        querystring: RewardListQuery,
        response: { 200: PageOf(Reward, 'Reward'), ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return rewards.listRewards(db, request.params.programId, request.query, clock.now());
    },
  );

  app.get(
    '/v1/rewards/:rewardId',
    {
      config: { scope: 'read' },
      schema: { tags, summary: 'A reward', operationId: 'getReward', params: RewardParams, response: { 200: Reward, ...problems(404) } },
    },
    async (request) => rewards.getReward(db, request.params.rewardId, clock.now(), scopeOf(request)),
  );

  app.patch(
    '/v1/rewards/:rewardId',
    {
      config: { scope: 'admin', changeLog: { resource: 'reward', before: rewardBefore } },
      schema: {
        tags,
        summary: 'Update a reward',
        operationId: 'updateReward',
        description:
          'Only what is sent changes; null clears. A new stock moves stock_left by the difference and cannot be below the units redeemed. The price changes with POST …/price-changes. An archived reward: 409 REWARD_ARCHIVED.',
        params: RewardParams,
        headers: IdempotencyHeaders,
        body: RewardUpdate,
        response: { 200: Reward, ...problems(404, 409) },
      },
    },
    async (request, reply) => sendResult(reply, await rewards.updateReward(db, request.params.rewardId, request.body, ctx(request, 'updateReward'))),
  );

  app.post(
    '/v1/rewards/:rewardId/archive',
    {
      config: { scope: 'admin', changeLog: { resource: 'reward', before: rewardBefore } },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Archive a reward',
        operationId: 'archiveReward',
        description: 'Members no longer see or redeem it; its redemptions keep their course. Archived already: 409 REWARD_ARCHIVED.',
        params: RewardParams,
        headers: IdempotencyHeaders,
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: Reward, ...problems(404, 409) },
      },
    },
    async (request, reply) => sendResult(reply, await rewards.archiveReward(db, request.params.rewardId, ctx(request, 'archiveReward'))),
  );

  app.post(
    '/v1/rewards/:rewardId/price-changes',
    {
      config: { scope: 'admin', changeLog: { resource: 'reward_price_change' } },
      schema: {
        tags,
        summary: "Schedule a reward's new price",
        operationId: 'createPriceChange',
        description:
          'From effective_at (now or later) the reward costs points_cost (and cash_part); members see it coming from announce_at (default now). Visible at once in the reward (upcoming_prices).',
        params: RewardParams,
        headers: IdempotencyHeaders,
        body: PriceChangeInput,
        response: { 201: PriceChange, ...problems(404, 409) },
      },
    },
    async (request, reply) => sendResult(reply, await rewards.createPriceChange(db, request.params.rewardId, request.body, ctx(request, 'createPriceChange'))),
  );

  app.get(
    '/v1/rewards/:rewardId/price-changes',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A reward's price changes",
        operationId: 'listPriceChanges',
        description: 'All of them, past and to come, by effective_at.',
        params: RewardParams,
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(PriceChange) }), ...problems(404) },
      },
    },
    async (request) => ({ object: 'list' as const, data: await rewards.listPriceChanges(db, request.params.rewardId, clock.now(), scopeOf(request)) }),
  );

  app.delete(
    '/v1/rewards/:rewardId/price-changes/:priceChangeId',
    {
      config: {
        scope: 'admin',
        changeLog: { resource: 'reward_price_change', resourceId: (request) => (request.params as { priceChangeId: string }).priceChangeId },
      },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Withdraw a price change',
        operationId: 'deletePriceChange',
        description: 'Before it takes effect; after: 409 PRICE_CHANGE_IN_EFFECT. Answers the reward.',
        params: PriceChangeParams,
        headers: IdempotencyHeaders,
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: Reward, ...problems(404, 409) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await rewards.deletePriceChange(db, request.params.rewardId, request.params.priceChangeId, ctx(request, 'deletePriceChange'))),
  );

  app.get(
    '/v1/programs/:programId/donations',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'Donation totals per charity project',
        operationId: 'getDonationTotals',
        description: 'Points donated through donation rewards, per donation_project, less cancelled and rejected donations.',
        params: ProgramParams,
        response: { 200: DonationTotals, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return rewards.donationTotals(db, request.params.programId);
    },
  );

  // ─── redemptions ───

  app.post(
    '/v1/members/:memberId/redemptions',
    {
      config: { scope: 'integration', changeLog: { resource: 'redemption', summary: redemptionSummary } },
      schema: {
        tags,
        summary: 'Redeem a reward for a member',
        operationId: 'redeemReward',
        description:
          "Checks the member's status, the reward's window, tier and segment, the per-member limit, the stock and the balance; then holds the points (soonest-expiring first), issues the codes of a coupon, captures and takes the stock, in one transaction. Every refusal is a 4xx with its code (INSUFFICIENT_POINTS, REWARD_OUT_OF_STOCK, LIMIT_REACHED, TIER_REQUIRED, SEGMENT_REQUIRED, NOT_AVAILABLE_NOW, MEMBER_FROZEN, …) and changes nothing. Send an Idempotency-Key: a retry answers the first redemption.",
        params: MemberParams,
        headers: IdempotencyHeaders,
        body: RedemptionCreate,
        response: { 201: Redemption, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await rewards.redeem(db, request.params.memberId, request.body, ctx(request, 'redeemReward'))),
  );

  app.get(
    '/v1/members/:memberId/redemptions',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A member's redemptions",
        operationId: 'listMemberRedemptions',
        description: 'Newest first; filter by status and reward.',
        params: MemberParams,
        querystring: MemberRedemptionListQuery,
        response: { 200: PageOf(Redemption, 'MemberRedemption'), ...problems(404) },
      },
    },
    async (request) => rewards.listMemberRedemptions(db, request.params.memberId, request.query, scopeOf(request)),
  );

  app.get(
    '/v1/programs/:programId/redemptions',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "The program's redemptions",
        operationId: 'listRedemptions',
        description: 'Newest first; filter by status (confirmed: orders to ship), reward and member.',
        params: ProgramParams,
        querystring: RedemptionListQuery,
        response: { 200: PageOf(RedemptionListItem, 'Redemption'), ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return rewards.listProgramRedemptions(db, request.params.programId, request.query);
    },
  );

  app.get(
    '/v1/redemptions/:redemptionId',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'A redemption',
        operationId: 'getRedemption',
        description: 'With its history: every step, with its time, actor and payload.',
        params: RedemptionParams,
        response: { 200: Redemption, ...problems(404) },
      },
    },
    async (request) => rewards.getRedemption(db, request.params.redemptionId, scopeOf(request)),
  );

  app.post(
    '/v1/redemptions/:redemptionId/ship',
    {
      config: { scope: 'admin', changeLog: { resource: 'redemption', before: redemptionBefore, summary: (request) => request.body as Json } },
      schema: {
        tags,
        summary: 'Ship a physical reward',
        operationId: 'shipRedemption',
        description: 'confirmed → shipped, with the carrier and tracking number. Another status or type: 409 REDEMPTION_STATUS_CONFLICT.',
        params: RedemptionParams,
        headers: IdempotencyHeaders,
        body: ShipInput,
        response: { 200: Redemption, ...problems(404, 409) },
      },
    },
    async (request, reply) => sendResult(reply, await rewards.shipRedemption(db, request.params.redemptionId, request.body, ctx(request, 'shipRedemption'))),
  );

  app.post(
    '/v1/redemptions/:redemptionId/deliver',
    {
      config: { scope: 'admin', changeLog: { resource: 'redemption', before: redemptionBefore } },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Mark a redemption delivered',
        operationId: 'deliverRedemption',
        description:
          'A physical reward: shipped (or confirmed, picked up) → delivered; a service or experience: confirmed → delivered. Otherwise 409 REDEMPTION_STATUS_CONFLICT.',
        params: RedemptionParams,
        headers: IdempotencyHeaders,
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: Redemption, ...problems(404, 409) },
      },
    },
    async (request, reply) => sendResult(reply, await rewards.deliverRedemption(db, request.params.redemptionId, ctx(request, 'deliverRedemption'))),
  );

  for (const action of ['cancel', 'reject'] as const) {
    const operationId = action === 'cancel' ? 'cancelRedemption' : 'rejectRedemption';
    app.post(
      `/v1/redemptions/:redemptionId/${action}`,
      {
        config: { scope: 'admin', changeLog: { resource: 'redemption', before: redemptionBefore, summary: redemptionSummary } },
        preValidation: emptyBodyIsObject,
        schema: {
          tags,
          summary: action === 'cancel' ? 'Cancel a redemption' : 'Reject a redemption',
          operationId,
          description: `${action === 'cancel' ? 'A confirmed redemption' : 'A confirmed or shipped redemption'} ends ${action === 'cancel' ? 'cancelled' : 'rejected'}: its points come back as new lots with the expiry of the lots they were taken from (points whose expiry passed meanwhile come back expired), and its stock comes back, exactly once (a second call: 409 REDEMPTION_STATUS_CONFLICT). Coupon codes stay issued.`,
          params: RedemptionParams,
          headers: IdempotencyHeaders,
          body: EndInput,
          response: { 200: Redemption, ...problems(404, 409, 422) },
        },
      },
      async (request, reply) =>
        sendResult(reply, await rewards.endRedemption(db, request.params.redemptionId, action, request.body, ctx(request, operationId))),
    );
  }

  // ─── the member's own ───

  const meCtx = (request: FastifyRequest, operation: string) => ({
    now: clock.now(),
    actor: `member:${principal(request).member.id}`,
    idempotency: memberIdempotency(request, operation),
  });

  app.post(
    '/v1/me/redemptions',
    {
      config: { ...member, changeLog: { resource: 'redemption', summary: redemptionSummary } },
      schema: {
        tags,
        summary: 'Redeem a reward (the member)',
        operationId: 'redeemMyReward',
        security,
        description:
          'What POST /v1/members/{memberId}/redemptions does, for the token\'s member. Send an Idempotency-Key (the "confirm" tap\'s): a retry answers the first redemption.',
        headers: IdempotencyHeaders,
        body: RedemptionCreate,
        response: { 201: Redemption, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await rewards.redeem(db, principal(request).member.id, request.body, meCtx(request, 'redeemMyReward'))),
  );

  app.get(
    '/v1/me/redemptions',
    {
      config: member,
      schema: {
        tags,
        summary: "The member's redemptions",
        operationId: 'listMyRedemptions',
        security,
        description: 'Newest first, with status, codes and tracking.',
        querystring: MemberRedemptionListQuery,
        response: { 200: PageOf(Redemption, 'MyRedemption'), ...problems() },
      },
    },
    async (request) => rewards.listMemberRedemptions(db, principal(request).member.id, request.query),
  );

  app.get(
    '/v1/me/rewards',
    {
      config: member,
      schema: {
        tags,
        summary: "The member's catalogue",
        operationId: 'getMyRewards',
        security,
        description:
          'Every active reward with its state for the member now: can_redeem, needs_points (how many more), locked_tier (required_tier), locked_segment, limit_reached, sold_out, not_yet (starts_at), ended; with the price changes announced so far. Lotteries only with type=lottery (they are drawn: POST /v1/me/lottery-draws).',
        querystring: CatalogueQuery,
        response: { 200: Catalogue, ...problems() },
      },
    },
    async (request) => rewards.memberCatalogue(db, principal(request).member.id, request.query, clock.now()),
  );

  app.get(
    '/v1/me/rewards/within-reach',
    {
      config: member,
      schema: {
        tags,
        summary: 'Rewards within reach',
        operationId: 'getMyRewardsWithinReach',
        security,
        description:
          "Rewards the member can redeem now or only lacks points for, ranked by affordability (available ÷ cost, at most 1) plus category affinity (the share of the member's last 100 orders' lines in the reward's category).",
        querystring: WithinReachQuery,
        response: { 200: WithinReach, ...problems() },
      },
    },
    async (request) => rewards.withinReach(db, principal(request).member.id, request.query.limit ?? 10, clock.now()),
  );
}
