import { Type } from 'typebox';
import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import { awardsOfRule } from '../modules/events/index.ts';
import * as rules from '../modules/rules/index.ts';
import { Rule, RuleCreate, RuleListQuery, RuleRevise } from '../modules/rules/index.ts';
import { type App, actorOf, emptyBodyIsObject, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { IdParam, PageOf, problems, Timestamp } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Rules'];
const RuleParams = IdParam('ruleId', 'rul');

export async function ruleRoutes(app: App, { db, clock }: AppDeps) {
  app.post(
    '/v1/programs/:programId/rules',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Create an earning rule',
        operationId: 'createRule',
        description:
          'The definition is validated and its JSONLogic compiled now: a bad expression is a 400 naming its path. effective_from may be in the past with backdate: true (at most 366 days; events already processed are not evaluated again).',
        params: IdParam('programId', 'prg'),
        headers: IdempotencyHeaders,
        body: RuleCreate,
        response: { 201: Rule, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => {
      requireProgram(scopeOf(request), request.params.programId);
      return sendResult(
        reply,
        await rules.createRule(db, request.params.programId, request.body, clock.now(), actorOf(request), idempotencyOf(request, 'createRule')),
      );
    },
  );

  app.get(
    '/v1/programs/:programId/rules',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List rules',
        operationId: 'listRules',
        params: IdParam('programId', 'prg'),
        querystring: RuleListQuery,
        response: { 200: PageOf(Rule, 'Rule'), ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return rules.listRules(db, request.params.programId, request.query, clock.now());
    },
  );

  app.get(
    '/v1/rules/:ruleId',
    {
      config: { scope: 'read' },
      schema: { tags, summary: 'Get a rule with all its versions', operationId: 'getRule', params: RuleParams, response: { 200: Rule, ...problems(404) } },
    },
    async (request) => rules.getRule(db, request.params.ruleId, clock.now(), scopeOf(request)),
  );

  app.post(
    '/v1/rules/:ruleId/versions',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Edit a rule (new version)',
        operationId: 'reviseRule',
        description:
          'Adds a version with the full new definition, effective now, at a future effective_from (announced in advance), or back-dated (backdate: true, at most 366 days, not before the latest version; events already processed are not evaluated again). Events are evaluated by the version in force at their occurred_at.',
        params: RuleParams,
        headers: IdempotencyHeaders,
        body: RuleRevise,
        response: { 201: Rule, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await rules.reviseRule(db, request.params.ruleId, request.body, clock.now(), actorOf(request), idempotencyOf(request, 'reviseRule'), scopeOf(request), {
          pastAwards: awardsOfRule,
        }),
      ),
  );

  app.post(
    '/v1/rules/:ruleId/archive',
    {
      config: { scope: 'admin' },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Archive a rule',
        operationId: 'archiveRule',
        description: 'The rule stops applying at effective_from (default now).',
        params: RuleParams,
        headers: IdempotencyHeaders,
        body: Type.Object({ effective_from: Type.Optional(Timestamp) }, { additionalProperties: false }),
        response: { 200: Rule, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await rules.archiveRule(db, request.params.ruleId, request.body.effective_from, clock.now(), idempotencyOf(request, 'archiveRule'), scopeOf(request)),
      ),
  );
}
