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

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a key needs for this route; routes without one are public (health, docs). */
    scope?: Scope;
    /** Only a deployment-wide key (programIds null) may call this route: others get 403 FORBIDDEN. */
    deploymentWide?: boolean;
  }
  interface FastifyRequest {
    apiKey?: ApiKeyPrincipal;
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

/** Who did it, for entries and audit: the API key's name unless the caller says more. */
export function actorOf(request: FastifyRequest, given?: string): string {
  const key = request.apiKey ? `api_key:${request.apiKey.id}` : 'system';
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
