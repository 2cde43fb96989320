/**
 * The OpenAPI fuzzer: for every operation of the app's own document, valid requests generated from
 * its schemas and mutated ones, sent with app.inject one at a time, each response checked by
 * oracle.ts, and the database fingerprinted around every refused write. Case i is drawn from
 * fast-check with the seed (seed + i), so a run is replayed with the same FUZZ_SEED and FUZZ_RUNS,
 * and one case alone with FUZZ_ONLY=i.
 */

import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { TestApp } from '../helpers/app.ts';
import type { TestDb } from '../helpers/db.ts';
import { HOSTILE_URL_PARTS, HOSTILE_VALUES, mutateValue, RawJson, rawBody, serialize } from './mutations.ts';
import { checkResponse, type Finding, fingerprinter, type Operation, operationsOf, type Response, stateDiff } from './oracle.ts';
import { chance, type GenContext, generate, int, matching, pick } from './schema-gen.ts';
import { makeWorld, mintMemberTokens, templates, type World } from './world.ts';

export interface FuzzOptions {
  seed: number;
  runs: number;
  /** Only this case (a replay). */
  only?: number;
  /** Only these operationIds. */
  ops?: string[];
  /** Per-request timeout (ms): longer is a hang. */
  timeoutMs?: number;
  /** Stop after this long (ms), whatever runs says. */
  maxMs?: number;
  /** How many 10 MiB bodies at most. */
  hugeBodies?: number;
  log?: (line: string) => void;
  /** Log every request and answer. */
  verbose?: boolean;
}

export interface FuzzRequest {
  case: number;
  op: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  note: string;
  /** The key's use by this request, and the earlier one it replays. */
  idem?: IdemUse;
  replayOf?: IdemUse;
}

/** A write sent with an Idempotency-Key, and its first 2xx answer. */
interface IdemUse {
  op: string;
  key: string;
  url: string;
  payload?: string | Buffer;
  first?: { status: number; body: string; at: number };
}

/** Idempotency keys are remembered 30 days (JIFEN_IDEMPOTENCY_RETENTION_DAYS); a replay is expected well within that. */
const REPLAY_WITHIN_MS = 29 * 86_400_000;

export interface FailureGroup {
  category: string;
  /** operationId → responses */
  ops: Record<string, number>;
  signature: string;
  count: number;
  examples: { request: FuzzRequest; response: Response; message: string }[];
}

export interface FuzzReport {
  seed: number;
  runs: number;
  requests: number;
  byStatus: Record<string, number>;
  /** operationId → [requests, 2xx] */
  byOp: Record<string, [number, number]>;
  failures: FailureGroup[];
  ms: number;
  timing?: { setupMs: number; genMs: number; requestMs: number; fingerprintMs: number; fingerprints: number };
}

const PARAM_PREFIX: Record<string, string> = {
  programId: 'prg',
  memberId: 'mbr',
  holdId: 'hld',
  entryId: 'ent',
  keyId: 'key',
  ruleId: 'rul',
  eventId: 'evt',
  rewardId: 'rwd',
  redemptionId: 'rdm',
  priceChangeId: 'rpc',
  prizeId: 'lpz',
  drawId: 'ldr',
};

/** Operations that use a thing up: they act on ids the world does not keep, while there are any. */
const USES_UP = /close|freeze|capture|void|archive|revoke|delete|rotate/i;

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=latin1',
  'application/json; charset=utf-16le',
  'application/jsonx',
  'application/vnd.api+json',
  'APPLICATION/JSON',
  'application/json; charset=utf-8',
  'application/problem+json',
  'application/octet-stream',
  ';;;',
];

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s;
}

export function describeRequest(r: FuzzRequest): string {
  const body =
    r.payload === undefined
      ? ''
      : Buffer.isBuffer(r.payload)
        ? `\n  body (hex) ${truncate(r.payload.toString('hex'), 400)}`
        : `\n  body ${truncate(r.payload, 400)}`;
  return `#${r.case} ${r.op}: ${r.note}\n  ${r.method} ${truncate(r.url, 300)}\n  headers ${truncate(JSON.stringify(r.headers), 400)}${body}`;
}

