import type { Queryable } from '../../db/db.ts';
import type { Role } from './permissions.ts';

export interface RoleRow {
  program_id: string | null;
  role: Role;
}

export interface ConsoleUserRow {
  id: string;
  object: 'console_user';
  email: string;
  name: string;
  roles: RoleRow[];
  created_at: string;
  password_changed_at: string;
  disabled_at: string | null;
}

/** Roles sorted: every program first, then by program id. */
const ROLES_OF = (alias: string) =>
  `coalesce((SELECT json_agg(json_build_object('program_id', r.program_id, 'role', r.role) ORDER BY r.program_id NULLS FIRST)
      FROM console_role r WHERE r.user_id = ${alias}.id), '[]'::json)`;

const COLUMNS = `u.id, 'console_user' AS object, u.email, u.name, ${ROLES_OF('u')} AS roles, jf_ts(u.created_at) AS created_at,
  jf_ts(u.password_changed_at) AS password_changed_at, jf_ts(u.disabled_at) AS disabled_at`;

export async function countUsers(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM console_user');
  return row!.n;
}

export async function findCredentials(
  db: Queryable,
  email: string,
): Promise<{ id: string; email: string; name: string; password_hash: string; disabled: boolean } | undefined> {
  const [row] = await db.query<{ id: string; email: string; name: string; password_hash: string; disabled: boolean }>(
    'SELECT id, email, name, password_hash, disabled_at IS NOT NULL AS disabled FROM console_user WHERE email = $1',
    [email],
  );
  return row;
}

export async function passwordHashOf(db: Queryable, userId: string): Promise<string | undefined> {
  const [row] = await db.query<{ password_hash: string }>('SELECT password_hash FROM console_user WHERE id = $1', [userId]);
  return row?.password_hash;
}

export async function getUser(db: Queryable, id: string, lock = false): Promise<ConsoleUserRow | undefined> {
  const [row] = await db.query<ConsoleUserRow>(`SELECT ${COLUMNS} FROM console_user u WHERE u.id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return row;
}

/** Users with a role in one of these programs (every user when programs is null), in creation order. */
export async function listUsers(db: Queryable, programs: readonly string[] | null): Promise<ConsoleUserRow[]> {
  return db.query<ConsoleUserRow>(
    `SELECT ${COLUMNS} FROM console_user u
      WHERE $1::text[] IS NULL OR EXISTS (SELECT 1 FROM console_role r WHERE r.user_id = u.id AND r.program_id = ANY ($1::text[]))
      ORDER BY u.created_at, u.id`,
    [programs],
  );
}

export async function insertUser(db: Queryable, user: { id: string; email: string; name: string; passwordHash: string }, now: Date): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO console_user (id, email, name, password_hash, created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (email) DO NOTHING RETURNING id`,
    [user.id, user.email, user.name, user.passwordHash, now.toISOString()],
  );
  return rows.length > 0;
}

/**
 * Replaces the user's roles in these programs (every role when programs is null) with the given ones
 * (which the caller checked lie within those programs).
 */
export async function replaceRoles(db: Queryable, userId: string, programs: readonly string[] | null, roles: readonly RoleRow[]): Promise<void> {
  await db.query('DELETE FROM console_role WHERE user_id = $1 AND ($2::text[] IS NULL OR program_id = ANY ($2::text[]))', [userId, programs]);
  if (roles.length === 0) return;
  await db.query(
    `INSERT INTO console_role (user_id, program_id, role)
     SELECT $1, r.program_id, r.role FROM jsonb_to_recordset($2::text::jsonb) AS r (program_id text, role text)`,
    [userId, JSON.stringify(roles)],
  );
}

export async function updateUser(db: Queryable, id: string, change: { name?: string; disabled?: boolean }, now: Date): Promise<void> {
  await db.query(
    `UPDATE console_user SET name = coalesce($2, name),
       disabled_at = CASE WHEN $3::boolean IS NULL THEN disabled_at WHEN $3::boolean THEN coalesce(disabled_at, $4) ELSE NULL END
     WHERE id = $1`,
    [id, change.name ?? null, change.disabled ?? null, now.toISOString()],
  );
}

export async function setPasswordHash(db: Queryable, id: string, passwordHash: string, now: Date): Promise<void> {
  await db.query('UPDATE console_user SET password_hash = $2, password_changed_at = $3 WHERE id = $1', [id, passwordHash, now.toISOString()]);
}

/** Enabled users with the owner role for every program. */
export async function countDeploymentOwners(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM console_user u
      WHERE u.disabled_at IS NULL AND EXISTS (SELECT 1 FROM console_role r WHERE r.user_id = u.id AND r.program_id IS NULL AND r.role = 'owner')`,
  );
  return row!.n;
}

// ── sessions ────────────────────────────────────────────────────────────────────────────────────

export interface SessionRow {
  id: string;
  user_id: string;
  email: string;
  name: string;
  csrf_token: string;
  last_seen_at: Date;
  expires_at: Date;
  disabled: boolean;
  roles: RoleRow[];
}

export async function insertSession(db: Queryable, s: { id: string; userId: string; csrfToken: string; expiresAt: Date }, now: Date): Promise<void> {
  await db.query('INSERT INTO console_session (id, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)', [
    s.id,
    s.userId,
    s.csrfToken,
    now.toISOString(),
    s.expiresAt.toISOString(),
  ]);
}

export async function findSession(db: Queryable, id: string): Promise<SessionRow | undefined> {
  const [row] = await db.query<Omit<SessionRow, 'last_seen_at' | 'expires_at'> & { last_seen_at: string; expires_at: string }>(
    `SELECT s.id, s.user_id, u.email, u.name, s.csrf_token, jf_ts(s.last_seen_at) AS last_seen_at, jf_ts(s.expires_at) AS expires_at,
            u.disabled_at IS NOT NULL AS disabled, ${ROLES_OF('u')} AS roles
       FROM console_session s JOIN console_user u ON u.id = s.user_id WHERE s.id = $1`,
    [id],
  );
  return row && { ...row, last_seen_at: new Date(row.last_seen_at), expires_at: new Date(row.expires_at) };
}

export async function touchSession(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('UPDATE console_session SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1', [id, now.toISOString()]);
}

export async function deleteSession(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM console_session WHERE id = $1', [id]);
}

/** Ends the user's sessions, all but `except` when given. */
export async function deleteSessionsOf(db: Queryable, userId: string, except?: string): Promise<void> {
  await db.query('DELETE FROM console_session WHERE user_id = $1 AND ($2::text IS NULL OR id <> $2)', [userId, except ?? null]);
}

/** Removes the user's sessions that ended (by either timeout). */
export async function deleteEndedSessionsOf(db: Queryable, userId: string, now: Date, idleMs: number): Promise<void> {
  await db.query(`DELETE FROM console_session WHERE user_id = $1 AND (expires_at <= $2 OR last_seen_at + make_interval(secs => $3) <= $2)`, [
    userId,
    now.toISOString(),
    idleMs / 1000,
  ]);
}

/** Removes every session that ended (by either timeout); returns how many. */
export async function deleteEndedSessions(db: Queryable, now: Date, idleMs: number): Promise<number> {
  const rows = await db.query('DELETE FROM console_session WHERE expires_at <= $1 OR last_seen_at + make_interval(secs => $2) <= $1 RETURNING id', [
    now.toISOString(),
    idleMs / 1000,
  ]);
  return rows.length;
}
