import type { Queryable } from '../../db/db.ts';
import type { QualifyingWindow, TierChange, TierHistoryType, TierMetric, Validity } from './tiers.schemas.ts';

/** A tier as tier_ladder.tiers stores it (normalized: every field filled in). */
export interface StoredTier {
  code: string;
  name: { 'zh-CN': string; en: string };
  entry: number;
  retention: number;
  multiplier: string;
  birthday_points: number;
  welcome_points: number;
  grants: { key: string; name: { 'zh-CN': string; en: string }; every: 'month' | 'quarter' | 'year'; points?: number; coupon_prefix?: string }[];
  perks: { 'zh-CN': string; en: string }[];
}

export interface LadderRow {
  program_id: string;
  metric: TierMetric;
  qualifying_window: QualifyingWindow;
  validity: Validity;
  downgrade_policy: 'one_step' | 'requalify' | 'never';
  grace_days: number;
  upgrade_event_rate: 'old' | 'new';
  tiers: StoredTier[];
  revision: number;
  created_at: string;
  updated_at: string;
}

const LADDER_COLUMNS = `l.program_id, l.metric, l.qualifying_window, l.validity, l.downgrade_policy, l.grace_days, l.upgrade_event_rate, l.tiers,
  l.revision, jf_ts(l.created_at) AS created_at, jf_ts(l.updated_at) AS updated_at`;

export async function findLadder(db: Queryable, programId: string, forUpdate = false): Promise<LadderRow | undefined> {
  const [row] = await db.query<LadderRow>(`SELECT ${LADDER_COLUMNS} FROM tier_ladder l WHERE l.program_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [programId]);
  return row;
}

/** Takes the program's ladder lock exclusively (jf_tier_ladder_lock), until the transaction ends. */
export async function lockLadderWriters(tx: Queryable, programId: string): Promise<void> {
  await tx.query('SELECT jf_tier_ladder_lock($1, true)', [programId]);
}

export async function hasLadder(db: Queryable, programId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM tier_ladder WHERE program_id = $1', [programId])).length > 0;
}

/** Members at each effective tier now (member.tier). */
export async function membersPerTier(db: Queryable, programId: string): Promise<Map<string, number>> {
  const rows = await db.query<{ tier: string | null; n: number }>(
    'SELECT m.tier, count(*)::integer AS n FROM member m WHERE m.program_id = $1 GROUP BY m.tier',
    [programId],
  );
  return new Map(rows.filter((r) => r.tier !== null).map((r) => [r.tier!, r.n]));
}

export interface LadderWrite {
  programId: string;
  metric: TierMetric;
  qualifyingWindow: QualifyingWindow;
  validity: Validity;
  downgradePolicy: string;
  graceDays: number;
  upgradeEventRate: string;
  tiers: StoredTier[];
}

/** Writes the ladder (a first one, or the next revision). Returns whether it was the first. */
export async function upsertLadder(tx: Queryable, l: LadderWrite, now: Date): Promise<boolean> {
  const [row] = await tx.query<{ first: boolean }>(
    `INSERT INTO tier_ladder AS l (program_id, metric, qualifying_window, validity, downgrade_policy, grace_days, upgrade_event_rate, tiers, created_at, updated_at)
     VALUES ($1, $2, $3::text::jsonb, $4::text::jsonb, $5, $6, $7, $8::text::jsonb, $9, $9)
     ON CONFLICT (program_id) DO UPDATE
       SET metric = excluded.metric, qualifying_window = excluded.qualifying_window, validity = excluded.validity,
           downgrade_policy = excluded.downgrade_policy, grace_days = excluded.grace_days, upgrade_event_rate = excluded.upgrade_event_rate,
           tiers = excluded.tiers, revision = l.revision + 1, updated_at = excluded.updated_at
     RETURNING l.revision = 1 AS first`,
    [
      l.programId,
      l.metric,
      JSON.stringify(l.qualifyingWindow),
      JSON.stringify(l.validity),
      l.downgradePolicy,
      l.graceDays,
      l.upgradeEventRate,
      JSON.stringify(l.tiers),
      now.toISOString(),
    ],
  );
  return row!.first;
}

/** Of these codes, those members of the program hold (member.tier, earned tier or override). */
export async function tiersInUse(tx: Queryable, programId: string, codes: string[]): Promise<{ code: string; members: number }[]> {
  if (codes.length === 0) return [];
  return tx.query<{ code: string; members: number }>(
    `SELECT c.code, count(DISTINCT m.id)::integer AS members
       FROM unnest($2::text[]) AS c(code)
       JOIN member m ON m.program_id = $1
       LEFT JOIN member_tier mt ON mt.member_id = m.id
      WHERE m.tier = c.code OR mt.tier = c.code OR mt.override_tier = c.code
      GROUP BY c.code ORDER BY c.code`,
    [programId, codes],
  );
}

export interface RebuildResult {
  activity_rows: number;
  upgraded: number;
  overrides: number;
}

export async function rebuild(tx: Queryable, programId: string, now: Date, first: boolean, keepUntil: string | null, actor: string): Promise<RebuildResult> {
  const [row] = await tx.query<{ r: RebuildResult }>('SELECT tiers_rebuild($1, $2, $3, $4::date, $5) AS r', [
    programId,
    now.toISOString(),
    first,
    keepUntil,
    actor,
  ]);
  return row!.r;
}

/** The program's local day of an instant. */
export async function localToday(db: Queryable, programId: string, now: Date): Promise<string> {
  const [row] = await db.query<{ d: string }>('SELECT (($2::timestamptz) AT TIME ZONE p.time_zone)::date::text AS d FROM program p WHERE p.id = $1', [
    programId,
    now.toISOString(),
  ]);
  return row!.d;
}

/** What tiers_status returns (31_tiers_ladder.sql). */
export interface StatusRow {
  program_id: string;
  metric: TierMetric;
  tiers: StoredTier[];
  downgrade_policy: string;
  qualifying_window: QualifyingWindow;
  currency: string;
  tier: string | null;
  earned: string;
  since: string | null;
  valid_until: string | null;
  review_at: string | null;
  override_tier: string | null;
  override_until: string | null;
  override_reason: string | null;
  override_by: string | null;
  window_start: string;
  window_end: string;
  value: number;
  keep_start: string | null;
  keep_end: string | null;
  keep_value: number | null;
  grants: {
    kind: 'welcome' | 'birthday' | 'periodic';
    key: string;
    tier: string;
    period_start: string;
    points: number;
    coupon_code: string | null;
    issued_at: string;
  }[];
}

export async function status(db: Queryable, memberId: string, now: Date): Promise<StatusRow | undefined> {
  const [row] = await db.query<{ s: StatusRow | null }>('SELECT tiers_status($1, $2) AS s', [memberId, now.toISOString()]);
  return row?.s ?? undefined;
}

export interface MixRow {
  tiers: { code: string; name: { 'zh-CN': string; en: string }; members: number; overrides: number }[];
  upgrades_30d: number;
  downgrades_30d: number;
  at_risk: number;
}

export async function mix(db: Queryable, programId: string, now: Date): Promise<MixRow | undefined> {
  const [row] = await db.query<{ m: MixRow | null }>('SELECT tiers_mix($1, $2) AS m', [programId, now.toISOString()]);
  return row?.m ?? undefined;
}

/** Locks the member's account (every writer of a member takes this lock first) and says its program; undefined: no such member. */
export async function lockMember(tx: Queryable, memberId: string): Promise<{ program_id: string; created_at: string } | undefined> {
  const [row] = await tx.query<{ program_id: string; created_at: string }>(
    `SELECT m.program_id, jf_ts(m.created_at) AS created_at
       FROM member_account a JOIN member m ON m.id = a.member_id
      WHERE a.member_id = $1
        FOR UPDATE OF a`,
    [memberId],
  );
  return row;
}

export interface MemberTierRow {
  tier: string;
  override_tier: string | null;
  override_until: string | null;
  override_reason: string | null;
}

export async function findMemberTier(tx: Queryable, memberId: string): Promise<MemberTierRow | undefined> {
  const [row] = await tx.query<MemberTierRow>(
    'SELECT tier, override_tier, jf_ts(override_until) AS override_until, override_reason FROM member_tier WHERE member_id = $1',
    [memberId],
  );
  return row;
}

/** Sets the override (a member without a row gets one at the base tier, since it was made). */
export async function setOverride(
  tx: Queryable,
  o: { memberId: string; programId: string; baseTier: string; tier: string; until: string; reason: string; by: string },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO member_tier AS mt (member_id, program_id, tier, since, override_tier, override_until, override_reason, override_by, updated_at)
     SELECT m.id, $2, $3, m.created_at, $4, $5, $6, $7, $8 FROM member m WHERE m.id = $1
     ON CONFLICT (member_id) DO UPDATE
       SET override_tier = excluded.override_tier, override_until = excluded.override_until, override_reason = excluded.override_reason,
           override_by = excluded.override_by, updated_at = excluded.updated_at`,
    [o.memberId, o.programId, o.baseTier, o.tier, o.until, o.reason, o.by, now.toISOString()],
  );
}

