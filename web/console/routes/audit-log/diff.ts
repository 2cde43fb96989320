// A field-level diff of two JSON values: both flattened to paths (a.b.c; arrays as a whole), each
// path with its value before and after and whether it changed. Pure, for the change drawer.

export interface FieldDiff {
  path: string;
  before: unknown;
  after: unknown;
  /** only in after, only in before, different, or the same */
  kind: 'added' | 'removed' | 'changed' | 'same';
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Paths to leaves; arrays and empty objects are leaves (compared as JSON). Depth-limited. */
export function flatten(value: unknown, prefix = '', depth = 0, out = new Map<string, unknown>()): Map<string, unknown> {
  if (isObject(value) && Object.keys(value).length > 0 && depth < 6) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, depth + 1, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function diffJson(before: unknown, after: unknown): FieldDiff[] {
  const b = flatten(before);
  const a = flatten(after);
  const paths = [...new Set([...b.keys(), ...a.keys()])].sort();
  return paths.map((path) => {
    const inB = b.has(path);
    const inA = a.has(path);
    const kind = !inB ? 'added' : !inA ? 'removed' : same(b.get(path), a.get(path)) ? 'same' : 'changed';
    return { path, before: b.get(path), after: a.get(path), kind };
  });
}

/** A value as one line of text: strings as they are, the rest as JSON. */
export function show(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
