/**
 * Hostile inputs and the mutations that put them into otherwise valid requests: wrong types, missing
 * and unknown fields, numbers JSON allows and JavaScript does not keep (-0, 2^63, 1e309), NUL, lone
 * surrogates (as JSON escapes), invalid UTF-8 bytes, deep nesting, non-object bodies, malformed JSON,
 * far-off timestamps, time zones only one side knows, and huge bodies.
 */
import { chance, type GenContext, int, pick } from './schema-gen.ts';

/** Text put into the JSON as is (numbers JSON.stringify cannot write, nested structures). */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}
const raw = (text: string) => new RawJson(text);

/** JSON text of a value that may hold RawJson parts. */
export function serialize(value: unknown): string {
  const parts: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v instanceof RawJson) {
      parts.push(v.text);
      return `\u0001RAW${parts.length - 1}\u0001`;
    }
    return v;
  });
  if (text === undefined) return '';
  return parts.length === 0 ? text : text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i: string) => parts[Number(i)]!);
}

export function nested(depth: number, kind: 'object' | 'array', leaf = '1'): RawJson {
  return raw(kind === 'object' ? '{"a":'.repeat(depth) + leaf + '}'.repeat(depth) : '['.repeat(depth) + leaf + ']'.repeat(depth));
}

const numbers: [string, unknown][] = [
  ['10^19', raw('10000000000000000000')],
  ['1e308', raw('1e308')],
  ['2^63', raw('9223372036854775808')],
  ['-0', raw('-0')],
  ['-0.0', raw('-0.0')],
  ['0', 0],
  ['-1', -1],
  ['0.5', 0.5],
  ['1.0', raw('1.0')],
  ['1e3', raw('1e3')],
  ['1e309', raw('1e309')],
  ['-1e308', raw('-1e308')],
  ['1e-400', raw('1e-400')],
  ['2^53+1', raw('9007199254740993')],
  ['2^64', raw('18446744073709551616')],
  ['-2^63-1', raw('-9223372036854775809')],
  ['10^12+1', 1_000_000_000_001],
  ['10^16', 1e16],
  ['huge literal', raw(`1${'0'.repeat(400)}`)],
];

const strings: [string, unknown][] = [
  ['embedded NUL', 'a\u0000b'],
  ['lone high surrogate', '\ud800'],
  ['long 10k', 'x'.repeat(10_000)],
  ['empty', ''],
  ['space', ' '],
  ['NaN-like', 'NaN'],
  ['Infinity-like', 'Infinity'],
  ['-0 string', '-0'],
  ['hex string', '0x10'],
  ['numeric string', '100'],
  ['NUL', '\u0000'],
  ['lone low surrogate', '\udfff'],
  ['reversed surrogates', 'x\udc00\ud800y'],
  ['emoji', '🀄积分😀'],
  ['RTL override', '\u202eabc'],
  ['zero-width', '\u200b\ufeff'],
  ['combining marks', 'e\u0301'.repeat(300)],
  ['long 100k', 'y'.repeat(100_000)],
  ['long astral', '😀'.repeat(2_000)],
  ['SQL', "'; DROP TABLE member; --"],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as it is
  ['template', '${jndi:ldap://127.0.0.1/x}{{7*7}}'],
  ['path', '../../../etc/passwd'],
  ['percent', '%00%ZZ%C0%AF'],
  ['newlines', 'a\r\nb\r\n\r\nc'],
];

const timestamps: [string, unknown][] = [
  ['year 9999 -14:00', '9999-12-31T23:59:59.999-14:00'],
  ['year 9999 -14:00 (no ms)', '9999-12-31T23:59:59-14:00'],
  ['year 9999 Z', '9999-12-31T23:59:59.999Z'],
  ['year 1 +14:00', '0001-01-01T00:00:00+14:00'],
  ['1970 +14:00', '1970-01-01T00:00:00+14:00'],
  ['1969', '1969-12-31T23:59:59Z'],
  ['Feb 30', '2026-02-30T00:00:00Z'],
  ['24:00', '2026-01-01T24:00:00Z'],
  ['leap second', '2026-06-30T23:59:60Z'],
  ['month 13', '2026-13-01T00:00:00Z'],
  ['extended year', '+275760-09-13T00:00:00Z'],
  ['date only', '2026-01-01'],
  ['no offset', '2026-01-01T00:00:00'],
  ['nanoseconds', '2026-01-01T00:00:00.123456789Z'],
  ['lower case', '2026-01-01t00:00:00z'],
  ['space separator', '2026-01-01 00:00:00Z'],
  ['offset +24:00', '2026-01-01T00:00:00+24:00'],
  ['epoch number', 1767225600000],
];

const zones: [string, unknown][] = [
  ['posix zone', 'posix/Asia/Shanghai'],
  ['right zone', 'right/UTC'],
  ['Factory', 'Factory'],
  ['localtime', 'localtime'],
  ['EST5EDT', 'EST5EDT'],
  ['POSIX rule', 'CST-8'],
  ['UTC+8', 'UTC+8'],
  ['offset zone', '+08:00'],
  ['Etc/GMT-14', 'Etc/GMT-14'],
  ['wrong case', 'asia/shanghai'],
  ['unknown zone', 'Asia/Beijing'],
  ['GMT0', 'GMT0'],
  ['link', 'PRC'],
];

