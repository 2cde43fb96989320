import type { Queryable } from '../../db/db.ts';

/** A program's member-token configuration, as stored (secrets included: only the service reads them). */
export interface MemberTokenConfigRow {
  program_id: string;
  audience: string | null;
  issuer: string | null;
  jwks_url: string | null;
  secret_id: string | null;
  secret: string | null;
  secret_created_at: string | null;
  previous_secret_id: string | null;
  previous_secret: string | null;
  previous_secret_created_at: string | null;
  previous_secret_retired_at: string | null;
  updated_at: string | null;
}

const COLUMNS = `p.id AS program_id, c.audience, c.issuer, c.jwks_url, c.secret_id, c.secret,
  jf_ts(c.secret_created_at) AS secret_created_at, c.previous_secret_id, c.previous_secret,
  jf_ts(c.previous_secret_created_at) AS previous_secret_created_at,
  jf_ts(c.previous_secret_retired_at) AS previous_secret_retired_at, jf_ts(c.updated_at) AS updated_at`;

/** The configuration of a program that exists (all nulls if it has none yet); undefined if there is no such program. */
export async function findConfig(db: Queryable, programId: string): Promise<MemberTokenConfigRow | undefined> {
  const [row] = await db.query<MemberTokenConfigRow>(
    `SELECT ${COLUMNS} FROM program p LEFT JOIN member_token_config c ON c.program_id = p.id WHERE p.id = $1`,
    [programId],
  );
  return row;
}

/**
 * The programs a token's audiences name: `jifen:<id>` for programs on the default audience,
 * or a configured audience. At most a few audiences are looked up (the caller bounds them).
 */
export async function findConfigsByAudience(db: Queryable, audiences: string[]): Promise<MemberTokenConfigRow[]> {
  const ids = audiences.filter((a) => a.startsWith('jifen:')).map((a) => a.slice('jifen:'.length));
  const named = audiences.filter((a) => !a.startsWith('jifen:'));
  return db.query<MemberTokenConfigRow>(
    `SELECT ${COLUMNS}
       FROM program p LEFT JOIN member_token_config c ON c.program_id = p.id
      WHERE (p.id IN (SELECT jsonb_array_elements_text($1::text::jsonb)) AND c.audience IS NULL)
         OR c.audience IN (SELECT jsonb_array_elements_text($2::text::jsonb))
      ORDER BY p.id LIMIT 2`,
    [JSON.stringify(ids), JSON.stringify(named)],
  );
}

export async function audienceTaken(db: Queryable, programId: string, audience: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM member_token_config WHERE audience = $1 AND program_id <> $2', [audience, programId]);
  return rows.length > 0;
}

/** Writes the settings (all three, as they are to be); creates the row if needed. */
export async function upsertSettings(
  db: Queryable,
  programId: string,
  settings: { audience: string | null; issuer: string | null; jwks_url: string | null },
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO member_token_config (program_id, audience, issuer, jwks_url, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (program_id) DO UPDATE SET
       audience = EXCLUDED.audience, issuer = EXCLUDED.issuer, jwks_url = EXCLUDED.jwks_url, updated_at = EXCLUDED.updated_at`,
    [programId, settings.audience, settings.issuer, settings.jwks_url, now.toISOString()],
  );
}

/**
 * Makes `secret` the current secret. The one it replaces becomes the previous secret (and the
 * previous one is dropped), or is dropped too when revokePrevious.
 */
export async function rotateSecret(db: Queryable, programId: string, id: string, secret: string, revokePrevious: boolean, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO member_token_config (program_id, secret_id, secret, secret_created_at, created_at, updated_at)
     VALUES ($1, $2, $3, $5, $5, $5)
     ON CONFLICT (program_id) DO UPDATE SET
       previous_secret_id = CASE WHEN $4 THEN NULL ELSE member_token_config.secret_id END,
       previous_secret = CASE WHEN $4 THEN NULL ELSE member_token_config.secret END,
       previous_secret_created_at = CASE WHEN $4 THEN NULL ELSE member_token_config.secret_created_at END,
       previous_secret_retired_at = CASE WHEN $4 OR member_token_config.secret_id IS NULL THEN NULL ELSE EXCLUDED.updated_at END,
       secret_id = EXCLUDED.secret_id, secret = EXCLUDED.secret, secret_created_at = EXCLUDED.secret_created_at,
       updated_at = EXCLUDED.updated_at`,
    [programId, id, secret, revokePrevious, now.toISOString()],
  );
}

/** Gives a program its first secret if it has none (for minting); a no-op otherwise. */
export async function ensureSecret(db: Queryable, programId: string, id: string, secret: string, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO member_token_config (program_id, secret_id, secret, secret_created_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $4, $4)
     ON CONFLICT (program_id) DO UPDATE SET
       secret_id = EXCLUDED.secret_id, secret = EXCLUDED.secret, secret_created_at = EXCLUDED.secret_created_at,
       updated_at = EXCLUDED.updated_at
     WHERE member_token_config.secret_id IS NULL`,
    [programId, id, secret, now.toISOString()],
  );
}
