import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Db, Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';
import {
  type IdempotencyContext,
  idempotencyParams,
  replayAfterConflict,
  retryingIdempotencyRace,
  storedResult,
  type WriteResult,
} from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import { existingPrograms } from '../programs/index.ts';
import { accessOf } from './console-users.access.ts';
import type { ConsoleUserRow, RoleRow } from './console-users.repository.ts';
import * as repo from './console-users.repository.ts';
import type { Role } from './permissions.ts';

/** A session ends 12 hours after its last request, and 7 days after sign-in in any case. */
export const SESSION_IDLE_MS = 12 * 3_600_000;
export const SESSION_MAX_MS = 7 * 86_400_000;
/** last_seen_at is written at most once a minute per session (a request is not a write). */
const TOUCH_EVERY_MS = 60_000;

/** argon2id with the library's defaults (19 MiB, 2 passes, 1 lane: OWASP's first recommendation). */
export async function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: 2 /* Argon2id */ });
}

/** Compared against when the email is unknown, so that a wrong email costs the time a wrong password does. */
let dummyHash: Promise<string> | undefined;

async function passwordMatches(passwordHash: string | undefined, password: string): Promise<boolean> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  const against = passwordHash ?? (await dummyHash);
  try {
    const ok = await verify(against, password);
    return ok && passwordHash !== undefined;
  } catch {
    return false;
  }
}

/** A generated password: 20 characters of base64url (120 random bits). */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface ConsoleSessionState {
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
  user: { id: string; email: string; name: string };
  roles: RoleRow[];
}

/** GET /v1/console/session's body. */
export function sessionView(state: ConsoleSessionState) {
  return {
    object: 'console_session' as const,
    user: state.user,
    csrf_token: state.csrfToken,
    expires_at: state.expiresAt.toISOString(),
    idle_timeout_seconds: SESSION_IDLE_MS / 1000,
    access: accessOf(state.roles),
  };
}

const invalidCredentials = () => new DomainError('INVALID_CREDENTIALS', 'The email or password is not correct');

/**
 * POST /v1/console/session: checks the password (argon2id; an unknown email is checked against a
 * dummy hash, and a disabled user is refused the same way, so the answer tells nothing) and opens a
 * session. Returns the cookie's token (only its sha256 is stored) and the session.
 */
export async function signIn(db: Db, email: string, password: string, now: Date): Promise<{ token: string; state: ConsoleSessionState }> {
  const user = await repo.findCredentials(db, normaliseEmail(email));
  const matches = await passwordMatches(user?.password_hash, password);
  if (!user || !matches || user.disabled) throw invalidCredentials();
  const token = randomBytes(32).toString('base64url');
  const sessionId = sessionIdOf(token);
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_MAX_MS);
  await db.transaction(async (tx) => {
    await repo.deleteEndedSessionsOf(tx, user.id, now, SESSION_IDLE_MS);
    await repo.insertSession(tx, { id: sessionId, userId: user.id, csrfToken, expiresAt }, now);
  });
  const state = await authenticate(db, token, now);
  if (!state) throw invalidCredentials();
  return { token, state };
}

/** The session of a cookie's token, or undefined when it is unknown, ended or its user disabled. */
export async function authenticate(db: Queryable, token: string, now: Date): Promise<ConsoleSessionState | undefined> {
  const sessionId = sessionIdOf(token);
  const row = await repo.findSession(db, sessionId);
  if (!row || row.disabled) return undefined;
  const t = now.getTime();
  if (row.expires_at.getTime() <= t || row.last_seen_at.getTime() + SESSION_IDLE_MS <= t) {
    await repo.deleteSession(db, sessionId);
    return undefined;
  }
  if (t - row.last_seen_at.getTime() >= TOUCH_EVERY_MS) await repo.touchSession(db, sessionId, now);
  return { sessionId, csrfToken: row.csrf_token, expiresAt: row.expires_at, user: { id: row.user_id, email: row.email, name: row.name }, roles: row.roles };
}

/** The timed jobs' part: sessions that ended are deleted (a request on one deletes it too). */
export async function purgeEndedSessions(db: Queryable, now: Date): Promise<number> {
  return repo.deleteEndedSessions(db, now, SESSION_IDLE_MS);
}

