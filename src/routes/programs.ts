import { Type } from 'typebox';
import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import * as programs from '../modules/programs/index.ts';
import { Program, ProgramCreate, ProgramUpdate } from '../modules/programs/index.ts';
import { createBuiltInSegments } from '../modules/segments/index.ts';
import { type App, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { decodeCursor, toPage } from '../shared/pagination.ts';
import { IdParam, PageOf, PageQuery, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Programs'];
const Params = IdParam('programId', 'prg');

export async function programRoutes(app: App, { db, clock }: AppDeps) {
  app.post(
    '/v1/programs',
    {
      config: { scope: 'admin', deploymentWide: true },
      schema: {
        tags,
        summary: 'Create a program',
        operationId: 'createProgram',
        description:
          "A program is one brand's points scheme: its time zone, currency, point name, expiry policy, pending period and refund policy. Needs a deployment-wide key (a key limited to programs gets 403 FORBIDDEN).",
        headers: IdempotencyHeaders,
        body: ProgramCreate,
        response: { 201: Program, ...problems(409) },
      },
    },
    async (request, reply) => {
      const result = await programs.createProgram(db, request.body, clock.now(), idempotencyOf(request, 'createProgram'), {
        onCreated: createBuiltInSegments,
      });
      return sendResult(reply, result);
    },
  );

  app.get(
    '/v1/programs',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List programs',
        operationId: 'listPrograms',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: PageOf(Program, 'Program'), ...problems() },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const [after] = (decodeCursor(request.query.cursor, ['id']) ?? []) as [string?];
      return toPage(await programs.listPrograms(db, limit, after, scopeOf(request)), limit, (p) => [p.id]);
    },
  );

  app.get(
    '/v1/programs/:programId',
    {
      config: { scope: 'read' },
      schema: { tags, summary: 'Get a program', operationId: 'getProgram', params: Params, response: { 200: Program, ...problems(404) } },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return programs.getProgram(db, request.params.programId);
    },
  );

  app.patch(
    '/v1/programs/:programId',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Update a program',
        operationId: 'updateProgram',
        description: 'Changes apply to what happens next: lots already earned keep their pending and expiry dates.',
        params: Params,
        headers: IdempotencyHeaders,
        body: ProgramUpdate,
        response: { 200: Program, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      const { programId } = request.params;
      const result = await programs.updateProgram(db, programId, request.body, clock.now(), idempotencyOf(request, 'updateProgram'), scopeOf(request));
      return sendResult(reply, result);
    },
  );
}
