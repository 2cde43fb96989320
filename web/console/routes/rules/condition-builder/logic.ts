// The condition builder's model and its JSONLogic, both ways. Pure (no React): the rule editor
// uses it, and test/web-condition-builder.test.ts runs it under node.
//
// A tree is a group (all = and, any = or) of rows and nested groups; a row is field + operator +
// value, the field a variable path of the engine ({event, member, program, now}: event.data.amount,
// member.tier, member.tags…). What the builder writes, it reads back the same. It reads any
// JSONLogic made of the same shapes (a comparison with the variable on either side, `var` with a
// default, a bare comparison at the top); anything else is refused with the reason, and the editor
// keeps it as raw JSONLogic.

export const OPERATORS = ['==', '!=', '>', '>=', '<', '<=', 'between', 'in', 'not_in', 'contains', 'truthy', 'falsy'] as const;
/** Operators that take no value: truthy is `!!` (true, a non-empty text, a non-zero number), falsy is `!` (false, empty, 0, missing). */
export const VALUELESS: ReadonlySet<Operator> = new Set<Operator>(['truthy', 'falsy']);
export type Operator = (typeof OPERATORS)[number];

export type Scalar = string | number | boolean | null;

export interface ConditionRow {
  kind: 'row';
  field: string;
  operator: Operator;
  /** A scalar; a list for in / not_in; [low, high] for between (inclusive); null for truthy / falsy. */
  value: Scalar | Scalar[];
}

export interface ConditionGroup {
  kind: 'group';
  combinator: 'all' | 'any';
  children: ConditionNode[];
}

export type ConditionNode = ConditionRow | ConditionGroup;

export function emptyGroup(combinator: 'all' | 'any' = 'all'): ConditionGroup {
  return { kind: 'group', combinator, children: [] };
}

/** Why a JSONLogic expression cannot be shown in the builder: `code` for i18n, `path` a JSON pointer into it. */
export interface Unsupported {
  code: 'unsupported_operator' | 'unsupported_shape' | 'not_a_variable' | 'bad_value';
  path: string;
  operator?: string;
}

export type ParseResult = { ok: true; tree: ConditionGroup } | { ok: false; error: Unsupported };

const COMPARISONS = new Set(['==', '!=', '>', '>=', '<', '<=']);
const FLIPPED: Record<string, Operator> = { '==': '==', '!=': '!=', '>': '<', '>=': '<=', '<': '>', '<=': '>=' };

/**
 * JSONLogic of a tree: `undefined` when it has no rows (the rule has no condition). Empty nested
 * groups are left out. A top-level group of one row is that row's comparison alone.
 */
export function toJsonLogic(tree: ConditionGroup): unknown {
  const logic = groupLogic(tree);
  if (logic === undefined) return undefined;
  const kept = tree.children.filter((c) => c.kind === 'row' || groupLogic(c) !== undefined);
  const only = kept.length === 1 ? kept[0] : undefined;
  if (only?.kind === 'row') return rowLogic(only);
  return logic;
}

function groupLogic(group: ConditionGroup): unknown {
  const parts = group.children.map((c) => (c.kind === 'row' ? rowLogic(c) : groupLogic(c))).filter((p) => p !== undefined);
  if (parts.length === 0) return undefined;
  return { [group.combinator === 'all' ? 'and' : 'or']: parts };
}

function rowLogic(row: ConditionRow): unknown {
  const v = { var: row.field };
  switch (row.operator) {
    case 'between': {
      const [low, high] = Array.isArray(row.value) ? row.value : [row.value, row.value];
      return { '<=': [low ?? null, v, high ?? null] };
    }
    case 'in':
      return { in: [v, asList(row.value)] };
    case 'not_in':
      return { '!': { in: [v, asList(row.value)] } };
    case 'contains':
      return { in: [Array.isArray(row.value) ? (row.value[0] ?? null) : row.value, v] };
    case 'truthy':
      return { '!!': v };
    case 'falsy':
      return { '!': v };
    default:
      return { [row.operator]: [v, Array.isArray(row.value) ? (row.value[0] ?? null) : row.value] };
  }
}

function asList(value: Scalar | Scalar[]): Scalar[] {
  return Array.isArray(value) ? value : value === null || value === '' ? [] : [value];
}

/**
 * The builder's tree of a JSONLogic expression, or why it cannot be one. `undefined` (no
 * condition) and `true` are the empty tree.
 */
export function fromJsonLogic(logic: unknown): ParseResult {
  if (logic === undefined || logic === null || logic === true) return { ok: true, tree: emptyGroup() };
  try {
    const node = parseNode(logic, '');
    return { ok: true, tree: node.kind === 'group' ? node : { kind: 'group', combinator: 'all', children: [node] } };
  } catch (err) {
    if (err instanceof UnsupportedError) return { ok: false, error: err.detail };
    throw err;
  }
}

class UnsupportedError extends Error {
  readonly detail: Unsupported;
  constructor(detail: Unsupported) {
    super(detail.code);
    this.detail = detail;
  }
}

function fail(code: Unsupported['code'], path: string, operator?: string): never {
  throw new UnsupportedError(operator === undefined ? { code, path } : { code, path, operator });
}

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

