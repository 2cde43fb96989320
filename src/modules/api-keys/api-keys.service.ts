import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';
import type { ApiKeyPrincipal, Scope } from '../../shared/http.ts';
import { newId } from '../../shared/ids.ts';
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

export async function createApiKey(db: Queryable, name: string, scopes: Scope[], now: Date, secret = generateSecret()) {
  const row = await repo.insertApiKey(db, { id: newId('key'), name, prefix: secret.slice(0, 10), hash: hashSecret(secret), scopes }, now);
  return { ...row, secret };
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
    const principal = row ? { id: row.id, name: row.name, scopes: row.scopes } : undefined;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(hash, { principal, until: now + ApiKeyVerifier.CACHE_MS });
    return principal;
  }

  forget(): void {
    this.#cache.clear();
  }
}

export async function revokeApiKey(db: Queryable, id: string, now: Date) {
  const row = await repo.revokeApiKey(db, id, now);
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

export { listApiKeys } from './api-keys.repository.ts';
