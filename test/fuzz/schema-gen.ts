/**
 * Valid values from a JSON Schema (the subset the OpenAPI document uses: type, enum, const, anyOf,
 * oneOf, object, array, integer, number, string with pattern and format), drawn with fast-check from
 * one seeded source so that every case can be replayed. Strings whose pattern names an id prefix
 * (`^mbr_…`) are usually real ids of the world, so that valid requests reach the handlers.
 */
import fc from 'fast-check';

// The schemas come from the OpenAPI document; `any` keeps the walk readable.
export type Schema = any;

/** fast-check's generator (fc.gen()): draws one value from an arbitrary. */
export type Draw = <T, A extends unknown[]>(arb: (...args: A) => fc.Arbitrary<T>, ...args: A) => T;

export interface GenContext {
  draw: Draw;
  /** Real ids by prefix (`mbr`, `prg`, …). */
  ids: Record<string, string[]>;
  /** Values to prefer for a property name (event types, currencies, time zones). */
  hints: Record<string, unknown[]>;
  /** The instant the world lives at, for date-times near it. */
  now: Date;
  /** How often an optional property of this name is sent (default 0.4). */
  include?: Record<string, number>;
}

export function pick<T>(ctx: GenContext, values: readonly T[]): T {
  if (values.length === 0) throw new Error('pick from nothing');
  return values[int(ctx, 0, values.length - 1)]!;
}

export function chance(ctx: GenContext, p: number): boolean {
  return ctx.draw(fc.integer, { min: 0, max: 9999 }) < p * 10_000;
}

export function int(ctx: GenContext, min: number, max: number): number {
  return ctx.draw(fc.integer, { min, max });
}

const patterns = new Map<string, fc.Arbitrary<string>>();

/** A string matching a pattern (fc.gen caches arbitraries by their arguments, and tells RegExps apart badly: draw through a closure). */
export function matching(ctx: GenContext, pattern: string): string {
  let arb = patterns.get(pattern);
  if (!arb) {
    arb = fc.stringMatching(new RegExp(pattern));
    patterns.set(pattern, arb);
  }
  const chosen = arb;
  return ctx.draw(() => chosen);
}

const MAX_DEPTH = 6;

export function generate(schema: Schema, ctx: GenContext, name = '', depth = 0): unknown {
  if (schema === true || schema === undefined || (typeof schema === 'object' && Object.keys(schema).filter((k) => k !== 'description').length === 0)) {
    return freeValue(ctx, depth);
  }
  if (schema.const !== undefined) return schema.const;
  const objectHints = name ? ctx.hints[name]?.filter((v) => v !== null && typeof v === 'object') : undefined;
  if (objectHints && objectHints.length > 0 && chance(ctx, 0.7)) return structuredClone(pick(ctx, objectHints));
  if (Array.isArray(schema.enum)) return pick(ctx, schema.enum);
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) {
    const nonNull = branches.filter((b: Schema) => b.type !== 'null');
    const choice = nonNull.length > 0 && chance(ctx, 0.85) ? pick(ctx, nonNull) : pick(ctx, branches);
    return generate({ ...choice, description: undefined }, ctx, name, depth);
  }
  if (Array.isArray(schema.allOf)) return generate(Object.assign({}, ...schema.allOf), ctx, name, depth);
  let type = schema.type;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t: string) => t !== 'null');
    type = nonNull.length > 0 && chance(ctx, 0.85) ? pick(ctx, nonNull) : pick(ctx, type);
  }
  if (type === undefined) type = schema.properties ? 'object' : schema.items ? 'array' : undefined;
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return chance(ctx, 0.5);
    case 'integer':
      return integer(schema, ctx, name);
    case 'number':
      return number(schema, ctx);
    case 'string':
      return string(schema, ctx, name);
    case 'array':
      return array(schema, ctx, name, depth);
    case 'object':
      return object(schema, ctx, depth);
    default:
      return freeValue(ctx, depth);
  }
}

/** Anything JSON (free-form metadata, event data). */
function freeValue(ctx: GenContext, depth: number): unknown {
  const kind = int(ctx, 0, depth > 2 ? 3 : 5);
  switch (kind) {
    case 0:
      return ctx.draw(fc.string, { maxLength: 12 });
    case 1:
      return int(ctx, -1000, 100000);
    case 2:
      return chance(ctx, 0.5);
    case 3:
      return null;
    case 4:
      return Array.from({ length: int(ctx, 0, 3) }, () => freeValue(ctx, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = int(ctx, 0, 3); i > 0; i--) out[matching(ctx, '^[a-z_]{1,12}$')] = freeValue(ctx, depth + 1);
      return out;
    }
  }
}

function bounds(schema: Schema, integerOnly: boolean): { min: number; max: number } {
  let min = schema.minimum ?? -1e12;
  let max = schema.maximum ?? 1e12;
  if (typeof schema.exclusiveMinimum === 'number') min = integerOnly ? Math.floor(schema.exclusiveMinimum) + 1 : schema.exclusiveMinimum;
  if (typeof schema.exclusiveMaximum === 'number') max = integerOnly ? Math.ceil(schema.exclusiveMaximum) - 1 : schema.exclusiveMaximum;
  return { min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) };
}

