import type { Queryable } from '../../db/db.ts';
import type { Change, ChangeListQuery, ChangeRecord } from './change-log.schemas.ts';

const COLUMNS = `c.id, 'change' AS object, jf_ts(c.at) AS at, c.program_id,
  json_build_object('type', c.actor_type, 'id', c.actor_id, 'name', c.actor_name) AS actor,
  c.operation, c.resource_type, c.resource_id, c.method, c.path, c.request_id, c.status, c.before, c.after, c.summary`;

/** The rows in one statement (one commit for all of them: see ChangeRecorder). */
export async function insertChanges(db: Queryable, rows: readonly { id: string; record: ChangeRecord }[]): Promise<void> {
  const values: string[] = [];
  const params: unknown[] = [];
  for (const { id, record: r } of rows) {
    const n = params.length;
    const p = (i: number) => `$${n + i}`;
    values.push(
      `(${p(1)}, ${p(2)}::timestamptz, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)}, ${p(12)}, ${p(13)}::int, ` +
        `${p(14)}::text::jsonb, ${p(15)}::text::jsonb, ${p(16)}::text::jsonb)`,
    );
    params.push(
      id,
      r.at.toISOString(),
      r.programId,
      r.actorType,
      r.actorId,
      r.actorName,
      r.operation,
      r.resourceType,
      r.resourceId,
      r.method,
      r.path,
      r.requestId,
      r.status,
      r.before,
      r.after,
      r.summary,
    );
  }
  await db.query(
    `INSERT INTO change_log (id, at, program_id, actor_type, actor_id, actor_name, operation, resource_type, resource_id,
                             method, path, request_id, status, before, after, summary)
     VALUES ${values.join(', ')}`,
    params,
  );
}

export async function findChange(db: Queryable, id: string): Promise<Change | undefined> {
  const [row] = await db.query<Change>(`SELECT ${COLUMNS} FROM change_log c WHERE c.id = $1`, [id]);
  return row;
}

/** Newest first, after the cursor's (at, id); limit + 1 rows. */
export async function listChanges(
  db: Queryable,
  programId: string,
  query: ChangeListQuery,
  limit: number,
  after: [string, string] | undefined,
): Promise<Change[]> {
  return db.query<Change>(
    `SELECT ${COLUMNS} FROM change_log c
      WHERE c.program_id = $1
        AND ($2::timestamptz IS NULL OR (c.at, c.id) < ($2::timestamptz, $3::text))
        AND ($4::text IS NULL OR c.operation = $4)
        AND ($5::text IS NULL OR c.resource_type = $5)
        AND ($6::text IS NULL OR c.resource_id = $6)
        AND ($7::text IS NULL OR c.actor_id = $7)
        AND ($8::text IS NULL OR c.actor_type = $8)
        AND ($9::timestamptz IS NULL OR c.at >= $9::timestamptz)
        AND ($10::timestamptz IS NULL OR c.at < $10::timestamptz)
      ORDER BY c.at DESC, c.id DESC
      LIMIT $11`,
    [
      programId,
      after?.[0] ?? null,
      after?.[1] ?? null,
      query.operation ?? null,
      query.resource_type ?? null,
      query.resource_id ?? null,
      query.actor_id ?? null,
      query.actor_type ?? null,
      query.from ?? null,
      query.to ?? null,
      limit + 1,
    ],
  );
}
