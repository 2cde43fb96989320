import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import * as segments from '../modules/segments/index.ts';
import {
  MemberSegmentList,
  Segment,
  SegmentCreate,
  SegmentListQuery,
  SegmentMember,
  SegmentMemberQuery,
  SegmentPreview,
  SegmentPreviewInput,
  SegmentRefresh,
  SegmentUpdate,
} from '../modules/segments/index.ts';
import type { Json } from '../plugins/change-log.ts';
import { type App, emptyBodyIsObject, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { IdParam, PageOf, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Segments'];
const ProgramParams = IdParam('programId', 'prg');
const SegmentParams = IdParam('segmentId', 'seg');
const MemberParams = IdParam('memberId', 'mbr');
const NoBody = Type.Object({}, { additionalProperties: false, description: 'Nothing (or an empty object).' });

export async function segmentRoutes(app: App, { db, clock }: AppDeps) {
  const before = (request: FastifyRequest) => segments.getSegment(db, (request.params as { segmentId: string }).segmentId);
  const refreshSummary = (_request: FastifyRequest, after: Json | undefined) => ({
    member_count: after?.member_count,
    added: after?.added,
    removed: after?.removed,
  });

  app.post(
    '/v1/programs/:programId/segments',
    {
      config: { scope: 'admin', changeLog: { resource: 'segment' } },
      schema: {
        tags,
        summary: 'Create a segment',
        operationId: 'createSegment',
        description:
          'A rule-based group of members: a JSONLogic condition over the member and computed stats (docs/segments.md). A bad condition is a 400 naming its path. Its members are computed at once (the answer has the member count); later the job or POST …/refresh keeps them current.',
        params: ProgramParams,
        headers: IdempotencyHeaders,
        body: SegmentCreate,
        response: { 201: Segment, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      requireProgram(scopeOf(request), request.params.programId);
      return sendResult(reply, await segments.createSegment(db, request.params.programId, request.body, clock.now(), idempotencyOf(request, 'createSegment')));
    },
  );

  app.get(
    '/v1/programs/:programId/segments',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List segments',
        operationId: 'listSegments',
        description: 'Newest first, the built-in ones included, each with its member count and when it was last refreshed.',
        params: ProgramParams,
        querystring: SegmentListQuery,
        response: { 200: PageOf(Segment, 'Segment'), ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return segments.listSegments(db, request.params.programId, request.query);
    },
  );

  app.post(
    '/v1/programs/:programId/segments/preview',
    {
      config: { scope: 'integration', changeLog: false },
      schema: {
        tags,
        summary: 'Preview a segment condition',
        operationId: 'previewSegment',
        description: 'Whom a condition holds for now: the count and a sample of the 20 newest members. Saves nothing.',
        params: ProgramParams,
        body: SegmentPreviewInput,
        response: { 200: SegmentPreview, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return segments.previewSegment(db, request.params.programId, request.body.condition, clock.now());
    },
  );

  app.get(
    '/v1/segments/:segmentId',
    {
      config: { scope: 'read' },
      schema: { tags, summary: 'Get a segment', operationId: 'getSegment', params: SegmentParams, response: { 200: Segment, ...problems(404) } },
    },
    async (request) => segments.getSegment(db, request.params.segmentId, scopeOf(request)),
  );

  app.patch(
    '/v1/segments/:segmentId',
    {
      config: { scope: 'admin', changeLog: { resource: 'segment', before } },
      schema: {
        tags,
        summary: 'Update a segment',
        operationId: 'updateSegment',
        description:
          'Name, description or condition. A new condition refreshes the members at once. Built-in segments (409 SEGMENT_BUILT_IN) and archived ones (409 SEGMENT_ARCHIVED) cannot be changed.',
        params: SegmentParams,
        headers: IdempotencyHeaders,
        body: SegmentUpdate,
        response: { 200: Segment, ...problems(404, 409) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await segments.updateSegment(db, request.params.segmentId, request.body, clock.now(), idempotencyOf(request, 'updateSegment'), scopeOf(request)),
      ),
  );

  app.post(
    '/v1/segments/:segmentId/archive',
    {
      config: { scope: 'admin', changeLog: { resource: 'segment', before } },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Archive a segment',
        operationId: 'archiveSegment',
        description:
          'It stops being refreshed and has no members from now on (rules and rewards see no member in it). Built-in segments cannot be archived (409 SEGMENT_BUILT_IN).',
        params: SegmentParams,
        headers: IdempotencyHeaders,
        body: NoBody,
        response: { 200: Segment, ...problems(404, 409) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await segments.archiveSegment(db, request.params.segmentId, clock.now(), idempotencyOf(request, 'archiveSegment'), scopeOf(request))),
  );

  app.post(
    '/v1/segments/:segmentId/refresh',
    {
      config: {
        scope: 'admin',
        changeLog: { resource: 'segment', summary: refreshSummary, programId: (_request, after) => after?.segment?.program_id },
      },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Refresh a segment now',
        operationId: 'refreshSegment',
        description:
          'Recomputes its members at this instant and answers with the counts (evaluated, added, removed, member_count) and how long it took. Only changes are written; a refresh running elsewhere is waited for. An archived segment: 409 SEGMENT_ARCHIVED.',
        params: SegmentParams,
        body: NoBody,
        response: { 200: SegmentRefresh, ...problems(404, 409) },
      },
    },
    async (request) => segments.refreshSegment(db, request.params.segmentId, clock.now(), scopeOf(request)),
  );

  app.get(
    '/v1/segments/:segmentId/members',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A segment's members",
        operationId: 'listSegmentMembers',
        description: 'As of the last refresh, newest members first, with cursor pagination: name, external id, tier, available points and since when.',
        params: SegmentParams,
        querystring: SegmentMemberQuery,
        response: { 200: PageOf(SegmentMember, 'SegmentMember'), ...problems(404) },
      },
    },
    async (request) => segments.listSegmentMembers(db, request.params.segmentId, request.query, clock.now(), scopeOf(request)),
  );

  app.get(
    '/v1/members/:memberId/segments',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A member's segments",
        operationId: 'listMemberSegments',
        description: 'The active segments the member is in, as of their last refresh.',
        params: MemberParams,
        response: { 200: MemberSegmentList, ...problems(404) },
      },
    },
    async (request) => segments.segmentsOfMember(db, request.params.memberId, scopeOf(request)),
  );
}
