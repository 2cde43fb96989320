import { Type } from 'typebox';
import { scopeOf } from '../modules/api-keys/index.ts';
import * as ledger from '../modules/ledger/index.ts';
import {
  ActivityRequest,
  AdjustRequest,
  AdjustResult,
  Balance,
  CaptureRequest,
  CreditRequest,
  CreditResult,
  DebitRequest,
  DebitResult,
  Entry,
  EntryListQuery,
  Hold,
  HoldListQuery,
  HoldRequest,
  HoldResolveResult,
  HoldResult,
  Lot,
  LotListQuery,
  ReverseRequest,
  ReverseResult,
  SweepResult,
  TransferRequest,
  TransferResult,
  VoidRequest,
} from '../modules/ledger/index.ts';
import { type App, actorOf, emptyBodyIsObject, IdempotencyHeaders, idempotencyOf, RequiredIdempotencyHeaders, sendResult } from '../shared/http.ts';
import { requireKey } from '../shared/idempotency.ts';
import { IdParam, PageOf, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const MemberParams = IdParam('memberId', 'mbr');
const HoldParams = IdParam('holdId', 'hld');
const EntryParams = IdParam('entryId', 'ent');

export async function ledgerRoutes(app: App, { db, clock, config }: AppDeps) {
  const tags = ['Ledger'];
  const ctx = (request: Parameters<typeof idempotencyOf>[0], operation: string, required: boolean) => {
    const idempotency = idempotencyOf(request, operation);
    return { now: clock.now(), actor: actorOf(request), idempotency: required ? requireKey(idempotency) : idempotency, programs: scopeOf(request) };
  };

  app.post(
    '/v1/members/:memberId/credits',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: 'Credit points',
        operationId: 'creditPoints',
        description: "Creates a lot: pending for the program's pending_days (or as given), expiring by its policy (or as given).",
        params: MemberParams,
        headers: RequiredIdempotencyHeaders,
        body: CreditRequest,
        response: { 201: CreditResult, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await ledger.credit(db, request.params.memberId, request.body, ctx(request, 'credit', true))),
  );

  app.post(
    '/v1/members/:memberId/debits',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: 'Debit points',
        operationId: 'debitPoints',
        description: 'Spends available points, soonest-expiring first. Never overdraws: 422 INSUFFICIENT_POINTS.',
        params: MemberParams,
        headers: RequiredIdempotencyHeaders,
        body: DebitRequest,
        response: { 201: DebitResult, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await ledger.debit(db, request.params.memberId, request.body, ctx(request, 'debit', true))),
  );

  app.post(
    '/v1/members/:memberId/holds',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: 'Hold points for a checkout',
        operationId: 'createHold',
        description: "Reserves points until captured, voided or timed out (expires_in_seconds, default the program's hold_timeout_seconds).",
        params: MemberParams,
        headers: RequiredIdempotencyHeaders,
        body: HoldRequest,
        response: { 201: HoldResult, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await ledger.hold(db, request.params.memberId, request.body, ctx(request, 'hold', true))),
  );

  app.post(
    '/v1/holds/:holdId/capture',
    {
      config: { scope: 'integration' },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Capture a hold',
        operationId: 'captureHold',
        description: 'Spends all or part of the held points; the rest goes back to the member. A hold is resolved at most once.',
        params: HoldParams,
        headers: IdempotencyHeaders,
        body: CaptureRequest,
        response: { 200: HoldResolveResult, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await ledger.capture(db, request.params.holdId, request.body ?? {}, ctx(request, 'capture', false))),
  );

  app.post(
    '/v1/holds/:holdId/void',
    {
      config: { scope: 'integration' },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Void a hold',
        operationId: 'voidHold',
        description: 'Returns the held points to the member. A hold is resolved at most once.',
        params: HoldParams,
        headers: IdempotencyHeaders,
        body: VoidRequest,
        response: { 200: HoldResolveResult, ...problems(404, 409) },
      },
    },
    async (request, reply) => sendResult(reply, await ledger.voidHold(db, request.params.holdId, request.body ?? {}, ctx(request, 'void', false))),
  );

  app.get(
    '/v1/holds/:holdId',
    {
      config: { scope: 'read' },
      schema: { tags, summary: 'Get a hold', operationId: 'getHold', params: HoldParams, response: { 200: Hold, ...problems(404) } },
    },
    async (request) => ledger.getHold(db, request.params.holdId, clock.now(), scopeOf(request)),
  );

  app.get(
    '/v1/members/:memberId/holds',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "List a member's holds",
        operationId: 'listHolds',
        params: MemberParams,
        querystring: HoldListQuery,
        response: { 200: PageOf(Hold, 'Hold'), ...problems(404) },
      },
    },
    async (request) => ledger.listHolds(db, request.params.memberId, request.query, clock.now(), scopeOf(request)),
  );

  app.post(
    '/v1/entries/:entryId/reversals',
    {
      config: { scope: 'integration' },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Reverse a credit (refund)',
        operationId: 'reverseCredit',
        description:
          "Takes back all or part of a credit. Points still unspent come back first; if they were spent, the program's " +
          'negative_balance_policy decides: allow_negative records a debt, write_off takes what the member has and writes off the rest.',
        params: EntryParams,
        headers: RequiredIdempotencyHeaders,
        body: ReverseRequest,
        response: { 201: ReverseResult, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await ledger.reverse(db, request.params.entryId, request.body ?? {}, ctx(request, 'reverse', true))),
  );

  app.get(
    '/v1/entries/:entryId',
    {
      config: { scope: 'read' },
      schema: { tags, summary: 'Get an entry', operationId: 'getEntry', params: EntryParams, response: { 200: Entry, ...problems(404) } },
    },
    async (request) => ledger.getEntry(db, request.params.entryId, scopeOf(request)),
  );

  app.post(
    '/v1/members/:memberId/adjustments',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Adjust points manually',
        operationId: 'adjustPoints',
        description: 'An operator correction with a reason code; recorded with the actor. Negative adjustments cannot overdraw.',
        params: MemberParams,
        headers: RequiredIdempotencyHeaders,
        body: AdjustRequest,
        response: { 201: AdjustResult, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => {
      const context = { ...ctx(request, 'adjust', true), actor: actorOf(request, request.body.actor) };
      return sendResult(reply, await ledger.adjust(db, request.params.memberId, { ...request.body, actor: context.actor }, context));
    },
  );

  app.post(
    '/v1/transfers',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: 'Transfer points between members',
        operationId: 'transferPoints',
        description: "Within one program. The sender must be active; the received points keep the sender's expiry dates.",
        headers: RequiredIdempotencyHeaders,
        body: TransferRequest,
        response: { 201: TransferResult, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await ledger.transfer(db, request.body, ctx(request, 'transfer', true))),
  );

  app.post(
    '/v1/members/:memberId/activity',
    {
      config: { scope: 'integration' },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Record qualifying activity',
        operationId: 'recordActivity',
        description: "Under the activity_extended expiry policy, pushes the expiry of the member's points. Returns the balance.",
        params: MemberParams,
        body: ActivityRequest,
        response: { 200: Balance, ...problems(404, 422) },
      },
    },
    async (request, reply) => sendResult(reply, await ledger.recordActivity(db, request.params.memberId, ctx(request, 'activity', false))),
  );

  app.get(
    '/v1/members/:memberId/balance',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "Get a member's balance",
        operationId: 'getBalance',
        description: 'Exact as of now: expired points are never available and pending points become available on time, whether or not a job has run.',
        params: MemberParams,
        response: { 200: Balance, ...problems(404) },
      },
    },
    async (request) => ledger.getBalance(db, request.params.memberId, clock.now(), scopeOf(request)),
  );

  app.get(
    '/v1/members/:memberId/entries',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "List a member's entries (history)",
        operationId: 'listEntries',
        params: MemberParams,
        querystring: EntryListQuery,
        response: { 200: PageOf(Entry, 'Entry'), ...problems(404) },
      },
    },
    async (request) => ledger.listEntries(db, request.params.memberId, request.query, scopeOf(request)),
  );

  app.get(
    '/v1/members/:memberId/lots',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "List a member's lots",
        operationId: 'listLots',
        params: MemberParams,
        querystring: LotListQuery,
        response: { 200: PageOf(Lot, 'Lot'), ...problems(404) },
      },
    },
    async (request) => ledger.listLots(db, request.params.memberId, request.query, clock.now(), scopeOf(request)),
  );

  app.post(
    '/v1/jobs/sweep',
    {
      config: { scope: 'admin', deploymentWide: true },
      schema: {
        tags: ['Operations'],
        summary: 'Run the expiry sweep now',
        operationId: 'runSweep',
        description:
          'Releases holds past their deadline, expires lots past their expiry and purges old idempotency keys. The server also runs this on a timer. Send no body or {}. Needs a deployment-wide key (a key limited to programs gets 403 FORBIDDEN).',
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: SweepResult, ...problems() },
      },
      preValidation: emptyBodyIsObject,
    },
    async () => ledger.sweep(db, clock.now(), { idempotencyRetentionDays: config.idempotencyRetentionDays }),
  );
}
