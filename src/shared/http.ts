import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { Type } from 'typebox';
import { type IdempotencyContext, requestHash, type WriteResult } from './idempotency.ts';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export type Scope = 'admin' | 'integration' | 'read';

export interface ApiKeyPrincipal {
  id: string;
  name: string;
  scopes: Scope[];
  /** The programs the key may see and change; null = the whole deployment. */
  programIds: string[] | null;
}

/** A person signed in to the console with the session cookie (plugins/console-auth.ts). */
export interface ConsoleUserPrincipal {
  id: string;
  email: string;
  name: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Only a console session (the cookie) may call this route, never an API key: sign-out, the
     * user's own password, console users. Without a permission in OPERATION_PERMISSIONS any
     * signed-in user may.
     */
    consoleOnly?: boolean;
    /** The scope a key needs for this route; routes without one are public (health, docs). */
    scope?: Scope;
    /** Only a deployment-wide key (programIds null) may call this route: others get 403 FORBIDDEN. */
    deploymentWide?: boolean;
  }
  interface FastifyRequest {
    /** The caller: an API key, or a console user as a key limited to the programs their roles allow this operation in. */
    apiKey?: ApiKeyPrincipal;
    consoleUser?: ConsoleUserPrincipal;
  }
}

export const IdempotencyHeaders = Type.Object(
  {
    'idempotency-key': Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: 'Makes the write safe to retry: a replay returns the first result; the same key with another payload is 409 IDEMPOTENCY_KEY_REUSED.',
      }),
    ),
  },
  { additionalProperties: true },
);

/** The Idempotency-Key header of writes that cannot be made without one (points moved, held). */
export const RequiredIdempotencyHeaders = Type.Object(
  {
    'idempotency-key': Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Required. A replay returns the first result; the same key with another payload is 409 IDEMPOTENCY_KEY_REUSED.',
    }),
  },
  { additionalProperties: true },
);

/**
 * The idempotency context of a write request, if it carries an Idempotency-Key. Keys are scoped to
 * the API key that sent them, like Stripe's are to an account.
 */
export function idempotencyOf(request: FastifyRequest, operation: string): IdempotencyContext | undefined {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') return undefined;
  return { scope: request.apiKey?.id ?? 'anonymous', key, hash: requestHash(operation, { params: request.params, body: request.body }) };
}

/** Sends a write's result, marking replays. */
export function sendResult(reply: FastifyReply, result: WriteResult): FastifyReply {
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(result.status).send(result.body);
}

/** Who did it, for entries and audit: the console user or the API key, and what the caller says more. */
export function actorOf(request: FastifyRequest, given?: string): string {
  const key = request.consoleUser ? `console_user:${request.consoleUser.id}` : request.apiKey ? `api_key:${request.apiKey.id}` : 'system';
  return given ? `${given} (${key})` : key;
}

/** The credential of `Authorization: Bearer <credential>`, or undefined (API keys and member tokens alike). */
export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
}

/** For POSTs whose body is optional (capture, void, freeze, …): no body at all means {}. */
export async function emptyBodyIsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}
