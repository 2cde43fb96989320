import type { Queryable } from '../../db/db.ts';
import type { WriteResult } from '../../shared/idempotency.ts';
import type { PriceChange, Redemption, RedemptionListItem, Reward, RewardName } from './rewards.schemas.ts';

/** What the service writes of a reward (the columns of `reward`, in API terms). */
export interface RewardRow {
  type: string;
  name: unknown;
  description: unknown;
  image_urls: string[];
  category: string | null;
  points_cost: number;
  cash_part: number | null;
  stock: number | null;
  stock_left: number | null;
  limit_per_member: number | null;
  limit_period: string | null;
  min_tier: string | null;
  segment_id: string | null;
  available_from: string | null;
  available_until: string | null;
  schedule_days: number[] | null;
  schedule_from: string | null;
  schedule_until: string | null;
  donation_project: string | null;
  status: string;
  metadata: unknown;
}

const COLUMNS = [
  'type',
  'name',
  'description',
  'image_urls',
  'category',
  'points_cost',
  'cash_part',
  'stock',
  'stock_left',
  'limit_per_member',
  'limit_period',
  'min_tier',
  'segment_id',
  'available_from',
  'available_until',
  'schedule_days',
  'schedule_from',
  'schedule_until',
  'donation_project',
  'status',
  'metadata',
] as const satisfies readonly (keyof RewardRow)[];
const JSON_COLUMNS = new Set(['name', 'description', 'metadata']);
const CASTS: Partial<Record<keyof RewardRow, string>> = {
  image_urls: '::text[]',
  schedule_days: '::smallint[]',
  schedule_from: '::time',
  schedule_until: '::time',
  available_from: '::timestamptz',
  available_until: '::timestamptz',
  points_cost: '::bigint',
  cash_part: '::bigint',
  stock: '::bigint',
  stock_left: '::bigint',
  limit_per_member: '::integer',
};
const param = (c: keyof RewardRow, i: number) => (JSON_COLUMNS.has(c) ? `$${i}::text::jsonb` : `$${i}${CASTS[c] ?? ''}`);
const value = (c: keyof RewardRow, v: unknown) => (JSON_COLUMNS.has(c) ? JSON.stringify(v) : v);

export async function insertReward(db: Queryable, id: string, programId: string, row: RewardRow, now: Date): Promise<Reward> {
  const cols = COLUMNS.map((c, i) => ({ c, p: param(c, i + 4) }));
  const [r] = await db.query<{ r: Reward }>(
    `WITH ins AS (
       INSERT INTO reward (id, program_id, created_at, updated_at, ${cols.map((x) => x.c).join(', ')})
       VALUES ($1, $2, $3, $3, ${cols.map((x) => x.p).join(', ')}) RETURNING *)
     SELECT jf_reward_json(ins, $3) AS r FROM ins`,
    [id, programId, now.toISOString(), ...COLUMNS.map((c) => value(c, row[c]))],
  );
  return r!.r;
}

export async function updateReward(db: Queryable, id: string, changes: Partial<RewardRow>, now: Date): Promise<Reward> {
  const keys = COLUMNS.filter((c) => Object.hasOwn(changes, c));
  const [r] = await db.query<{ r: Reward }>(
    `WITH upd AS (
       UPDATE reward SET updated_at = $2${keys.map((c, i) => `, ${c} = ${param(c, i + 3)}`).join('')}
        WHERE id = $1 RETURNING *)
     SELECT jf_reward_json(upd, $2) AS r FROM upd`,
    [id, now.toISOString(), ...keys.map((c) => value(c, changes[c]))],
  );
  return r!.r;
}

export async function archiveReward(db: Queryable, id: string, now: Date): Promise<Reward> {
  const [r] = await db.query<{ r: Reward }>(
    `WITH upd AS (UPDATE reward SET status = 'archived', archived_at = $2, updated_at = $2 WHERE id = $1 RETURNING *)
     SELECT jf_reward_json(upd, $2) AS r FROM upd`,
    [id, now.toISOString()],
  );
  return r!.r;
}

