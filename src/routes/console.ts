import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { scopeOf } from '../modules/api-keys/index.ts';
import * as consoleUsers from '../modules/console-users/index.ts';
import {
  ConsoleSessionView,
  ConsoleUser,
  ConsoleUserCreate,
  ConsoleUserCreated,
  ConsoleUserUpdate,
  PasswordChange,
  PasswordResetResult,
  SignInBody,
} from '../modules/console-users/index.ts';
import { clearSessionCookie, setSessionCookie } from '../plugins/console-auth.ts';
import { DomainError } from '../shared/errors.ts';
import { type App, emptyBodyIsObject, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { IdParam, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Console'];
const session = [{ consoleSession: [] }];
const UserParams = IdParam('userId', 'usr');

/** Failed sign-ins allowed per email and per client IP in a window, before 429 RATE_LIMITED. */
export const SIGN_IN_LIMITS = { perEmail: 10, perIp: 50, windowMs: 15 * 60_000 };

/**
 * Failed sign-in attempts, counted in this process (fixed windows, in memory: each instance counts
 * on its own, and a restart forgets). A successful sign-in clears its email's count. Bounded: past
 * 100,000 keys the oldest are forgotten.
 */
export class SignInLimiter {
  readonly #windows = new Map<string, { count: number; until: number }>();

  /** Seconds to wait when one of the keys is over its limit, else undefined. */
  blocked(keys: [string, number][], now: number): number | undefined {
    let wait: number | undefined;
    for (const [key, max] of keys) {
      const w = this.#windows.get(key);
      if (w && w.until > now && w.count >= max) wait = Math.max(wait ?? 0, Math.ceil((w.until - now) / 1000));
    }
    return wait;
  }

  fail(keys: string[], now: number, windowMs: number): void {
    for (const key of keys) {
      const w = this.#windows.get(key);
      if (w && w.until > now) w.count += 1;
      else {
        this.#windows.delete(key);
        if (this.#windows.size >= 100_000) this.#windows.delete(this.#windows.keys().next().value!);
        this.#windows.set(key, { count: 1, until: now + windowMs });
      }
    }
  }

  clear(key: string): void {
    this.#windows.delete(key);
  }
}

function sessionOf(request: FastifyRequest): consoleUsers.ConsoleSessionState {
  // consoleOnly routes run only with a session (plugins/auth.ts)
  return request.consoleSession!;
}

/** The web console's sign-in, session, password and users (with their roles per program). */
export async function consoleRoutes(app: App, { db, clock }: AppDeps, limiter = new SignInLimiter()) {
  app.post(
    '/v1/console/session',
    {
      schema: {
        tags,
        summary: 'Sign in to the console',
        operationId: 'signIn',
        description:
          'Checks the email and password and sets the session cookie (jifen_session: HttpOnly, SameSite=Strict). A wrong email and a wrong ' +
          'password get the same 401 INVALID_CREDENTIALS. After 10 failed attempts for an email (or 50 from an IP address) in 15 minutes, ' +
          '429 RATE_LIMITED with Retry-After. The body must be application/json.',
        security: [],
        body: SignInBody,
        response: { 200: ConsoleSessionView, ...problems(429) },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const email = consoleUsers.normaliseEmail(request.body.email);
      const emailKey = `email:${email}`;
      const ipKey = `ip:${request.ip}`;
      const wait = limiter.blocked(
        [
          [emailKey, SIGN_IN_LIMITS.perEmail],
          [ipKey, SIGN_IN_LIMITS.perIp],
        ],
        now.getTime(),
      );
      if (wait !== undefined) {
        reply.header('retry-after', String(wait));
        throw new DomainError('RATE_LIMITED', `Too many failed sign-ins; retry in ${wait} s`, { retry_after_seconds: wait });
      }
      try {
        const { token, state } = await consoleUsers.signIn(db, email, request.body.password, now);
        limiter.clear(emailKey);
        setSessionCookie(request, reply, token);
        reply.header('cache-control', 'no-store');
        return consoleUsers.sessionView(state);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'INVALID_CREDENTIALS') limiter.fail([emailKey, ipKey], now.getTime(), SIGN_IN_LIMITS.windowMs);
        throw err;
      }
    },
  );

  app.get(
    '/v1/console/session',
    {
      config: { consoleOnly: true },
      schema: {
        tags,
        summary: 'The signed-in console user',
        operationId: 'getSession',
        description: 'The user, the CSRF token to send as X-CSRF-Token on writes, and the roles with what each allows. 401 when not signed in.',
        security: session,
        response: { 200: ConsoleSessionView, ...problems() },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return consoleUsers.sessionView(sessionOf(request));
    },
  );

  app.delete(
    '/v1/console/session',
    {
      config: { consoleOnly: true },
      schema: {
        tags,
        summary: 'Sign out',
        operationId: 'signOut',
        description: 'Ends this session and clears the cookie.',
        security: session,
        response: { 204: Type.Null(), ...problems() },
      },
    },
    async (request, reply) => {
      await consoleUsers.signOut(db, sessionOf(request));
      clearSessionCookie(request, reply);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/console/password',
    {
      config: { consoleOnly: true },
      schema: {
        tags,
        summary: 'Change your password',
        operationId: 'changePassword',
        description: "The current password, then the new one (10 to 256 characters). Ends the user's other sessions; this one stays signed in.",
        security: session,
        body: PasswordChange,
        response: { 204: Type.Null(), ...problems() },
      },
    },
    async (request, reply) => {
      await consoleUsers.changePassword(db, sessionOf(request), request.body.current_password, request.body.new_password, clock.now());
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/console/users',
    {
      config: { consoleOnly: true },
      schema: {
        tags,
        summary: 'List console users',
        operationId: 'listConsoleUsers',
        description: 'An owner of every program sees every user; an owner of some programs sees the users with a role in them, and only those roles.',
        security: session,
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(ConsoleUser) }), ...problems() },
      },
    },
    async (request) => ({ object: 'list' as const, data: await consoleUsers.listUsers(db, scopeOf(request)) }),
  );

  app.post(
    '/v1/console/users',
    {
      config: { consoleOnly: true },
      schema: {
        tags,
        summary: 'Create a console user',
        operationId: 'createConsoleUser',
        description:
          'With roles per program (or program_id null: every program, which only an owner of every program may give). Without a password one is ' +
          'generated and returned once as initial_password.',
        security: session,
        headers: IdempotencyHeaders,
        body: ConsoleUserCreate,
        response: { 201: ConsoleUserCreated, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      const result = await consoleUsers.createUser(db, scopeOf(request), request.body, clock.now(), idempotencyOf(request, 'createConsoleUser'));
      reply.header('cache-control', 'no-store');
      return sendResult(reply, result);
    },
  );

  app.patch(
    '/v1/console/users/:userId',
    {
      config: { consoleOnly: true },
      schema: {
        tags,
        summary: 'Update a console user',
        operationId: 'updateConsoleUser',
        description:
          "Name, roles (replacing the user's roles; an owner of some programs replaces only those in their programs) and disabled (which ends " +
          'their sessions). The deployment always keeps an enabled owner of every program (409 LAST_OWNER).',
        security: session,
        params: UserParams,
        headers: IdempotencyHeaders,
        body: ConsoleUserUpdate,
        response: { 200: ConsoleUser, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      const result = await consoleUsers.updateUser(
        db,
        scopeOf(request),
        request.params.userId,
        request.body,
        clock.now(),
        idempotencyOf(request, 'updateConsoleUser'),
      );
      return sendResult(reply, result);
    },
  );

  app.post(
    '/v1/console/users/:userId/password-reset',
    {
      config: { consoleOnly: true },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: "Reset a console user's password",
        operationId: 'resetConsolePassword',
        description: 'Generates a new password, returned once (password), and ends the user’s sessions.',
        security: session,
        params: UserParams,
        headers: IdempotencyHeaders,
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: PasswordResetResult, ...problems(404) },
      },
    },
    async (request, reply) => {
      const result = await consoleUsers.resetPassword(db, scopeOf(request), request.params.userId, clock.now(), idempotencyOf(request, 'resetConsolePassword'));
      reply.header('cache-control', 'no-store');
      return sendResult(reply, result);
    },
  );
}
