/**
 * Code pools of coupon rewards (docs/rewards.md, "Code pools: import and generation"): CSV imports
 * streamed a chunk at a time with their progress in reward_code_import, generation of random codes
 * from an unambiguous alphabet, and the pool's counts and codes. The redemption takes codes from
 * the pool (rewards_redeem, FOR UPDATE SKIP LOCKED); this file only fills and reads it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Static, Type } from 'typebox';
import type { Db, Queryable } from '../../db/db.ts';
import { DomainError, fieldError } from '../../shared/errors.ts';
import { type IdempotencyContext, type WriteResult, withIdempotency } from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import { NullableString, NullableTimestamp, StringEnum, Timestamp } from '../../shared/schemas.ts';
import { type ProgramScope, visible } from '../api-keys/index.ts';

/** A code of a pool: 1 to 64 letters, digits, '-' or '_' (case counts). */
export const MAX_CODE_LENGTH = 64;
const CODE_PATTERN = /^[A-Za-z0-9_-]+$/;
/** The largest CSV body: 200,000 codes of 64 characters with CRLF line ends take 13.2 MB. */
export const MAX_IMPORT_BYTES = 16 * 1024 * 1024;
/** Codes inserted (and committed, with the import's counts) at a time. */
export const IMPORT_CHUNK = 1000;
/** How many duplicate codes and invalid lines an import lists (all are counted). */
export const LISTED = 100;
export const MAX_GENERATE = 100_000;
/** No 0/O, no 1/I: 32 characters, so a random byte's low 5 bits pick one uniformly. */
export const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export const CodeImport = Type.Object(
  {
    object: Type.Literal('reward_code_import'),
    id: Type.String(),
    reward_id: Type.String(),
    program_id: Type.String(),
    kind: StringEnum(['csv', 'generated'], { description: 'From a CSV file, or generated.' }),
    status: StringEnum(['running', 'done', 'failed'], { description: 'running while the file is read; failed: see error, and no code of it stays.' }),
    lines_read: Type.Integer({ description: 'Lines of the file read so far (a header line included).' }),
    imported: Type.Integer({ description: 'Codes added to the pool so far.' }),
    duplicates: Type.Object({
      in_file: Type.Integer({ description: 'Codes seen earlier in the same file.' }),
      in_pool: Type.Integer({ description: 'Codes the pool had already (a generation: random draws that collided and were drawn again).' }),
      codes: Type.Array(Type.String(), { description: `The first ${LISTED} duplicate codes.` }),
    }),
    invalid: Type.Object({
      count: Type.Integer(),
      lines: Type.Array(
        Type.Object({
          line: Type.Integer({ description: 'The line number, from 1.' }),
          reason: StringEnum(['empty', 'too_long', 'bad_characters'], {
            description: `empty; too_long: more than ${MAX_CODE_LENGTH} characters; bad_characters: other than A-Z, a-z, 0-9, - and _.`,
          }),
        }),
        { description: `The first ${LISTED} invalid lines.` },
      ),
    }),
    parameters: Type.Union([Type.Object({ count: Type.Integer(), prefix: Type.String(), length: Type.Integer() }), Type.Null()], {
      description: "A generation's parameters.",
    }),
    error: NullableString,
    started_at: Timestamp,
    finished_at: NullableTimestamp,
  },
  { title: 'RewardCodeImport' },
);
export type CodeImport = Static<typeof CodeImport>;

export const CodeGenerateInput = Type.Object(
  {
    count: Type.Integer({ minimum: 1, maximum: MAX_GENERATE, description: `How many codes, at most ${MAX_GENERATE.toLocaleString('en')}.` }),
    prefix: Type.Optional(Type.String({ maxLength: 16, pattern: '^[A-Z0-9-]*$', description: 'Put before every code (capitals, digits, -).' })),
    length: Type.Optional(
      Type.Integer({ minimum: 6, maximum: 32, description: `Random characters after the prefix (default 12), from ${CODE_ALPHABET}: no 0, O, 1 or I.` }),
    ),
  },
  { additionalProperties: false },
);
export type CodeGenerateInput = Static<typeof CodeGenerateInput>;

export const RewardCodeListQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(['free', 'issued'])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type RewardCodeListQuery = Static<typeof RewardCodeListQuery>;

