import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/db.ts';
import {
  authenticate,
  type ConsoleSessionState,
  csrfMatches,
  hasRoleIn,
  OPERATION_PERMISSIONS,
  programsAllowing,
  SESSION_MAX_MS,
} from '../modules/console-users/index.ts';
import type { Clock } from '../shared/clock.ts';
import { DomainError } from '../shared/errors.ts';

/**
 * The console's session: a random 256-bit token in the `jifen_session` cookie (HttpOnly,
 * SameSite=Strict, Path=/, Secure when the request came over https: request.protocol, which
 * honours X-Forwarded-Proto only with JIFEN_TRUST_PROXY=true). Only its sha256 is stored.
 *
 * A request without an Authorization header but with the cookie is the console user's
 * (plugins/auth.ts): the route's operationId names the permission it needs
 * (OPERATION_PERMISSIONS); the user's roles say in which programs they have it, and the request
 * goes on as an API key limited to those programs (null: every program), so every program check of
 * the routes applies unchanged. A write (POST, PUT, PATCH, DELETE) must carry the session's CSRF
 * token in X-CSRF-Token.
 */
export const SESSION_COOKIE = 'jifen_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session of a cookie-authenticated request. */
    consoleSession?: ConsoleSessionState;
  }
}

export interface ConsoleAuthDeps {
  db: Db;
  clock: Clock;
}

/** The session token of the request's cookie, if it has one of the right shape. */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (/^[A-Za-z0-9_-]{43}$/.test(value)) return value;
  }
  return undefined;
}

function cookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.header('set-cookie', cookie(request, token, SESSION_MAX_MS / 1000));
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', cookie(request, '', 0));
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The route's programId path parameter, if it has one. */
function programParamOf(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  return typeof params?.programId === 'string' ? params.programId : undefined;
}

/**
 * Authenticates a request by its session cookie and applies the user's roles to the route
 * (see the header). Throws UNAUTHENTICATED, CSRF_TOKEN_INVALID or FORBIDDEN.
 */
export async function authenticateConsoleUser(request: FastifyRequest, token: string | undefined, deps: ConsoleAuthDeps): Promise<void> {
  const state = token ? await authenticate(deps.db, token, deps.clock.now()) : undefined;
  if (!state) throw new DomainError('UNAUTHENTICATED', 'The console session is missing, unknown or ended; sign in again');
  if (UNSAFE.has(request.method) && !csrfMatches(state, request.headers['x-csrf-token'])) {
    throw new DomainError('CSRF_TOKEN_INVALID', 'Send the console session’s csrf_token as X-CSRF-Token on every write; nothing was changed');
  }
  const config = request.routeOptions.config;
  const operationId = (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId;
  const permission = operationId ? OPERATION_PERMISSIONS[operationId] : undefined;
  let programIds: string[] | null;
  if (permission) {
    programIds = programsAllowing(state.roles, permission);
    const denied = (detail: string, extra: Record<string, unknown> = {}) => new DomainError('FORBIDDEN', detail, { required_permission: permission, ...extra });
    if (programIds !== null && programIds.length === 0) throw denied(`This operation needs the ${permission} permission, which none of your roles gives`);
    if (config?.deploymentWide && programIds !== null) {
      throw denied(`This operation needs the ${permission} permission in a role for every program`, { required_access: 'deployment' });
    }
    const programId = programParamOf(request);
    if (programId && programIds !== null && !programIds.includes(programId) && hasRoleIn(state.roles, programId)) {
      throw denied(`This operation needs the ${permission} permission, which your role in ${programId} does not give`);
    }
  } else if (config?.consoleOnly) {
    // the user's own session and password: any signed-in user
    programIds = [];
  } else {
    // a route with a scope and no permission listed: nobody signed in to the console may call it
    throw new DomainError('FORBIDDEN', `No console role may call ${operationId ?? 'this operation'}`, { required_permission: null });
  }
  request.consoleSession = state;
  request.consoleUser = state.user;
  request.apiKey = { id: state.user.id, name: state.user.email, scopes: ['admin'], programIds };
}
