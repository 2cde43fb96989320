import type { Queryable } from '../../db/db.ts';
import type { WriteResult } from '../../shared/idempotency.ts';
import type { RewardName } from '../rewards/index.ts';
import type { ClientSeed, Draw, DrawListItem, DrawWeight, Prize, Seed } from './lottery.schemas.ts';

// ─── prizes ───

export async function insertPrize(
  db: Queryable,
  z: {
    id: string;
    rewardId: string;
    programId: string;
    code: string;
    name: unknown;
    weight: number;
    stock: number | null;
    points: number | null;
    prizeRewardId: string | null;
  },
  now: Date,
): Promise<Prize> {
  const [r] = await db.query<{ z: Prize }>(
    `WITH ins AS (
       INSERT INTO lottery_prize (id, reward_id, program_id, code, name, weight, stock, stock_left, points, created_at, updated_at, prize_reward_id)
       VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::integer, $7::bigint, $7::bigint, $8::bigint, $9, $9, $10) RETURNING *)
     SELECT jf_lottery_prize_json(ins) AS z FROM ins`,
    [z.id, z.rewardId, z.programId, z.code, JSON.stringify(z.name), z.weight, z.stock, z.points, now.toISOString(), z.prizeRewardId],
  );
  return r!.z;
}

export async function prizeCodeTaken(db: Queryable, rewardId: string, code: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM lottery_prize WHERE reward_id = $1 AND code = $2', [rewardId, code]);
  return rows.length > 0;
}

/** The prize as the API returns it, locked for an update when asked. */
export async function findPrize(db: Queryable, rewardId: string, id: string, lock = false): Promise<Prize | undefined> {
  const [r] = await db.query<{ z: Prize }>(
    `SELECT jf_lottery_prize_json(z) AS z FROM lottery_prize z WHERE z.id = $1 AND z.reward_id = $2${lock ? ' FOR UPDATE' : ''}`,
    [id, rewardId],
  );
  return r?.z;
}

export async function updatePrize(
  db: Queryable,
  id: string,
  c: { name?: unknown; weight?: number; stock?: number | null; stockLeft?: number | null; points?: number | null; prizeRewardId?: string | null },
  now: Date,
): Promise<Prize> {
  const sets: string[] = [];
  const params: unknown[] = [id, now.toISOString()];
  const set = (col: string, v: unknown, cast: string) => {
    params.push(v);
    sets.push(`${col} = $${params.length}${cast}`);
  };
  if (c.name !== undefined) set('name', JSON.stringify(c.name), '::text::jsonb');
  if (c.weight !== undefined) set('weight', c.weight, '::integer');
  if (c.stock !== undefined) set('stock', c.stock, '::bigint');
  if (c.stockLeft !== undefined) set('stock_left', c.stockLeft, '::bigint');
  if (c.points !== undefined) set('points', c.points, '::bigint');
  if (c.prizeRewardId !== undefined) set('prize_reward_id', c.prizeRewardId, '::text');
  const [r] = await db.query<{ z: Prize }>(
    `WITH upd AS (UPDATE lottery_prize SET updated_at = $2${sets.map((s) => `, ${s}`).join('')} WHERE id = $1 RETURNING *)
     SELECT jf_lottery_prize_json(upd) AS z FROM upd`,
    params,
  );
  return r!.z;
}

export async function archivePrize(db: Queryable, id: string, now: Date): Promise<Prize> {
  const [r] = await db.query<{ z: Prize }>(
    `WITH upd AS (UPDATE lottery_prize SET archived_at = $2, updated_at = $2 WHERE id = $1 RETURNING *)
     SELECT jf_lottery_prize_json(upd) AS z FROM upd`,
    [id, now.toISOString()],
  );
  return r!.z;
}

/** The prize table, in the order draws use (archived prizes only when asked). */
export async function listPrizes(db: Queryable, rewardId: string, archived: boolean): Promise<Prize[]> {
  const rows = await db.query<{ z: Prize }>(
    `SELECT jf_lottery_prize_json(z) AS z FROM lottery_prize z
      WHERE z.reward_id = $1 AND ($2::boolean OR z.archived_at IS NULL) ORDER BY z.created_at, z.id`,
    [rewardId, archived],
  );
  return rows.map((r) => r.z);
}