export const RewardCode = Type.Object({
  code: Type.String({ description: 'Masked (first two characters, then ****) when issued and the caller may not reveal issued codes.' }),
  masked: Type.Boolean(),
  status: StringEnum(['free', 'issued']),
  batch: NullableString,
  redemption_id: NullableString,
  issued_at: NullableTimestamp,
  created_at: Timestamp,
});
export type RewardCode = Static<typeof RewardCode>;

export const RewardCodeList = Type.Object(
  {
    object: Type.Literal('list'),
    free: Type.Integer({ description: 'Codes not issued yet.' }),
    issued: Type.Integer(),
    data: Type.Array(RewardCode),
    has_more: Type.Boolean(),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
  },
  { title: 'RewardCodeList' },
);
export type RewardCodeList = Static<typeof RewardCodeList>;

export interface CodeWriteContext {
  now: Date;
  actor: string;
  idempotency?: IdempotencyContext;
  scope?: ProgramScope;
}

const rewardNotFound = (id: string) => new DomainError('REWARD_NOT_FOUND', `No reward ${id}`, { reward_id: id });

/** The reward, visible to the caller and a coupon (not archived, to fill its pool): else the refusal. */
export async function poolReward(db: Queryable, rewardId: string, scope: ProgramScope | undefined, forWrite: boolean) {
  const [r] = await db.query<{ program_id: string; type: string; status: string }>('SELECT program_id, type, status FROM reward WHERE id = $1', [rewardId]);
  if (!r || !visible(scope ?? null, rewardId, r.program_id)) throw rewardNotFound(rewardId);
  if (r.type !== 'coupon')
    throw new DomainError('REWARD_NOT_COUPON', `Reward ${rewardId} is a ${r.type} reward: only coupons have a pool of codes`, {
      reward_id: rewardId,
      type: r.type,
    });
  if (forWrite && r.status === 'archived') throw new DomainError('REWARD_ARCHIVED', `Reward ${rewardId} is archived`, { reward_id: rewardId });
  return r;
}

interface ImportRow {
  id: string;
  reward_id: string;
  program_id: string;
  kind: 'csv' | 'generated';
  status: 'running' | 'done' | 'failed';
  lines_read: number;
  imported: number;
  duplicates_in_file: number;
  duplicates_in_pool: number;
  duplicate_codes: string[];
  invalid_count: number;
  invalid_lines: { line: number; reason: 'empty' | 'too_long' | 'bad_characters' }[];
  parameters: { count: number; prefix: string; length: number } | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  request_hash: string | null;
}

const IMPORT_COLUMNS = `id, reward_id, program_id, kind, status, lines_read::float8 AS lines_read, imported::float8 AS imported,
  duplicates_in_file::float8 AS duplicates_in_file, duplicates_in_pool::float8 AS duplicates_in_pool, duplicate_codes,
  invalid_count::float8 AS invalid_count, invalid_lines, parameters, error, jf_ts(started_at) AS started_at,
  jf_ts(finished_at) AS finished_at, request_hash`;

function importJson(r: ImportRow): CodeImport {
  return {
    object: 'reward_code_import',
    id: r.id,
    reward_id: r.reward_id,
    program_id: r.program_id,
    kind: r.kind,
    status: r.status,
    lines_read: r.lines_read,
    imported: r.imported,
    duplicates: { in_file: r.duplicates_in_file, in_pool: r.duplicates_in_pool, codes: r.duplicate_codes },
    invalid: { count: r.invalid_count, lines: r.invalid_lines },
    parameters: r.parameters,
    error: r.error,
    started_at: r.started_at,
    finished_at: r.finished_at,
  };
}

async function findImport(db: Queryable, where: string, params: unknown[]): Promise<ImportRow | undefined> {
  const [r] = await db.query<ImportRow>(`SELECT ${IMPORT_COLUMNS} FROM reward_code_import WHERE ${where}`, params);
  return r;
}

export async function getCodeImport(db: Queryable, rewardId: string, importId: string, scope: ProgramScope = null): Promise<CodeImport> {
  const [reward] = await db.query<{ program_id: string }>('SELECT program_id FROM reward WHERE id = $1', [rewardId]);
  if (!reward || !visible(scope, rewardId, reward.program_id)) throw rewardNotFound(rewardId);
  const r = await findImport(db, 'id = $1 AND reward_id = $2', [importId, rewardId]);
  if (!r) throw new DomainError('CODE_IMPORT_NOT_FOUND', `Reward ${rewardId} has no code import ${importId}`, { reward_id: rewardId, import_id: importId });
  return importJson(r);
}

