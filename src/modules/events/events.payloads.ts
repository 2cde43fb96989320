import type { ValidateFunction } from 'ajv';
import { createAjv } from '../../shared/json-schema.ts';
import { BUILT_IN_EVENT_TYPES } from './events.schemas.ts';

/**
 * Validators of event payloads (`data`): the built-in types' schemas, compiled once, and the
 * programs' custom types' schemas, compiled when first met (and when a type is declared, to
 * refuse a schema Ajv cannot compile). Made by the API's one JSON Schema setup (shared/json-schema.ts).
 */
const ajv = createAjv('payload');
const builtIn = new Map(Object.entries(BUILT_IN_EVENT_TYPES).map(([type, schema]) => [type, ajv.compile(schema)]));
const customCache = new Map<string, ValidateFunction>();

/** Compiles a custom event type's schema (cached by its text); throws when it is not a valid JSON Schema. */
export function compileEventSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let fn = customCache.get(key);
  if (!fn) {
    fn = ajv.compile(schema);
    if (customCache.size > 1000) customCache.clear();
    customCache.set(key, fn);
  }
  return fn;
}

/** The validator of a type's payload: built-in first, then the program's own type; undefined for an unknown type. */
export function payloadValidator(type: string, custom: ReadonlyMap<string, { schema: Record<string, unknown> }>): ValidateFunction | undefined {
  const known = builtIn.get(type);
  if (known) return known;
  const declared = custom.get(type);
  return declared ? compileEventSchema(declared.schema) : undefined;
}