// ─── seeds ───

/** Serialises the rotations of one lottery (a transaction-scoped advisory lock). */
export async function lockRotation(db: Queryable, rewardId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext('lottery_seed:' || $1::text))`, [rewardId]);
}

/** The active seed's id, locked (a rotation waits for the draws under it, which hold it FOR SHARE). */
export async function activeSeedId(db: Queryable, rewardId: string): Promise<string | undefined> {
  const [r] = await db.query<{ id: string }>(`SELECT id FROM lottery_seed WHERE reward_id = $1 AND status = 'active' FOR UPDATE`, [rewardId]);
  return r?.id;
}

export async function revealSeed(db: Queryable, id: string, now: Date): Promise<Seed> {
  const [r] = await db.query<{ s: Seed }>(
    `WITH upd AS (UPDATE lottery_seed SET status = 'revealed', revealed_at = $2 WHERE id = $1 RETURNING *)
     SELECT jf_lottery_seed_json(upd) AS s FROM upd`,
    [id, now.toISOString()],
  );
  return r!.s;
}

export async function insertSeed(
  db: Queryable,
  s: { id: string; rewardId: string; programId: string; seed: string; seedHash: string },
  now: Date,
): Promise<Seed> {
  const [r] = await db.query<{ s: Seed }>(
    `WITH ins AS (
       INSERT INTO lottery_seed (id, reward_id, program_id, seed, seed_hash, status, created_at)
       VALUES ($1, $2, $3, $4, $5, 'active', $6) RETURNING *)
     SELECT jf_lottery_seed_json(ins) AS s FROM ins`,
    [s.id, s.rewardId, s.programId, s.seed, s.seedHash, now.toISOString()],
  );
  return r!.s;
}

/** Newest first; the cursor is (created_at, id). */
export async function listSeeds(db: Queryable, rewardId: string, limit: number, before: [string, string] | undefined) {
  return db.query<{ s: Seed; at: string; id: string }>(
    `SELECT jf_lottery_seed_json(s) AS s, s.created_at::text AS at, s.id FROM lottery_seed s
      WHERE s.reward_id = $1 AND ($2::timestamptz IS NULL OR (s.created_at, s.id) < ($2::timestamptz, $3::text))
      ORDER BY s.created_at DESC, s.id DESC LIMIT $4`,
    [rewardId, before?.[0] ?? null, before?.[1] ?? null, limit + 1],
  );
}

// ─── draws ───

export type DrawFunction = 'lottery_draw_begin' | 'lottery_draw_commit';

export interface DrawInputs {
  seed_id: string;
  seed: string;
  client_seed: string;
  nonce: number;
  weights: DrawWeight[];
  points: number;
}

export async function callDraw<T>(db: Queryable, fn: DrawFunction, p: Record<string, unknown>): Promise<T> {
  const [row] = await db.query<{ r: T }>(`SELECT ${fn}($1::text::jsonb) AS r`, [JSON.stringify(p)]);
  return row!.r;
}

export type BeginResult = WriteResult<Draw> | (DrawInputs & { replayed?: undefined });

export async function findDraw(db: Queryable, id: string): Promise<Draw | undefined> {
  const [r] = await db.query<{ d: Draw }>('SELECT jf_lottery_draw_json(d) AS d FROM lottery_draw d WHERE d.id = $1', [id]);
  return r?.d;
}

/** What the public verification needs: the draw's record and its seed, the seed text only once revealed. */
export async function verificationRow(db: Queryable, id: string) {
  const [r] = await db.query<{
    id: string;
    reward_id: string;
    seed_id: string;
    seed_hash: string;
    seed: string | null;
    seed_status: 'active' | 'revealed';
    client_seed: string;
    nonce: number;
    weights: DrawWeight[];
    prize_code: string;
    hmac: string;
  }>(
    `SELECT d.id, d.reward_id, d.seed_id, s.seed_hash, CASE WHEN s.status = 'revealed' THEN s.seed END AS seed, s.status AS seed_status,
            d.client_seed, d.nonce, d.weights, d.prize_code, d.hmac
       FROM lottery_draw d JOIN lottery_seed s ON s.id = d.seed_id WHERE d.id = $1`,
    [id],
  );
  return r;
}

/** Newest first, of a lottery (and a seed) or of a member, each with its member's name; the cursor is (at, id). */
export async function listDraws(
  db: Queryable,
  f: { rewardId?: string; memberId?: string; seedId?: string },
  limit: number,
  before: [string, string] | undefined,
) {
  return db.query<{ d: DrawListItem; at: string; id: string }>(
    `SELECT jf_lottery_draw_json(d) || jsonb_build_object('member', jsonb_build_object('name', m.name, 'external_id', m.external_id)) AS d,
            d.at::text AS at, d.id
       FROM lottery_draw d JOIN member m ON m.id = d.member_id
      WHERE ($1::text IS NULL OR d.reward_id = $1) AND ($2::text IS NULL OR d.member_id = $2) AND ($3::text IS NULL OR d.seed_id = $3)
        AND ($4::timestamptz IS NULL OR (d.at, d.id) < ($4::timestamptz, $5::text))
      ORDER BY d.at DESC, d.id DESC LIMIT $6`,
    [f.rewardId ?? null, f.memberId ?? null, f.seedId ?? null, before?.[0] ?? null, before?.[1] ?? null, limit + 1],
  );
}

// ─── client seeds ───

export async function findClientSeed(db: Queryable, memberId: string): Promise<ClientSeed | undefined> {
  const [r] = await db.query<ClientSeed>(
    `SELECT 'lottery_client_seed' AS object, client_seed, jf_ts(updated_at) AS updated_at FROM lottery_client_seed WHERE member_id = $1`,
    [memberId],
  );
  return r;
}

export async function upsertClientSeed(db: Queryable, memberId: string, clientSeed: string, now: Date): Promise<ClientSeed> {
  const [r] = await db.query<ClientSeed>(
    `INSERT INTO lottery_client_seed (member_id, client_seed, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (member_id) DO UPDATE SET client_seed = EXCLUDED.client_seed, updated_at = EXCLUDED.updated_at
     RETURNING 'lottery_client_seed' AS object, client_seed, jf_ts(updated_at) AS updated_at`,
    [memberId, clientSeed, now.toISOString()],
  );
  return r!;
}

/** The lottery and prize of a member's draws, by draw id (what a prize's points were for). */
export async function drawPrizeNames(db: Queryable, memberId: string, ids: string[]): Promise<{ id: string; lottery: RewardName; prize: RewardName }[]> {
  if (ids.length === 0) return [];
  return db.query(
    `SELECT d.id, r.name AS lottery, z.name AS prize
       FROM lottery_draw d JOIN reward r ON r.id = d.reward_id JOIN lottery_prize z ON z.id = d.prize_id
      WHERE d.id = ANY ($1::text[]) AND d.member_id = $2`,
    [ids, memberId],
  );
}

export interface MemberPrizeRow {
  reward_id: string;
  code: string;
  name: RewardName;
  points: number | null;
  weight: number;
  in_stock: boolean;
  issues: { reward_id: string; type: string; name: RewardName } | null;
}

/** The prizes (not archived) of the active lotteries of the member's program, in the order draws use. */
export async function memberLotteryPrizes(db: Queryable, memberId: string, rewardId: string | null): Promise<MemberPrizeRow[]> {
  return db.query(
    `SELECT z.reward_id, z.code, z.name, z.points::float8 AS points, z.weight, jf_lottery_prize_in_stock(z) AS in_stock,
            (SELECT jsonb_build_object('reward_id', pr.id, 'type', pr.type, 'name', pr.name) FROM reward pr WHERE pr.id = z.prize_reward_id) AS issues
       FROM member m
       JOIN reward r ON r.program_id = m.program_id AND r.type = 'lottery' AND r.status = 'active'
       JOIN lottery_prize z ON z.reward_id = r.id AND z.archived_at IS NULL
      WHERE m.id = $1 AND ($2::text IS NULL OR r.id = $2)
      ORDER BY r.created_at, r.id, z.created_at, z.id`,
    [memberId, rewardId],
  );
}
