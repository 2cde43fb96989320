/**
 * Console sessions in tests: make a console user with roles, sign in, and call the API with the
 * session cookie (and the CSRF token on writes).
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { Role } from '../../src/modules/console-users/index.ts';
import { createUser, ensureBootstrapOwner } from '../../src/modules/console-users/index.ts';
import type { TestApp } from './app.ts';
import type { TestDb } from './db.ts';
import { unique } from './factories.ts';

export const OWNER_PASSWORD = 'owner-password-for-tests';

export interface ConsoleSession {
  cookie: string;
  csrf: string;
  userId: string;
  /** app.inject with the session cookie; writes carry X-CSRF-Token unless csrf is given (null: none). */
  call(
    method: string,
    url: string,
    options?: { body?: unknown; csrf?: string | null; idem?: string | true; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
}

export async function signInRaw(t: TestApp, email: string, password: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/v1/console/session',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ email, password }),
  });
}

export function sessionFrom(t: TestApp, res: LightMyRequestResponse): ConsoleSession {
  assert.equal(res.statusCode, 200, res.body);
  const setCookie = String(res.headers['set-cookie']);
  const cookie = setCookie.split(';')[0]!;
  const body = res.json();
  return {
    cookie,
    csrf: body.csrf_token,
    userId: body.user.id,
    call(method, url, options = {}) {
      const headers: Record<string, string> = { cookie, ...options.headers };
      const csrf = options.csrf === undefined ? body.csrf_token : options.csrf;
      if (method !== 'GET' && csrf !== null) headers['x-csrf-token'] = csrf;
      if (options.idem) headers['idempotency-key'] = options.idem === true ? unique('idem') : options.idem;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      return t.app.inject({ method: method as 'GET', url, headers, payload: options.body === undefined ? undefined : JSON.stringify(options.body) });
    },
  };
}

export async function signIn(t: TestApp, email: string, password: string): Promise<ConsoleSession> {
  return sessionFrom(t, await signInRaw(t, email, password));
}

/** The bootstrap owner (owner of every program), signed in. */
export async function signInOwner(t: TestApp, testDb: TestDb): Promise<ConsoleSession> {
  await ensureBootstrapOwner(testDb.db, OWNER_PASSWORD, t.clock.now());
  return signIn(t, 'owner@jifen.local', OWNER_PASSWORD);
}

/** A user with these roles (made directly, as the owner would), signed in. */
export async function signInAs(
  t: TestApp,
  testDb: TestDb,
  roles: { program_id: string | null; role: Role }[],
): Promise<ConsoleSession & { email: string; password: string }> {
  const email = `${unique('user')}@example.com`.toLowerCase();
  const password = 'a-long-enough-password';
  await createUser(testDb.db, null, { email, name: 'Test user', roles, password }, t.clock.now());
  return { ...(await signIn(t, email, password)), email, password };
}