function parseNode(logic: unknown, path: string): ConditionNode {
  if (logic === null || typeof logic !== 'object' || Array.isArray(logic)) fail('unsupported_shape', path);
  const keys = Object.keys(logic);
  if (keys.length !== 1) fail('unsupported_shape', path);
  const op = keys[0]!;
  const args = (logic as Record<string, unknown>)[op];
  const at = pointer(path, op);
  if (op === 'and' || op === 'or') {
    if (!Array.isArray(args)) fail('unsupported_shape', at, op);
    return { kind: 'group', combinator: op === 'and' ? 'all' : 'any', children: args.map((a, i) => parseNode(a, pointer(at, i))) };
  }
  if (COMPARISONS.has(op)) {
    if (!Array.isArray(args)) fail('unsupported_shape', at, op);
    if (args.length === 3 && op === '<=') {
      const field = variable(args[1]);
      if (field === undefined) fail('not_a_variable', pointer(at, 1), op);
      return { kind: 'row', field, operator: 'between', value: [scalar(args[0], pointer(at, 0)), scalar(args[2], pointer(at, 2))] };
    }
    if (args.length !== 2) fail('unsupported_shape', at, op);
    const left = variable(args[0]);
    if (left !== undefined) return { kind: 'row', field: left, operator: op as Operator, value: scalar(args[1], pointer(at, 1)) };
    const right = variable(args[1]);
    if (right !== undefined) return { kind: 'row', field: right, operator: FLIPPED[op]!, value: scalar(args[0], pointer(at, 0)) };
    fail('not_a_variable', at, op);
  }
  if (op === 'in') return parseIn(args, at, false);
  if (op === '!' || op === '!!') {
    const inner = Array.isArray(args) && args.length === 1 ? args[0] : args;
    const field = variable(inner);
    if (field !== undefined) return { kind: 'row', field, operator: op === '!' ? 'falsy' : 'truthy', value: null };
  }
  if (op === '!') {
    const inner = Array.isArray(args) && args.length === 1 ? args[0] : args;
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length === 1 && 'in' in inner) {
      return parseIn((inner as { in: unknown }).in, pointer(Array.isArray(args) ? pointer(at, 0) : at, 'in'), true);
    }
    fail('unsupported_operator', at, op);
  }
  fail('unsupported_operator', at, op);
}

function parseIn(args: unknown, at: string, negated: boolean): ConditionRow {
  if (!Array.isArray(args) || args.length !== 2) fail('unsupported_shape', at, 'in');
  const field = variable(args[0]);
  if (field !== undefined && Array.isArray(args[1])) {
    const list = args[1].map((v, i) => scalar(v, pointer(pointer(at, 1), i)));
    return { kind: 'row', field, operator: negated ? 'not_in' : 'in', value: list };
  }
  const container = variable(args[1]);
  if (!negated && container !== undefined) return { kind: 'row', field: container, operator: 'contains', value: scalar(args[0], pointer(at, 0)) };
  fail(field === undefined && container === undefined ? 'not_a_variable' : 'unsupported_shape', at, negated ? '!' : 'in');
}

/** The path of `{"var": "a.b"}` (or `{"var": ["a.b"]}`), else undefined. A default value is not kept, so it is not read. */
function variable(expr: unknown): string | undefined {
  if (expr === null || typeof expr !== 'object' || Array.isArray(expr)) return undefined;
  const keys = Object.keys(expr);
  if (keys.length !== 1 || keys[0] !== 'var') return undefined;
  const v = (expr as { var: unknown }).var;
  if (typeof v === 'string' && v !== '') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' && v[0] !== '') return v[0];
  return undefined;
}

function scalar(value: unknown, path: string): Scalar {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return fail('bad_value', path);
}

/** The kind of value a field holds, to read what is typed into a row's value input. */
export type FieldType = 'number' | 'string' | 'boolean' | 'array' | 'unknown';

/**
 * What is typed for a value, as the field's type wants it: numbers for number fields, true/false
 * for booleans, text otherwise (an unknown field takes a number when the text is one).
 */
export function parseValue(text: string, type: FieldType): Scalar {
  const trimmed = text.trim();
  if (type === 'number' || type === 'unknown') {
    if (trimmed !== '' && /^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
    return type === 'number' && trimmed === '' ? null : text;
  }
  if (type === 'boolean') return trimmed === 'true' ? true : trimmed === 'false' ? false : text;
  return text;
}

/** The operators that make sense for a field's type. */
export function operatorsFor(type: FieldType): readonly Operator[] {
  switch (type) {
    case 'number':
      return ['>=', '>', '<=', '<', '==', '!=', 'between', 'in', 'not_in'];
    case 'boolean':
      return ['==', '!=', 'truthy', 'falsy'];
    case 'array':
      return ['contains', 'truthy', 'falsy'];
    case 'string':
      return ['==', '!=', 'in', 'not_in', 'contains', 'truthy', 'falsy'];
    default:
      return OPERATORS;
  }
}

/** Every row of a tree has a field, and between has two ends: the builder's check before it writes. */
export function incompleteRows(tree: ConditionGroup): number {
  let n = 0;
  for (const c of tree.children) {
    if (c.kind === 'group') n += incompleteRows(c);
    else if (!c.field.trim() || (c.operator === 'between' && (!Array.isArray(c.value) || c.value.length !== 2 || c.value.some((v) => v === null || v === ''))))
      n++;
  }
  return n;
}