/** The reward's imports, newest first (the running one of an upload among them, for its progress). */
export async function listCodeImports(
  db: Queryable,
  rewardId: string,
  limit: number,
  scope: ProgramScope = null,
): Promise<{ object: 'list'; data: CodeImport[] }> {
  const [reward] = await db.query<{ program_id: string }>('SELECT program_id FROM reward WHERE id = $1', [rewardId]);
  if (!reward || !visible(scope, rewardId, reward.program_id)) throw rewardNotFound(rewardId);
  const rows = await db.query<ImportRow>(`SELECT ${IMPORT_COLUMNS} FROM reward_code_import WHERE reward_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`, [
    rewardId,
    limit,
  ]);
  return { object: 'list', data: rows.map(importJson) };
}

/** What one line of the file holds: a code, a header, or why it is invalid. */
export function parseCodeLine(raw: string): { code: string } | { reason: 'empty' | 'too_long' | 'bad_characters' } {
  let s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  s = s.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).trim();
  if (s === '') return { reason: 'empty' };
  if (s.length > MAX_CODE_LENGTH) return { reason: 'too_long' };
  if (!CODE_PATTERN.test(s)) return { reason: 'bad_characters' };
  return { code: s };
}

/** Inserts codes not in the pool yet; answers those inserted. */
async function insertCodes(q: Queryable, rewardId: string, programId: string, batch: string, codes: string[], now: Date): Promise<Set<string>> {
  const rows = await q.query<{ code: string }>(
    `INSERT INTO reward_code (reward_id, code, program_id, batch, created_at)
     SELECT $1, c, $2, $3, $4 FROM unnest($5::text[]) AS c
     ON CONFLICT (reward_id, code) DO NOTHING RETURNING code`,
    [rewardId, programId, batch, now.toISOString(), codes],
  );
  return new Set(rows.map((r) => r.code));
}

export interface CsvImportInput {
  /** The body, as it arrives. */
  body: AsyncIterable<Buffer | string>;
  /** The Content-Length the client announced, if any. */
  contentLength?: number;
}

/**
 * A CSV import, streamed: lines are parsed as they arrive, codes inserted and committed
 * IMPORT_CHUNK at a time with the import's counts (so GET shows them growing). With an
 * Idempotency-Key, the same file sent again answers the first import; another file with the key
 * is IDEMPOTENCY_KEY_REUSED, and the key of an import still running IDEMPOTENCY_KEY_IN_PROGRESS.
 * A body over MAX_IMPORT_BYTES is PAYLOAD_TOO_LARGE: refused up front when its Content-Length
 * says so, else the import ends failed and its codes are taken back out of the pool.
 */
