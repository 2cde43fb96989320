import { Type } from 'typebox';
import { rememberOwner, requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import { ExpiryForecast, expiryForecast } from '../modules/me/index.ts';
import * as members from '../modules/members/index.ts';
import { Member, MemberCreate, MemberListQuery, MemberUpdate, StatusChange } from '../modules/members/index.ts';
import { type App, emptyBodyIsObject, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { IdParam, PageOf, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Members'];
const ProgramParams = IdParam('programId', 'prg');
const MemberParams = IdParam('memberId', 'mbr');

export async function memberRoutes(app: App, { db, clock }: AppDeps) {
  app.post(
    '/v1/programs/:programId/members',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: 'Create (or find) a member',
        operationId: 'createMember',
        description: 'Idempotent on external_id: creating a member whose external_id exists returns that member with status 200.',
        params: ProgramParams,
        headers: IdempotencyHeaders,
        body: MemberCreate,
        response: { 200: Member, 201: Member, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      const { programId } = request.params;
      const scope = scopeOf(request);
      requireProgram(scope, programId);
      const result = await members.createMember(db, programId, request.body, clock.now(), idempotencyOf(request, 'createMember'));
      // a key limited to programs checks the member's program on every later call: known now
      if (scope !== null) rememberOwner(result.body.id, result.body.program_id);
      return sendResult(reply, result);
    },
  );

  app.get(
    '/v1/programs/:programId/members',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List and search members',
        operationId: 'listMembers',
        description: 'Newest first, with cursor pagination.',
        params: ProgramParams,
        querystring: MemberListQuery,
        response: { 200: PageOf(Member, 'Member'), ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return members.listMembers(db, request.params.programId, request.query);
    },
  );

  app.get(
    '/v1/programs/:programId/members/by-external-id/:externalId',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'Find a member by your own id',
        operationId: 'getMemberByExternalId',
        params: Type.Object({ ...ProgramParams.properties, externalId: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: Member, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return members.getMemberByExternalId(db, request.params.programId, request.params.externalId);
    },
  );

  app.get(
    '/v1/members/:memberId',
    {
      config: { scope: 'read' },
      schema: { tags, summary: 'Get a member', operationId: 'getMember', params: MemberParams, response: { 200: Member, ...problems(404) } },
    },
    async (request) => members.getMember(db, request.params.memberId, scopeOf(request)),
  );

  app.get(
    '/v1/members/:memberId/expiry-forecast',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "When a member's points expire",
        operationId: 'getExpiryForecast',
        description:
          "What the member sees on /v1/me/expiry-forecast: points that will expire unless spent first, by date and by month in the program's time zone.",
        params: MemberParams,
        response: { 200: ExpiryForecast, ...problems(404) },
      },
    },
    async (request) => expiryForecast(db, await members.getMember(db, request.params.memberId, scopeOf(request)), clock.now()),
  );

  app.patch(
    '/v1/members/:memberId',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: "Update a member's profile",
        operationId: 'updateMember',
        params: MemberParams,
        headers: IdempotencyHeaders,
        body: MemberUpdate,
        response: { 200: Member, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      const { memberId } = request.params;
      return sendResult(reply, await members.updateMember(db, memberId, request.body, clock.now(), idempotencyOf(request, 'updateMember'), scopeOf(request)));
    },
  );

  const statusRoutes = [
    ['freeze', 'frozen', 'Freeze a member', 'A frozen member keeps earning but cannot spend, hold, transfer or redeem.'],
    ['unfreeze', 'active', 'Unfreeze a member', 'Back to active.'],
    ['close', 'closed', 'Close a member', 'Final. Open holds must be resolved first; remaining points are forfeited and any debt written off.'],
  ] as const;
  for (const [action, status, summary, description] of statusRoutes) {
    app.post(
      `/v1/members/:memberId/${action}`,
      {
        config: { scope: 'admin' },
        preValidation: emptyBodyIsObject,
        schema: {
          tags,
          summary,
          description,
          operationId: `${action}Member`,
          params: MemberParams,
          headers: IdempotencyHeaders,
          body: StatusChange,
          response: { 200: Member, ...problems(404, 409, 422) },
        },
      },
      async (request, reply) => {
        const { memberId } = request.params;
        const result = await members.setMemberStatus(
          db,
          memberId,
          status,
          request.body?.reason,
          clock.now(),
          idempotencyOf(request, `${action}Member`),
          scopeOf(request),
        );
        return sendResult(reply, result);
      },
    );
  }
}
