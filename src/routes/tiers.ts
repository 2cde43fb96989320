import type { FastifyRequest } from 'fastify';
import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import type { MemberPrincipal } from '../modules/me/index.ts';
import * as tiers from '../modules/tiers/index.ts';
import {
  TierChangePage,
  TierHistoryQuery,
  TierLadder,
  TierLadderInput,
  TierMix,
  TierOverrideEnd,
  TierOverrideInput,
  TierStatus,
} from '../modules/tiers/index.ts';
import type { Json } from '../plugins/change-log.ts';
import { type App, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { IdParam, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Tiers'];
const ProgramParams = IdParam('programId', 'prg');
const MemberParams = IdParam('memberId', 'mbr');
const security = [{ memberToken: [] }];

/** Who made a change, as tier history and member_tier.override_by say it: the console user, else the API key. */
function actorOf(request: FastifyRequest): string {
  if (request.consoleUser) return `console_user:${request.consoleUser.email}`;
  if (request.apiKey) return `api_key:${request.apiKey.id}`;
  return 'system';
}

function principal(request: FastifyRequest): MemberPrincipal {
  // the member-auth hook has run: routes marked member never reach here without one
  return request.member!;
}

export async function tierRoutes(app: App, { db, clock }: AppDeps) {
  const ladderBefore = (request: FastifyRequest) => tiers.getLadder(db, (request.params as { programId: string }).programId);
  const statusBefore = (request: FastifyRequest) => tiers.getTierStatus(db, (request.params as { memberId: string }).memberId, clock.now());
  // what was asked (tier, until, reason) and the tier the member has after it
  const overrideSummary = (request: FastifyRequest, after: Json | undefined) => ({
    ...(request.body as Json),
    effective_tier: after?.tier?.code,
  });

  app.put(
    '/v1/programs/:programId/tier-ladder',
    {
      config: {
        scope: 'admin',
        changeLog: {
          resource: 'tier_ladder',
          resourceId: (request) => (request.params as { programId: string }).programId,
          before: ladderBefore,
          summary: (_request, after) => ({ revision: after?.revision, tiers: after?.tiers?.map((t: Json) => t.code) }),
        },
      },
      schema: {
        tags,
        summary: "Create or replace the program's tier ladder",
        operationId: 'putTierLadder',
        description:
          "The whole ladder, lowest tier first (docs/tiers.md). The first creation (201) computes every member's qualifying activity from the events and upgrades those whose metric reaches a tier; a change (200) upgrades members a lower threshold now qualifies, and never downgrades anyone. Removing a tier members hold is 409 TIER_IN_USE (renaming a code is a removal). No welcome points are granted by a ladder edit. From now on the plain `tier` of members is refused (409 TIER_MANAGED_BY_LADDER).",
        params: ProgramParams,
        headers: IdempotencyHeaders,
        body: TierLadderInput,
        response: { 200: TierLadder, 201: TierLadder, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      const { programId } = request.params;
      requireProgram(scopeOf(request), programId);
      return sendResult(reply, await tiers.putLadder(db, programId, request.body, clock.now(), actorOf(request), idempotencyOf(request, 'putTierLadder')));
    },
  );

  app.get(
    '/v1/programs/:programId/tier-ladder',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "The program's tier ladder",
        operationId: 'getTierLadder',
        description: 'With the members at each tier now. A program without one: 404 TIER_LADDER_NOT_FOUND.',
        params: ProgramParams,
        response: { 200: TierLadder, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return tiers.getLadder(db, request.params.programId);
    },
  );

  app.get(
    '/v1/programs/:programId/tier-mix',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "The program's tier mix",
        operationId: 'getTierMix',
        description:
          'Members per tier now (overrides included, and how many of them hold it by an override), upgrades and downgrades of the last 30 days, and members whose review is within 30 days and who are below retention.',
        params: ProgramParams,
        response: { 200: TierMix, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return tiers.getTierMix(db, request.params.programId, clock.now());
    },
  );

  app.get(
    '/v1/programs/:programId/tier-history',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "The program's tier changes",
        operationId: 'listProgramTierHistory',
        description: "Every tier change of the program's members, newest first, with cursor pagination; `type` filters (tier.upgraded, …).",
        params: ProgramParams,
        querystring: TierHistoryQuery,
        response: { 200: TierChangePage, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return tiers.programHistory(db, request.params.programId, request.query);
    },
  );

  app.get(
    '/v1/members/:memberId/tier',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A member's tier status",
        operationId: 'getTierStatus',
        description:
          'The tier now and the earned one with its validity, an override, the metric in the current window, what is needed for the next tier and by when, what keeps the tier at the next review, the ladder and the last grants. A program without a ladder: 404 TIER_LADDER_NOT_FOUND.',
        params: MemberParams,
        response: { 200: TierStatus, ...problems(404) },
      },
    },
    async (request) => tiers.getTierStatus(db, request.params.memberId, clock.now(), scopeOf(request)),
  );

  app.get(
    '/v1/members/:memberId/tier-history',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A member's tier history",
        operationId: 'listTierHistory',
        description: 'Newest first, with cursor pagination; each change with its reason, who made it and its figures.',
        params: MemberParams,
        querystring: TierHistoryQuery,
        response: { 200: TierChangePage, ...problems(404) },
      },
    },
    async (request) => tiers.memberHistory(db, request.params.memberId, request.query, scopeOf(request)),
  );

  app.post(
    '/v1/members/:memberId/tier-override',
    {
      config: { scope: 'admin', changeLog: { resource: 'member', before: statusBefore, summary: overrideSummary } },
      schema: {
        tags,
        summary: "Override a member's tier",
        operationId: 'setTierOverride',
        description:
          'A floor until `until` (in the future, at most 5 years ahead), with its reason: the member has the higher of the earned tier and this one, shown as an override. Replaces an override in force. Answers the tier status.',
        params: MemberParams,
        headers: IdempotencyHeaders,
        body: TierOverrideInput,
        response: { 200: TierStatus, ...problems(404) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await tiers.setOverride(
          db,
          request.params.memberId,
          request.body,
          clock.now(),
          actorOf(request),
          idempotencyOf(request, 'setTierOverride'),
          scopeOf(request),
        ),
      ),
  );

  app.delete(
    '/v1/members/:memberId/tier-override',
    {
      config: { scope: 'admin', changeLog: { resource: 'member', before: statusBefore, summary: overrideSummary } },
      schema: {
        tags,
        summary: "End a member's tier override",
        operationId: 'endTierOverride',
        description: 'Now, with a reason: the member is back at the earned tier. No override in force: 404 TIER_OVERRIDE_NOT_FOUND.',
        params: MemberParams,
        headers: IdempotencyHeaders,
        body: TierOverrideEnd,
        response: { 200: TierStatus, ...problems(404) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await tiers.endOverride(
          db,
          request.params.memberId,
          request.body.reason,
          clock.now(),
          actorOf(request),
          idempotencyOf(request, 'endTierOverride'),
          scopeOf(request),
        ),
      ),
  );

  app.get(
    '/v1/me/tier',
    {
      config: { member: true },
      schema: {
        tags,
        summary: "The member's own tier status",
        operationId: 'getMyTier',
        security,
        description: 'What GET /v1/members/{memberId}/tier answers, for the token\'s member ("再消费 ¥500 即可升级金卡").',
        response: { 200: TierStatus, ...problems(404) },
      },
    },
    async (request) => tiers.getTierStatus(db, principal(request).member.id, clock.now()),
  );

  app.get(
    '/v1/me/tier-history',
    {
      config: { member: true },
      schema: {
        tags,
        summary: "The member's own tier history",
        operationId: 'listMyTierHistory',
        security,
        querystring: TierHistoryQuery,
        response: { 200: TierChangePage, ...problems() },
      },
    },
    async (request) => tiers.memberHistory(db, principal(request).member.id, request.query),
  );
}
