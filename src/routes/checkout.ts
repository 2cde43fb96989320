import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import * as checkout from '../modules/checkout/index.ts';
import {
  CaptureInput,
  CheckoutPolicyInput,
  CheckoutPolicyView,
  Deduction,
  DeductionCreate,
  DeductionListQuery,
  QuoteInput,
  QuoteView,
} from '../modules/checkout/index.ts';
import type { MemberPrincipal } from '../modules/me/index.ts';
import type { Json } from '../plugins/change-log.ts';
import { type App, actorOf, emptyBodyIsObject, IdempotencyHeaders, idempotencyOf, RequiredIdempotencyHeaders, sendResult } from '../shared/http.ts';
import { requireKey } from '../shared/idempotency.ts';
import { IdParam, PageOf, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Checkout'];
const ProgramParams = IdParam('programId', 'prg');
const MemberParams = IdParam('memberId', 'mbr');
const DeductionParams = IdParam('deductionId', 'chk');

const deductionSummary = (_request: FastifyRequest, after: Json | undefined) => ({
  member_id: after?.member_id,
  order_reference: after?.order_reference,
  points: after?.points,
  captured_points: after?.captured_points,
  status: after?.status,
});

/** Checkout deduction (结算直接抵扣): the program's policy, quotes, and deductions held, captured, voided or refunded (docs/rewards.md). */
export async function checkoutRoutes(app: App, { db, clock }: AppDeps) {
  const deductionBefore = (request: FastifyRequest) =>
    checkout.getDeduction(db, (request.params as { deductionId: string }).deductionId, clock.now(), scopeOf(request));
  const ctx = (request: FastifyRequest, operation: string, required: boolean) => {
    const idempotency = idempotencyOf(request, operation);
    return { now: clock.now(), actor: actorOf(request), idempotency: required ? requireKey(idempotency) : idempotency, scope: scopeOf(request) };
  };

  app.get(
    '/v1/programs/:programId/checkout-policy',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "The program's checkout policy",
        operationId: 'getCheckoutPolicy',
        description:
          "How members may use points as cash at checkout: the rate (the program's redemption_rate), the largest share of the order, the minimum order and points, the per-order cap, whether points combine with other discounts, the hold timeout. A program that never set one answers the defaults with enabled false.",
        params: ProgramParams,
        response: { 200: CheckoutPolicyView, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return checkout.getCheckoutPolicy(db, request.params.programId);
    },
  );

  app.put(
    '/v1/programs/:programId/checkout-policy',
    {
      config: {
        scope: 'admin',
        changeLog: {
          resource: 'checkout_policy',
          resourceId: (request) => (request.params as { programId: string }).programId,
          before: (request) => checkout.getCheckoutPolicy(db, (request.params as { programId: string }).programId),
        },
      },
      schema: {
        tags,
        summary: "Set the program's checkout policy",
        operationId: 'putCheckoutPolicy',
        description:
          'Replaces the policy. Deductions already held keep the caps they were checked with; a deduction being checked while the policy changes is 409 CHECKOUT_POLICY_CHANGED (quote again). The rate is the program’s redemption_rate (PATCH the program).',
        params: ProgramParams,
        body: CheckoutPolicyInput,
        response: { 200: CheckoutPolicyView, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return checkout.putCheckoutPolicy(db, request.params.programId, request.body, clock.now(), actorOf(request));
    },
  );

  app.get(
    '/v1/members/:memberId/checkout-quote',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'Quote points for an order',
        operationId: 'quoteCheckout',
        description:
          "The most points the member may use on this order (amount, other discounts) under the program's policy and their balance, what they pay, and every limit that keeps it under the balance (limited_by). Writes nothing. While the program has not switched checkout deduction on, max_points is 0 and limited_by is [not_enabled].",
        params: MemberParams,
        querystring: QuoteInput,
        response: { 200: QuoteView, ...problems(404) },
      },
    },
    async (request) => checkout.quoteCheckout(db, request.params.memberId, request.query, clock.now(), scopeOf(request)),
  );

  app.get(
    '/v1/me/checkout-quote',
    {
      config: { member: true },
      schema: {
        tags,
        summary: 'Quote points for an order (the member)',
        operationId: 'quoteMyCheckout',
        security: [{ memberToken: [] }],
        description: "What GET /v1/members/{memberId}/checkout-quote answers, for the token's member: a checkout page's 可用 X 积分抵 ¥Y. Writes nothing.",
        querystring: QuoteInput,
        response: { 200: QuoteView, ...problems() },
      },
    },
    // the member-auth hook has run: routes marked member never reach here without one
    async (request) => checkout.quoteCheckout(db, (request.member as MemberPrincipal).member.id, request.query, clock.now()),
  );

  app.post(
    '/v1/members/:memberId/checkout-deductions',
    {
      config: { scope: 'integration', changeLog: { resource: 'checkout_deduction', summary: deductionSummary } },
      schema: {
        tags,
        summary: 'Hold points for an order',
        operationId: 'createCheckoutDeduction',
        description:
          "Holds `points` (at most the quote, in multiples of its points_step) for the order until captured on payment, voided on cancel, or released when expires_in_seconds (default the policy's hold timeout) pass. Soonest-expiring points first. Refusals: 422 POINTS_EXCEED_QUOTE (with max_points and limited_by), BELOW_MIN_POINTS, INSUFFICIENT_POINTS, MEMBER_FROZEN, CHECKOUT_NOT_ENABLED; 409 CHECKOUT_ORDER_HAS_DEDUCTION when the order already has one held or captured. Needs an Idempotency-Key.",
        params: MemberParams,
        headers: RequiredIdempotencyHeaders,
        body: DeductionCreate,
        response: { 201: Deduction, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await checkout.holdCheckout(db, request.params.memberId, request.body, ctx(request, 'createCheckoutDeduction', true))),
  );

  app.get(
    '/v1/programs/:programId/checkout-deductions',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "The program's checkout deductions",
        operationId: 'listCheckoutDeductions',
        description: 'Newest first; filter by your order reference or by member.',
        params: ProgramParams,
        querystring: DeductionListQuery,
        response: { 200: PageOf(Deduction, 'CheckoutDeduction'), ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return checkout.listDeductions(db, request.params.programId, request.query, clock.now());
    },
  );

  app.get(
    '/v1/checkout-deductions/:deductionId',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'A checkout deduction',
        operationId: 'getCheckoutDeduction',
        description: 'status: held, captured, voided, expired (the hold timed out: its points are back), refunded.',
        params: DeductionParams,
        response: { 200: Deduction, ...problems(404) },
      },
    },
    async (request) => checkout.getDeduction(db, request.params.deductionId, clock.now(), scopeOf(request)),
  );

  const actions = {
    capture: {
      operationId: 'captureCheckoutDeduction',
      summary: 'Capture a deduction (the order is paid)',
      description:
        'Spends the held points, or `points` of them (a partial capture, in multiples of points_step: the rest goes back to the member). Once: a second resolution is 409 HOLD_ALREADY_RESOLVED, a deduction past its deadline 409 HOLD_EXPIRED.',
    },
    void: {
      operationId: 'voidCheckoutDeduction',
      summary: 'Void a deduction (the order is cancelled)',
      description: 'The held points go back to the member. Once: a second resolution is 409 HOLD_ALREADY_RESOLVED.',
    },
    refund: {
      operationId: 'refundCheckoutDeduction',
      summary: 'Refund a captured deduction (a paid order refunded)',
      description:
        'The captured points come back as new lots with the expiry of the lots they were spent from (points whose expiry passed meanwhile come back expired). Once: 409 CHECKOUT_ALREADY_REFUNDED; not captured: 409 CHECKOUT_NOT_CAPTURED.',
    },
  } as const;
  for (const [action, doc] of Object.entries(actions) as [keyof typeof actions, (typeof actions)[keyof typeof actions]][]) {
    app.post(
      `/v1/checkout-deductions/:deductionId/${action}`,
      {
        config: { scope: 'integration', changeLog: { resource: 'checkout_deduction', before: deductionBefore, summary: deductionSummary } },
        preValidation: emptyBodyIsObject,
        schema: {
          tags,
          ...doc,
          params: DeductionParams,
          headers: IdempotencyHeaders,
          body: action === 'capture' ? CaptureInput : Type.Object({}, { additionalProperties: false }),
          response: { 200: Deduction, ...problems(404, 409, 422) },
        },
      },
      async (request, reply) =>
        sendResult(
          reply,
          await checkout.resolveCheckout(db, request.params.deductionId, action, (request.body ?? {}) as CaptureInput, ctx(request, doc.operationId, false)),
        ),
    );
  }
}
