import type { Db } from '../../src/db/db.ts';
import { createMember } from '../../src/modules/members/index.ts';
import { createProgram, type ProgramCreate } from '../../src/modules/programs/index.ts';

let seq = 0;
/** A unique string per call within this process, for external ids and idempotency keys. */
export function unique(prefix = 'x'): string {
  seq += 1;
  return `${prefix}-${process.pid}-${seq}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function makeProgram(db: Db, now: Date, overrides: Partial<ProgramCreate> = {}) {
  const { body } = await createProgram(db, { name: 'Test program', time_zone: 'UTC', ...overrides }, now);
  return body;
}

export async function makeMember(db: Db, programId: string, now: Date, overrides: { external_id?: string; name?: string } = {}) {
  const { body } = await createMember(db, programId, { external_id: overrides.external_id ?? unique('ext'), name: overrides.name }, now);
  return body;
}

/** Write context with a fresh idempotency key, as an integration would send. */
export function writeCtx(now: Date, key = unique('idem')) {
  return { now, actor: 'test', idempotency: { scope: 'test', key, hash: key } };
}