/** Whether a request's X-CSRF-Token is the session's (compared in constant time). */
export function csrfMatches(state: ConsoleSessionState, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(state.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function signOut(db: Queryable, state: ConsoleSessionState): Promise<void> {
  await repo.deleteSession(db, state.sessionId);
}

/** POST /v1/console/password: the current password first; ends the user's other sessions. */
export async function changePassword(db: Db, state: ConsoleSessionState, current: string, next: string, now: Date): Promise<void> {
  const stored = await repo.passwordHashOf(db, state.user.id);
  if (!(await passwordMatches(stored, current))) throw new DomainError('CURRENT_PASSWORD_INCORRECT', 'The current password is not correct; nothing changed');
  const passwordHash = await hashPassword(next);
  await db.transaction(async (tx) => {
    await repo.setPasswordHash(tx, state.user.id, passwordHash, now);
    await repo.deleteSessionsOf(tx, state.user.id, state.sessionId);
  });
}

// ── users ───────────────────────────────────────────────────────────────────────────────────────

/**
 * Who may manage whom. The manager's scope is the programs where their roles allow users.manage
 * (null: every program). A manager limited to programs sees the users with a role in one of them,
 * and only those roles; changes roles only in them; and renames, disables or resets the password
 * only of users whose roles all lie in them.
 */
export type ManagerScope = readonly string[] | null;

function notFound(id: string) {
  return new DomainError('CONSOLE_USER_NOT_FOUND', `No console user ${id}`, { user_id: id });
}

function visibleTo(user: ConsoleUserRow, scope: ManagerScope): ConsoleUserRow | undefined {
  if (scope === null) return user;
  const roles = user.roles.filter((r) => r.program_id !== null && scope.includes(r.program_id));
  return roles.length > 0 ? { ...user, roles } : undefined;
}

function entirelyWithin(user: ConsoleUserRow, scope: ManagerScope): boolean {
  return scope === null || user.roles.every((r) => r.program_id !== null && scope.includes(r.program_id));
}

/** Checks the roles a manager gives: no duplicates, programs that exist and lie within the manager's scope. */
async function checkRoles(db: Queryable, scope: ManagerScope, roles: readonly RoleRow[]): Promise<void> {
  const seen = new Set<string>();
  for (const [i, r] of roles.entries()) {
    const key = r.program_id ?? '';
    if (seen.has(key))
      throw new DomainError('VALIDATION_FAILED', `/roles/${i} gives a second role in the same program`, {}, [
        { path: `/roles/${i}/program_id`, location: 'body', message: 'has a role already', rule: 'duplicate' },
      ]);
    seen.add(key);
    if (r.program_id === null && scope !== null) {
      throw new DomainError('FORBIDDEN', 'A role for every program can only be given by an owner of every program', { required_access: 'deployment' });
    }
  }
  const ids = roles.map((r) => r.program_id).filter((p): p is string => p !== null);
  if (ids.length === 0) return;
  const existing = await existingPrograms(db, ids);
  const index = roles.findIndex((r) => r.program_id !== null && (!existing.has(r.program_id) || (scope !== null && !scope.includes(r.program_id))));
  if (index >= 0) {
    const id = roles[index]!.program_id!;
    throw new DomainError('PROGRAM_NOT_FOUND', `No program ${id}`, { program_id: id }, [
      { path: `/roles/${index}/program_id`, location: 'body', message: 'is not a known program', rule: 'unknown_reference' },
    ]);
  }
}

async function keepAnOwner(tx: Queryable): Promise<void> {
  if ((await repo.countDeploymentOwners(tx)) === 0) {
    throw new DomainError('LAST_OWNER', 'This would leave no enabled owner of every program; give another user that role first');
  }
}

export async function listUsers(db: Queryable, scope: ManagerScope) {
  const rows = await repo.listUsers(db, scope);
  return rows.map((u) => visibleTo(u, scope)).filter((u): u is ConsoleUserRow => u !== undefined);
}

/**
 * A write whose answer holds a password once: the stored answer (for a replay with the same
 * Idempotency-Key) leaves `secretField` out, so no password is ever kept in clear.
 */
async function idempotentWithSecret<T extends object>(
  db: Db,
  ctx: IdempotencyContext | undefined,
  now: Date,
  secretField: string,
  work: (tx: Queryable) => Promise<{ status: number; body: T }>,
): Promise<WriteResult<T>> {
  const attempt = () =>
    db.transaction(async (tx): Promise<WriteResult<T>> => {
      if (ctx) {
        const stored = await storedResult<T>(tx, ctx);
        if (stored) return stored;
      }
      const result = await work(tx);
      if (ctx) {
        const { [secretField]: _secret, ...kept } = result.body as Record<string, unknown>;
        await tx.query('SELECT jf_idem_store($1::text::jsonb, $2::text::jsonb)', [
          JSON.stringify({ ...idempotencyParams(ctx), now: now.toISOString() }),
          JSON.stringify({ status: result.status, body: kept }),
        ]);
      }
      return { ...result, replayed: false };
    });
  try {
    return await retryingIdempotencyRace(attempt);
  } catch (err) {
    const replay = await replayAfterConflict<T>(db, ctx, err);
    if (replay) return replay;
    throw err;
  }
}

export interface ConsoleUserInput {
  email: string;
  name: string;
  roles: RoleRow[];
  password?: string;
}

/** POST /v1/console/users. Without a password one is generated and answered once (initial_password). */
export async function createUser(db: Db, scope: ManagerScope, input: ConsoleUserInput, now: Date, ctx?: IdempotencyContext) {
  await checkRoles(db, scope, input.roles);
  const password = input.password ?? generatePassword();
  const passwordHash = await hashPassword(password);
  return idempotentWithSecret(db, ctx, now, 'initial_password', async (tx) => {
    const id = newId('usr');
    const email = normaliseEmail(input.email);
    if (!(await repo.insertUser(tx, { id, email, name: input.name, passwordHash }, now))) {
      throw new DomainError('CONSOLE_USER_EXISTS', `A console user with the email ${email} already exists`, { email });
    }
    await repo.replaceRoles(tx, id, null, input.roles);
    const user = visibleTo((await repo.getUser(tx, id))!, scope)!;
    return { status: 201, body: input.password === undefined ? { ...user, initial_password: password } : { ...user } };
  });
}

/** PATCH /v1/console/users/{userId}: name, roles, disabled (disabling ends the user's sessions). */
export async function updateUser(
  db: Db,
  scope: ManagerScope,
  id: string,
  input: { name?: string; roles?: RoleRow[]; disabled?: boolean },
  now: Date,
  ctx?: IdempotencyContext,
) {
  if (input.roles) await checkRoles(db, scope, input.roles);
  return idempotentWithSecret(db, ctx, now, '', async (tx) => {
    const user = await repo.getUser(tx, id, true);
    if (!user || !visibleTo(user, scope)) throw notFound(id);
    if ((input.name !== undefined || input.disabled !== undefined) && !entirelyWithin(user, scope)) {
      throw new DomainError('FORBIDDEN', 'This user has roles outside your programs: only an owner of every program may rename or disable them', {
        required_access: 'deployment',
      });
    }
    if (input.roles) await repo.replaceRoles(tx, id, scope, input.roles);
    if (input.name !== undefined || input.disabled !== undefined) await repo.updateUser(tx, id, input, now);
    if (input.disabled) await repo.deleteSessionsOf(tx, id);
    await keepAnOwner(tx);
    const after = visibleTo((await repo.getUser(tx, id))!, scope);
    return { status: 200, body: after ?? { ...user, roles: [] } };
  });
}

/** POST /v1/console/users/{userId}/password-reset: a new generated password, answered once; the user's sessions end. */
export async function resetPassword(db: Db, scope: ManagerScope, id: string, now: Date, ctx?: IdempotencyContext) {
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  return idempotentWithSecret(db, ctx, now, 'password', async (tx) => {
    const user = await repo.getUser(tx, id, true);
    if (!user || !visibleTo(user, scope)) throw notFound(id);
    if (!entirelyWithin(user, scope)) {
      throw new DomainError('FORBIDDEN', 'This user has roles outside your programs: only an owner of every program may reset their password', {
        required_access: 'deployment',
      });
    }
    await repo.setPasswordHash(tx, id, passwordHash, now);
    await repo.deleteSessionsOf(tx, id);
    const after = visibleTo((await repo.getUser(tx, id))!, scope)!;
    return { status: 200, body: { ...after, password } };
  });
}

export const BOOTSTRAP_OWNER_EMAIL = 'owner@jifen.local';
export const BOOTSTRAP_OWNER_NAME = '所有者 Owner';

/**
 * On start, with no console user at all: owner@jifen.local, owner of every program, with the given
 * password (JIFEN_BOOTSTRAP_OWNER_PASSWORD) or a generated one, returned for printing once.
 */
export async function ensureBootstrapOwner(db: Db, given: string | undefined, now: Date): Promise<{ created: boolean; email: string; password?: string }> {
  if ((await repo.countUsers(db)) > 0) return { created: false, email: BOOTSTRAP_OWNER_EMAIL };
  const password = given ?? generatePassword();
  const passwordHash = await hashPassword(password);
  const created = await db.transaction(async (tx) => {
    if ((await repo.countUsers(tx)) > 0) return false;
    const id = newId('usr');
    if (!(await repo.insertUser(tx, { id, email: BOOTSTRAP_OWNER_EMAIL, name: BOOTSTRAP_OWNER_NAME, passwordHash }, now))) return false;
    await repo.replaceRoles(tx, id, null, [{ program_id: null, role: 'owner' }]);
    return true;
  });
  return created ? { created, email: BOOTSTRAP_OWNER_EMAIL, password: given ? undefined : password } : { created, email: BOOTSTRAP_OWNER_EMAIL };
}

/** `jifen console-user`: a user with one role, or, when the email exists, that role added (or changed); a new password either way. */
export async function provisionUser(db: Db, input: { email: string; name?: string; role: Role; programId: string | null }, now: Date) {
  await checkRoles(db, null, [{ program_id: input.programId, role: input.role }]);
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  const email = normaliseEmail(input.email);
  return db.transaction(async (tx) => {
    let user = await repo.findCredentials(tx, email);
    if (!user) {
      await repo.insertUser(tx, { id: newId('usr'), email, name: input.name ?? email, passwordHash }, now);
      user = (await repo.findCredentials(tx, email))!;
    } else {
      await repo.setPasswordHash(tx, user.id, passwordHash, now);
      await repo.deleteSessionsOf(tx, user.id);
    }
    // a role for every program replaces all of the user's roles; a program's role replaces the one in that program
    const programs = input.programId === null ? null : [input.programId];
    await repo.replaceRoles(tx, user.id, programs, [{ program_id: input.programId, role: input.role }]);
    return { id: user.id, email, password };
  });
}
