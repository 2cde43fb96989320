import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { FIELD_RULES, type FieldError, type FieldParams, type FieldRule } from './errors.ts';
import { dateTimeFormat } from './formats.ts';
import { addJsonLimitsKeyword, JSON_LIMITS_KEYWORD } from './json-limits.ts';

/**
 * The one JSON Schema (Ajv) setup of the API: request validation (Fastify's validator compiler,
 * app.ts) and event payloads (`data`, built-in and custom event types) are checked by validators
 * made here, with the same options, the same formats — the API's one `date-time`, an instant
 * within 1970–9999 once normalised to UTC (formats.ts) — and one mapping of their errors to the
 * API's field errors (`fieldErrors`).
 *
 * The kinds differ only where their input does:
 *   body     JSON: nothing is coerced ("10" is not a number), unknown fields are an error rather
 *            than silently dropped; schema defaults fill what was left out.
 *   text     query strings, path parameters, headers: text, so scalars coerce ("10" → 10) and a
 *            single value becomes an array where one is expected.
 *   payload  an event's `data`: as a body, but stored as the merchant sent it, so no defaults are
 *            filled in; and without `x-json-limits` (the API's own annotation, see json-limits.ts:
 *            a merchant's schema that happens to carry the name is not enforced by it).
 */
export type ValidatorKind = 'body' | 'text' | 'payload';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function createAjv(kind: ValidatorKind): Ajv {
  const ajv = new Ajv({
    coerceTypes: kind === 'text' ? 'array' : false,
    useDefaults: kind !== 'payload',
    removeAdditional: false,
    allErrors: true,
    // schemas carry OpenAPI annotations (examples, x-…) Ajv does not know
    strict: false,
  });
  addFormats(ajv);
  // after ajv-formats, replacing its date-time
  ajv.addFormat('date-time', dateTimeFormat);
  if (kind !== 'payload') addJsonLimitsKeyword(ajv);
  return ajv;
}

/** What Fastify hands the error handler (`err.validation`) and Ajv sets on a validate function. */
export type AjvError = Pick<ErrorObject, 'instancePath' | 'keyword' | 'message' | 'params'> & {
  /** Set on the errors of a `propertyNames` schema: the key that failed it. */
  propertyName?: string;
};

/**
 * Ajv errors → one entry per field, with a JSON pointer to it. `prefix` is where the validated
 * value sits in the request (an event's payload: `/events/3/data`); headers are named as sent
 * (`/Idempotency-Key`).
 */
export function fieldErrors(errors: readonly AjvError[], location: string, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    let path = e.instancePath || '';
    let message = e.message ?? 'is not valid';
    let rule: FieldRule = isFieldRule(e.keyword) ? e.keyword : 'invalid';
    let params = figures(e.params);
    // a key's own errors are told once, by the propertyNames error that follows them
    if (e.propertyName !== undefined) continue;
    if (e.keyword === 'propertyNames') {
      const inner = errors.find((x) => x.propertyName === e.params.propertyName && x.instancePath === e.instancePath);
      const limit = Number(inner?.params.limit);
      params = inner?.keyword === 'maxLength' || inner?.keyword === 'minLength' ? { limit } : {};
      [rule, message] =
        inner?.keyword === 'maxLength'
          ? ['key_too_long', `has a key longer than ${limit} characters`]
          : inner?.keyword === 'minLength'
            ? ['key_too_short', limit === 1 ? 'has an empty key' : `has a key shorter than ${limit} characters`]
            : ['key_not_allowed', 'has a key that is not allowed'];
    } else if (e.keyword === 'additionalProperties') {
      path = `${path}/${String(e.params.additionalProperty)}`;
      message = 'is not a known field';
      rule = 'unknown_field';
      params = {};
    } else if (e.keyword === 'required') {
      path = `${path}/${String(e.params.missingProperty)}`;
      message = 'is required';
      params = {};
    } else if (e.keyword === 'not' && e.instancePath.endsWith('/points')) {
      message = 'must not be 0';
      rule = 'not_zero';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
      params = { values: (e.params.allowedValues as unknown[]).join(', ') };
    } else if (e.keyword === 'const') {
      params = { value: String(e.params.allowedValue) };
    } else if (e.keyword === JSON_LIMITS_KEYWORD) {
      rule = e.params.kind === 'max_bytes' ? 'max_bytes' : 'max_depth';
      params = rule === 'max_bytes' ? { bytes: Number(e.params.bytes), limit: Number(e.params.maxBytes) } : { limit: Number(e.params.maxDepth) };
    }
    if (location === 'headers' && path.startsWith('/')) path = `/${path.slice(1).replace(/(^|-)([a-z])/g, (_m, d, c: string) => `${d}${c.toUpperCase()}`)}`;
    path = `${prefix}${path}` || '/';
    if (!out.some((o) => o.path === path && o.message === message)) out.push({ path, location, message, rule, params });
  }
  return out;
}

const isFieldRule = (keyword: string): keyword is FieldRule => Object.hasOwn(FIELD_RULES, keyword);

/** Ajv's params that are text or numbers (limit, type, pattern, format, comparison, …); nothing else. */
function figures(params: Record<string, unknown>): FieldParams {
  const out: FieldParams = {};
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) out[k] = v;
  return out;
}