export async function importCodes(db: Db, rewardId: string, input: CsvImportInput, ctx: CodeWriteContext): Promise<WriteResult<CodeImport>> {
  const reward = await poolReward(db, rewardId, ctx.scope, true);
  const tooLarge = () =>
    new DomainError('PAYLOAD_TOO_LARGE', `A code import is at most ${MAX_IMPORT_BYTES} bytes (about 200,000 codes); split the file`, {
      limit: MAX_IMPORT_BYTES,
    });
  if (input.contentLength !== undefined && input.contentLength > MAX_IMPORT_BYTES) throw tooLarge();
  const hasher = createHash('sha256').update(`importRewardCodes\n${rewardId}\n`);
  const idem = ctx.idempotency;

  if (idem) {
    const existing = await findImport(db, 'reward_id = $1 AND idem_scope = $2 AND idem_key = $3', [rewardId, idem.scope, idem.key]);
    if (existing) return replayImport(existing, input, hasher, idem);
  }
  const id = newId('rci');
  const [claimed] = await db.query<{ id: string }>(
    `INSERT INTO reward_code_import (id, reward_id, program_id, kind, status, actor, idem_scope, idem_key, started_at)
     VALUES ($1, $2, $3, 'csv', 'running', $4, $5, $6, $7)
     ON CONFLICT (reward_id, idem_scope, idem_key) WHERE idem_key IS NOT NULL DO NOTHING RETURNING id`,
    [id, rewardId, reward.program_id, ctx.actor, idem?.scope ?? null, idem?.key ?? null, ctx.now.toISOString()],
  );
  if (!claimed && idem) {
    // a twin with the same key claimed it between the look-up and the insert
    const existing = await findImport(db, 'reward_id = $1 AND idem_scope = $2 AND idem_key = $3', [rewardId, idem.scope, idem.key]);
    if (existing) return replayImport(existing, input, hasher, idem);
  }

  const counts = { lines: 0, imported: 0, inFile: 0, inPool: 0, invalid: 0 };
  const duplicateCodes: string[] = [];
  const invalidLines: { line: number; reason: string }[] = [];
  const seen = new Set<string>();
  let pending: string[] = [];
  let linesAtFlush = 0;
  let dupAtFlush = 0;
  let invalidAtFlush = 0;
  const now = ctx.now;

  const flush = async (final: 'done' | undefined) => {
    const chunk = pending;
    pending = [];
    const newDups = () => duplicateCodes.slice(dupAtFlush);
    const newInvalid = () => invalidLines.slice(invalidAtFlush);
    await db.transaction(async (tx) => {
      if (chunk.length > 0) {
        const inserted = await insertCodes(tx, rewardId, reward.program_id, id, chunk, now);
        counts.imported += inserted.size;
        for (const c of chunk) {
          if (inserted.has(c)) continue;
          counts.inPool++;
          if (duplicateCodes.length < LISTED) duplicateCodes.push(c);
        }
      }
      await tx.query(
        `UPDATE reward_code_import SET lines_read = $2, imported = $3, duplicates_in_file = $4, duplicates_in_pool = $5,
                duplicate_codes = duplicate_codes || $6::text[], invalid_count = $7, invalid_lines = invalid_lines || $8::text::jsonb,
                status = coalesce($9, status), finished_at = CASE WHEN $9::text IS NULL THEN NULL ELSE $10::timestamptz END,
                request_hash = $11
          WHERE id = $1`,
        [
          id,
          counts.lines,
          counts.imported,
          counts.inFile,
          counts.inPool,
          newDups(),
          counts.invalid,
          JSON.stringify(newInvalid()),
          final ?? null,
          now.toISOString(),
          final ? hasher.digest('base64url') : null,
        ],
      );
    });
    linesAtFlush = counts.lines;
    dupAtFlush = duplicateCodes.length;
    invalidAtFlush = invalidLines.length;
  };

  const line = async (raw: string) => {
    counts.lines++;
    const parsed = parseCodeLine(counts.lines === 1 ? raw.replace(/^\uFEFF/, '') : raw);
    if (counts.lines === 1 && 'code' in parsed && parsed.code.toLowerCase() === 'code') return;
    if ('reason' in parsed) {
      counts.invalid++;
      if (invalidLines.length < LISTED) invalidLines.push({ line: counts.lines, reason: parsed.reason });
    } else if (seen.has(parsed.code)) {
      counts.inFile++;
      if (duplicateCodes.length < LISTED) duplicateCodes.push(parsed.code);
    } else {
      seen.add(parsed.code);
      pending.push(parsed.code);
    }
    if (pending.length >= IMPORT_CHUNK || counts.lines - linesAtFlush >= IMPORT_CHUNK) await flush(undefined);
  };

  try {
    const decoder = new TextDecoder('utf-8');
    let bytes = 0;
    let rest = '';
    let overlong = false;
    for await (const part of input.body) {
      const buf = typeof part === 'string' ? Buffer.from(part) : part;
      bytes += buf.length;
      if (bytes > MAX_IMPORT_BYTES) throw tooLarge();
      hasher.update(buf);
      rest += decoder.decode(buf, { stream: true });
      let start = 0;
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        await line(overlong ? 'X'.repeat(MAX_CODE_LENGTH + 1) : rest.slice(start, nl));
        overlong = false;
        start = nl + 1;
        nl = rest.indexOf('\n', start);
      }
      rest = rest.slice(start);
      // a line far too long to be a code is not kept whole: it is too_long whatever follows
      if (rest.length > 4 * MAX_CODE_LENGTH) {
        overlong = true;
        rest = '';
      }
    }
    rest += decoder.decode();
    if (overlong) await line('X'.repeat(MAX_CODE_LENGTH + 1));
    else if (rest !== '' && rest !== '\r') await line(rest);
    await flush('done');
  } catch (err) {
    try {
      await failImport(db, id, rewardId, err, ctx.now);
    } catch {
      // the database is what failed: the first error says so
    }
    throw err;
  }
  const done = await findImport(db, 'id = $1', [id]);
  return { status: 201, body: importJson(done!), replayed: false };
}

