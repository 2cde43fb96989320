/**
 * What every response must be, read from the OpenAPI document: a status the operation declares, a
 * content type declared for it, a body that validates against the declared schema (2xx too), and
 * for every 4xx an RFC 9457 problem+json with a stable code from ERRORS and the matching status.
 * Never a 5xx. Plus a fingerprint of the whole database, to prove that a refused write changed
 * nothing.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Db } from '../../src/db/db.ts';
import { ERRORS } from '../../src/shared/errors.ts';
import type { Schema } from './schema-gen.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Schema;
}

export interface Operation {
  id: string;
  method: string;
  path: string;
  params: Param[];
  body?: { schema: Schema; required: boolean; types: string[] };
  /** status → content type → schema */
  responses: Record<string, Record<string, Schema | undefined>>;
  write: boolean;
  /** The operation's own security requirement, if it has one. */
  security?: Record<string, unknown>[];
}

/** The operations of an OpenAPI document. */
export function operationsOf(doc: any): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params: Param[] = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: any) => ({
        name: p.name,
        in: p.in,
        required: Boolean(p.required),
        schema: p.schema ?? {},
      }));
      const content = op.requestBody?.content as Record<string, { schema?: Schema }> | undefined;
      const body = content
        ? { schema: Object.values(content)[0]?.schema ?? {}, required: Boolean(op.requestBody.required), types: Object.keys(content) }
        : undefined;
      const responses: Operation['responses'] = {};
      for (const [status, r] of Object.entries<any>(op.responses ?? {})) {
        responses[status] = Object.fromEntries(Object.entries<any>(r.content ?? {}).map(([ct, c]) => [ct, c.schema]));
      }
      out.push({
        id: op.operationId ?? `${method} ${path}`,
        method: method.toUpperCase(),
        path,
        params,
        body,
        responses,
        write: method !== 'get',
        security: op.security,
      });
    }
  }
  return out;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

export interface Finding {
  category: string;
  message: string;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
const compiled = new Map<Schema, ValidateFunction>();
function validator(schema: Schema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

const baseType = (ct: unknown) =>
  String(ct ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();

/** Everything wrong with one response, by the document and the error contract. */
export function checkResponse(op: Operation, res: Response): Finding[] {
  const found: Finding[] = [];
  const status = res.status;
  const ct = baseType(res.headers['content-type']);
  if (status >= 500) found.push({ category: '5xx', message: `answered ${status}` });
  const declared = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
  if (!declared) found.push({ category: 'undeclared status', message: `${status} is not among ${Object.keys(op.responses).join(', ')}` });
  let json: any;
  let parsed = false;
  if (res.body.length > 0 && /json/.test(ct)) {
    try {
      json = JSON.parse(res.body);
      parsed = true;
    } catch {
      found.push({ category: 'body not JSON', message: `content-type ${ct} but the body does not parse` });
    }
  }
  if (status >= 400) {
    if (ct !== 'application/problem+json') found.push({ category: 'error not problem+json', message: `content-type ${ct || '(none)'}` });
    if (parsed && json && typeof json === 'object') {
      const code = json.code;
      if (typeof code !== 'string' || !Object.hasOwn(ERRORS, code)) found.push({ category: 'unknown error code', message: `code ${JSON.stringify(code)}` });
      else {
        const expected = ERRORS[code as keyof typeof ERRORS][0];
        if (expected !== status) found.push({ category: 'code/status mismatch', message: `${code} is ${expected}, answered ${status}` });
        if (json.status !== status) found.push({ category: 'code/status mismatch', message: `body status ${json.status}, answered ${status}` });
        if (json.type !== `urn:jifen:problem:${code.toLowerCase().replaceAll('_', '-')}`)
          found.push({ category: 'bad problem document', message: `type ${json.type}` });
      }
    } else if (!parsed) found.push({ category: 'error not problem+json', message: 'no JSON body' });
  }
  if (declared) {
    const types = Object.keys(declared);
    if (types.length > 0 && res.body.length > 0 && !types.includes(ct)) {
      found.push({ category: 'undeclared content type', message: `${status} ${ct || '(none)'} is not among ${types.join(', ')}` });
    }
    if (types.length === 0 && res.body.length > 0) found.push({ category: 'undeclared content type', message: `${status} declares no body, got ${ct}` });
    const schema = declared[ct] ?? Object.values(declared)[0];
    if (schema && parsed) {
      const v = validator(schema);
      if (!v(json)) {
        const errs = (v.errors ?? [])
          .slice(0, 3)
          .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`);
        found.push({ category: 'body does not match schema', message: `${status}: ${errs.join('; ')}` });
      }
    }
  }
  return found;
}

/** Tables left out of the fingerprint: none today (rate-limit windows would belong here). */
export const STATE_IGNORED_TABLES = new Set(['schema_migration']);

/**
 * The dashboard's rollups are fingerprinted by what they say, not by their rows: compaction (run by
 * the sweep and by dashboard reads, at any time) moves deltas into ledger_daily without changing any
 * figure. A write that adds to them still moves the sums.
 */
const ROLLUP_TABLES = new Set(['ledger_daily', 'ledger_daily_delta']);
const ROLLUP_COLUMNS = ['issued', 'redeemed', 'expired', 'reversed', 'adjusted', 'written_off', 'forfeited'];

/** A fingerprint of every table: its row count and the sum of its rows' xmin (the transaction that wrote each). */
export async function fingerprinter(db: Db): Promise<() => Promise<Record<string, string>>> {
  const tables = (
    await db.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
    )
  )
    .map((r) => r.t)
    .filter((t) => !STATE_IGNORED_TABLES.has(t));
  const rollups = tables.filter((t) => ROLLUP_TABLES.has(t));
  const rollupSql = rollups.length
    ? ` UNION ALL SELECT 'ledger rollups' AS t, concat_ws(':', ${ROLLUP_COLUMNS.map((c) => `coalesce(sum(${c}), 0)::text`).join(', ')}) AS h FROM (${rollups
        .map((t) => `SELECT ${ROLLUP_COLUMNS.join(', ')} FROM "${t}"`)
        .join(' UNION ALL ')}) r`
    : '';
  const sql = tables
    .filter((t) => !ROLLUP_TABLES.has(t))
    // the row count and the sum of the rows' xmin: any committed insert, update or delete moves one of them
    .map((t) => `SELECT '${t}' AS t, count(*)::text || ':' || coalesce(sum(xmin::text::int8), 0)::text AS h FROM "${t}"`)
    .join(' UNION ALL ')
    .concat(rollupSql);
  return async () => Object.fromEntries((await db.query<{ t: string; h: string }>(sql)).map((r) => [r.t, r.h]));
}

export function stateDiff(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]);
}
