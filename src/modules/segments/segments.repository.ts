import type { Queryable } from '../../db/db.ts';
import type { MemberFacts } from './segments.engine.ts';
import type { BuiltInKey, MemberSegment, Segment, SegmentMember, SegmentName, SegmentRefreshFigures } from './segments.schemas.ts';

const COLUMNS = `s.id, 'segment' AS object, s.program_id, s.name, s.description, s.condition, s.status,
  s.built_in_key IS NOT NULL AS built_in, s.built_in_key, s.member_count, jf_ts(s.refreshed_at) AS refreshed_at, s.last_refresh,
  jf_ts(s.created_at) AS created_at, jf_ts(s.updated_at) AS updated_at`;

export interface NewSegment {
  id: string;
  programId: string;
  name: SegmentName;
  description: string | null;
  condition: unknown;
  builtInKey: BuiltInKey | null;
}

/** Inserts a segment; a built-in the program already has is skipped (undefined). */
export async function insertSegment(db: Queryable, s: NewSegment, now: Date): Promise<Segment | undefined> {
  const [row] = await db.query<Segment>(
    `WITH s AS (
       INSERT INTO segment (id, program_id, name, description, condition, built_in_key, created_at, updated_at)
       VALUES ($1, $2, $3::text::jsonb, $4, $5::text::jsonb, $6, $7, $7)
       ON CONFLICT (program_id, built_in_key) WHERE built_in_key IS NOT NULL DO NOTHING
       RETURNING *
     )
     SELECT ${COLUMNS} FROM s`,
    [s.id, s.programId, JSON.stringify(s.name), s.description, JSON.stringify(s.condition), s.builtInKey, now.toISOString()],
  );
  return row;
}