const shapes: [string, unknown][] = [
  ['null', null],
  ['true', true],
  ['empty array', []],
  ['empty object', {}],
  ['array of null', [null]],
  ['empty key', { '': 1 }],
  ['__proto__ key', raw('{"__proto__":{"polluted":1}}')],
  ['constructor key', raw('{"constructor":{"prototype":{"polluted":1}}}')],
  ['deep 100', nested(100, 'object')],
  ['deep 3000', nested(3000, 'object')],
  ['deep array 5000', nested(5000, 'array')],
  ['10k array', raw(`[${Array(10_000).fill('0').join(',')}]`)],
  ['51 keys', Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))],
  ['65-char key', { ['k'.repeat(65)]: 1 }],
  ['bad key', { '\ud800': 1 }],
  ['NUL key', { 'a\u0000': 1 }],
];

export const HOSTILE_VALUES: [string, unknown][] = [...numbers, ...strings, ...timestamps, ...zones, ...shapes];

/** Hostile path segments and query values, already in URL form. */
export const HOSTILE_URL_PARTS: string[] = [
  '%C0%AF',
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%00',
  '%ED%A0%80',
  '%FF%FE',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  'a'.repeat(101),
  'b'.repeat(2_000),
  'c'.repeat(70_000),
  '%F0%9F%98%80',
  encodeURIComponent('积分'),
  "'%20OR%201=1--",
  '%0d%0aX-Injected:%201',
  '-0',
  '0x10',
  '1e308',
  'null',
  '%20',
];

export interface Mutated {
  value: unknown;
  note: string;
}

type Path = (string | number)[];

/** Every path into a JSON value (objects and arrays), root first. */
function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (prefix.length > 8) return out;
  if (Array.isArray(value))
    value.forEach((v, i) => {
      paths(v, [...prefix, i], out);
    });
  else if (value && typeof value === 'object' && !(value instanceof RawJson)) for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function getAt(root: unknown, path: Path): unknown {
  let v: any = root;
  for (const k of path) v = v?.[k];
  return v;
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent: any = getAt(root, path.slice(0, -1));
  parent[path[path.length - 1]!] = value;
  return root;
}

const pointer = (path: Path) => (path.length === 0 ? '/' : `/${path.join('/')}`);

function wrongType(v: unknown, ctx: GenContext): unknown {
  const options: unknown[] = ['1', 1, true, null, [], {}, [v], { value: v }, 1.5];
  if (typeof v === 'string') options.push(Number(v) || 7);
  if (typeof v === 'number') options.push(String(v));
  return pick(
    ctx,
    options.filter((o) => typeof o !== typeof v || Array.isArray(o) !== Array.isArray(v) || (o === null) !== (v === null)),
  );
}

