import type { Queryable } from '../../db/db.ts';

export interface ApiKeyRow {
  id: string;
  object: 'api_key';
  name: string;
  prefix: string;
  scopes: ('admin' | 'integration' | 'read')[];
  program_ids: string[] | null;
  created_at: string;
  revoked_at: string | null;
}

const COLUMNS = `id, 'api_key' AS object, name, prefix, scopes, program_ids, jf_ts(created_at) AS created_at, jf_ts(revoked_at) AS revoked_at`;

export async function insertApiKey(
  db: Queryable,
  key: { id: string; name: string; prefix: string; hash: string; scopes: string[]; programIds: readonly string[] | null },
  now: Date,
): Promise<ApiKeyRow> {
  const [row] = await db.query<ApiKeyRow>(
    `INSERT INTO api_key (id, name, prefix, secret_hash, scopes, created_at, program_ids) VALUES ($1, $2, $3, $4, $5::text[], $6, $7::text[]) RETURNING ${COLUMNS}`,
    [key.id, key.name, key.prefix, key.hash, key.scopes, now.toISOString(), key.programIds],
  );
  return row!;
}

export async function findActiveByHash(db: Queryable, hash: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_key WHERE secret_hash = $1 AND revoked_at IS NULL`, [hash]);
  return row;
}

/** A key limited to programs manages only keys limited to some of its programs. */
const MANAGEABLE = `($1::text[] IS NULL OR (program_ids IS NOT NULL AND program_ids <@ $1::text[]))`;

export async function listApiKeys(db: Queryable, scope: readonly string[] | null = null): Promise<ApiKeyRow[]> {
  return db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_key WHERE ${MANAGEABLE} ORDER BY created_at, id`, [scope]);
}

export async function revokeApiKey(db: Queryable, id: string, now: Date, scope: readonly string[] | null = null): Promise<ApiKeyRow | undefined> {
  const [row] = await db.query<ApiKeyRow>(`UPDATE api_key SET revoked_at = coalesce(revoked_at, $3) WHERE ${MANAGEABLE} AND id = $2 RETURNING ${COLUMNS}`, [
    scope,
    id,
    now.toISOString(),
  ]);
  return row;
}

export async function countApiKeys(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_key');
  return row!.n;
}