/** An upload that broke off: its codes not issued meanwhile leave the pool, its key is freed, the import says why. */
async function failImport(db: Db, id: string, rewardId: string, err: unknown, now: Date) {
  const reason = err instanceof DomainError ? `${err.code}: ${err.message}` : `the upload broke off: ${err instanceof Error ? err.message : String(err)}`;
  await db.transaction(async (tx) => {
    const removed = await tx.query('DELETE FROM reward_code WHERE reward_id = $1 AND batch = $2 AND redemption_id IS NULL RETURNING 1', [rewardId, id]);
    await tx.query(
      `UPDATE reward_code_import SET status = 'failed', error = $2, finished_at = $3, imported = greatest(imported - $4, 0), idem_key = NULL
        WHERE id = $1`,
      [id, reason.slice(0, 500), now.toISOString(), removed.length],
    );
  });
}

/** The same Idempotency-Key again: read the body through, and answer the first import if it is the same file. */
async function replayImport(
  existing: ImportRow,
  input: CsvImportInput,
  hasher: ReturnType<typeof createHash>,
  idem: IdempotencyContext,
): Promise<WriteResult<CodeImport>> {
  if (existing.status === 'running' || existing.request_hash === null)
    throw new DomainError('IDEMPOTENCY_KEY_IN_PROGRESS', `The import ${existing.id} with this Idempotency-Key is still running`, { import_id: existing.id });
  let bytes = 0;
  for await (const part of input.body) {
    const buf = typeof part === 'string' ? Buffer.from(part) : part;
    bytes += buf.length;
    if (bytes > MAX_IMPORT_BYTES) break;
    hasher.update(buf);
  }
  if (bytes > MAX_IMPORT_BYTES || hasher.digest('base64url') !== existing.request_hash)
    throw new DomainError('IDEMPOTENCY_KEY_REUSED', `The Idempotency-Key ${idem.key} was used for another file`, { import_id: existing.id });
  return { status: 201, body: importJson(existing), replayed: true };
}

/** `length` random characters of CODE_ALPHABET, from crypto random bytes (uniform: 256 = 8 × 32). */
export function randomCode(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let s = prefix;
  for (const b of bytes) s += CODE_ALPHABET[b & 31];
  return s;
}

/** Whether `length` random characters give fewer than 1,000 codes for each one of a pool of `poolSize`. */
export function codeSpaceTooSmall(length: number, poolSize: number): boolean {
  return CODE_ALPHABET.length ** length < 1000 * poolSize;
}

/**
 * Generates `count` codes unique in the pool, in one transaction (idempotent): drawn at random,
 * inserted IMPORT_CHUNK at a time with ON CONFLICT DO NOTHING, collisions drawn again. The code
 * space must be at least 1,000 times the pool it would make (else VALIDATION_FAILED at /length),
 * so collisions stay rare and the draws end.
 */
