import type { Queryable } from '../../db/db.ts';
import type { Program, ProgramCreate, ProgramUpdate } from './programs.schemas.ts';

const COLUMNS = `id, 'program' AS object, name, time_zone, currency, point_name, point_name_en, expiry_policy, pending_days,
  negative_balance_policy, redemption_rate, hold_timeout_seconds, metadata,
  jf_ts(created_at) AS created_at, jf_ts(updated_at) AS updated_at`;

export async function insertProgram(db: Queryable, id: string, p: Required<ProgramCreate>, now: Date): Promise<Program> {
  const [row] = await db.query<Program>(
    `INSERT INTO program (id, name, time_zone, currency, point_name, expiry_policy, pending_days,
       negative_balance_policy, redemption_rate, hold_timeout_seconds, metadata, created_at, updated_at, point_name_en)
     VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, $9, $10, $11::text::jsonb, $12, $12, $13)
     RETURNING ${COLUMNS}`,
    [
      id,
      p.name,
      p.time_zone,
      p.currency,
      p.point_name,
      JSON.stringify(p.expiry_policy),
      p.pending_days,
      p.negative_balance_policy,
      p.redemption_rate,
      p.hold_timeout_seconds,
      JSON.stringify(p.metadata),
      now.toISOString(),
      p.point_name_en,
    ],
  );
  return row!;
}

export async function findProgram(db: Queryable, id: string): Promise<Program | undefined> {
  const [row] = await db.query<Program>(`SELECT ${COLUMNS} FROM program WHERE id = $1`, [id]);
  return row;
}

/** scope: the API key's programs (null: all of them). */
/** Which of these program ids exist. */
export async function existingPrograms(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ id: string }>('SELECT id FROM program WHERE id = ANY ($1::text[])', [ids]);
  return new Set(rows.map((r) => r.id));
}

export async function listPrograms(db: Queryable, limit: number, after: string | undefined, scope: readonly string[] | null = null): Promise<Program[]> {
  return db.query<Program>(
    `SELECT ${COLUMNS} FROM program WHERE ($1::text IS NULL OR id > $1) AND ($3::text[] IS NULL OR id = ANY ($3::text[])) ORDER BY id LIMIT $2`,
    [after ?? null, limit + 1, scope],
  );
}

export async function updateProgram(db: Queryable, id: string, patch: ProgramUpdate, now: Date): Promise<Program | undefined> {
  const [row] = await db.query<Program>(
    `UPDATE program SET
       name = coalesce($2, name), time_zone = coalesce($3, time_zone), currency = coalesce($4, currency),
       point_name = coalesce($5, point_name), expiry_policy = coalesce($6::text::jsonb, expiry_policy),
       pending_days = coalesce($7, pending_days), negative_balance_policy = coalesce($8, negative_balance_policy),
       redemption_rate = coalesce($9, redemption_rate), hold_timeout_seconds = coalesce($10, hold_timeout_seconds),
       metadata = coalesce($11::text::jsonb, metadata), updated_at = $12, point_name_en = coalesce($13, point_name_en)
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      patch.name ?? null,
      patch.time_zone ?? null,
      patch.currency ?? null,
      patch.point_name ?? null,
      patch.expiry_policy ? JSON.stringify(patch.expiry_policy) : null,
      patch.pending_days ?? null,
      patch.negative_balance_policy ?? null,
      patch.redemption_rate ?? null,
      patch.hold_timeout_seconds ?? null,
      patch.metadata ? JSON.stringify(patch.metadata) : null,
      now.toISOString(),
      patch.point_name_en ?? null,
    ],
  );
  return row;
}

export async function bumpRulesRevision(db: Queryable, programId: string): Promise<void> {
  await db.query('UPDATE program SET rules_revision = rules_revision + 1 WHERE id = $1', [programId]);
}