export async function clearOverride(tx: Queryable, memberId: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE member_tier SET override_tier = NULL, override_until = NULL, override_reason = NULL, override_by = NULL, updated_at = $2
      WHERE member_id = $1`,
    [memberId, now.toISOString()],
  );
}

/** jf_tier_apply: member.tier to the effective tier, the account's award version bumped (under the lock). */
export async function applyTier(tx: Queryable, memberId: string, now: Date): Promise<string | null> {
  const [row] = await tx.query<{ code: string | null }>('SELECT jf_tier_apply($1, $2) AS code', [memberId, now.toISOString()]);
  return row!.code;
}

export async function insertHistory(
  tx: Queryable,
  h: {
    id: string;
    programId: string;
    memberId: string;
    type: TierHistoryType;
    from: string | null;
    to: string | null;
    reason: string;
    actor: string;
    payload: unknown;
  },
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO tier_history (id, program_id, member_id, type, at, from_tier, to_tier, reason, actor, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb)`,
    [h.id, h.programId, h.memberId, h.type, now.toISOString(), h.from, h.to, h.reason, h.actor, JSON.stringify(h.payload)],
  );
}

const HISTORY_COLUMNS = `'tier_change' AS object, h.id, h.program_id, h.member_id, h.type, jf_ts(h.at) AS at, h.from_tier, h.to_tier, h.reason, h.actor, h.payload`;

/** Newest first; `before`: the (at, id) of the last row of the previous page. */
export async function listHistory(
  db: Queryable,
  by: { memberId: string } | { programId: string },
  type: TierHistoryType | undefined,
  limit: number,
  before: [string, string] | undefined,
): Promise<TierChange[]> {
  const column = 'memberId' in by ? 'h.member_id' : 'h.program_id';
  return db.query<TierChange>(
    `SELECT ${HISTORY_COLUMNS} FROM tier_history h
      WHERE ${column} = $1 AND ($2::text IS NULL OR h.type = $2)
        AND ($3::timestamptz IS NULL OR (h.at, h.id) < ($3::timestamptz, $4::text))
      ORDER BY h.at DESC, h.id DESC
      LIMIT $5`,
    ['memberId' in by ? by.memberId : by.programId, type ?? null, before?.[0] ?? null, before?.[1] ?? null, limit + 1],
  );
}
