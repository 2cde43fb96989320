import type { Queryable } from '../../db/db.ts';
import type { Member, MemberCreate, MemberListQuery, MemberUpdate } from './members.schemas.ts';

const COLUMNS = `m.id, 'member' AS object, m.program_id, m.external_id, m.name, m.phone, m.email,
  to_char(m.birthday, 'YYYY-MM-DD') AS birthday, m.tier, m.tags, m.attributes, m.status, m.status_reason,
  jf_ts(m.created_at) AS created_at, jf_ts(m.updated_at) AS updated_at`;

/**
 * Inserts the member and its account row; returns nothing when the external id already exists.
 * The account (member_account) is the ledger's table: a member never exists without one, so both
 * rows are made in one statement (the one write members makes into another module's table).
 */
export async function insertMember(db: Queryable, id: string, programId: string, input: MemberCreate, now: Date): Promise<Member | undefined> {
  const [row] = await db.query<Member>(
    `WITH m AS (
       INSERT INTO member (id, program_id, external_id, name, phone, email, birthday, tags, attributes, created_at, updated_at, tier)
       VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8::text[], $9::text::jsonb, $10, $10, $11)
       ON CONFLICT (program_id, external_id) DO NOTHING
       RETURNING *
     ), a AS (
       INSERT INTO member_account (member_id, program_id, updated_at) SELECT id, program_id, updated_at FROM m
     )
     SELECT ${COLUMNS} FROM m`,
    [id, programId, input.external_id, input.name ?? null, input.phone ?? null, input.email ?? null, input.birthday ?? null,
      input.tags ?? [], JSON.stringify(input.attributes ?? {}), now.toISOString(), input.tier ?? null],
  );
  return row;
}

export async function findMember(db: Queryable, id: string): Promise<Member | undefined> {
  const [row] = await db.query<Member>(`SELECT ${COLUMNS} FROM member m WHERE m.id = $1`, [id]);
  return row;
}

export async function findMemberByExternalId(db: Queryable, programId: string, externalId: string): Promise<Member | undefined> {
  const [row] = await db.query<Member>(`SELECT ${COLUMNS} FROM member m WHERE m.program_id = $1 AND m.external_id = $2`, [programId, externalId]);
  return row;
}

export async function listMembers(db: Queryable, programId: string, query: MemberListQuery, limit: number, before: string | undefined): Promise<Member[]> {
  return db.query<Member>(
    `SELECT ${COLUMNS} FROM member m
      WHERE m.program_id = $1
        AND ($2::text IS NULL OR m.id < $2)
        AND ($3::text IS NULL OR m.external_id = $3 OR m.phone = $3 OR lower(m.email) = lower($3)
             OR m.name ILIKE '%' || replace(replace(replace($3, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')
        AND ($4::text IS NULL OR m.status = $4)
        AND ($5::text IS NULL OR $5 = ANY (m.tags))
      ORDER BY m.id DESC
      LIMIT $6`,
    [programId, before ?? null, query.q ?? null, query.status ?? null, query.tag ?? null, limit + 1],
  );
}

/** scope: the API key's programs (null: all); a member of another program is not updated (not found). */
export async function updateMember(db: Queryable, id: string, patch: MemberUpdate, now: Date, scope: readonly string[] | null = null): Promise<Member | undefined> {
  // A field absent from the patch keeps its value; a field sent as null is cleared.
  const has = (k: keyof MemberUpdate) => Object.hasOwn(patch, k);
  const [row] = await db.query<Member>(
    `UPDATE member m SET
       name = CASE WHEN $2 THEN $3 ELSE name END,
       phone = CASE WHEN $4 THEN $5 ELSE phone END,
       email = CASE WHEN $6 THEN $7 ELSE email END,
       birthday = CASE WHEN $8 THEN $9::date ELSE birthday END,
       tags = coalesce($10::text[], tags),
       attributes = coalesce($11::text::jsonb, attributes),
       updated_at = $12,
       tier = CASE WHEN $13 THEN $14 ELSE tier END
     WHERE id = $1 AND ($15::text[] IS NULL OR program_id = ANY ($15::text[])) RETURNING ${COLUMNS}`,
    [id, has('name'), patch.name ?? null, has('phone'), patch.phone ?? null, has('email'), patch.email ?? null,
      has('birthday'), patch.birthday ?? null, patch.tags ?? null, patch.attributes ? JSON.stringify(patch.attributes) : null,
      now.toISOString(), has('tier'), patch.tier ?? null, scope],
  );
  return row;
}

/** The member's program, or undefined if there is no such member. */
export async function programOfMember(db: Queryable, memberId: string): Promise<string | undefined> {
  const [row] = await db.query<{ program_id: string }>('SELECT program_id FROM member WHERE id = $1', [memberId]);
  return row?.program_id;
}
