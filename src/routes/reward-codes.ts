import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { scopeOf } from '../modules/api-keys/index.ts';
import * as rewards from '../modules/rewards/index.ts';
import { CodeGenerateInput, CodeImport, MAX_IMPORT_BYTES, RewardCodeList, RewardCodeListQuery } from '../modules/rewards/index.ts';
import type { Json } from '../plugins/change-log.ts';
import { DomainError } from '../shared/errors.ts';
import { type App, actorOf, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { requestHash } from '../shared/idempotency.ts';
import { IdParam, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Rewards'];
const RewardParams = IdParam('rewardId', 'rwd');
const ImportParams = Type.Object({ ...RewardParams.properties, ...IdParam('importId', 'rci').properties });

/** The CSV bodies, handed over as streams (the parser does not read them: the import does, line by line). */
const csvBodies = new WeakMap<FastifyRequest, Readable>();

/** In the change log: the import's counts, not the duplicate codes (a pool's codes are coupons to come). */
const changeLog = {
  resource: 'reward_code_import',
  after: (_request: FastifyRequest, after: Json | undefined) =>
    after && { ...after, duplicates: { in_file: after.duplicates?.in_file, in_pool: after.duplicates?.in_pool } },
};

/** Code pools of coupon rewards: CSV imports with their progress, generation, counts and codes (docs/rewards.md). */
export async function rewardCodeRoutes(app: App, { db, clock }: AppDeps) {
  const ctx = (request: FastifyRequest, operation: string) => ({
    now: clock.now(),
    actor: actorOf(request),
    idempotency: idempotencyOf(request, operation),
    scope: scopeOf(request),
  });

  await app.register(async (scope: App) => {
    // text/csv only in this scope: the stream is left unread for the handler
    scope.addContentTypeParser(['text/csv', 'text/plain'], (request, payload, done) => {
      csvBodies.set(request, payload as Readable);
      done(null, undefined);
    });

    scope.post(
      '/v1/rewards/:rewardId/codes/imports',
      {
        config: { scope: 'admin', changeLog },
        schema: {
          tags,
          summary: "Import codes into a coupon's pool (CSV)",
          operationId: 'importRewardCodes',
          description: `The body is text/csv (Content-Type: text/csv), not JSON: one code per line (1 to 64 of A-Z, a-z, 0-9, - and _; an optional first line \`code\`), at most ${MAX_IMPORT_BYTES} bytes (16 MiB: 200,000 codes of up to 64 characters). Read as it arrives and committed 1,000 codes at a time: GET …/codes/imports/{importId} shows the counts growing. Answers the import: lines read, codes imported, duplicates (in the file, already in the pool; the first 100 listed), invalid lines (the first 100 with line number and reason). With an Idempotency-Key, the same file again answers the first import.`,
          params: RewardParams,
          headers: IdempotencyHeaders,
          response: { 201: CodeImport, ...problems(404, 409, 413, 415) },
        },
      },
      async (request, reply) => {
        const body = csvBodies.get(request);
        // the reward is checked first (a key of another program learns nothing from the media type)
        if (!body) {
          await rewards.poolReward(db, request.params.rewardId, scopeOf(request), true);
          throw new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the codes as text/csv, one a line');
        }
        const length = Number(request.headers['content-length']);
        const c = ctx(request, 'importRewardCodes');
        // the file's hash is made as it is read (importCodes): the context's hash is not used
        if (c.idempotency) c.idempotency.hash = requestHash('importRewardCodes', { params: request.params });
        try {
          return sendResult(
            reply,
            await rewards.importCodes(
              db,
              request.params.rewardId,
              // a refusal part way leaves the request readable (destroyed, it would take the answer's socket with it)
              { body: body.iterator({ destroyOnReturn: false }), contentLength: Number.isFinite(length) ? length : undefined },
              c,
            ),
          );
        } finally {
          // a refusal before the file was read through: let the rest of it through unread
          if (!body.readableEnded) body.resume();
        }
      },
    );
  });

  app.get(
    '/v1/rewards/:rewardId/codes/imports',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "A coupon's code imports",
        operationId: 'listRewardCodeImports',
        description: 'Newest first (generations too), the one an upload is filling among them from its start: its id for polling the progress.',
        params: RewardParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(CodeImport) }), ...problems(404) },
      },
    },
    async (request) => rewards.listCodeImports(db, request.params.rewardId, request.query.limit ?? 20, scopeOf(request)),
  );

  app.get(
    '/v1/rewards/:rewardId/codes/imports/:importId',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'A code import and its progress',
        operationId: 'getRewardCodeImport',
        description: 'While it runs (status running) its counts grow with every 1,000 lines: poll it for a progress bar.',
        params: ImportParams,
        response: { 200: CodeImport, ...problems(404) },
      },
    },
    async (request) => rewards.getCodeImport(db, request.params.rewardId, request.params.importId, scopeOf(request)),
  );

  app.post(
    '/v1/rewards/:rewardId/codes/generate',
    {
      config: { scope: 'admin', changeLog },
      schema: {
        tags,
        summary: "Generate codes into a coupon's pool",
        operationId: 'generateRewardCodes',
        description:
          'count (at most 100,000) codes of prefix and length random characters from ABCDEFGHJKLMNPQRSTUVWXYZ23456789 (no 0, O, 1 or I), crypto-random, unique in the pool (a collision is drawn again), in one transaction. Answers the generation as an import (kind generated). Send an Idempotency-Key: a retry answers the first generation.',
        params: RewardParams,
        headers: IdempotencyHeaders,
        body: CodeGenerateInput,
        response: { 201: CodeImport, ...problems(404, 409) },
      },
    },
    async (request, reply) => sendResult(reply, await rewards.generateCodes(db, request.params.rewardId, request.body, ctx(request, 'generateRewardCodes'))),
  );

  for (const reveal of [false, true]) {
    app.get(
      reveal ? '/v1/rewards/:rewardId/codes/revealed' : '/v1/rewards/:rewardId/codes',
      {
        config: { scope: reveal ? 'admin' : 'read' },
        schema: {
          tags,
          summary: reveal ? "A coupon's codes, issued ones in full" : "A coupon's pool: counts and codes",
          operationId: reveal ? 'listRevealedRewardCodes' : 'listRewardCodes',
          description: reveal
            ? 'What GET …/codes answers, with issued codes in full (the admin scope; in the console, rules.write).'
            : 'Free and issued counts and a page of codes by code (filter free or issued), each with its batch (the import) and, issued, its redemption. Issued codes are masked (first two characters): GET …/codes/revealed shows them to operators who may.',
          params: RewardParams,
          querystring: RewardCodeListQuery,
          response: { 200: RewardCodeList, ...problems(404, 409) },
        },
      },
      async (request) => rewards.listRewardCodes(db, request.params.rewardId, request.query, reveal, scopeOf(request)),
    );
  }
}