/** The stored row (for updates: FOR UPDATE, so a PATCH of the stock and a redemption's stock take do not cross). */
export async function findRewardRow(
  db: Queryable,
  id: string,
  lock = false,
): Promise<(RewardRow & { program_id: string; stock_left: number | null }) | undefined> {
  const [r] = await db.query<RewardRow & { program_id: string }>(
    `SELECT program_id, type, name, description, image_urls, category, points_cost::float8 AS points_cost, cash_part::float8 AS cash_part,
            stock::float8 AS stock, stock_left::float8 AS stock_left, limit_per_member, limit_period, min_tier, segment_id,
            jf_ts(available_from) AS available_from, jf_ts(available_until) AS available_until,
            schedule_days::int[] AS schedule_days, to_char(schedule_from, 'HH24:MI') AS schedule_from,
            to_char(schedule_until, 'HH24:MI') AS schedule_until, donation_project, status, metadata
       FROM reward WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return r;
}

export async function rewardJson(db: Queryable, id: string, now: Date): Promise<Reward | undefined> {
  const [r] = await db.query<{ r: Reward }>('SELECT jf_reward_json(r, $2) AS r FROM reward r WHERE r.id = $1', [id, now.toISOString()]);
  return r?.r;
}

export interface RewardFilter {
  q?: string;
  status?: string;
  type?: string;
  category?: string;
}

/** Newest first; the cursor is (created_at, id) of the last row. */
export async function listRewards(
  db: Queryable,
  programId: string,
  filter: RewardFilter,
  limit: number,
  before: [string, string] | undefined,
  now: Date,
): Promise<{ r: Reward; at: string; id: string }[]> {
  return db.query(
    `SELECT jf_reward_json(r, $1) AS r, r.created_at::text AS at, r.id
       FROM reward r
      WHERE r.program_id = $2 AND ($3::text IS NULL OR r.status = $3) AND ($4::text IS NULL OR r.type = $4)
        AND ($5::text IS NULL OR r.category = $5)
        AND ($6::timestamptz IS NULL OR (r.created_at, r.id) < ($6::timestamptz, $7::text))
        AND ($9::text IS NULL OR strpos(lower(r.name->>'zh-CN'), lower($9)) > 0 OR strpos(lower(r.name->>'en'), lower($9)) > 0)
      ORDER BY r.created_at DESC, r.id DESC
      LIMIT $8`,
    [
      now.toISOString(),
      programId,
      filter.status ?? null,
      filter.type ?? null,
      filter.category ?? null,
      before?.[0] ?? null,
      before?.[1] ?? null,
      limit + 1,
      filter.q ?? null,
    ],
  );
}

/** The tier codes of the program's ladder, lowest first (null without a ladder). */
export async function ladderCodes(db: Queryable, programId: string): Promise<string[] | null> {
  const [r] = await db.query<{ codes: string[] }>(
    `SELECT ARRAY(SELECT t->>'code' FROM jsonb_array_elements(l.tiers) WITH ORDINALITY x(t, ord) ORDER BY ord) AS codes
       FROM tier_ladder l WHERE l.program_id = $1`,
    [programId],
  );
  return r?.codes ?? null;
}

export async function segmentProgram(db: Queryable, segmentId: string): Promise<string | undefined> {
  const [r] = await db.query<{ program_id: string }>('SELECT program_id FROM segment WHERE id = $1', [segmentId]);
  return r?.program_id;
}

// ─── price changes ───

export async function insertPriceChange(
  db: Queryable,
  c: { id: string; rewardId: string; programId: string; pointsCost: number; cashPart: number | null; announceAt: string; effectiveAt: string; by: string },
  now: Date,
): Promise<PriceChange> {
  const [r] = await db.query<{ pc: PriceChange }>(
    `WITH ins AS (
       INSERT INTO reward_price_change (id, reward_id, program_id, points_cost, cash_part, announce_at, effective_at, created_at, created_by)
       VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6, $7, $8, $9) RETURNING *)
     SELECT jf_price_change_json(ins, $8) AS pc FROM ins`,
    [c.id, c.rewardId, c.programId, c.pointsCost, c.cashPart, c.announceAt, c.effectiveAt, now.toISOString(), c.by],
  );
  return r!.pc;
}

export async function priceChangeAt(db: Queryable, rewardId: string, effectiveAt: string): Promise<string | undefined> {
  const [r] = await db.query<{ id: string }>('SELECT id FROM reward_price_change WHERE reward_id = $1 AND effective_at = $2', [rewardId, effectiveAt]);
  return r?.id;
}

export async function listPriceChanges(db: Queryable, rewardId: string, now: Date): Promise<PriceChange[]> {
  const rows = await db.query<{ pc: PriceChange }>(
    'SELECT jf_price_change_json(pc, $2) AS pc FROM reward_price_change pc WHERE pc.reward_id = $1 ORDER BY pc.effective_at',
    [rewardId, now.toISOString()],
  );
  return rows.map((r) => r.pc);
}

export async function findPriceChange(db: Queryable, rewardId: string, id: string, now: Date): Promise<PriceChange | undefined> {
  const [r] = await db.query<{ pc: PriceChange }>(
    'SELECT jf_price_change_json(pc, $3) AS pc FROM reward_price_change pc WHERE pc.reward_id = $1 AND pc.id = $2',
    [rewardId, id, now.toISOString()],
  );
  return r?.pc;
}

export async function deletePriceChange(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM reward_price_change WHERE id = $1', [id]);
}

// ─── redemptions ───

export type RedemptionFunction = 'rewards_redeem' | 'rewards_restore';

/** One round trip: the function claims the idempotency key, locks the member, checks, writes and answers. */
export async function callRewards<T>(db: Queryable, fn: RedemptionFunction, p: Record<string, unknown>): Promise<WriteResult<T>> {
  const [row] = await db.query<{ r: WriteResult<T> }>(`SELECT ${fn}($1::text::jsonb) AS r`, [JSON.stringify(p)]);
  return row!.r;
}

export async function findRedemption(db: Queryable, id: string, lock = false): Promise<Redemption | undefined> {
  const [r] = await db.query<{ d: Redemption }>(
    `SELECT jf_redemption_json(d) || jsonb_build_object('history', (
              SELECT coalesce(jsonb_agg(jsonb_build_object('id', h.id, 'type', h.type, 'at', jf_ts(h.at), 'actor', h.actor, 'payload', h.payload)
                                        ORDER BY h.at, h.id), '[]'::jsonb)
                FROM redemption_history h WHERE h.redemption_id = d.id)) AS d
       FROM redemption d WHERE d.id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return r?.d;
}

