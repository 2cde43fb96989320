// The web apps call the API through @jifen/client (generated from the OpenAPI document), on the
// same origin as the pages. The console signs in with a session cookie and sends its CSRF token on
// every write; the member centre sends its member token. Errors become ApiError, carrying the API's
// problem+json (code, detail, field errors) so that every page can show the API's own message.
import { createJifenClient, type JifenClient } from '@jifen/client';

export interface FieldError {
  path: string;
  location?: string;
  message: string;
}

export interface Problem {
  status: number;
  code: string;
  title?: string;
  detail?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.name = 'ApiError';
    this.problem = problem;
  }
  get status(): number {
    return this.problem.status;
  }
  get code(): string {
    return this.problem.code;
  }
}

/** A network failure or an answer that is not problem+json, as an ApiError (code NETWORK_ERROR / HTTP_<status>). */
function toProblem(error: unknown, response: Response | undefined): Problem {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as Problem).code === 'string') {
    return { ...(error as Problem), status: (error as Problem).status ?? response?.status ?? 0 };
  }
  if (!response) return { status: 0, code: 'NETWORK_ERROR', detail: error instanceof Error ? error.message : String(error) };
  return { status: response.status, code: `HTTP_${response.status}`, detail: response.statusText };
}

/**
 * The data of an openapi-fetch result, or throws ApiError. Use it in TanStack Query's queryFn and
 * mutationFn: `queryFn: () => unwrap(api.GET('/v1/programs'))`.
 */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    throw new ApiError(toProblem(error, undefined));
  }
  if (result.error !== undefined || !result.response.ok) throw new ApiError(toProblem(result.error, result.response));
  return result.data as T;
}

let csrfToken: string | undefined;

/** The console's CSRF token, from the session (GET /v1/console/session or signing in). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The console's client: same origin, the session cookie, X-CSRF-Token on writes. */
export function createConsoleClient(): JifenClient {
  const client = createJifenClient({ baseUrl: window.location.origin, credentials: 'same-origin' });
  client.use({
    onRequest({ request }) {
      if (UNSAFE.has(request.method) && csrfToken) request.headers.set('x-csrf-token', csrfToken);
      return request;
    },
  });
  return client;
}

/** The member centre's client: `Authorization: Bearer <member token>`. */
export function createMemberClient(memberToken: string): JifenClient {
  return createJifenClient({ baseUrl: window.location.origin, memberToken });
}

/** A fresh Idempotency-Key for a write made from a form (one per submitted form, reused on retry). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
