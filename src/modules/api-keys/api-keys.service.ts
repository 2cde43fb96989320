import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';
import type { ApiKeyPrincipal, Scope } from '../../shared/http.ts';
import { newId } from '../../shared/ids.ts';
import { deploymentOnly, inScope, type ProgramScope } from './access.ts';
import * as repo from './api-keys.repository.ts';

/**
 * Keys are random 192-bit secrets, so a fast hash (SHA-256) is enough to store them: there is no
 * password to brute-force. Only the hash and a short prefix are kept.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateSecret(): string {
  return `jf_${randomBytes(24).toString('base64url')}`;
}

/**
 * Makes a key for the whole deployment (programIds null) or for these programs. Callers check the
 * programs first (createApiKeyFor does, for the API).
 */
export async function createApiKey(
  db: Queryable,
  name: string,
  scopes: Scope[],
  now: Date,
  secret = generateSecret(),
  programIds: readonly string[] | null = null,
) {
  const row = await repo.insertApiKey(db, { id: newId('key'), name, prefix: secret.slice(0, 10), hash: hashSecret(secret), scopes, programIds }, now);
  return { ...row, secret };
}

/**
 * What creating a key needs of the programs module, which imports this one (so this one cannot
 * import it): the caller hands in programs' existingPrograms.
 */
export interface ApiKeySources {
  /** Which of these program ids exist. */
  existingPrograms: (db: Queryable, ids: readonly string[]) => Promise<Set<string>>;
}

/**
 * POST /v1/api-keys. A deployment-wide admin key makes any key. An admin key limited to programs
 * makes keys limited to some of its own programs only: asking for a deployment-wide key is 403
 * FORBIDDEN, and a program outside its own is 404 PROGRAM_NOT_FOUND, as an unknown one is (for
 * any key). Scopes are independent of programs: any admin key may give any scope.
 */
export async function createApiKeyFor(
  db: Queryable,
  caller: ProgramScope,
  input: { name: string; scopes: Scope[]; program_ids?: string[] | null },
  now: Date,
  sources: ApiKeySources,
) {
  const programIds = input.program_ids ?? null;
  if (programIds === null && caller !== null) throw deploymentOnly('A deployment-wide key');
  if (programIds !== null) {
    const existing = await sources.existingPrograms(db, programIds);
    const index = programIds.findIndex((id) => !existing.has(id) || !inScope(caller, id));
    if (index >= 0) {
      const id = programIds[index]!;
      throw new DomainError('PROGRAM_NOT_FOUND', `No program ${id}`, { program_id: id }, [
        { path: `/program_ids/${index}`, location: 'body', message: 'is not a known program', rule: 'unknown_reference' },
      ]);
    }
  }
  return createApiKey(db, input.name, input.scopes, now, undefined, programIds);
}

/** Which scopes satisfy a route's requirement: admin can do everything, integration can read. */
export function allows(scopes: readonly Scope[], needed: Scope): boolean {
  if (scopes.includes('admin')) return true;
  if (needed === 'integration') return scopes.includes('integration');
  if (needed === 'read') return scopes.includes('read') || scopes.includes('integration');
  return false;
}

/**
 * Verifies bearer keys with a short cache, so a request does not pay a database round trip for its
 * key. A revoked key stops working here at once and on other instances within CACHE_MS.
 */
export class ApiKeyVerifier {
  static readonly CACHE_MS = 10_000;
  readonly #db: Queryable;
  readonly #cache = new Map<string, { principal: ApiKeyPrincipal | undefined; until: number }>();

  constructor(db: Queryable) {
    this.#db = db;
  }

  async verify(secret: string): Promise<ApiKeyPrincipal | undefined> {
    const hash = hashSecret(secret);
    const hit = this.#cache.get(hash);
    const now = Date.now();
    if (hit && hit.until > now) return hit.principal;
    const row = await repo.findActiveByHash(this.#db, hash);
    const principal = row ? { id: row.id, name: row.name, scopes: row.scopes, programIds: row.program_ids } : undefined;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(hash, { principal, until: now + ApiKeyVerifier.CACHE_MS });
    return principal;
  }

  forget(): void {
    this.#cache.clear();
  }
}

/** A key limited to programs sees (lists, revokes) only keys limited to some of its programs. */
export async function listApiKeys(db: Queryable, caller: ProgramScope = null) {
  return repo.listApiKeys(db, caller);
}

export async function revokeApiKey(db: Queryable, id: string, now: Date, caller: ProgramScope = null) {
  const row = await repo.revokeApiKey(db, id, now, caller);
  if (!row) throw new DomainError('API_KEY_NOT_FOUND', `No API key ${id}`, { api_key_id: id });
  return row;
}

/**
 * On the first start there is no key to call the API with: make an admin key, from
 * JIFEN_BOOTSTRAP_ADMIN_KEY if set. Returns the secret when one was generated, for printing once.
 */
export async function ensureBootstrapKey(db: Queryable, given: string | undefined, now: Date): Promise<{ created: boolean; secret?: string }> {
  if ((await repo.countApiKeys(db)) > 0) return { created: false };
  const key = await createApiKey(db, 'bootstrap admin', ['admin'], now, given);
  return { created: true, secret: given ? undefined : key.secret };
}