/** One mutation of a valid JSON body. */
export function mutateValue(valid: unknown, ctx: GenContext): Mutated {
  const body = clone(valid);
  const all = paths(body);
  const inner = all.filter((p) => p.length > 0);
  const objects = all.filter((p) => {
    const v = getAt(body, p);
    return v && typeof v === 'object' && !Array.isArray(v);
  });
  const kind = int(ctx, 0, 5);
  if (kind === 0 && inner.length > 0) {
    const p = pick(ctx, inner);
    const v = wrongType(getAt(body, p), ctx);
    return { value: setAt(body, p, v), note: `wrong type at ${pointer(p)}: ${serialize(v)}` };
  }
  if (kind === 1 && inner.length > 0) {
    const p = pick(ctx, inner);
    const parent = getAt(body, p.slice(0, -1));
    if (Array.isArray(parent)) parent.splice(p[p.length - 1] as number, 1);
    else delete (parent as Record<string, unknown>)[p[p.length - 1] as string];
    return { value: body, note: `removed ${pointer(p)}` };
  }
  if (kind === 2 && objects.length > 0) {
    const p = pick(ctx, objects);
    const name = pick(ctx, ['zz_unknown', '', 'Points', 'points ', 'id', 'status', 'balance', 'program_id', '__proto__']);
    const target = getAt(body, p) as Record<string, unknown>;
    if (name === '__proto__')
      return {
        value: setAt(body, p, raw(serialize(target).replace(/^\{/, '{"__proto__":{"x":1},').replace(',}', '}'))),
        note: `__proto__ key at ${pointer(p)}`,
      };
    target[name] = pick(ctx, [1, 'x', null, {}]);
    return { value: body, note: `unknown field ${JSON.stringify(name)} at ${pointer(p)}` };
  }
  // a hostile value at a field, an existing one or a new key of an object; mostly one of the
  // field's own kind (a timestamp for a timestamp, a zone for a zone), so it gets past the type check
  if (inner.length > 0 && chance(ctx, 0.85)) {
    const p = pick(ctx, inner);
    const current = getAt(body, p);
    const key = String(p[p.length - 1]);
    const own =
      typeof current === 'string' && /^\d{4}-\d\d-\d\dT/.test(current)
        ? timestamps
        : /zone/.test(key)
          ? zones
          : typeof current === 'number'
            ? numbers
            : typeof current === 'string'
              ? strings
              : shapes;
    // the first few of each kind are the ones found in the wild (issue 8): more often
    const [label, v] = pick(ctx, chance(ctx, 0.7) ? (chance(ctx, 0.4) ? own.slice(0, 3) : own) : HOSTILE_VALUES);
    return { value: setAt(body, p, v), note: `${label} at ${pointer(p)}` };
  }
  const [label, v] = pick(ctx, HOSTILE_VALUES);
  if (objects.length > 0) {
    const p = pick(ctx, objects);
    (getAt(body, p) as Record<string, unknown>).metadata = v;
    return { value: body, note: `${label} as ${pointer([...p, 'metadata'])}` };
  }
  return { value: v, note: `${label} as the body` };
}

export interface RawBody {
  payload: string | Buffer;
  note: string;
}

/** Bodies that are not a mutated value: non-objects, malformed JSON, bad bytes, nesting, size. */
export function rawBody(valid: unknown, ctx: GenContext, allowHuge: boolean): RawBody {
  const text = serialize(valid);
  const inner = text.length > 2 && text.startsWith('{') ? text.slice(1, -1) : '';
  const kind = int(ctx, 0, allowHuge ? 9 : 8);
  switch (kind) {
    case 0: {
      const [label, v] = pick(ctx, [
        ['null', 'null'],
        ['123', '123'],
        ['[]', '[]'],
        ['"x"', '"x"'],
        ['true', 'true'],
        ['[body]', `[${text}]`],
        ['empty', ''],
        ['spaces', '   '],
        ['-0', '-0'],
      ] as const);
      return { payload: v, note: `non-object body ${label}` };
    }
    case 1: {
      const [label, v] = pick(ctx, [
        ['truncated', text.slice(0, Math.max(1, text.length - 1))],
        ['trailing comma', inner ? `{${inner},}` : '{,}'],
        ['single quotes', text.replaceAll('"', "'")],
        ['NaN literal', inner ? `{${inner},"x":NaN}` : '{"x":NaN}'],
        ['comment', `/* c */${text}`],
        ['BOM', `\ufeff${text}`],
        ['two documents', `${text}${text}`],
        ['duplicate keys', inner ? `{${inner},${inner}}` : '{"a":1,"a":2}'],
        ['unquoted key', '{points: 1}'],
        ['hex number', '{"points":0x10}'],
      ] as const);
      return { payload: v, note: `malformed JSON (${label})` };
    }
    case 2: {
      const bytes = pick(ctx, ['ff', 'fefe', 'c0af', 'eda080', 'f888808080', 'c3', 'e282', '80']);
      const key = /"([^"]+)":"/.exec(text)?.[1];
      const at = key ? text.indexOf(`"${key}":"`) + key.length + 4 : -1;
      const buf =
        at > 0
          ? Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes, 'hex'), Buffer.from(text.slice(at))])
          : Buffer.concat([Buffer.from(inner ? `{${inner},"reason":"` : '{"reason":"'), Buffer.from(bytes, 'hex'), Buffer.from('"}')]);
      return { payload: buf, note: `invalid UTF-8 bytes ${bytes} in ${key ? `/${key}` : '/reason'}` };
    }
    case 3:
    case 4: {
      const depth = pick(ctx, [1_000, 3_000, 5_000, 10_000, 100_000]);
      const shape = pick(ctx, ['object', 'array'] as const);
      const where = pick(ctx, ['metadata', 'data', 'body'] as const);
      const nest = nested(depth, shape).text;
      const payload = where === 'body' ? nest : inner ? `{${inner},"${where}":${nest}}` : `{"${where}":${nest}}`;
      return { payload, note: `nested ${depth} deep (${shape}s) at ${where === 'body' ? 'the body' : `/${where}`}` };
    }
    case 5: {
      const n = pick(ctx, [20_000, 60_000]);
      const keys = Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',');
      return { payload: inner ? `{${inner},"metadata":{${keys}}}` : `{"metadata":{${keys}}}`, note: `metadata with ${n} keys` };
    }
    case 6:
      return { payload: inner ? `{${inner},"metadata":{"s":"${'z'.repeat(1_048_576)}"}}` : `{"s":"${'z'.repeat(1_048_576)}"}`, note: 'body just over 1 MiB' };
    case 7:
      return {
        payload: `{${inner}${inner ? ',' : ''}"metadata":{"a":"\\ud800","b":"\\u0000","c":"\\udfff\\ud800"}}`,
        note: 'escaped lone surrogates and NUL in /metadata',
      };
    case 8:
      return { payload: `{"points":1,"points":-1,"__proto__":{"admin":true}${inner ? `,${inner}` : ''}}`, note: 'duplicate points and __proto__' };
    default:
      return { payload: `{${inner}${inner ? ',' : ''}"metadata":{"s":"${'m'.repeat(10 * 1024 * 1024)}"}}`, note: '10 MiB body' };
  }
}