export async function generateCodes(db: Db, rewardId: string, input: CodeGenerateInput, ctx: CodeWriteContext): Promise<WriteResult<CodeImport>> {
  const prefix = input.prefix ?? '';
  const length = input.length ?? 12;
  return withIdempotency(db, ctx.idempotency, ctx.now, async (tx) => {
    const reward = await poolReward(tx, rewardId, ctx.scope, true);
    await tx.query('SELECT 1 FROM reward WHERE id = $1 FOR UPDATE', [rewardId]);
    const [{ n: pool } = { n: 0 }] = await tx.query<{ n: number }>('SELECT count(*)::float8 AS n FROM reward_code WHERE reward_id = $1', [rewardId]);
    if (codeSpaceTooSmall(length, pool + input.count))
      throw fieldError('/length', `${length} random characters are too few for ${pool + input.count} codes in the pool; make them longer`, 'code_length', {
        length,
        codes: pool + input.count,
      });
    const id = newId('rci');
    const parameters = { count: input.count, prefix, length };
    await tx.query(
      `INSERT INTO reward_code_import (id, reward_id, program_id, kind, status, actor, parameters, started_at, finished_at)
       VALUES ($1, $2, $3, 'generated', 'running', $4, $5::text::jsonb, $6, NULL)`,
      [id, rewardId, reward.program_id, ctx.actor, JSON.stringify(parameters), ctx.now.toISOString()],
    );
    let imported = 0;
    let collisions = 0;
    const collided: string[] = [];
    while (imported < input.count) {
      const want = Math.min(IMPORT_CHUNK, input.count - imported);
      const drawn = new Set<string>();
      while (drawn.size < want) drawn.add(randomCode(prefix, length));
      const chunk = [...drawn];
      const inserted = await insertCodes(tx, rewardId, reward.program_id, id, chunk, ctx.now);
      imported += inserted.size;
      for (const c of chunk) {
        if (inserted.has(c)) continue;
        collisions++;
        if (collided.length < LISTED) collided.push(c);
      }
    }
    await tx.query(
      `UPDATE reward_code_import SET status = 'done', finished_at = $2, imported = $3, lines_read = 0, duplicates_in_pool = $4, duplicate_codes = $5::text[]
        WHERE id = $1`,
      [id, ctx.now.toISOString(), imported, collisions, collided],
    );
    return { status: 201, body: importJson((await findImport(tx, 'id = $1', [id]))!) };
  });
}

const mask = (code: string) => `${code.slice(0, 2)}****`;

function decodeCodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' && v[0].length <= MAX_CODE_LENGTH && CODE_PATTERN.test(v[0])) return v[0];
  } catch {
    // refused below
  }
  throw new DomainError('INVALID_CURSOR', 'The cursor is not one this list gave', {}, [
    { path: '/cursor', location: 'querystring', message: 'is not valid', rule: 'invalid_cursor' },
  ]);
}

/**
 * The pool's counts and a page of its codes, by code. Issued codes are shown in full only when
 * `reveal` (the caller may: GET …/codes/revealed); otherwise masked.
 */
export async function listRewardCodes(
  db: Queryable,
  rewardId: string,
  query: RewardCodeListQuery,
  reveal: boolean,
  scope: ProgramScope = null,
): Promise<RewardCodeList> {
  await poolReward(db, rewardId, scope, false);
  const limit = query.limit ?? 50;
  const after = decodeCodeCursor(query.cursor);
  const [counts] = await db.query<{ free: number; issued: number }>(
    `SELECT count(*) FILTER (WHERE redemption_id IS NULL)::float8 AS free, count(*) FILTER (WHERE redemption_id IS NOT NULL)::float8 AS issued
       FROM reward_code WHERE reward_id = $1`,
    [rewardId],
  );
  const status = query.status === 'free' ? 'AND redemption_id IS NULL' : query.status === 'issued' ? 'AND redemption_id IS NOT NULL' : '';
  const rows = await db.query<{ code: string; batch: string | null; redemption_id: string | null; issued_at: string | null; created_at: string }>(
    `SELECT code, batch, redemption_id, jf_ts(issued_at) AS issued_at, jf_ts(created_at) AS created_at
       FROM reward_code WHERE reward_id = $1 ${status} AND ($2::text IS NULL OR code > $2::text)
      ORDER BY code LIMIT $3`,
    [rewardId, after ?? null, limit + 1],
  );
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  return {
    object: 'list',
    free: counts?.free ?? 0,
    issued: counts?.issued ?? 0,
    data: page.map((r) => {
      const hidden = r.redemption_id !== null && !reveal;
      return {
        code: hidden ? mask(r.code) : r.code,
        masked: hidden,
        status: r.redemption_id === null ? ('free' as const) : ('issued' as const),
        batch: r.batch,
        redemption_id: r.redemption_id,
        issued_at: r.issued_at,
        created_at: r.created_at,
      };
    }),
    has_more: hasMore,
    next_cursor: hasMore ? Buffer.from(JSON.stringify([page[page.length - 1]!.code])).toString('base64url') : null,
  };
}
