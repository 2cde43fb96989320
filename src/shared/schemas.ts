import { STATUS_CODES } from 'node:http';
import { type Static, type TSchema, type TString, Type } from 'typebox';
import { ERRORS } from './errors.ts';
import { JSON_LIMITS_KEYWORD, type JsonLimits } from './json-limits.ts';

/** Largest number of points one operation may move. Far below 2^53, so sums stay exact in JSON. */
export const MAX_POINTS = 1_000_000_000_000;

export const Points = Type.Integer({ minimum: 1, maximum: MAX_POINTS, description: 'Whole points, 1 to 10^12.', examples: [100] });
export const SignedPoints = Type.Integer({
  minimum: -MAX_POINTS,
  maximum: MAX_POINTS,
  not: { const: 0 },
  description: 'Whole points, positive to add, negative to remove; never 0.',
  examples: [50],
});
export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp.', examples: ['2026-11-23T08:00:00.000Z'] });
export const NullableTimestamp = Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time' });
export const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
/** Free-form JSON fields: how deep they nest (the field is level 1) and how large they are as JSON. */
export const METADATA_LIMITS: JsonLimits = { maxDepth: 8, maxBytes: 16_384 };
export const EVENT_DATA_LIMITS: JsonLimits = { maxDepth: 32 };
export const EVENT_SCHEMA_LIMITS: JsonLimits = { maxDepth: 32, maxBytes: 65_536 };
export const CONDITION_LIMITS: JsonLimits = { maxDepth: 32, maxBytes: 65_536 };
/** The annotation that makes Ajv enforce `limits` on a free-form field (see json-limits.ts). */
export const jsonLimits = (limits: JsonLimits) => ({ [JSON_LIMITS_KEYWORD]: limits });

export const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
  maxProperties: 50,
  // a Record's key schema does not constrain keys in JSON Schema; propertyNames does
  propertyNames: { maxLength: 64 },
  ...jsonLimits(METADATA_LIMITS),
  description: 'Your own key/value data, stored and returned as given: up to 50 keys of up to 64 characters, nested up to 8 levels, 16,384 bytes as JSON.',
});
export const Reason = Type.String({ minLength: 1, maxLength: 500, description: 'Why, in words shown to operators and members.' });
export const Reference = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Your reference for this movement, e.g. an order id.',
  examples: ['order_10086'],
});

/** A string enum as a plain JSON Schema `enum` (clearer errors than a union of literals). */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ anyOf: [schema, { type: 'null' }] });
}

export function IdParam<K extends string>(name: K, prefix: string) {
  const props = { [name]: Type.String({ pattern: `^${prefix}_[A-Za-z0-9_]{1,64}$`, description: `An id starting with ${prefix}_` }) };
  return Type.Object(props as { [P in K]: TString });
}

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Page size, 1 to 100.' })),
  cursor: Type.Optional(Type.String({ maxLength: 500, description: 'The next_cursor of the previous page.' })),
};

export function PageOf<T extends TSchema>(item: T, name: string) {
  return Type.Object(
    {
      object: Type.Literal('list'),
      data: Type.Array(item),
      has_more: Type.Boolean(),
      next_cursor: Type.Union([Type.String(), Type.Null()]),
    },
    { title: `${name}List` },
  );
}

/** RFC 9457 problem details, the body of every error response. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'A URI naming the kind of problem: urn:jifen:problem:<code>.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine-readable code, e.g. INSUFFICIENT_POINTS.' }),
    instance: Type.String(),
    request_id: Type.String(),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({ description: 'JSON pointer to the field, e.g. /points.' }),
          location: Type.String({ description: 'body, querystring, params or headers' }),
          message: Type.String({ description: 'What is wrong, in English.' }),
          rule: Type.Optional(
            Type.String({
              description:
                'What the field breaks, stable for programs and translations: a JSON Schema keyword (required, minimum, maxLength, …) or a rule of the API (docs/api.md, "Field errors").',
            }),
          ),
          params: Type.Optional(
            Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { description: 'The rule\'s figures, e.g. {"limit": 64}.' }),
          ),
        }),
      ),
    ),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details; extra members carry specifics (e.g. available, requested).' },
);

export interface ProblemResponse {
  description: string;
  content: { 'application/problem+json': { schema: typeof Problem } };
  headers?: Record<string, unknown>;
}

const RETRY_AFTER = { 'Retry-After': { type: 'integer', minimum: 0, description: 'Seconds to wait before trying again.' } };

/** An error response as OpenAPI (and Fastify) read it: problem+json, with the codes of that status. */
export function problemResponse(status: number): ProblemResponse {
  const codes = Object.entries(ERRORS)
    .filter(([, [s]]) => s === status)
    .map(([code]) => code);
  const response: ProblemResponse = {
    description: `${STATUS_CODES[status] ?? 'Error'}${codes.length > 0 ? `: ${codes.join(', ')}` : ''}`,
    content: { 'application/problem+json': { schema: Problem } },
  };
  if (status === 429 || status === 503) response.headers = RETRY_AFTER;
  return response;
}

/** The error responses a route can produce, for its OpenAPI description. */
export function problems(...statuses: number[]): Record<number, ProblemResponse> {
  return Object.fromEntries([400, 401, 403, ...statuses].map((s) => [s, problemResponse(s)]));
}

/**
 * An onRoute hook: what the HTTP layer may answer on any /v1 operation, declared on each. The
 * request not received in time (408), a URL or path parameter too long (414), headers too large
 * (431), rate limited (429), overloaded (503); with a body, too large (413) or not JSON (415).
 */
export function declareHttpProblems(route: { url: string; method: string | string[]; schema?: { response?: unknown } }): void {
  const response = route.schema?.response as Record<string, unknown> | undefined;
  if (!route.url.startsWith('/v1/') || !response) return;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const statuses = [408, 414, 429, 431, 503];
  if (methods.some((m) => m !== 'GET' && m !== 'HEAD')) statuses.push(413, 415);
  for (const status of statuses) response[status] ??= problemResponse(status);
}