function integer(schema: Schema, ctx: GenContext, name: string): number {
  const { min, max } = bounds(schema, true);
  const hinted = ctx.hints[name]?.filter((v) => typeof v === 'number' && v >= min && v <= max);
  if (hinted && hinted.length > 0 && chance(ctx, 0.5)) return hinted[int(ctx, 0, hinted.length - 1)] as number;
  // small values most of the time (they fit balances), the bounds sometimes, anything in between
  const lo = Math.max(min, -(2 ** 52));
  const hi = Math.min(max, 2 ** 52);
  const nat = ctx.draw(fc.maxSafeNat);
  const r = int(ctx, 0, 9);
  let v: number;
  if (r === 0) v = min;
  else if (r === 1) v = max;
  else if (r < 7) {
    const base = Math.min(hi, Math.max(lo, 0));
    v = base + (nat % (Math.min(hi - base, 50) + 1));
  } else v = lo + (nat % (hi - lo + 1));
  if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0) v = Math.max(min, Math.floor(v / schema.multipleOf) * schema.multipleOf);
  if (schema.not && typeof schema.not.const === 'number' && v === schema.not.const) v = v + 1 <= max ? v + 1 : v - 1;
  return v;
}

function number(schema: Schema, ctx: GenContext): number {
  const { min, max } = bounds(schema, false);
  const v = ctx.draw(fc.double, { min: Math.max(min, -1e6), max: Math.min(max, 1e6), noNaN: true, noDefaultInfinity: true });
  return Object.is(v, -0) ? 0 : v;
}

function isoDateTime(ctx: GenContext): string {
  const offsetDays = int(ctx, -400, 3650);
  const d = new Date(ctx.now.getTime() + offsetDays * 86_400_000 + int(ctx, 0, 86_399_999));
  const iso = d.toISOString();
  const form = int(ctx, 0, 3);
  if (form === 0) return iso.replace(/\.\d{3}Z$/, 'Z');
  if (form === 1) return iso.replace('Z', '+00:00');
  if (form === 2) {
    // the same instant written in China time
    const local = new Date(d.getTime() + 8 * 3_600_000).toISOString().replace('Z', '+08:00');
    return local;
  }
  return iso;
}

function string(schema: Schema, ctx: GenContext, name: string): string {
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength ?? 40;
  const fits = (s: string) => s.length >= minLength && s.length <= maxLength && (!schema.pattern || new RegExp(schema.pattern, 'u').test(s));
  const hinted = ctx.hints[name]?.filter((v): v is string => typeof v === 'string' && fits(v));
  if (hinted && hinted.length > 0 && chance(ctx, 0.75)) return pick(ctx, hinted);
  if (schema.format === 'date-time') return isoDateTime(ctx);
  if (schema.format === 'date') return `${int(ctx, 1950, 2010)}-${String(int(ctx, 1, 12)).padStart(2, '0')}-${String(int(ctx, 1, 28)).padStart(2, '0')}`;
  if (schema.format === 'email') return `${matching(ctx, '^[a-z]{1,10}$')}@example.com`;
  if (typeof schema.pattern === 'string') {
    const prefix = /^\^([a-z]{3})_/.exec(schema.pattern)?.[1];
    const real = prefix ? ctx.ids[prefix] : undefined;
    if (real && real.length > 0 && chance(ctx, 0.85)) return pick(ctx, real);
    for (let i = 0; i < 20; i++) {
      const s = matching(ctx, schema.pattern);
      if (fits(s)) return s;
    }
    return matching(ctx, schema.pattern).slice(0, maxLength);
  }
  const len = int(ctx, minLength, Math.min(maxLength, minLength + 24));
  const unit = pick(ctx, ['grapheme-ascii', 'grapheme', 'grapheme-ascii'] as const);
  let s = ctx.draw(fc.string, { unit, minLength: len, maxLength: len });
  // JSON Schema counts code points; keep within both counts
  while ([...s].length > maxLength || s.length > maxLength * 2) s = s.slice(0, -1);
  while ([...s].length < minLength) s += 'x';
  return s;
}

function array(schema: Schema, ctx: GenContext, name: string, depth: number): unknown[] {
  const minItems = schema.minItems ?? 0;
  const maxItems = Math.min(schema.maxItems ?? 4, minItems + (depth > MAX_DEPTH ? 0 : 3));
  const n = int(ctx, minItems, Math.max(minItems, maxItems));
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < n && tries < n * 5 + 5; tries++) {
    const v = generate(schema.items ?? {}, ctx, name, depth + 1);
    const key = JSON.stringify(v);
    if (schema.uniqueItems && seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

function object(schema: Schema, ctx: GenContext, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props: Record<string, Schema> = schema.properties ?? {};
  const required = new Set<string>(schema.required ?? []);
  const maxProperties = schema.maxProperties ?? Infinity;
  const minProperties = schema.minProperties ?? 0;
  for (const [k, s] of Object.entries(props)) {
    if (Object.keys(out).length >= maxProperties && !required.has(k)) continue;
    if (required.has(k) || (depth < MAX_DEPTH && chance(ctx, ctx.include?.[k] ?? 0.4))) out[k] = generate(s, ctx, k, depth + 1);
  }
  const optional = Object.keys(props).filter((k) => !(k in out));
  while (Object.keys(out).length < minProperties && optional.length > 0) {
    const k = optional.splice(int(ctx, 0, optional.length - 1), 1)[0]!;
    out[k] = generate(props[k], ctx, k, depth + 1);
  }
  const extra = schema.additionalProperties;
  if (extra !== undefined && extra !== false && Object.keys(props).length === 0) {
    for (let i = int(ctx, 0, Math.min(3, maxProperties)); i > 0 && Object.keys(out).length < maxProperties; i--) {
      out[matching(ctx, '^[a-z][a-z0-9_]{0,15}$')] = generate(extra === true ? {} : extra, ctx, '', depth + 1);
    }
  }
  return out;
}