export function describeResponse(r: Response): string {
  return `  → ${r.status} ${String(r.headers['content-type'] ?? '')} ${truncate(r.body, 600)}`;
}

/** A short, stable name for a mutation (without paths and values), to group failures by. */
function kindOf(note: string): string {
  return note
    .replace(/ at \/\S*/g, '')
    .replace(/ as \/\S*/g, '')
    .replace(/: .*$/, '')
    .replace(/\d{4,}/g, 'N');
}

export async function runFuzz(t: TestApp, testDb: TestDb, options: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  await t.app.ready();
  const doc = t.app.swagger() as unknown;
  let ops = operationsOf(doc);
  if (options.ops?.length) ops = ops.filter((o) => options.ops!.includes(o.id));
  if (ops.length === 0) throw new Error('no operations to fuzz');
  // every operation in turn, in an order of the seed's
  const order = ops
    .map((o, k) => ({ o, k: Math.imul(k + 1, 2654435761) ^ options.seed }))
    .sort((a, b) => (a.k >>> 0) - (b.k >>> 0))
    .map((x) => x.o);
  const world = await makeWorld(t);
  const fingerprintOf = await fingerprinter(testDb.db);
  let fingerprintMs = 0;
  let fingerprints = 0;
  const fingerprint = async () => {
    const f0 = performance.now();
    const fp = await fingerprintOf();
    fingerprintMs += performance.now() - f0;
    fingerprints++;
    return fp;
  };
  // the fingerprint must see a write: one credit, before and after
  {
    const before = await fingerprintOf();
    const res = await t.call('POST', `/v1/members/${world.programs[0]!.active[0]}/credits`, { body: { points: 1 }, idem: true });
    if (res.statusCode !== 201) throw new Error(`fuzz world: a credit answered ${res.statusCode} ${res.body}`);
    const changed = stateDiff(before, await fingerprintOf());
    if (!changed.includes('ledger_entry')) throw new Error(`the state fingerprint did not see a credit (changed: ${changed.join(', ') || 'nothing'})`);
  }
  let requestMs = 0;
  let genMs = 0;
  const setupMs = performance.now() - t0;
  const keys = { ...t.keys, revoked: world.revokedKey };
  const report: FuzzReport = { seed: options.seed, runs: options.runs, requests: 0, byStatus: {}, byOp: {}, failures: [], ms: 0 };
  const groups = new Map<string, FailureGroup>();
  const usedIdem: IdemUse[] = [];
  let hugeLeft = options.hugeBodies ?? 2;
  let state: Record<string, string> | undefined;
  let advancedDays = 0;

  const record = (request: FuzzRequest, response: Response, f: Finding) => {
    const code = /"code":"([A-Z_]+)"/.exec(response.body)?.[1] ?? '';
    // a 5xx, a hang or a changed state is told apart by operation and input; the rest by what was answered
    const byInput = ['5xx', 'hang', 'refused write changed state'].includes(f.category);
    const signature = byInput
      ? `${f.category} | ${request.op} | ${response.status} ${code} | ${kindOf(request.note)}`
      : f.category === 'body does not match schema'
        ? `${f.category} | ${response.status} ${code} | ${f.message.replace(/^\d{3}: /, '').slice(0, 160)}`
        : `${f.category} | ${response.status} ${code}`;
    let g = groups.get(signature);
    if (!g) {
      g = { category: f.category, ops: {}, signature, count: 0, examples: [] };
      groups.set(signature, g);
    }
    g.count++;
    g.ops[request.op] = (g.ops[request.op] ?? 0) + 1;
    if (g.examples.length < 2 && !g.examples.some((e) => e.request.op === request.op)) g.examples.push({ request, response, message: f.message });
  };

  const first = options.only ?? 0;
  const last = options.only !== undefined ? options.only + 1 : options.runs;
  for (let i = first; i < last; i++) {
    if (options.maxMs && performance.now() - t0 > options.maxMs) {
      log(`time limit reached after ${i} cases`);
      break;
    }
    const g0 = performance.now();
    const [draw] = fc.sample(fc.gen(), { seed: (options.seed + i) | 0, numRuns: 1 });
    const ctx: GenContext = { draw: draw!, ids: world.ids, hints: world.hints, include: world.include, now: t.clock.now() };
    const op = order[i % order.length]!;
    // now and then time passes (pending points come, holds and lots expire); at most a year and a half in all
    if (chance(ctx, 0.015) && advancedDays < 540) {
      const ms = pick(ctx, [60_000, 3_600_000, 86_400_000, 7 * 86_400_000, 40 * 86_400_000]);
      t.clock.advance(ms);
      advancedDays += ms / 86_400_000;
      if (world.memberTokens.length > 0) world.memberTokens = await mintMemberTokens(t, world.programs);
      ctx.now = t.clock.now();
    }
    const request = buildRequest(op, i, ctx, world, keys, usedIdem, hugeLeft > 0);
    if (request.note.startsWith('10 MiB')) hugeLeft--;
    genMs += performance.now() - g0;
    if (op.write && state === undefined) state = await fingerprint();
    const r0 = performance.now();
    // now and then a write is sent twice at once with the same Idempotency-Key: one effect, one answer
    const twin = op.write && request.idem !== undefined && request.note === 'valid' && chance(ctx, 0.08);
    const [response, second] = await Promise.all([
      send(t, request, options.timeoutMs ?? 15_000),
      twin ? send(t, request, options.timeoutMs ?? 15_000) : undefined,
    ]);
    requestMs += performance.now() - r0;
    if (second) {
      report.requests++;
      report.byStatus[second.status] = (report.byStatus[second.status] ?? 0) + 1;
      const twinRequest = { ...request, note: 'the same write twice at once (second answer)' };
      for (const f of checkResponse(op, second)) record(twinRequest, second, f);
      const bothOk = ok2xxOf(response) && ok2xxOf(second);
      const inProgress = [response, second].some((r) => r.status === 409 && r.body.includes('IDEMPOTENCY_KEY_IN_PROGRESS'));
      let same = response.status === second.status;
      try {
        same &&= isDeepStrictEqual(JSON.parse(response.body), JSON.parse(second.body)) || !bothOk;
      } catch {
        same = false;
      }
      if (!same && !inProgress && (bothOk || ok2xxOf(response) !== ok2xxOf(second))) {
        record(twinRequest, second, { category: 'concurrent twins differ', message: `first answer ${response.status} ${truncate(response.body, 300)}` });
      }
      state = undefined;
    }
    report.requests++;
    report.byStatus[response.status] = (report.byStatus[response.status] ?? 0) + 1;
    const counts = (report.byOp[op.id] ??= [0, 0]);
    counts[0]++;
    if (options.verbose) log(`#${i} ${op.id} ${request.note} → ${response.status} ${truncate(response.body, 200)}`);
    if (response.status === -1) {
      record(request, response, { category: 'hang', message: `no answer within ${options.timeoutMs ?? 15_000} ms` });
      state = undefined;
      continue;
    }
    if (response.status >= 200 && response.status < 300) {
      counts[1]++;
      // only what writes made: a list of API keys would hand the fuzzer its own admin key to revoke
      if (op.write) learnIds(world, response.body);
    }
    for (const f of checkResponse(op, response)) record(request, response, f);
    // a key limited to one program never sees another program's things: a 2xx answer to it shows
    // none of their ids (outside the error objects of a batch's results)
    if (ok2xxOf(response) && world.scopedKey && request.headers.authorization === `Bearer ${world.scopedKey.secret}`) {
      let shown = '';
      try {
        shown = JSON.stringify(JSON.parse(response.body), (k, v) => (k === 'error' ? undefined : v));
      } catch {
        shown = response.body;
      }
      const foreign = [...shown.matchAll(/(?:prg|mbr|hld|ent|rul|evt)_[A-Za-z0-9_]{1,64}/g)]
        .map((m) => m[0])
        .find((id) => {
          const owner = world.owner.get(id) ?? (world.ids.prg!.includes(id) ? id : undefined);
          return owner !== undefined && owner !== world.scopedKey!.programId;
        });
      if (foreign)
        record(request, response, {
          category: 'scoped key saw another program',
          message: `the answer shows ${foreign} of ${world.owner.get(foreign) ?? foreign}`,
        });
    }
    // a replay answers what the key's first success answered
    const ok2xx = response.status >= 200 && response.status < 300;
    if (request.replayOf?.first && t.clock.now().getTime() - request.replayOf.first.at < REPLAY_WITHIN_MS) {
      const first = request.replayOf.first;
      let same = first.status === response.status;
      try {
        same &&= isDeepStrictEqual(JSON.parse(first.body), JSON.parse(response.body));
      } catch {
        same = false;
      }
      if (!same) record(request, response, { category: 'idempotent replay differs', message: `first answer ${first.status} ${truncate(first.body, 300)}` });
      else if (response.headers['idempotent-replayed'] !== 'true')
        record(request, response, { category: 'idempotent replay differs', message: 'no Idempotent-Replayed: true header' });
    }
    if (request.idem && !request.idem.first && ok2xx) request.idem.first = { status: response.status, body: response.body, at: t.clock.now().getTime() };
    if (op.write) {
      if (response.status >= 400 && response.status < 500 && state !== undefined) {
        const after = await fingerprint();
        const changed = stateDiff(state!, after);
        if (changed.length > 0) record(request, response, { category: 'refused write changed state', message: `tables changed: ${changed.join(', ')}` });
        state = after;
      } else state = undefined;
    }
  }

  // the whole ledger still adds up after everything the fuzzer did
  const audit = await t.call('GET', '/v1/audit');
  if (audit.statusCode !== 200 || audit.json().ok !== true) {
    record(
      { case: -1, op: 'auditLedger', method: 'GET', url: '/v1/audit', headers: {}, note: 'audit after the run' },
      { status: audit.statusCode, headers: audit.headers, body: audit.body },
      { category: 'audit fails after the run', message: truncate(audit.body, 600) },
    );
  }
  report.failures = [...groups.values()].sort((a, b) => a.category.localeCompare(b.category) || a.signature.localeCompare(b.signature));
  report.ms = performance.now() - t0;
  report.timing = { setupMs, genMs, requestMs, fingerprintMs, fingerprints };
  return report;
}

