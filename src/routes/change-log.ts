import type { FastifyRequest } from 'fastify';
import * as apiKeys from '../modules/api-keys/index.ts';
import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import * as changeLog from '../modules/change-log/index.ts';
import { Change, ChangeListQuery, ChangeParams } from '../modules/change-log/index.ts';
import * as consoleUsers from '../modules/console-users/index.ts';
import * as members from '../modules/members/index.ts';
import * as programs from '../modules/programs/index.ts';
import * as rules from '../modules/rules/index.ts';
import type { ChangeLogRoute, Json } from '../plugins/change-log.ts';
import type { App } from '../shared/http.ts';
import { IdParam, PageOf, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Audit log'];

type Params = Record<string, string>;
const params = (request: FastifyRequest) => request.params as Params;
const body = (request: FastifyRequest) => (request.body ?? {}) as Json;
/** The fields of a request body that say what a ledger write did (never a secret: these are named). */
const pick = (request: FastifyRequest, fields: string[]): Record<string, unknown> => {
  const b = body(request);
  const out: Record<string, unknown> = {};
  for (const f of fields) if (b[f] !== undefined) out[f] = b[f];
  return out;
};
const single = (ids: unknown): string | null => (Array.isArray(ids) && ids.length === 1 && typeof ids[0] === 'string' ? ids[0] : null);

/**
 * How each write of the API appears in the change log (plugins/change-log.ts), by operationId:
 * loaders of the resource before an update, the resource when the route does not say it, and
 * summaries. A route may instead declare `config.changeLog` itself; writes of routes not named
 * here are recorded with what their parameters and answer say.
 */
export function changeLogRoutes({ db, clock }: Pick<AppDeps, 'db' | 'clock'>): Record<string, ChangeLogRoute | false> {
  const memberBefore = (request: FastifyRequest) => members.getMember(db, params(request).memberId!);
  const ruleBefore = (request: FastifyRequest) => rules.getRule(db, params(request).ruleId!, clock.now());
  const settingsBefore = (request: FastifyRequest) => programs.getMemberTokenSettings(db, params(request).programId!);
  const points = (fields: string[]) => (request: FastifyRequest) => pick(request, ['points', ...fields]);
  return {
    // not changes: a preview evaluates nothing for real; a member token is minted, not stored
    previewEvent: false,
    createMemberToken: false,
    // signing in and out of the console opens and closes a session, not a change to data
    signIn: false,
    signOut: false,

    createProgram: { resource: 'program' },
    updateProgram: { resource: 'program', before: (request) => programs.getProgram(db, params(request).programId!) },
    updateMemberTokenSettings: { resource: 'member_token_settings', resourceId: (request) => params(request).programId, before: settingsBefore },
    rotateMemberTokenSecret: {
      resource: 'member_token_secret',
      before: settingsBefore,
      summary: (_request, after) => ({ secret_id: after?.id, previous_secret_id: after?.previous_secret_id ?? null }),
    },

    // an existing external_id answers 200 with the member as it was: nothing changed
    createMember: { resource: 'member', changed: (_request, reply) => reply.statusCode === 201 },
    updateMember: { resource: 'member', before: memberBefore },
    freezeMember: { resource: 'member', before: memberBefore, summary: (request) => pick(request, ['reason']) },
    unfreezeMember: { resource: 'member', before: memberBefore, summary: (request) => pick(request, ['reason']) },
    closeMember: { resource: 'member', before: memberBefore, summary: (request) => pick(request, ['reason']) },

    creditPoints: { resource: 'member', summary: points(['reason', 'reason_code', 'reference']) },
    debitPoints: { resource: 'member', summary: points(['reason', 'reason_code', 'reference']) },
    adjustPoints: { resource: 'member', summary: points(['reason', 'reason_code', 'reference']) },
    createHold: { resource: 'member', summary: points(['reference', 'description']) },
    captureHold: { resource: 'hold', summary: points([]) },
    voidHold: { resource: 'hold' },
    reverseCredit: { resource: 'entry', summary: points(['reason']) },
    transferPoints: { resource: 'transfer', summary: (request) => pick(request, ['from_member_id', 'to_member_id', 'points', 'reason']) },
    // the answer is a balance, which names no program
    recordActivity: { resource: 'member', programId: async (request) => (await members.getMember(db, params(request).memberId!)).program_id },
    runSweep: {
      resource: 'job',
      resourceId: () => 'sweep',
      programId: () => null,
      summary: (_request, after) => ({ holds_released: after?.holds_released, lots_expired: after?.lots_expired }),
    },

    createApiKey: { resource: 'api_key', programId: (_request, after) => single(after?.program_ids) },
    revokeApiKey: {
      resource: 'api_key',
      before: async (request) => (await apiKeys.listApiKeys(db, scopeOf(request))).find((k) => k.id === params(request).keyId),
      programId: (_request, after) => single(after?.program_ids),
    },

    createRule: { resource: 'rule' },
    reviseRule: { resource: 'rule', before: ruleBefore },
    archiveRule: { resource: 'rule', before: ruleBefore },

    // a duplicate event answers 200 with its first result: nothing changed
    sendEvent: {
      resource: 'event',
      changed: (_request, reply) => reply.statusCode === 201,
      summary: (_request, after) => ({ type: after?.type, event_id: after?.event_id, member_id: after?.member_id, points: after?.points }),
    },
    // a batch stores its counts, not every event; one with nothing processed changed nothing
    sendEvents: {
      resource: 'event',
      answerObject: true,
      resourceId: () => null,
      changed: (_request, _reply, after) => (after?.processed ?? 0) > 0,
      programId: (request, after) => body(request).program_id ?? after?.program_id ?? null,
      after: (_request, after) => counts(after),
      summary: (_request, after) => counts(after),
    },
    createEventType: { resource: 'event_type', resourceId: (_request, after) => after?.type },

    // console users belong to the deployment (program_id null); their passwords are redacted by name
    createConsoleUser: { resource: 'console_user' },
    updateConsoleUser: {
      resource: 'console_user',
      before: async (request) => (await consoleUsers.listUsers(db, scopeOf(request))).find((u) => u.id === params(request).userId),
    },
    resetConsolePassword: { resource: 'console_user' },
    changePassword: { resource: 'console_user', resourceId: (request) => request.consoleUser?.id ?? null },
  };
}

const counts = (after: Json | undefined) => ({
  processed: after?.processed,
  duplicates: after?.duplicates,
  rejected: after?.rejected,
  points: after?.points,
});

export async function changeLogReadRoutes(app: App, { db }: AppDeps) {
  app.get(
    '/v1/programs/:programId/changes',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List the changes made to a program',
        operationId: 'listChanges',
        description:
          'The audit log: every successful write made through the API or the console (who, when, what, before and after), newest first. Filter by operation, resource, actor and time.',
        params: IdParam('programId', 'prg'),
        querystring: ChangeListQuery,
        response: { 200: PageOf(Change, 'Change'), ...problems(404) },
      },
    },
    async (request) => {
      const { programId } = request.params;
      requireProgram(scopeOf(request), programId);
      await programs.getProgram(db, programId);
      return changeLog.listChanges(db, programId, request.query);
    },
  );

  app.get(
    '/v1/changes/:changeId',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'Get a change with the resource before and after',
        operationId: 'getChange',
        params: ChangeParams,
        response: { 200: Change, ...problems(404) },
      },
    },
    async (request) => changeLog.getChange(db, request.params.changeId, scopeOf(request)),
  );
}
