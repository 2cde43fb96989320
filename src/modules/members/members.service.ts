import type { Db, Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';
import { type IdempotencyContext, type WriteResult, withIdempotency } from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { firstOutOfScope, type ProgramScope, visible } from '../api-keys/index.ts';
import { applyMemberStatus, openAccounts } from '../ledger/index.ts';
import { getProgram } from '../programs/index.ts';
import * as repo from './members.repository.ts';
import type { Member, MemberCreate, MemberListQuery, MemberUpdate } from './members.schemas.ts';

function notFound(id: string): DomainError {
  return new DomainError('MEMBER_NOT_FOUND', `No member ${id}`, { member_id: id });
}

/**
 * Makes these members of the program, each with its ledger account (the ledger's openAccounts), in
 * the caller's transaction: three statements however many members (the ladder lock, the members,
 * their accounts). Returns those made; an external id the program already has is skipped. Every
 * path that creates members goes through here.
 */
export async function addMembers(tx: Queryable, programId: string, inputs: MemberCreate[], now: Date): Promise<Member[]> {
  const created = await repo.insertMembers(
    tx,
    programId,
    inputs.map((input) => ({ id: newId('mbr'), input })),
    now,
  );
  await openAccounts(
    tx,
    created.map((m) => ({ member_id: m.id, program_id: m.program_id })),
    now,
  );
  return created;
}

/** Creates a member, or returns the existing one with the same external_id (200 instead of 201). */
export async function createMember(db: Db, programId: string, input: MemberCreate, now: Date, idem?: IdempotencyContext): Promise<WriteResult<Member>> {
  await getProgram(db, programId);
  return withIdempotency(db, idem, now, async (tx) => {
    const [created] = await addMembers(tx, programId, [input], now);
    if (created) return { status: 201, body: created };
    return { status: 200, body: (await repo.findMemberByExternalId(tx, programId, input.external_id))! };
  });
}

export async function getMember(db: Queryable, id: string, scope: ProgramScope = null): Promise<Member> {
  const member = await repo.findMember(db, id);
  if (!member || !visible(scope, id, member.program_id)) throw notFound(id);
  return member;
}

export async function getMemberByExternalId(db: Queryable, programId: string, externalId: string): Promise<Member> {
  await getProgram(db, programId);
  const member = await repo.findMemberByExternalId(db, programId, externalId);
  if (!member) throw new DomainError('MEMBER_NOT_FOUND', `No member with external_id ${externalId}`, { external_id: externalId });
  return member;
}

export async function listMembers(db: Queryable, programId: string, query: MemberListQuery): Promise<Page<Member>> {
  await getProgram(db, programId);
  const limit = query.limit ?? 20;
  const [before] = (decodeCursor(query.cursor, ['id']) ?? []) as [string?];
  const rows = await repo.listMembers(db, programId, query, limit, before);
  return toPage(rows, limit, (m) => [m.id]);
}

export async function updateMember(
  db: Db,
  id: string,
  patch: MemberUpdate,
  now: Date,
  idem?: IdempotencyContext,
  scope: ProgramScope = null,
): Promise<WriteResult<Member>> {
  return withIdempotency(db, idem, now, async (tx) => {
    const member = await repo.updateMember(tx, id, patch, now, scope);
    if (!member) throw notFound(id);
    return { status: 200, body: member };
  });
}

/** Freeze, unfreeze or close (see ledger_set_status for what closing does to the points). */
export async function setMemberStatus(
  db: Db,
  id: string,
  status: Member['status'],
  reason: string | undefined,
  now: Date,
  idem?: IdempotencyContext,
  scope: ProgramScope = null,
): Promise<WriteResult<Member>> {
  return withIdempotency(db, idem, now, async (tx) => {
    // another program's member: the not-found ledger_set_status gives for an unknown one
    if (await firstOutOfScope(tx, scope, [{ id }], (q, r) => repo.programOfMember(q, r.id)))
      throw new DomainError('MEMBER_NOT_FOUND', undefined, { member_id: id });
    await applyMemberStatus(tx, id, status, reason, now);
    return { status: 200, body: (await repo.findMember(tx, id))! };
  });
}