export async function findSegment(db: Queryable, id: string, forUpdate = false): Promise<Segment | undefined> {
  const [row] = await db.query<Segment>(`SELECT ${COLUMNS} FROM segment s WHERE s.id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return row;
}

/** Newest first (ids are time-sortable); the cursor is the last id. */
export async function listSegments(
  db: Queryable,
  programId: string,
  status: string | undefined,
  limit: number,
  before: string | undefined,
): Promise<Segment[]> {
  return db.query<Segment>(
    `SELECT ${COLUMNS} FROM segment s
      WHERE s.program_id = $1 AND ($2::text IS NULL OR s.status = $2) AND ($3::text IS NULL OR s.id < $3)
      ORDER BY s.id DESC LIMIT $4`,
    [programId, status ?? null, before ?? null, limit + 1],
  );
}

export async function updateSegment(
  db: Queryable,
  id: string,
  patch: { name?: SegmentName; description?: string | null; condition?: unknown },
  now: Date,
): Promise<Segment | undefined> {
  const [row] = await db.query<Segment>(
    `WITH s AS (
       UPDATE segment SET
         name = coalesce($2::text::jsonb, name),
         description = CASE WHEN $3 THEN $4 ELSE description END,
         condition = coalesce($5::text::jsonb, condition),
         updated_at = $6
       WHERE id = $1 RETURNING *
     )
     SELECT ${COLUMNS} FROM s`,
    [
      id,
      patch.name ? JSON.stringify(patch.name) : null,
      Object.hasOwn(patch, 'description'),
      patch.description ?? null,
      patch.condition !== undefined ? JSON.stringify(patch.condition) : null,
      now.toISOString(),
    ],
  );
  return row;
}

/** Archives a segment and lets its members go: an archived segment has none. */
export async function archiveSegment(db: Queryable, id: string, now: Date): Promise<Segment | undefined> {
  await db.query('DELETE FROM segment_member WHERE segment_id = $1', [id]);
  const [row] = await db.query<Segment>(
    `WITH s AS (
       UPDATE segment SET status = 'archived', archived_at = $2, updated_at = $2, member_count = 0
       WHERE id = $1 RETURNING *
     )
     SELECT ${COLUMNS} FROM s`,
    [id, now.toISOString()],
  );
  return row;
}

/**
 * Serialises refreshes of one segment across instances for the rest of the transaction. wait:
 * false answers at once whether the lock was taken (the job skips a segment another instance is
 * refreshing, as SKIP LOCKED would); true waits for it (an on-demand refresh).
 */
export async function lockSegment(db: Queryable, id: string, wait: boolean): Promise<boolean> {
  if (wait) {
    await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('segment:' || $1, 0))`, [id]);
    return true;
  }
  const [row] = await db.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtextextended('segment:' || $1, 0)) AS locked`, [id]);
  return row!.locked;
}

/** Whole days from t to $4 (the refresh's instant), never negative; null when t is. */
const days = (t: string) => `CASE WHEN ${t} IS NULL THEN NULL ELSE greatest(0, floor(extract(epoch FROM ($4::timestamptz - ${t})) / 86400))::integer END`;
/** An event's amount in minor units (built-in order types validate it as a whole number). */
const amount = (data: string) => `CASE WHEN jsonb_typeof(${data}->'amount') = 'number' THEN (${data}->>'amount')::numeric ELSE 0 END`;

/**
 * For the rest of the transaction: no JIT. A batch's plan is estimated above PostgreSQL's JIT
 * threshold (a thousand members' lateral index scans), and compiling it cost more than running it
 * (measured: 20–380 ms of JIT for a 20–40 ms batch).
 */
export async function withoutJit(db: Queryable): Promise<void> {
  await db.query('SET LOCAL jit = off');
}

export interface FactsRow {
  id: string;
  closed: boolean;
  f: MemberFacts;
}

/**
 * One batch of the program's members after `after` (by id), with what a condition reads, computed
 * set-based at `now` in one statement: the profile (member), the points by state and expiry (the
 * ledger's lot and member_account), and order recency, frequency and spend (the events' event).
 * Read-only, on purpose across owners (docs/architecture.md, "Who owns which table").
 */
export async function factsBatch(db: Queryable, programId: string, after: string | null, limit: number, now: Date): Promise<FactsRow[]> {
  return db.query<FactsRow>(
    `WITH m AS (
       SELECT id, tier, tags, attributes, status, birthday, created_at
         FROM member WHERE program_id = $1 AND ($2::text IS NULL OR id > $2)
        ORDER BY id LIMIT $3
     )
     SELECT m.id, m.status = 'closed' AS closed,
            jsonb_build_object(
              'member', jsonb_build_object(
                'id', m.id, 'tier', m.tier, 'tags', to_jsonb(m.tags), 'attributes', m.attributes, 'status', m.status,
                'birthday_month', extract(month FROM m.birthday)::integer,
                'days_since_joined', ${days('m.created_at')}),
              'stats', jsonb_build_object(
                'points_balance', l.available - coalesce(a.debt, 0),
                'points_pending', l.pending,
                'points_expiring_30d', l.e30,
                'points_expiring_45d', l.e45,
                'points_expiring_90d', l.e90,
                'days_since_last_activity', ${days('a.last_activity_at')},
                'days_since_last_order', ${days('o.last_order')},
                'orders_90d', o.o90,
                'orders_365d', o.o365,
                'spend_365d', greatest(o.spend, 0))) AS f
       FROM m
       LEFT JOIN member_account a ON a.member_id = m.id
       -- per member, through lot_member_open_idx and event_member_idx: a batch costs its own members' rows
       CROSS JOIN LATERAL (
         SELECT coalesce(sum(l.remaining) FILTER (WHERE l.available_at <= $4 AND (l.expires_at IS NULL OR l.expires_at > $4)), 0) AS available,
                coalesce(sum(l.remaining) FILTER (WHERE l.available_at > $4 AND (l.expires_at IS NULL OR l.expires_at > $4)), 0) AS pending,
                coalesce(sum(l.remaining) FILTER (WHERE l.expires_at > $4 AND l.expires_at <= $4 + interval '30 days'), 0) AS e30,
                coalesce(sum(l.remaining) FILTER (WHERE l.expires_at > $4 AND l.expires_at <= $4 + interval '45 days'), 0) AS e45,
                coalesce(sum(l.remaining) FILTER (WHERE l.expires_at > $4 AND l.expires_at <= $4 + interval '90 days'), 0) AS e90
           FROM lot l WHERE l.member_id = m.id AND l.remaining > 0
       ) l
       CROSS JOIN LATERAL (
         SELECT max(e.occurred_at) FILTER (WHERE e.type = 'order.paid') AS last_order,
                count(*) FILTER (WHERE e.type = 'order.paid' AND e.occurred_at > $4 - interval '90 days') AS o90,
                count(*) FILTER (WHERE e.type = 'order.paid' AND e.occurred_at > $4 - interval '365 days') AS o365,
                coalesce(sum(CASE WHEN e.type = 'order.paid' THEN ${amount('e.data')} END)
                           FILTER (WHERE e.occurred_at > $4 - interval '365 days'), 0)
                - coalesce(sum(CASE WHEN e.type = 'order.refunded' THEN
                                 CASE WHEN e.data ? 'amount' THEN ${amount('e.data')}
                                      WHEN e.data ? 'items' THEN 0
                                      -- a full refund: the order's paid amount (its first order.paid; LIMIT 1 also keeps the
                                      -- plan's estimate small, under PostgreSQL's JIT threshold, which would cost more than the query)
                                      ELSE coalesce((SELECT ${amount('p.data')} FROM event p
                                                      WHERE p.program_id = $1 AND p.data ? 'order_id' AND p.data->>'order_id' = e.data->>'order_id'
                                                        AND p.type = 'order.paid'
                                                      ORDER BY p.occurred_at LIMIT 1), 0)
                                 END END)
                           FILTER (WHERE e.occurred_at > $4 - interval '365 days'), 0) AS spend
           FROM event e
          WHERE e.member_id = m.id AND e.type IN ('order.paid', 'order.refunded') AND e.occurred_at <= $4
       ) o
      ORDER BY m.id`,
    [programId, after, limit, now.toISOString()],
  );
}

/**
 * Writes one batch's outcome: of the members `batch`, those in `matching` are members of the
 * segment (since now, if they were not already), the others are not. Only changes are written.
 */
export async function applyBatch(
  db: Queryable,
  segmentId: string,
  batch: string[],
  matching: string[],
  now: Date,
): Promise<{ added: number; removed: number }> {
  // one statement; the arrays are joined as sets (unnest), not searched (= ANY) row by row
  const [row] = await db.query<{ added: number; removed: number }>(
    `WITH batch AS (SELECT DISTINCT b AS member_id FROM unnest($2::text[]) AS b),
          want AS (SELECT DISTINCT w AS member_id FROM unnest($3::text[]) AS w),
          gone AS (
            DELETE FROM segment_member sm
             USING batch b
             WHERE sm.segment_id = $1 AND sm.member_id = b.member_id
               AND NOT EXISTS (SELECT 1 FROM want w WHERE w.member_id = sm.member_id)
            RETURNING 1
          ),
          joined AS (
            INSERT INTO segment_member (segment_id, member_id, since)
            SELECT $1, w.member_id, $4 FROM want w
             WHERE NOT EXISTS (SELECT 1 FROM segment_member s WHERE s.segment_id = $1 AND s.member_id = w.member_id)
             ORDER BY w.member_id
            ON CONFLICT (segment_id, member_id) DO NOTHING
            RETURNING 1
          )
     SELECT (SELECT count(*) FROM joined)::integer AS added, (SELECT count(*) FROM gone)::integer AS removed`,
    [segmentId, batch, matching, now.toISOString()],
  );
  return row!;
}

export async function finishRefresh(db: Queryable, segmentId: string, figures: SegmentRefreshFigures, now: Date): Promise<Segment> {
  const [row] = await db.query<Segment>(
    `WITH s AS (
       UPDATE segment SET member_count = (SELECT count(*) FROM segment_member WHERE segment_id = $1),
                          refreshed_at = $2, last_refresh = $3::text::jsonb
        WHERE id = $1 RETURNING *
     )
     SELECT ${COLUMNS} FROM s`,
    [segmentId, now.toISOString(), JSON.stringify(figures)],
  );
  return row!;
}

const MEMBER_ROW = `jsonb_build_object('object', 'segment_member', 'member_id', m.id, 'external_id', m.external_id, 'name', m.name,
  'tier', m.tier, 'status', m.status,
  'points_balance', coalesce((SELECT sum(l.remaining) FROM lot l WHERE l.member_id = m.id AND l.remaining > 0
                                AND l.available_at <= $2 AND (l.expires_at IS NULL OR l.expires_at > $2)), 0)
                    - coalesce((SELECT a.debt FROM member_account a WHERE a.member_id = m.id), 0),
  'since', %SINCE%)`;

/** Members of a segment, newest members first; the cursor is the last member id. */
export async function listMembers(
  db: Queryable,
  segmentId: string,
  now: Date,
  limit: number,
  before: string | undefined,
): Promise<(SegmentMember & { id: string })[]> {
  const rows = await db.query<{ id: string; r: SegmentMember }>(
    `SELECT m.id, ${MEMBER_ROW.replace('%SINCE%', 'jf_ts(sm.since)')} AS r
       FROM segment_member sm JOIN member m ON m.id = sm.member_id
      WHERE sm.segment_id = $1 AND ($3::text IS NULL OR sm.member_id < $3)
      ORDER BY sm.member_id DESC LIMIT $4`,
    [segmentId, now.toISOString(), before ?? null, limit + 1],
  );
  return rows.map((x) => ({ ...x.r, id: x.id }));
}

/** These members as a preview shows them (no since), newest first. */
export async function membersByIds(db: Queryable, ids: string[], now: Date): Promise<SegmentMember[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ r: SegmentMember }>(
    `SELECT ${MEMBER_ROW.replace('%SINCE%', 'NULL')} AS r FROM member m WHERE m.id = ANY ($1::text[]) ORDER BY m.id DESC`,
    [ids, now.toISOString()],
  );
  return rows.map((x) => x.r);
}

/** A member's active segments, oldest segment first. */
export async function segmentsOfMember(db: Queryable, memberId: string): Promise<MemberSegment[]> {
  return db.query<MemberSegment>(
    `SELECT 'member_segment' AS object, s.id AS segment_id, s.name, s.built_in_key IS NOT NULL AS built_in, jf_ts(sm.since) AS since
       FROM segment_member sm JOIN segment s ON s.id = sm.segment_id
      WHERE sm.member_id = $1 AND s.status = 'active'
      ORDER BY s.id`,
    [memberId],
  );
}

export async function segmentIdsOfMembers(db: Queryable, memberIds: readonly string[]): Promise<{ member_id: string; ids: string[] }[]> {
  if (memberIds.length === 0) return [];
  return db.query<{ member_id: string; ids: string[] }>(
    `SELECT sm.member_id, array_agg(sm.segment_id ORDER BY sm.segment_id) AS ids
       FROM segment_member sm JOIN segment s ON s.id = sm.segment_id AND s.status = 'active'
      WHERE sm.member_id = ANY ($1::text[])
      GROUP BY sm.member_id`,
    [memberIds],
  );
}

/** Active segments not refreshed since `before` (never refreshed first). */
export async function dueSegments(db: Queryable, before: Date, limit: number): Promise<{ id: string }[]> {
  return db.query<{ id: string }>(
    `SELECT id FROM segment WHERE status = 'active' AND (refreshed_at IS NULL OR refreshed_at <= $1)
      ORDER BY refreshed_at NULLS FIRST, id LIMIT $2`,
    [before.toISOString(), limit],
  );
}
