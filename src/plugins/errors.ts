import { randomBytes } from 'node:crypto';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ERRORS, type ErrorCode, type FieldError, fromDatabaseError } from '../shared/errors.ts';
import type { App } from '../shared/http.ts';
import { type AjvError, fieldErrors } from '../shared/json-schema.ts';

/** The RFC 9457 body for an error (also used inside batch results). */
export function problemBody(code: ErrorCode, detail: string, instance: string, requestId: string, extra: Record<string, unknown> = {}, errors?: FieldError[]) {
  const [status, title] = ERRORS[code];
  const body: Record<string, unknown> = {
    type: `urn:jifen:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail,
    code,
    instance,
    request_id: requestId,
  };
  if (errors) body.errors = errors;
  // extension members carry specifics (available, requested, …) without overriding the standard ones
  for (const [k, v] of Object.entries(extra)) if (!(k in body)) body[k] = v;
  return body;
}

export function problemOf(err: DomainError, instance: string, requestId: string) {
  return problemBody(err.code, err.message, instance, requestId, err.details, err.errors);
}

function send(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, detail: string, extra: Record<string, unknown> = {}, errors?: FieldError[]) {
  const body = problemBody(code, detail, request.url.split('?')[0]!, String(request.id), extra, errors);
  // Bypass response-schema serialisation: problem documents have their own shape.
  return reply.code(ERRORS[code][0]).type('application/problem+json').serializer(JSON.stringify).send(body);
}

/** One place maps every failure to RFC 9457 problem+json. Expected cases are never a 500. */
export function registerErrorHandling(app: App) {
  app.setErrorHandler((err: FastifyError & { validation?: AjvError[]; validationContext?: string }, request, reply) => {
    if (err.validation) {
      const errors = fieldErrors(err.validation, err.validationContext ?? 'body');
      const first = errors[0];
      if (err.validationContext === 'headers' && errors.every((e) => e.path === '/Idempotency-Key' && e.message === 'is required')) {
        return send(
          request,
          reply,
          'IDEMPOTENCY_KEY_REQUIRED',
          'Send an Idempotency-Key header (any unique string, e.g. a UUID) so this write is safe to retry',
          {},
          errors,
        );
      }
      return send(request, reply, 'VALIDATION_FAILED', first ? `${first.location} ${first.path} ${first.message}` : err.message, {}, errors);
    }
    const domain = err instanceof DomainError ? err : fromDatabaseError(err);
    if (domain) {
      // 503 (database busy, conflict, unavailable) and 429 say when to come back
      const retryAfter = domain.details.retry_after_seconds;
      if (typeof retryAfter === 'number' && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfter));
      return send(request, reply, domain.code, domain.message, domain.details, domain.errors);
    }
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(request, reply, 'INVALID_JSON', err.message);
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(request, reply, 'PAYLOAD_TOO_LARGE', err.message);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(request, reply, 'UNSUPPORTED_MEDIA_TYPE', err.message);
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return send(request, reply, 'BAD_REQUEST', err.message);
    }
    if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
      return send(request, reply, 'INVALID_JSON', err.message);
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return send(request, reply, 'VALIDATION_FAILED', err.message);
    }
    request.log.error({ err }, 'unhandled error');
    return send(request, reply, 'INTERNAL', 'Something went wrong on our side. The request id helps us find it.');
  });

  app.setNotFoundHandler((request, reply) => send(request, reply, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`));
}

const unstorable = (s: string) => s.includes('\u0000') || !s.isWellFormed();