export interface RedemptionFilter {
  programId?: string;
  memberId?: string;
  rewardId?: string;
  status?: string;
}

export async function listRedemptions(
  db: Queryable,
  f: RedemptionFilter,
  limit: number,
  before: [string, string] | undefined,
): Promise<{ d: RedemptionListItem; at: string; id: string }[]> {
  return db.query(
    `SELECT jf_redemption_json(d) || jsonb_build_object('member', jsonb_build_object('name', m.name, 'external_id', m.external_id)) AS d,
            d.created_at::text AS at, d.id
       FROM redemption d JOIN member m ON m.id = d.member_id
      WHERE ($1::text IS NULL OR d.program_id = $1) AND ($2::text IS NULL OR d.member_id = $2)
        AND ($3::text IS NULL OR d.reward_id = $3) AND ($4::text IS NULL OR d.status = $4)
        AND ($5::timestamptz IS NULL OR (d.created_at, d.id) < ($5::timestamptz, $6::text))
      ORDER BY d.created_at DESC, d.id DESC
      LIMIT $7`,
    [f.programId ?? null, f.memberId ?? null, f.rewardId ?? null, f.status ?? null, before?.[0] ?? null, before?.[1] ?? null, limit + 1],
  );
}

/** A step of the order (ship, deliver): status, its columns, one history row. */
export async function advanceRedemption(
  db: Queryable,
  id: string,
  step: { status: 'shipped' | 'delivered'; carrier?: string; trackingNumber?: string },
  actor: string,
  now: Date,
): Promise<void> {
  const [d] = await db.query<{ program_id: string; member_id: string; reward_id: string }>(
    `UPDATE redemption SET status = $2, updated_at = $3,
            carrier = coalesce($4, carrier), tracking_number = coalesce($5, tracking_number),
            shipped_at = CASE WHEN $2 = 'shipped' THEN $3::timestamptz ELSE shipped_at END,
            delivered_at = CASE WHEN $2 = 'delivered' THEN $3::timestamptz ELSE delivered_at END
      WHERE id = $1 RETURNING program_id, member_id, reward_id`,
    [id, step.status, now.toISOString(), step.carrier ?? null, step.trackingNumber ?? null],
  );
  await db.query(
    `INSERT INTO redemption_history (id, program_id, redemption_id, member_id, reward_id, type, at, actor, payload)
     VALUES (jf_id('rdh'), $1, $2, $3, $4, $5, $6, $7, $8::text::jsonb)`,
    [
      d!.program_id,
      id,
      d!.member_id,
      d!.reward_id,
      `redemption.${step.status}`,
      now.toISOString(),
      actor,
      JSON.stringify(step.status === 'shipped' ? { carrier: step.carrier, tracking_number: step.trackingNumber } : {}),
    ],
  );
}

