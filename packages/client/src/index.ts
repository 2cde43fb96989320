// @jifen/client: a typed client for the Jifen API. The types (schema.ts) are generated from the
// server's OpenAPI document by `npm run client:generate`; openapi-fetch does the requests. Runs in
// Node 24 and in browsers (fetch and crypto.randomUUID are all it needs).
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.ts';

export type { components, operations, paths };

/** The client: `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, typed by path. */
export type JifenClient = Client<paths>;

export type JifenClientOptions = Omit<ClientOptions, 'baseUrl' | 'headers'> & {
  /** Where the API is, e.g. `https://points.example.com` (no trailing `/v1`). */
  baseUrl: string;
  /** Headers sent with every request (after Authorization, so they can replace it). */
  headers?: Record<string, string>;
} & ({ apiKey: string; memberToken?: never } | { memberToken: string; apiKey?: never } | { apiKey?: never; memberToken?: never });

/**
 * A client that sends `Authorization: Bearer <key>`: an API key (`jf_…`) for a merchant's backend, or a
 * member token (from `POST /v1/programs/{programId}/member-tokens`) for the member's own `/v1/me`.
 */
export function createJifenClient(options: JifenClientOptions): JifenClient {
  const { apiKey, memberToken, headers, ...rest } = options;
  const secret = apiKey ?? memberToken;
  const auth: Record<string, string> = secret === undefined ? {} : { Authorization: `Bearer ${secret}` };
  return createClient<paths>({ ...rest, headers: { ...auth, ...headers } });
}

/**
 * The `Idempotency-Key` header for a write, for `params.header`: a new random key, or yours (an order
 * id, say). Keep the key to retry: a replay with the same key and payload returns the first result.
 */
export function idempotencyKey(key: string = crypto.randomUUID()): { 'idempotency-key': string } {
  return { 'idempotency-key': key };
}