/** The JSON pointer of the first string (key or value) PostgreSQL cannot store: NUL, or invalid UTF-16. */
export function unstorableText(value: unknown): string | undefined {
  const found = findUnstorable(value);
  if (!found) return undefined;
  // a bad key is reported at its object: the path must not carry the bad text itself
  return found.map((k) => `/${String(k).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('') || '/';
}

/**
 * The path (keys and indexes, outermost first) to the first unstorable string; paths are built only
 * for it. Iterative: however deep the value, the stack cannot overflow.
 */
function findUnstorable(value: unknown): (string | number)[] | undefined {
  const values: unknown[] = [value];
  const parents: number[] = [-1];
  const keys: (string | number)[] = [''];
  const todo: number[] = [0];
  const pathTo = (id: number) => {
    const parts: (string | number)[] = [];
    for (let at = id; at > 0; at = parents[at]!) parts.push(keys[at]!);
    return parts.reverse();
  };
  const push = (child: unknown, key: string | number, parent: number) => {
    if (child === null || (typeof child !== 'string' && typeof child !== 'object')) return;
    todo.push(values.push(child) - 1);
    parents.push(parent);
    keys.push(key);
  };
  // depth first, in document order: children are pushed last first
  while (todo.length > 0) {
    const id = todo.pop()!;
    const v = values[id];
    if (typeof v === 'string') {
      if (unstorable(v)) return pathTo(id);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) push(v[i], i, id);
    } else if (v !== null && typeof v === 'object') {
      const own = Object.keys(v);
      // a bad key is reported at its object: the path must not carry the bad text itself
      for (const k of own) if (unstorable(k)) return pathTo(id);
      for (let i = own.length - 1; i >= 0; i--) push((v as Record<string, unknown>)[own[i]!], own[i]!, id);
    }
  }
  return undefined;
}

/**
 * JSON allows "\u0000" and lone surrogates; PostgreSQL text does not. Refuse them up front, at the
 * field, instead of letting the database fail.
 */
export function registerTextChecks(app: App) {
  app.addHook('preValidation', async (request) => {
    // a route without a query string schema ignores the query string: nothing of it is stored
    const query = request.routeOptions.schema?.querystring ? request.query : undefined;
    for (const [location, part] of [
      ['body', request.body],
      ['querystring', query],
      ['params', request.params],
    ] as const) {
      const path = unstorableText(part);
      if (path) {
        throw new DomainError('VALIDATION_FAILED', `${location} ${path} contains a NUL character or invalid Unicode`, {}, [
          { path, location, message: 'contains a NUL character or invalid Unicode', rule: 'text_encoding' },
        ]);
      }
    }
  });
}

/**
 * What the router refuses before any route runs (bad percent-encoding, a path parameter over
 * maxParamLength): Fastify's `frameworkErrors`. Hooks do not run for these, so the request id
 * header is set here.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header('x-request-id', String(request.id));
  const path = request.url.split('?')[0]!;
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return send(request, reply, 'INVALID_URL', 'The URL path is not valid percent-encoded UTF-8');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return send(
        request,
        reply,
        'URI_TOO_LONG',
        `A path parameter of ${path.length > 200 ? `${path.slice(0, 200)}…` : path} is longer than ${MAX_PARAM_LENGTH} characters`,
      );
  }
  request.log.error({ err }, 'framework error');
  return send(request, reply, 'INTERNAL', 'Something went wrong on our side. The request id helps us find it.');
}

/**
 * HTTP/1.1 requires a Host header. Node refuses a request without one with a bare 400 (no body) unless
 * told not to (http.requireHostHeader: false, in app.ts): then it is refused here, as problem+json.
 */
export function registerHostCheck(app: App) {
  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.httpVersion === '1.1' && !request.headers.host) {
      reply.header('connection', 'close');
      throw new DomainError('BAD_REQUEST', 'An HTTP/1.1 request needs a Host header', {}, [
        { path: '/Host', location: 'headers', message: 'is required', rule: 'required' },
      ]);
    }
  });
}

/** Longest path parameter the router takes (UTF-16 units, after percent-decoding). */
export const MAX_PARAM_LENGTH = 1024;

/**
 * What Node's HTTP parser refuses before Fastify sees a request (Fastify's `clientErrorHandler`):
 * headers or request line over the limit, a malformed request, a request that never finished.
 * There is no request, so the answer is written on the socket, then the connection is closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, detail]: [ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['HEADERS_TOO_LARGE', `The request line and headers are larger than the server accepts (${maxHeaderSize} bytes)`]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['REQUEST_TIMEOUT', 'The request did not arrive in time']
        : err.code === 'HPE_INVALID_URL'
          ? ['INVALID_URL', 'The request target is not a valid URL']
          : ['BAD_REQUEST', `The request is not valid HTTP/1.1${err.code?.startsWith('HPE_') ? ` (${err.code})` : ''}`];
  const requestId = `req_${randomBytes(8).toString('hex')}`;
  const body = JSON.stringify(problemBody(code, detail, '/', requestId));
  const status = ERRORS[code][0];
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

const DECIMAL = /^-?[0-9]{1,15}$/;
const numericFields = new WeakMap<object, string[]>();

/** The query string fields a route declares as integers or numbers. */
function numericFieldsOf(schema: unknown): string[] {
  if (!schema || typeof schema !== 'object') return [];
  let names = numericFields.get(schema);
  if (!names) {
    const props = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
    names = Object.entries(props)
      .filter(([, p]) => p.type === 'integer' || p.type === 'number')
      .map(([name]) => name);
    numericFields.set(schema, names);
  }
  return names;
}

/**
 * Query strings are text and Ajv converts them, but its conversion reads 0x10, 1e1, 0b1 and
 * " 5" as numbers. A number in a query string must be plain decimal digits.
 */
export function registerQueryChecks(app: App) {
  app.addHook('preValidation', async (request) => {
    const names = numericFieldsOf(request.routeOptions.schema?.querystring);
    if (names.length === 0) return;
    const query = request.query as Record<string, unknown>;
    const errors: FieldError[] = [];
    for (const name of names) {
      const value = query[name];
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v === 'string' && !DECIMAL.test(v)) {
          errors.push({ path: `/${name}`, location: 'querystring', message: 'must be a whole number in decimal digits (at most 15)', rule: 'decimal_digits' });
          break;
        }
      }
    }
    if (errors.length > 0) throw new DomainError('VALIDATION_FAILED', `querystring ${errors[0]!.path} ${errors[0]!.message}`, {}, errors);
  });
}