const ok2xxOf = (r: Response) => r.status >= 200 && r.status < 300;

/** Ids that successful writes created join the pools (new members, holds, entries, …). */
function learnIds(world: World, body: string) {
  for (const m of body.matchAll(/"id":"((prg|mbr|hld|ent|key|rul|evt)_[A-Za-z0-9_]{1,64})"/g)) {
    const pool = world.ids[m[2]!]!;
    if (!pool.includes(m[1]!) && pool.length < 60) pool.push(m[1]!);
  }
}

async function send(t: TestApp, r: FuzzRequest, timeoutMs: number): Promise<Response> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Response>((resolve) => {
    timer = setTimeout(() => resolve({ status: -1, headers: {}, body: '' }), timeoutMs);
  });
  try {
    const res = await Promise.race([
      t.app
        .inject({ method: r.method as 'GET', url: r.url, headers: r.headers, payload: r.payload })
        .then((x): Response => ({ status: x.statusCode, headers: x.headers, body: x.body }))
        .catch((err: unknown): Response => ({ status: 0, headers: {}, body: `inject threw: ${String(err)}` })),
      timeout,
    ]);
    return res;
  } finally {
    clearTimeout(timer);
  }
}

function encodeParam(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  // a lone surrogate has no UTF-8 form: send the bytes it would have (CESU-8), which are invalid UTF-8
  return s.isWellFormed() ? encodeURIComponent(s) : encodeURIComponent(s.toWellFormed()).replaceAll('%EF%BF%BD', '%ED%A0%80');
}

