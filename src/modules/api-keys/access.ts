import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';

/**
 * Which programs a request may see and change: the program ids of its API key, or null for a
 * deployment-wide key (every key made before keys had programs). A resource of another program
 * is answered exactly as one that does not exist: same status, code, detail and order of checks.
 * Deployment-wide keys skip every check here (nothing to look up, nothing cached).
 */
export type ProgramScope = readonly string[] | null;

export function scopeOf(request: FastifyRequest): ProgramScope {
  return request.apiKey?.programIds ?? null;
}

export function inScope(scope: ProgramScope, programId: string): boolean {
  return scope === null || scope.includes(programId);
}

/** The not-found of an unknown program (the same as getProgram's). */
export function programNotFound(programId: string): DomainError {
  return new DomainError('PROGRAM_NOT_FOUND', `No program ${programId}`, { program_id: programId });
}

/** For routes addressed by program id: another program is not found. */
export function requireProgram(scope: ProgramScope, programId: string): void {
  if (!inScope(scope, programId)) throw programNotFound(programId);
}

/** What a key limited to programs may not do: operations on the whole deployment. */
export function deploymentOnly(what: string): DomainError {
  return new DomainError('FORBIDDEN', `${what} needs a deployment-wide key; this key is limited to its programs`, { required_access: 'deployment' });
}

/**
 * The program of a resource, looked up by the module that owns the resource's table (undefined:
 * no such resource). This module reads only api_key: callers say how to find their resources.
 */
export type ProgramOf<R> = (db: Queryable, resource: R) => Promise<string | undefined>;

/**
 * id → program of the resources callers looked up or read (members, holds, entries, rules,
 * events). A resource never changes program and ids are random (unique across databases), so an
 * entry never goes stale; only ids that exist are remembered (an unknown id may be created later).
 * Bounded: the oldest entries go first.
 */
const owners = new Map<string, string>();
export const OWNER_CACHE_SIZE = 100_000;

export function rememberOwner(id: string, programId: string): void {
  if (owners.has(id)) return;
  if (owners.size >= OWNER_CACHE_SIZE) owners.delete(owners.keys().next().value!);
  owners.set(id, programId);
}

/** The program of a resource, or undefined if there is no such resource. */
export async function ownerOf<R extends { id: string }>(db: Queryable, resource: R, programOf: ProgramOf<R>): Promise<string | undefined> {
  const hit = owners.get(resource.id);
  if (hit !== undefined) return hit;
  const programId = await programOf(db, resource);
  if (programId !== undefined) rememberOwner(resource.id, programId);
  return programId;
}

/**
 * The first of these resources that exists in another program, in the order given (the order in
 * which the operation looks them up), or undefined. A resource that does not exist at all ends the
 * search: the operation itself answers that one as not found, before it reaches the next.
 */
export async function firstOutOfScope<R extends { id: string }>(
  db: Queryable,
  scope: ProgramScope,
  resources: readonly R[],
  programOf: ProgramOf<R>,
): Promise<R | undefined> {
  if (scope === null) return undefined;
  for (const r of resources) {
    const owner = await ownerOf(db, r, programOf);
    if (owner === undefined) return undefined;
    if (!scope.includes(owner)) return r;
  }
  return undefined;
}

/** Whether a resource read with its program may be shown (and remembers its program). */
export function visible(scope: ProgramScope, id: string, programId: string): boolean {
  if (scope === null) return true;
  rememberOwner(id, programId);
  return scope.includes(programId);
}