// ─── the member's catalogue ───

export interface CatalogueRow {
  r: Reward;
  at: string;
  id: string;
  used: number;
  in_segment: boolean;
  required_rank: number | null;
  limit_per_member: number | null;
}

export interface MemberContext {
  program_id: string;
  time_zone: string;
  available: number;
  tier_rank: number | null;
}

export async function memberContext(db: Queryable, memberId: string, now: Date): Promise<MemberContext | undefined> {
  const [m] = await db.query<MemberContext>(
    `SELECT m.program_id, pr.time_zone, (jf_balance(m.id, $2)->>'available')::float8 AS available,
            (SELECT (x.ord - 1)::int FROM tier_ladder l, jsonb_array_elements(l.tiers) WITH ORDINALITY x(t, ord)
              WHERE l.program_id = m.program_id AND x.t->>'code' = m.tier) AS tier_rank
       FROM member m JOIN program pr ON pr.id = m.program_id WHERE m.id = $1`,
    [memberId, now.toISOString()],
  );
  return m;
}

/** Active rewards of the program (lotteries only when asked for by type: they are drawn) with what the member's state needs: units used in the limit's period, segment membership, the required rank. */
export async function catalogue(
  db: Queryable,
  memberId: string,
  ctx: MemberContext,
  filter: { type?: string; category?: string },
  limit: number,
  before: [string, string] | undefined,
  now: Date,
): Promise<CatalogueRow[]> {
  return db.query<CatalogueRow>(
    `SELECT jf_reward_json(r, $1) AS r, r.created_at::text AS at, r.id, r.limit_per_member,
            CASE WHEN r.limit_per_member IS NULL THEN 0 ELSE (
              SELECT coalesce(sum(d.quantity), 0)::float8 FROM redemption d
               WHERE d.member_id = $3 AND d.reward_id = r.id AND d.status NOT IN ('cancelled', 'rejected', 'fulfilment_failed')
                 AND d.created_at >= jf_reward_period_start(r.limit_period, $4, $1)) END AS used,
            r.segment_id IS NOT NULL AND EXISTS (SELECT 1 FROM segment_member sm WHERE sm.segment_id = r.segment_id AND sm.member_id = $3) AS in_segment,
            (SELECT (x.ord - 1)::int FROM tier_ladder l, jsonb_array_elements(l.tiers) WITH ORDINALITY x(t, ord)
              WHERE l.program_id = r.program_id AND x.t->>'code' = r.min_tier) AS required_rank
       FROM reward r
      WHERE r.program_id = $2 AND r.status = 'active' AND (r.type <> 'lottery' OR $5::text = 'lottery')
        AND ($5::text IS NULL OR r.type = $5) AND ($6::text IS NULL OR r.category = $6)
        AND ($7::timestamptz IS NULL OR (r.created_at, r.id) < ($7::timestamptz, $8::text))
      ORDER BY r.created_at DESC, r.id DESC
      LIMIT $9`,
    [
      now.toISOString(),
      ctx.program_id,
      memberId,
      ctx.time_zone,
      filter.type ?? null,
      filter.category ?? null,
      before?.[0] ?? null,
      before?.[1] ?? null,
      limit + 1,
    ],
  );
}