function buildRequest(
  op: Operation,
  i: number,
  ctx: GenContext,
  world: World,
  keys: { admin: string; integration: string; read: string; revoked: string },
  usedIdem: IdemUse[],
  allowHuge: boolean,
): FuzzRequest {
  const notes: string[] = [];
  // what this case mutates: nothing, the body value, the raw body, a path parameter, the query, the headers
  const roll = int(ctx, 0, 99);
  const mutate = roll < 38 ? 'none' : roll < 63 ? 'body' : roll < 73 ? 'raw' : roll < 83 ? 'path' : roll < 91 ? 'query' : 'headers';

  // path
  let path = op.path;
  const pathParams = op.params.filter((p) => p.in === 'path');
  const hostilePath = mutate === 'path' && pathParams.length > 0 ? pick(ctx, pathParams).name : undefined;
  for (const p of pathParams) {
    let value: string;
    const prefix = PARAM_PREFIX[p.name];
    if (p.name === hostilePath) {
      const how = int(ctx, 0, 3);
      if (how === 0) {
        value = pick(ctx, HOSTILE_URL_PARTS);
        notes.push(`hostile ${p.name} ${truncate(value, 40)}`);
      } else if (how === 1) {
        const other = pick(
          ctx,
          Object.values(PARAM_PREFIX).filter((x) => x !== prefix && world.ids[x]!.length > 0),
        );
        value = pick(ctx, world.ids[other]!);
        notes.push(`${p.name} of another kind`);
      } else if (how === 2) {
        value = encodeParam(`${prefix ?? 'zzz'}_${matching(ctx, '^[A-Za-z0-9_]{1,64}$')}`);
        notes.push(`unknown ${p.name}`);
      } else {
        value = encodeParam(pick(ctx, ['', ' ', '\u0000', '\ud800', 'x'.repeat(129), '😀', 'a/b', '?', '#', '..']));
        notes.push(`odd ${p.name}`);
      }
      if (value === '') value = encodeParam(' ');
    } else if (prefix && world.ids[prefix]!.length > 0 && chance(ctx, 0.93)) {
      const spare = USES_UP.test(op.id) ? world.ids[prefix]!.filter((id) => !world.kept.has(id)) : [];
      value = encodeParam(pick(ctx, spare.length > 0 ? spare : world.ids[prefix]!));
    } else if (p.name === 'externalId' && chance(ctx, 0.7)) {
      const ext = pick(ctx, world.externalIds);
      value = encodeParam(pick(ctx, op.path.includes('/events/') ? ext.events : ext.members));
    } else {
      value = encodeParam(generate(p.schema, ctx, p.name) || 'x');
    }
    path = path.replace(`{${p.name}}`, value);
  }

  // query
  const query: string[] = [];
  for (const p of op.params.filter((x) => x.in === 'query')) {
    if (!(p.required || chance(ctx, p.name === 'cursor' ? 0.05 : 0.35))) continue;
    const v = generate(p.schema, ctx, p.name);
    for (const one of Array.isArray(v) ? v : [v]) query.push(`${encodeURIComponent(p.name)}=${encodeParam(one)}`);
  }
  if (mutate === 'query') {
    const names = op.params.filter((x) => x.in === 'query').map((x) => x.name);
    const name = names.length > 0 && chance(ctx, 0.8) ? pick(ctx, names) : pick(ctx, ['zz', 'limit', '__proto__', '%ZZ', '']);
    const how = int(ctx, 0, 3);
    let q: string;
    if (how === 0) q = `${name}=${pick(ctx, HOSTILE_URL_PARTS)}`;
    else if (how === 1)
      q = `${name}=${pick(ctx, ['0x10', '-0', '1e2', '', '0', '-1', '101', '1.5', '9007199254740993', 'NaN', 'true', '[]', '1&limit=2', `a&${name}=b`])}`;
    else if (how === 2)
      q = `cursor=${pick(ctx, ['garbage', Buffer.from('{"id":1}').toString('base64url'), Buffer.from('[]').toString('base64url'), Buffer.from('null').toString('base64url'), Buffer.from('{"k":"\\u0000"}').toString('base64url'), '%ZZ', 'x'.repeat(5000)])}`;
    else q = `${name}[a]=1&${name}[]=2&${'q'.repeat(int(ctx, 1, 3) * 3000)}=1`;
    query.push(q);
    notes.push(`query ${truncate(q, 60)}`);
  }
  let url = query.length > 0 ? `${path}?${query.join('&')}` : path;
  let replayOf: IdemUse | undefined;

  // headers
  // operations for members take a member token, the rest an API key
  const forMembers = op.security?.some((s) => !('apiKey' in s)) ?? false;
  const headers: Record<string, string> = {
    authorization: `Bearer ${forMembers && world.memberTokens.length > 0 && chance(ctx, 0.9) ? pick(ctx, world.memberTokens) : keys.admin}`,
  };
  const idemParam = op.params.find((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
  if (idemParam && (idemParam.required || chance(ctx, 0.5))) headers['idempotency-key'] = `fz-${i}-${matching(ctx, '^[a-z0-9]{6}$')}`;

  // body
  let payload: string | Buffer | undefined;
  let valid: unknown;
  if (op.body) {
    const template = templates(world, (values) => pick(ctx, values))[op.id];
    valid = template && chance(ctx, 0.6) ? template() : generate(op.body.schema, ctx, '');
    if (mutate === 'body') {
      const m = mutateValue(valid, ctx);
      payload = serialize(m.value);
      notes.push(m.note);
    } else if (mutate === 'raw') {
      const r = rawBody(valid, ctx, allowHuge);
      payload = r.payload;
      notes.push(r.note);
    } else payload = serialize(valid);
    headers['content-type'] = 'application/json';
  } else if (op.write && chance(ctx, 0.3)) {
    payload = '{}';
    headers['content-type'] = 'application/json';
  } else if (mutate === 'raw' || mutate === 'body') {
    const r = chance(ctx, 0.5) ? rawBody({}, ctx, false) : { payload: serialize(pick(ctx, HOSTILE_VALUES)[1]), note: 'hostile body' };
    payload = r.payload;
    headers['content-type'] = 'application/json';
    notes.push(`${r.note} on a ${op.method}`);
  }

  if (mutate === 'headers') {
    const how = int(ctx, 0, 4);
    if (how === 0) {
      const [label, value] = pick(ctx, [
        ['no key', undefined],
        ['read key', `Bearer ${keys.read}`],
        ['integration key', `Bearer ${keys.integration}`],
        ['revoked key', `Bearer ${keys.revoked}`],
        ['key of another program', world.scopedKey ? `Bearer ${world.scopedKey.secret}` : `Bearer ${keys.revoked}`],
        ['key of another program', world.scopedKey ? `Bearer ${world.scopedKey.secret}` : `Bearer ${keys.revoked}`],
        ['unknown key', 'Bearer jf_0000000000000000000000000000'],
        ['Bearer only', 'Bearer'],
        ['Basic', 'Basic YWRtaW46YWRtaW4='],
        ['lower-case scheme', `bearer ${keys.admin}`],
        ['long key', `Bearer jf_${'k'.repeat(5000)}`],
        ['two keys', `Bearer ${keys.read}, Bearer ${keys.admin}`],
      ] as const);
      if (value === undefined) delete headers.authorization;
      else headers.authorization = value;
      notes.push(`auth: ${label}`);
    } else if (how === 1 && idemParam) {
      const prior = usedIdem.filter((u) => u.op === op.id);
      if (prior.length > 0 && chance(ctx, 0.6)) {
        const p = pick(ctx, prior);
        headers['idempotency-key'] = p.key;
        if (chance(ctx, 0.5) && p.payload !== undefined) {
          payload = p.payload;
          url = p.url;
          replayOf = p;
          notes.push('idempotent replay');
        } else notes.push('idempotency key reused');
      } else {
        const v = pick(ctx, [undefined, '', ' ', 'k'.repeat(256), 'k'.repeat(12_000), 'a\tb', '"quoted"']);
        if (v === undefined) delete headers['idempotency-key'];
        else headers['idempotency-key'] = v;
        notes.push(`idempotency key ${v === undefined ? 'missing' : JSON.stringify(truncate(v, 20))}`);
      }
    } else if (how === 2 && payload !== undefined) {
      const ctype = pick(ctx, [...CONTENT_TYPES, undefined]);
      if (ctype === undefined) delete headers['content-type'];
      else headers['content-type'] = ctype;
      notes.push(`content-type ${ctype ?? '(none)'}`);
    } else if (how === 3) {
      const [label, name, value] = pick(ctx, [
        ['accept xml', 'accept', 'application/xml'],
        ['request id', 'x-request-id', 'r'.repeat(200)],
        ['request id injection', 'x-request-id', 'a"b<script>'],
        ['huge header', 'x-filler', 'f'.repeat(20_000)],
        ['content-encoding gzip', 'content-encoding', 'gzip'],
        ['transfer-encoding', 'transfer-encoding', 'chunked'],
        ['expect', 'expect', '100-continue'],
        ['forwarded', 'x-forwarded-for', '127.0.0.1, ::1, 10.0.0.1'],
      ] as const);
      headers[name] = value;
      notes.push(`header ${label}`);
    } else {
      // a header the route may need, missing, or the body on a route without one
      if (payload !== undefined && chance(ctx, 0.5)) {
        delete headers['content-type'];
        notes.push('body without a content-type');
      } else {
        payload = '{"unexpected":true}';
        headers['content-type'] = 'application/json';
        notes.push('unexpected body');
      }
    }
  }
  let idem: IdemUse | undefined;
  if (headers['idempotency-key'] && op.write) {
    idem = { op: op.id, key: headers['idempotency-key'], url, payload };
    usedIdem.push(idem);
  }
  if (usedIdem.length > 500) usedIdem.splice(0, 100);
  return { case: i, op: op.id, method: op.method, url, headers, payload, note: notes.join('; ') || 'valid', idem, replayOf };
}

/** The failures, grouped, with a reproduction each. */
export function formatReport(report: FuzzReport, label: string, replay: string): string {
  const lines: string[] = [];
  const ops = Object.entries(report.byOp);
  const unreached = ops.filter(([, [, ok]]) => ok === 0).map(([id]) => id);
  lines.push(
    `${label}: ${report.requests} requests over ${ops.length} operations in ${(report.ms / 1000).toFixed(1)} s, seed ${report.seed}; ` +
      `by status ${JSON.stringify(report.byStatus)}; ${report.failures.length} distinct failures (${report.failures.reduce((n, g) => n + g.count, 0)} responses)`,
  );
  if (report.timing)
    lines.push(
      `  time in setup ${(report.timing.setupMs / 1000).toFixed(1)} s, generating ${(report.timing.genMs / 1000).toFixed(1)} s, requests ${(report.timing.requestMs / 1000).toFixed(1)} s, in ${report.timing.fingerprints} state fingerprints ${(report.timing.fingerprintMs / 1000).toFixed(1)} s`,
    );
  if (unreached.length > 0) lines.push(`  operations never answered 2xx: ${unreached.join(', ')}`);
  for (const g of report.failures) {
    const opList = Object.entries(g.ops)
      .map(([id, n]) => `${id} ×${n}`)
      .join(', ');
    lines.push(`\n[${g.category}] ×${g.count} — ${g.signature}\n  operations: ${truncate(opList, 600)}`);
    for (const e of g.examples) {
      lines.push(`  ${e.message}`);
      lines.push(describeRequest(e.request).replace(/^/gm, '  '));
      lines.push(describeResponse(e.response).replace(/^/gm, '  '));
      if (e.request.case >= 0) lines.push(`    replay: ${replay.replaceAll('{seed}', String(report.seed)).replaceAll('{case}', String(e.request.case))}`);
    }
  }
  return lines.join('\n');
}

export { RawJson };
