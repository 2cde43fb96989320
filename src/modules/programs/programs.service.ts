import type { Db, Queryable } from '../../db/db.ts';
import { DomainError, fieldError } from '../../shared/errors.ts';
import { type IdempotencyContext, type WriteResult, withIdempotency } from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import { inScope, type ProgramScope } from '../api-keys/index.ts';
import * as repo from './programs.repository.ts';
import type { ExpiryPolicy, Program, ProgramCreate, ProgramUpdate } from './programs.schemas.ts';
import { checkTimeZone } from './time-zones.ts';

export const PROGRAM_DEFAULTS = {
  time_zone: 'Asia/Shanghai',
  currency: 'CNY',
  point_name: '积分',
  point_name_en: 'points',
  expiry_policy: { type: 'never' } as ExpiryPolicy,
  pending_days: 0,
  negative_balance_policy: 'write_off' as const,
  redemption_rate: 100,
  hold_timeout_seconds: 900,
  metadata: {},
};

/** Fields each policy type needs and allows; JSON Schema alone cannot say it clearly. */
export function checkExpiryPolicy(policy: ExpiryPolicy, path = '/expiry_policy'): void {
  const allowed: Record<ExpiryPolicy['type'], { required: string[]; optional: string[] }> = {
    never: { required: [], optional: [] },
    rolling: { required: ['months'], optional: [] },
    end_of_period: { required: ['unit'], optional: ['offset'] },
    activity_extended: { required: ['months'], optional: ['hard_cap_months', 'extend_by_months', 'extend_once_per'] },
  };
  const rule = allowed[policy.type];
  for (const field of rule.required) {
    if ((policy as Record<string, unknown>)[field] === undefined)
      throw fieldError(`${path}/${field}`, `is required when type is ${policy.type}`, 'required_for', { field: 'type', value: policy.type });
  }
  for (const field of Object.keys(policy)) {
    if (field !== 'type' && !rule.required.includes(field) && !rule.optional.includes(field)) {
      throw fieldError(`${path}/${field}`, `is not used when type is ${policy.type}`, 'not_used_for', { field: 'type', value: policy.type });
    }
  }
  if (policy.type === 'activity_extended' && policy.hard_cap_months !== undefined && policy.hard_cap_months < policy.months!) {
    throw fieldError(`${path}/hard_cap_months`, 'must be at least months', 'at_least_field', { field: 'months' });
  }
  // adding months to the current expiry is bounded by the period: one without the other is a mistake
  if ((policy.extend_by_months === undefined) !== (policy.extend_once_per === undefined)) {
    const missing = policy.extend_by_months === undefined ? 'extend_by_months' : 'extend_once_per';
    throw fieldError(`${path}/${missing}`, `is required with ${missing === 'extend_by_months' ? 'extend_once_per' : 'extend_by_months'}`, 'required_with', {
      field: missing === 'extend_by_months' ? 'extend_once_per' : 'extend_by_months',
    });
  }
}

/**
 * What a new program gets from modules that import this one (so cannot be imported by it), handed in
 * by the caller above both (routes/programs.ts): segments' built-in segments. Run in the program's
 * transaction.
 */
export interface ProgramCreateHooks {
  onCreated?: (tx: Queryable, programId: string, now: Date) => Promise<void>;
}

export async function createProgram(
  db: Db,
  input: ProgramCreate,
  now: Date,
  idem?: IdempotencyContext,
  hooks: ProgramCreateHooks = {},
): Promise<WriteResult<Program>> {
  if (input.expiry_policy) checkExpiryPolicy(input.expiry_policy);
  await checkTimeZone(db, input.time_zone);
  return withIdempotency(db, idem, now, async (tx) => {
    const program = await repo.insertProgram(tx, newId('prg'), { ...PROGRAM_DEFAULTS, ...input }, now);
    await hooks.onCreated?.(tx, program.id, now);
    return { status: 201, body: program };
  });
}

export async function getProgram(db: Queryable, id: string): Promise<Program> {
  const program = await repo.findProgram(db, id);
  if (!program) throw new DomainError('PROGRAM_NOT_FOUND', `No program ${id}`, { program_id: id });
  return program;
}

export async function updateProgram(
  db: Db,
  id: string,
  patch: ProgramUpdate,
  now: Date,
  idem?: IdempotencyContext,
  scope: ProgramScope = null,
): Promise<WriteResult<Program>> {
  if (patch.expiry_policy) checkExpiryPolicy(patch.expiry_policy);
  await checkTimeZone(db, patch.time_zone);
  return withIdempotency(db, idem, now, async (tx) => {
    // another program than the key's: as if there were none, after the same checks
    const program = inScope(scope, id) ? await repo.updateProgram(tx, id, patch, now) : undefined;
    if (!program) throw new DomainError('PROGRAM_NOT_FOUND', `No program ${id}`, { program_id: id });
    return { status: 200, body: program };
  });
}

/**
 * The program's rules changed (the rules module calls it, after waiting for the event batches
 * evaluated with the old rules): every instance's compiled rules for it are stale from now on.
 */
export async function bumpRulesRevision(db: Queryable, programId: string): Promise<void> {
  await repo.bumpRulesRevision(db, programId);
}

export { existingPrograms, listPrograms } from './programs.repository.ts';