export async function donationTotals(db: Queryable, programId: string): Promise<{ project: string; points: number; donations: number; donors: number }[]> {
  return db.query(
    `SELECT r.donation_project AS project, coalesce(sum(d.points), 0)::float8 AS points, count(d.id)::float8 AS donations,
            count(DISTINCT d.member_id)::float8 AS donors
       FROM reward r LEFT JOIN redemption d ON d.reward_id = r.id AND d.status NOT IN ('cancelled', 'rejected', 'fulfilment_failed')
      WHERE r.program_id = $1 AND r.type = 'donation' AND r.donation_project IS NOT NULL
      GROUP BY r.donation_project ORDER BY r.donation_project`,
    [programId],
  );
}

export interface TopRewardRow {
  reward_id: string;
  reward_type: string;
  name: RewardName;
  status: string;
  redemptions: number;
  quantity: number;
  points: number;
  members: number;
}

/**
 * The rewards most redeemed over the `days` program-local days ending today (the dashboard's
 * window): redemptions made in it, not cancelled, rejected or failed. Reads redemption_program_idx
 * (program_id, created_at) for the window only.
 */
export async function topRewards(
  db: Queryable,
  programId: string,
  timeZone: string,
  now: Date,
  days: number,
  limit: number,
): Promise<{ from: string; to: string; rows: TopRewardRow[] }> {
  const [w] = await db.query<{ from: string; to: string; start: string }>(
    `SELECT (today - ($3::integer - 1))::text AS from, today::text AS to,
            ((today - ($3::integer - 1))::timestamp AT TIME ZONE $2)::text AS start
       FROM (SELECT ($1::timestamptz AT TIME ZONE $2)::date AS today) w`,
    [now.toISOString(), timeZone, days],
  );
  const rows = await db.query<TopRewardRow>(
    `SELECT d.reward_id, r.type AS reward_type, r.name, r.status, count(*)::float8 AS redemptions,
            sum(d.quantity)::float8 AS quantity, sum(d.points)::float8 AS points, count(DISTINCT d.member_id)::float8 AS members
       FROM redemption d JOIN reward r ON r.id = d.reward_id
      WHERE d.program_id = $1 AND d.created_at >= $2::timestamptz AND d.created_at <= $3::timestamptz
        AND d.status NOT IN ('cancelled', 'rejected', 'fulfilment_failed')
        -- what members chose to redeem: not the rewards lottery prizes gave out (their draws count)
        AND d.prize_of_draw_id IS NULL
      GROUP BY d.reward_id, r.type, r.name, r.status
      ORDER BY count(*) DESC, sum(d.points) DESC, d.reward_id
      LIMIT $4`,
    [programId, w!.start, now.toISOString(), limit],
  );
  return { from: w!.from, to: w!.to, rows };
}

/** The rewards a member's holds paid for, by hold id (what the hold's ledger entries were for). */
export async function redemptionRewards(db: Queryable, memberId: string, holdIds: string[]): Promise<{ hold_id: string; name: RewardName; type: string }[]> {
  if (holdIds.length === 0) return [];
  return db.query(
    `SELECT d.hold_id, r.name, d.reward_type AS type FROM redemption d JOIN reward r ON r.id = d.reward_id
      WHERE d.member_id = $2 AND d.hold_id = ANY ($1::text[])`,
    [holdIds, memberId],
  );
}
