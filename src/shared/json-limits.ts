import type { Ajv, SchemaValidateFunction } from 'ajv';

/**
 * Limits on how deep and how large JSON may be. Every walker of request JSON (Ajv, the text
 * checks, hashing, serialisation, the database) is either iterative or only ever reached after
 * the body passed MAX_BODY_DEPTH, so no input can exhaust the stack.
 */

/** Objects and arrays nest at most this deep in a request body (the body itself is level 1). */
export const MAX_BODY_DEPTH = 64;

/** Limits of one free-form JSON field, declared on its schema as `x-json-limits`. */
export interface JsonLimits {
  /** Levels of objects and arrays, the field itself being level 1. */
  maxDepth: number;
  /** Size of the field as JSON text (UTF-8 bytes). */
  maxBytes?: number;
}

export const JSON_LIMITS_KEYWORD = 'x-json-limits';

const pointerPart = (k: string | number) => `/${String(k).replaceAll('~', '~0').replaceAll('/', '~1')}`;

/**
 * The JSON pointer of the first object or array nested deeper than `max` in a JSON text, or
 * undefined. Reads the text once, iteratively, without parsing it (the text may not be valid JSON:
 * the parser says so afterwards).
 */
export function findTooDeep(text: string, max = MAX_BODY_DEPTH): string | undefined {
  // per open container: 0 object / 1 array, the index of the current element, the current key's span
  const kinds: number[] = [];
  const index: number[] = [];
  const keyStart: number[] = [];
  const keyEnd: number[] = [];
  let depth = 0;
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // the closing quote: the next one not escaped by an odd run of backslashes
      const start = i;
      let end = text.indexOf('"', i + 1);
      while (end !== -1) {
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 92 /* \ */) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      i = end === -1 ? n : end;
      if (expectKey && depth > 0) {
        keyStart[depth - 1] = start;
        keyEnd[depth - 1] = Math.min(i + 1, n);
        expectKey = false;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (depth === max) {
        let path = '';
        for (let f = 0; f < depth; f++) {
          if (kinds[f] === 1) path += pointerPart(index[f]!);
          else if (keyStart[f]! >= 0) {
            const raw = text.slice(keyStart[f], keyEnd[f]);
            let key: string;
            try {
              key = JSON.parse(raw) as string;
            } catch {
              key = raw.slice(1, -1);
            }
            path += pointerPart(key);
          }
        }
        return path || '/';
      }
      kinds[depth] = c === 123 ? 0 : 1;
      index[depth] = 0;
      keyStart[depth] = -1;
      depth++;
      expectKey = c === 123;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth > 0) depth--;
      expectKey = false;
    } else if (c === 44 /* , */ && depth > 0) {
      if (kinds[depth - 1] === 1) index[depth - 1]!++;
      else expectKey = true;
    }
  }
  return undefined;
}

/** The first way `value` breaks `limits`: a JSON pointer relative to the value, and what is wrong. */
export function jsonLimitProblem(
  value: unknown,
  limits: JsonLimits,
): { path: string; message: string; kind: 'max_bytes' | 'max_depth'; bytes?: number } | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (limits.maxBytes !== undefined) {
    // only reached for parsed bodies, which nest at most MAX_BODY_DEPTH: stringify cannot overflow
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
    if (bytes > limits.maxBytes) return { path: '', message: `is ${bytes} bytes as JSON, more than the ${limits.maxBytes} allowed`, kind: 'max_bytes', bytes };
  }
  // iterative walk; parents and keys are kept so that a path is built for the culprit only
  const values: unknown[] = [value];
  const depths: number[] = [1];
  const parents: number[] = [-1];
  const keys: (string | number)[] = [''];
  const todo: number[] = [0];
  while (todo.length > 0) {
    const id = todo.pop()!;
    const v = values[id]!;
    const d = depths[id]!;
    if (d > limits.maxDepth) {
      const parts: (string | number)[] = [];
      for (let at = id; at > 0; at = parents[at]!) parts.push(keys[at]!);
      return { path: parts.reverse().map(pointerPart).join(''), message: `nests objects and arrays deeper than ${limits.maxDepth} levels`, kind: 'max_depth' };
    }
    const push = (child: unknown, key: string | number) => {
      if (child === null || typeof child !== 'object') return;
      todo.push(values.push(child) - 1);
      depths.push(d + 1);
      parents.push(id);
      keys.push(key);
    };
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) push(v[i], i);
    else for (const k in v as Record<string, unknown>) if (Object.hasOwn(v as object, k)) push((v as Record<string, unknown>)[k], k);
  }
  return undefined;
}

/** Teaches an Ajv instance `x-json-limits`: errors name the field (or the too-deep part of it). */
export function addJsonLimitsKeyword(ajv: Ajv): void {
  const validate: SchemaValidateFunction = function checkJsonLimits(limits: JsonLimits, data: unknown, _parent, cxt) {
    const problem = jsonLimitProblem(data, limits);
    if (!problem) return true;
    validate.errors = [
      {
        keyword: JSON_LIMITS_KEYWORD,
        instancePath: `${cxt?.instancePath ?? ''}${problem.path}`,
        message: problem.message,
        params: { ...limits, kind: problem.kind, ...(problem.bytes === undefined ? {} : { bytes: problem.bytes }) },
      },
    ];
    return false;
  };
  ajv.addKeyword({ keyword: JSON_LIMITS_KEYWORD, schemaType: 'object', errors: true, validate });
}
