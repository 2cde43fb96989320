import type { Db, Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';
import { type IdempotencyContext, idempotencyParams, idempotentWrite, type WriteResult } from '../../shared/idempotency.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { type ProgramScope, visible } from '../api-keys/index.ts';
import { getBalance } from '../ledger/index.ts';
import { getMember } from '../members/index.ts';
import { getProgram } from '../programs/index.ts';
import { type CheckoutPolicy, quote, steps } from './checkout.engine.ts';
import * as repo from './checkout.repository.ts';
import type {
  CaptureInput,
  CheckoutPolicyInput,
  CheckoutPolicyView,
  Deduction,
  DeductionCreate,
  DeductionListQuery,
  QuoteInput,
  QuoteView,
} from './checkout.schemas.ts';

/** Who writes and how: the clock's instant, the actor, the idempotency key, the caller's programs. */
export interface CheckoutWriteContext {
  now: Date;
  actor: string;
  idempotency?: IdempotencyContext;
  scope?: ProgramScope;
}

/** A program that has not set its policy: off, and what it would be once switched on. */
export const DEFAULT_CHECKOUT_POLICY: Omit<repo.PolicyRow, 'updated_at' | 'updated_by'> = {
  enabled: false,
  max_share_bps: 5000,
  min_order_amount: 0,
  min_points: 0,
  max_points_per_order: null,
  combinable_with_discounts: true,
  hold_timeout_seconds: null,
};

const deductionNotFound = (id: string) => new DomainError('CHECKOUT_DEDUCTION_NOT_FOUND', `No checkout deduction ${id}`, { deduction_id: id });

async function policyOf(db: Queryable, programId: string): Promise<CheckoutPolicyView> {
  const program = await getProgram(db, programId);
  const row = (await repo.findPolicy(db, programId)) ?? { ...DEFAULT_CHECKOUT_POLICY, updated_at: null, updated_by: null };
  return { object: 'checkout_policy', program_id: programId, points_per_yuan: program.redemption_rate, ...row };
}

export function getCheckoutPolicy(db: Queryable, programId: string): Promise<CheckoutPolicyView> {
  return policyOf(db, programId);
}

/** Replaces the program's checkout policy (the rate stays the program's redemption_rate). */
export async function putCheckoutPolicy(db: Db, programId: string, input: CheckoutPolicyInput, now: Date, actor: string): Promise<CheckoutPolicyView> {
  return db.transaction(async (tx) => {
    await getProgram(tx, programId);
    await repo.upsertPolicy(
      tx,
      programId,
      { ...input, max_points_per_order: input.max_points_per_order ?? null, hold_timeout_seconds: input.hold_timeout_seconds ?? null },
      now,
      actor,
    );
    return policyOf(tx, programId);
  });
}

const engineOf = (p: CheckoutPolicyView): CheckoutPolicy => ({
  points_per_yuan: p.points_per_yuan,
  max_share_bps: p.max_share_bps,
  min_order_amount: p.min_order_amount,
  min_points: p.min_points,
  max_points_per_order: p.max_points_per_order,
  combinable_with_discounts: p.combinable_with_discounts,
});

function requireEnabled(p: CheckoutPolicyView): void {
  if (!p.enabled) throw new DomainError('CHECKOUT_NOT_ENABLED', 'The program does not let members use points at checkout', { program_id: p.program_id });
}

/** How many points the member may use on this order, and why fewer than their balance (none while the policy is off). Writes nothing. */
export async function quoteCheckout(db: Queryable, memberId: string, input: QuoteInput, now: Date, scope: ProgramScope = null): Promise<QuoteView> {
  const member = await getMember(db, memberId, scope);
  const policy = await policyOf(db, member.program_id);
  const balance = await getBalance(db, memberId, now);
  const basket = { amount: input.amount, other_discounts: input.other_discounts ?? 0 };
  // off: what the order would take is nothing, said as such (a checkout page shows 积分抵扣暂未开放)
  const q = policy.enabled
    ? quote(engineOf(policy), basket, balance.available)
    : { ...quote(engineOf(policy), basket, 0), limited_by: ['not_enabled' as const] };
  const base = {
    object: 'checkout_quote' as const,
    member_id: memberId,
    enabled: policy.enabled,
    available: balance.available,
    points_per_yuan: policy.points_per_yuan,
  };
  return { ...base, ...q };
}

async function callCheckout<T>(db: Db, fn: repo.CheckoutFunction, p: Record<string, unknown>, ctx: CheckoutWriteContext): Promise<WriteResult<T>> {
  const params = { ...p, actor: ctx.actor, now: ctx.now.toISOString(), programs: ctx.scope ?? null, ...idempotencyParams(ctx.idempotency) };
  return idempotentWrite(db, ctx.idempotency, () => repo.callCheckout<T>(db, fn, params));
}

/**
 * Holds points for an order: checked against the policy's caps here (the engine), then, in one
 * round trip (checkout_hold), against the balance under the member's lock, with the policy unchanged.
 */
export async function holdCheckout(db: Db, memberId: string, input: DeductionCreate, ctx: CheckoutWriteContext): Promise<WriteResult<Deduction>> {
  const member = await getMember(db, memberId, ctx.scope ?? null);
  const policy = await policyOf(db, member.program_id);
  requireEnabled(policy);
  const basket = { amount: input.amount, other_discounts: input.other_discounts ?? 0 };
  const step = steps(policy.points_per_yuan);
  if (BigInt(input.points) % step.points !== 0n) {
    throw new DomainError('VALIDATION_FAILED', `points are used in steps of ${step.points}`, {}, [
      {
        path: '/points',
        location: 'body',
        message: `must be a multiple of ${step.points} (${step.points} points are worth ${step.value} fen)`,
        rule: 'points_step',
        params: { points: Number(step.points), value: Number(step.value) },
      },
    ]);
  }
  // the caps alone: the balance is checked under the member's lock
  const caps = quote(engineOf(policy), basket, Number.MAX_SAFE_INTEGER);
  if (input.points > caps.max_points) {
    throw new DomainError('POINTS_EXCEED_QUOTE', `At most ${caps.max_points} points on this order`, {
      field: 'points',
      max_points: caps.max_points,
      requested: input.points,
      limited_by: caps.limited_by,
    });
  }
  if (input.points < policy.min_points) {
    throw new DomainError('BELOW_MIN_POINTS', `At least ${policy.min_points} points on an order`, {
      field: 'points',
      min_points: policy.min_points,
      requested: input.points,
    });
  }
  return callCheckout<Deduction>(
    db,
    'checkout_hold',
    {
      member_id: memberId,
      order_reference: input.order_reference,
      amount: basket.amount,
      other_discounts: basket.other_discounts,
      points: input.points,
      points_step: Number(step.points),
      value_step: Number(step.value),
      policy_updated_at: policy.updated_at,
      ...(input.expires_in_seconds !== undefined ? { expires_in_seconds: input.expires_in_seconds } : {}),
      ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
    },
    ctx,
  );
}

/** Capture (whole or part, on payment), void (the order cancelled) or refund (a paid order refunded). */
export function resolveCheckout(
  db: Db,
  deductionId: string,
  action: 'capture' | 'void' | 'refund',
  input: CaptureInput,
  ctx: CheckoutWriteContext,
): Promise<WriteResult<Deduction>> {
  return callCheckout<Deduction>(
    db,
    'checkout_resolve',
    { deduction_id: deductionId, action, ...(action === 'capture' && input.points !== undefined ? { points: input.points } : {}) },
    ctx,
  );
}

export async function getDeduction(db: Queryable, id: string, now: Date, scope: ProgramScope = null): Promise<Deduction> {
  const d = await repo.findDeduction(db, id, now);
  if (!d || !visible(scope, id, d.program_id)) throw deductionNotFound(id);
  return d;
}

export async function listDeductions(db: Queryable, programId: string, query: DeductionListQuery, now: Date): Promise<Page<Deduction>> {
  await getProgram(db, programId);
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const rows = await repo.listDeductions(db, { programId, orderReference: query.order_reference, memberId: query.member_id }, now, limit, before);
  const page = toPage(rows, limit, (r) => [r.at, r.id]);
  return { ...page, data: page.data.map((r) => r.d) };
}

/** The orders a member's holds were checkout deductions for, by hold id (for the member's history). */
export async function ordersOfHolds(db: Queryable, memberId: string, holdIds: string[]): Promise<Map<string, string>> {
  return new Map((await repo.ordersOfHolds(db, memberId, holdIds)).map((r) => [r.hold_id, r.order_reference]));
}
