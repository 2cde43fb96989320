import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ERRORS, type ErrorCode, type FieldError, fromDatabaseError } from '../shared/errors.ts';
import type { App } from '../shared/http.ts';

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Ajv errors → one entry per field, with a JSON pointer to it. */
export function fieldErrors(errors: AjvError[], location: string): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    let path = e.instancePath || '';
    let message = e.message ?? 'is not valid';
    if (e.keyword === 'additionalProperties') {
      path = `${path}/${String(e.params.additionalProperty)}`;
      message = 'is not a known field';
    } else if (e.keyword === 'required') {
      path = `${path}/${String(e.params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'not' && e.instancePath.endsWith('/points')) {
      message = 'must not be 0';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    }
    if (location === 'headers' && path.startsWith('/')) path = `/${path.slice(1).replace(/(^|-)([a-z])/g, (_m, d, c: string) => `${d}${c.toUpperCase()}`)}`;
    if (!out.some((o) => o.path === (path || '/') && o.message === message)) out.push({ path: path || '/', location, message });
  }
  return out;
}

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
        return send(request, reply, 'IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header (any unique string, e.g. a UUID) so this write is safe to retry', {}, errors);
      }
      return send(request, reply, 'VALIDATION_FAILED', first ? `${first.location} ${first.path} ${first.message}` : err.message, {}, errors);
    }
    const domain = err instanceof DomainError ? err : fromDatabaseError(err);
    if (domain) return send(request, reply, domain.code, domain.message, domain.details, domain.errors);
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(request, reply, 'INVALID_JSON', err.message);
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(request, reply, 'PAYLOAD_TOO_LARGE', err.message);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(request, reply, 'UNSUPPORTED_MEDIA_TYPE', err.message);
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

/** The path (keys and indexes, innermost last) to the first unstorable string; paths are built only for it. */
function findUnstorable(value: unknown): (string | number)[] | undefined {
  if (typeof value === 'string') return unstorable(value) ? [] : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v === null || (typeof v !== 'string' && typeof v !== 'object')) continue;
      const found = findUnstorable(v);
      if (found) return [i, ...found];
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      if (unstorable(k)) return [];
      const v = (value as Record<string, unknown>)[k];
      if (v === null || (typeof v !== 'string' && typeof v !== 'object')) continue;
      const found = findUnstorable(v);
      if (found) return [k, ...found];
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
    for (const [location, part] of [['body', request.body], ['querystring', request.query], ['params', request.params]] as const) {
      const path = unstorableText(part);
      if (path) {
        throw new DomainError('VALIDATION_FAILED', `${location} ${path} contains a NUL character or invalid Unicode`, {}, [
          { path, location, message: 'contains a NUL character or invalid Unicode' },
        ]);
      }
    }
  });
}
