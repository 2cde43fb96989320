import type { Queryable } from '../../db/db.ts';

/** What evaluating a member's events needs of them (the rule engine's targeting and multipliers, and their status). */
export interface MemberProfile {
  id: string;
  external_id: string;
  tier: string | null;
  tags: string[];
  birthday: string | null;
  attributes: Record<string, unknown>;
  status: 'active' | 'frozen' | 'closed';
}

/** The program's members with these ids or external ids (those that exist). */
export async function findMemberProfiles(db: Queryable, programId: string, ids: string[], externalIds: string[]): Promise<MemberProfile[]> {
  return db.query<MemberProfile>(
    `SELECT m.id, m.external_id, m.tier, m.tags, to_char(m.birthday, 'YYYY-MM-DD') AS birthday, m.attributes, m.status
       FROM member m
      WHERE m.program_id = $1 AND (m.id = ANY ($2::text[]) OR m.external_id = ANY ($3::text[]))`,
    [programId, ids, externalIds],
  );
}
