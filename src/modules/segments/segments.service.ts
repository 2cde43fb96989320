import type { Db, Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';
import { type IdempotencyContext, type WriteResult, withIdempotency } from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { type ProgramScope, visible } from '../api-keys/index.ts';
import { getMember } from '../members/index.ts';
import { getProgram } from '../programs/index.ts';
import { compileSegmentCondition, type SegmentPredicate } from './segments.engine.ts';
import * as repo from './segments.repository.ts';
import type {
  BuiltInKey,
  MemberSegmentList,
  Segment,
  SegmentCreate,
  SegmentListQuery,
  SegmentMember,
  SegmentMemberQuery,
  SegmentPreview,
  SegmentRefresh,
  SegmentRefreshFigures,
  SegmentUpdate,
} from './segments.schemas.ts';

/** Members evaluated per statement in a refresh or a preview. */
export const REFRESH_BATCH = 1000;
const SAMPLE_SIZE = 20;

/** The built-in segments every program has. */
export const BUILT_IN_SEGMENTS: Record<BuiltInKey, Omit<repo.NewSegment, 'id' | 'programId' | 'builtInKey'>> = {
  at_risk: {
    name: { 'zh-CN': '流失风险', en: 'At risk' },
    description: 'No activity for 90 days and points expiring within 45 days.',
    condition: { and: [{ '>=': [{ var: 'stats.days_since_last_activity' }, 90] }, { '>': [{ var: 'stats.points_expiring_45d' }, 0] }] },
  },
};

function notFound(id: string): DomainError {
  return new DomainError('SEGMENT_NOT_FOUND', `No segment ${id}`, { segment_id: id });
}

async function visibleSegment(db: Queryable, id: string, scope: ProgramScope, forUpdate = false): Promise<Segment> {
  const s = await repo.findSegment(db, id, forUpdate);
  if (!s || !visible(scope, id, s.program_id)) throw notFound(id);
  return s;
}

function editable(s: Segment): void {
  if (s.built_in) throw new DomainError('SEGMENT_BUILT_IN', `Segment ${s.id} is built in: it can be refreshed, not changed`, { segment_id: s.id });
  if (s.status === 'archived') throw new DomainError('SEGMENT_ARCHIVED', `Segment ${s.id} is archived`, { segment_id: s.id });
}

/**
 * Gives a program its built-in segments (at risk), in the caller's transaction; those it has
 * already are left alone. Programs' createProgram calls it (handed in by routes/programs.ts: the
 * segments module imports programs, so programs cannot import it), the refresh job for programs
 * made otherwise (the demo inserts its programs itself).
 */
export async function createBuiltInSegments(tx: Queryable, programId: string, now: Date): Promise<void> {
  for (const [key, s] of Object.entries(BUILT_IN_SEGMENTS) as [BuiltInKey, (typeof BUILT_IN_SEGMENTS)[BuiltInKey]][]) {
    await repo.insertSegment(tx, { ...s, id: newId('seg'), programId, builtInKey: key }, now);
  }
}

/** Walks the program's members in batches, calling `batch` with each batch's ids and those the condition holds for. */
async function evaluateMembers(
  db: Queryable,
  programId: string,
  holds: SegmentPredicate,
  now: Date,
  batch: (ids: string[], matching: string[]) => Promise<void>,
): Promise<number> {
  let after: string | null = null;
  let evaluated = 0;
  for (;;) {
    const rows = await repo.factsBatch(db, programId, after, REFRESH_BATCH, now);
    if (rows.length === 0) return evaluated;
    const matching: string[] = [];
    for (const r of rows) {
      if (r.closed) continue;
      evaluated += 1;
      if (holds(r.f)) matching.push(r.id);
    }
    await batch(
      rows.map((r) => r.id),
      matching,
    );
    if (rows.length < REFRESH_BATCH) return evaluated;
    after = rows[rows.length - 1]!.id;
  }
}

/**
 * Recomputes a segment's memberships in the caller's transaction, under the segment's lock (wait:
 * an on-demand refresh waits for one running elsewhere; the job does not, and gets undefined).
 * Idempotent: a second refresh at the same instant finds nothing to change.
 */
async function refreshIn(tx: Queryable, id: string, now: Date, wait: boolean): Promise<SegmentRefresh | undefined> {
  const started = performance.now();
  if (!(await repo.lockSegment(tx, id, wait))) return undefined;
  await repo.withoutJit(tx);
  const s = (await repo.findSegment(tx, id))!;
  if (s.status === 'archived') throw new DomainError('SEGMENT_ARCHIVED', `Segment ${id} is archived`, { segment_id: id });
  const holds = compileSegmentCondition(s.condition);
  let added = 0;
  let removed = 0;
  const evaluated = await evaluateMembers(tx, s.program_id, holds, now, async (ids, matching) => {
    const r = await repo.applyBatch(tx, id, ids, matching, now);
    added += r.added;
    removed += r.removed;
  });
  const figures: SegmentRefreshFigures = { evaluated, added, removed, duration_ms: Math.round(performance.now() - started) };
  const segment = await repo.finishRefresh(tx, id, figures, now);
  return { object: 'segment_refresh', segment, member_count: segment.member_count, ...figures };
}

export async function createSegment(db: Db, programId: string, input: SegmentCreate, now: Date, idem?: IdempotencyContext): Promise<WriteResult<Segment>> {
  await getProgram(db, programId);
  compileSegmentCondition(input.condition);
  return withIdempotency(db, idem, now, async (tx) => {
    const id = newId('seg');
    await repo.insertSegment(
      tx,
      { id, programId, name: input.name, description: input.description ?? null, condition: input.condition, builtInKey: null },
      now,
    );
    // its members at once, so that the answer's member_count is true
    const refreshed = await refreshIn(tx, id, now, true);
    return { status: 201, body: refreshed!.segment };
  });
}

export async function getSegment(db: Queryable, id: string, scope: ProgramScope = null): Promise<Segment> {
  return visibleSegment(db, id, scope);
}

export async function listSegments(db: Queryable, programId: string, query: SegmentListQuery): Promise<Page<Segment>> {
  await getProgram(db, programId);
  const limit = query.limit ?? 20;
  const [before] = (decodeCursor(query.cursor, ['id']) ?? []) as [string?];
  return toPage(await repo.listSegments(db, programId, query.status, limit, before), limit, (s) => [s.id]);
}

export async function updateSegment(
  db: Db,
  id: string,
  patch: SegmentUpdate,
  now: Date,
  idem?: IdempotencyContext,
  scope: ProgramScope = null,
): Promise<WriteResult<Segment>> {
  if (patch.condition !== undefined) compileSegmentCondition(patch.condition);
  return withIdempotency(db, idem, now, async (tx) => {
    editable(await visibleSegment(tx, id, scope, true));
    const updated = (await repo.updateSegment(tx, id, patch, now))!;
    if (patch.condition === undefined) return { status: 200, body: updated };
    return { status: 200, body: (await refreshIn(tx, id, now, true))!.segment };
  });
}

export async function archiveSegment(db: Db, id: string, now: Date, idem?: IdempotencyContext, scope: ProgramScope = null): Promise<WriteResult<Segment>> {
  return withIdempotency(db, idem, now, async (tx) => {
    editable(await visibleSegment(tx, id, scope, true));
    await repo.lockSegment(tx, id, true);
    return { status: 200, body: (await repo.archiveSegment(tx, id, now))! };
  });
}

/** Recomputes the segment's memberships now and says what changed (built-ins too; not an archived segment: 409). */
export async function refreshSegment(db: Db, id: string, now: Date, scope: ProgramScope = null): Promise<SegmentRefresh> {
  await visibleSegment(db, id, scope);
  return (await db.transaction((tx) => refreshIn(tx, id, now, true)))!;
}

/** Whom a condition holds for now, without saving anything: the count and the newest 20. */
export async function previewSegment(db: Db, programId: string, condition: unknown, now: Date): Promise<SegmentPreview> {
  const started = performance.now();
  await getProgram(db, programId);
  const holds = compileSegmentCondition(condition);
  // one transaction: every batch sees the same instant of the data, and runs without JIT
  return db.transaction(async (tx) => {
    await repo.withoutJit(tx);
    let count = 0;
    let newest: string[] = [];
    const evaluated = await evaluateMembers(tx, programId, holds, now, async (_ids, matching) => {
      count += matching.length;
      // batches come in ascending id order: the newest are the last ones
      newest = [...newest, ...matching].slice(-SAMPLE_SIZE);
    });
    const sample = await repo.membersByIds(tx, newest, now);
    return { object: 'segment_preview' as const, member_count: count, evaluated, sample, duration_ms: Math.round(performance.now() - started) };
  });
}

export async function listSegmentMembers(
  db: Queryable,
  id: string,
  query: SegmentMemberQuery,
  now: Date,
  scope: ProgramScope = null,
): Promise<Page<SegmentMember>> {
  await visibleSegment(db, id, scope);
  const limit = query.limit ?? 20;
  const [before] = (decodeCursor(query.cursor, ['id']) ?? []) as [string?];
  const page = toPage(await repo.listMembers(db, id, now, limit, before), limit, (m) => [m.id]);
  return { ...page, data: page.data.map(({ id: _id, ...m }) => m) };
}

/** The active segments a member is in (as of each segment's last refresh). */
export async function segmentsOfMember(db: Queryable, memberId: string, scope: ProgramScope = null): Promise<MemberSegmentList> {
  await getMember(db, memberId, scope);
  return { object: 'list', data: await repo.segmentsOfMember(db, memberId) };
}

/**
 * The active segments of each of these members, as of each segment's last refresh, ids in order;
 * a member in none has no entry. For rule targeting by segment (one statement for a batch of
 * events' members) and reward gating.
 */
export async function segmentIdsOfMembers(db: Queryable, memberIds: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await repo.segmentIdsOfMembers(db, [...new Set(memberIds)]);
  return new Map(rows.map((r) => [r.member_id, r.ids]));
}

export interface DueRefreshReport {
  refreshed: number;
  skipped: number;
  added: number;
  removed: number;
}

/**
 * The job: refreshes active segments last refreshed before `staleBefore` (never refreshed first),
 * each in its own transaction under its lock. A segment another instance is refreshing is skipped
 * (it will be fresh); one refreshed meanwhile is not refreshed again.
 */
export async function refreshDueSegments(db: Db, now: Date, staleBefore: Date, limit = 100): Promise<DueRefreshReport> {
  const report: DueRefreshReport = { refreshed: 0, skipped: 0, added: 0, removed: 0 };
  for (const { id } of await repo.dueSegments(db, staleBefore, limit)) {
    const result = await db.transaction(async (tx) => {
      if (!(await repo.lockSegment(tx, id, false))) return undefined;
      const s = await repo.findSegment(tx, id);
      if (s?.status !== 'active' || (s.refreshed_at !== null && Date.parse(s.refreshed_at) > staleBefore.getTime())) return undefined;
      return refreshIn(tx, id, now, true);
    });
    if (!result) {
      report.skipped += 1;
      continue;
    }
    report.refreshed += 1;
    report.added += result.added;
    report.removed += result.removed;
  }
  return report;
}
