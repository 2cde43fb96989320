import type { Queryable } from '../../db/db.ts';
import type { Member, MemberCreate, MemberListQuery, MemberUpdate } from './members.schemas.ts';

const COLUMNS = `m.id, 'member' AS object, m.program_id, m.external_id, m.name, m.phone, m.email,
  to_char(m.birthday, 'YYYY-MM-DD') AS birthday, m.tier, m.tags, m.attributes, m.status, m.status_reason,
  jf_ts(m.created_at) AS created_at, jf_ts(m.updated_at) AS updated_at`;

/**
 * Inserts these members in one statement, in the order given (two writers of the same external ids
 * wait on the unique key in one order); returns those inserted. An external id the program already
 * has is skipped (so is a repeat of one earlier in the list). Their ledger accounts are the
 * ledger's to open (members.service's addMembers does both, in one transaction).
 */
export async function insertMembers(db: Queryable, programId: string, rows: { id: string; input: MemberCreate }[], now: Date): Promise<Member[]> {
  if (rows.length === 0) return [];
  // the ladder as committed: a ladder being written is waited for (jf_tier_ladder_lock)
  await db.query('SELECT jf_tier_ladder_lock($1, false)', [programId]);
  const json = rows.map(({ id, input }) => ({
    id,
    external_id: input.external_id,
    name: input.name ?? null,
    phone: input.phone ?? null,
    email: input.email ?? null,
    birthday: input.birthday ?? null,
    tier: input.tier ?? null,
    tier_given: input.tier !== undefined,
    tags: input.tags ?? [],
    attributes: input.attributes ?? {},
  }));
  return db.query<Member>(
    `WITH m AS (
       INSERT INTO member (id, program_id, external_id, name, phone, email, birthday, tags, attributes, created_at, updated_at, tier)
       SELECT r.id, $1, r.external_id, r.name, r.phone, r.email, r.birthday::date,
              ARRAY(SELECT jsonb_array_elements_text(r.tags)), r.attributes, $3, $3,
              -- a program with a tier ladder (tiers module): a new member starts at its base tier, and a
              -- tier sent is refused (409 TIER_MANAGED_BY_LADDER)
              CASE WHEN r.tier_given THEN jf_plain_tier($1, r.tier)
                   ELSE (SELECT l.tiers->0->>'code' FROM tier_ladder l WHERE l.program_id = $1) END
         FROM ROWS FROM (jsonb_to_recordset($2::text::jsonb)
                AS (id text, external_id text, name text, phone text, email text, birthday text, tier text, tier_given boolean, tags jsonb, attributes jsonb))
              WITH ORDINALITY AS r
        ORDER BY r.ordinality
       ON CONFLICT (program_id, external_id) DO NOTHING
       RETURNING *
     )
     SELECT ${COLUMNS} FROM m`,
    [programId, JSON.stringify(json), now.toISOString()],
  );
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
export async function updateMember(
  db: Queryable,
  id: string,
  patch: MemberUpdate,
  now: Date,
  scope: readonly string[] | null = null,
): Promise<Member | undefined> {
  // A field absent from the patch keeps its value; a field sent as null is cleared.
  const has = (k: keyof MemberUpdate) => Object.hasOwn(patch, k);
  // the plain tier against the ladder as committed (jf_tier_ladder_lock)
  if (has('tier')) await db.query('SELECT jf_tier_ladder_lock(program_id, false) FROM member WHERE id = $1', [id]);
  const [row] = await db.query<Member>(
    `UPDATE member m SET
       name = CASE WHEN $2 THEN $3 ELSE name END,
       phone = CASE WHEN $4 THEN $5 ELSE phone END,
       email = CASE WHEN $6 THEN $7 ELSE email END,
       birthday = CASE WHEN $8 THEN $9::date ELSE birthday END,
       tags = coalesce($10::text[], tags),
       attributes = coalesce($11::text::jsonb, attributes),
       updated_at = $12,
       tier = CASE WHEN $13 THEN jf_plain_tier(m.program_id, $14) ELSE tier END
     WHERE id = $1 AND ($15::text[] IS NULL OR program_id = ANY ($15::text[])) RETURNING ${COLUMNS}`,
    [
      id,
      has('name'),
      patch.name ?? null,
      has('phone'),
      patch.phone ?? null,
      has('email'),
      patch.email ?? null,
      has('birthday'),
      patch.birthday ?? null,
      patch.tags ?? null,
      patch.attributes ? JSON.stringify(patch.attributes) : null,
      now.toISOString(),
      has('tier'),
      patch.tier ?? null,
      scope,
    ],
  );
  return row;
}

/** The member's program, or undefined if there is no such member. */
export async function programOfMember(db: Queryable, memberId: string): Promise<string | undefined> {
  const [row] = await db.query<{ program_id: string }>('SELECT program_id FROM member WHERE id = $1', [memberId]);
  return row?.program_id;
}
