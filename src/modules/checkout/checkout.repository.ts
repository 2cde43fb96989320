import type { Queryable } from '../../db/db.ts';
import type { WriteResult } from '../../shared/idempotency.ts';
import type { CheckoutPolicyInput, Deduction } from './checkout.schemas.ts';

export interface PolicyRow {
  enabled: boolean;
  max_share_bps: number;
  min_order_amount: number;
  min_points: number;
  max_points_per_order: number | null;
  combinable_with_discounts: boolean;
  hold_timeout_seconds: number | null;
  updated_at: string | null;
  updated_by: string | null;
}

export async function findPolicy(db: Queryable, programId: string): Promise<PolicyRow | undefined> {
  const [row] = await db.query<PolicyRow>(
    `SELECT enabled, max_share_bps, min_order_amount::float8 AS min_order_amount, min_points::float8 AS min_points,
            max_points_per_order::float8 AS max_points_per_order, combinable_with_discounts, hold_timeout_seconds,
            jf_ts(updated_at) AS updated_at, updated_by
       FROM checkout_policy WHERE program_id = $1`,
    [programId],
  );
  return row;
}

export async function upsertPolicy(db: Queryable, programId: string, input: Required<CheckoutPolicyInput>, now: Date, actor: string): Promise<void> {
  await db.query(
    `INSERT INTO checkout_policy (program_id, enabled, max_share_bps, min_order_amount, min_points, max_points_per_order,
                                  combinable_with_discounts, hold_timeout_seconds, updated_at, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (program_id) DO UPDATE SET
       enabled = EXCLUDED.enabled, max_share_bps = EXCLUDED.max_share_bps, min_order_amount = EXCLUDED.min_order_amount,
       min_points = EXCLUDED.min_points, max_points_per_order = EXCLUDED.max_points_per_order,
       combinable_with_discounts = EXCLUDED.combinable_with_discounts, hold_timeout_seconds = EXCLUDED.hold_timeout_seconds,
       updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
    [
      programId,
      input.enabled,
      input.max_share_bps,
      input.min_order_amount,
      input.min_points,
      input.max_points_per_order,
      input.combinable_with_discounts,
      input.hold_timeout_seconds,
      now.toISOString(),
      actor,
    ],
  );
}

export type CheckoutFunction = 'checkout_hold' | 'checkout_resolve';

/** One round trip: the function claims the idempotency key, locks the member, checks, writes and answers. */
export async function callCheckout<T>(db: Queryable, fn: CheckoutFunction, p: Record<string, unknown>): Promise<WriteResult<T>> {
  const [row] = await db.query<{ r: WriteResult<T> }>(`SELECT ${fn}($1::text::jsonb) AS r`, [JSON.stringify(p)]);
  return row!.r;
}

export async function findDeduction(db: Queryable, id: string, now: Date): Promise<Deduction | undefined> {
  const [row] = await db.query<{ d: Deduction }>('SELECT jf_checkout_json(d, $2) AS d FROM checkout_deduction d WHERE d.id = $1', [id, now.toISOString()]);
  return row?.d;
}

export interface DeductionFilter {
  programId: string;
  orderReference?: string;
  memberId?: string;
}

export async function listDeductions(
  db: Queryable,
  f: DeductionFilter,
  now: Date,
  limit: number,
  before: [string, string] | undefined,
): Promise<{ d: Deduction; at: string; id: string }[]> {
  return db.query(
    `SELECT jf_checkout_json(d, $7) AS d, d.created_at::text AS at, d.id
       FROM checkout_deduction d
      WHERE d.program_id = $1 AND ($2::text IS NULL OR d.order_reference = $2) AND ($3::text IS NULL OR d.member_id = $3)
        AND ($4::timestamptz IS NULL OR (d.created_at, d.id) < ($4::timestamptz, $5::text))
      ORDER BY d.created_at DESC, d.id DESC
      LIMIT $6`,
    [f.programId, f.orderReference ?? null, f.memberId ?? null, before?.[0] ?? null, before?.[1] ?? null, limit + 1, now.toISOString()],
  );
}

/** The orders a member's holds were checkout deductions for, by hold id. */
export async function ordersOfHolds(db: Queryable, memberId: string, holdIds: string[]): Promise<{ hold_id: string; order_reference: string }[]> {
  if (holdIds.length === 0) return [];
  return db.query('SELECT hold_id, order_reference FROM checkout_deduction WHERE member_id = $2 AND hold_id = ANY ($1::text[])', [holdIds, memberId]);
}
