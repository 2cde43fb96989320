import type { Queryable } from '../../db/db.ts';
import type { PastAwards } from './rules.awards.ts';
import type { RuleDefinition } from './rules.schemas.ts';

export interface RuleRow {
  id: string;
  program_id: string;
  created_at: string;
  archived_at: string | null;
}

export interface VersionRow {
  rule_id: string;
  version: number;
  effective_from: string;
  definition: RuleDefinition;
  created_at: string;
  created_by: string | null;
}

export async function insertRule(db: Queryable, id: string, programId: string, now: Date): Promise<void> {
  await db.query('INSERT INTO rule (id, program_id, created_at) VALUES ($1, $2, $3)', [id, programId, now.toISOString()]);
}

export async function insertVersion(
  db: Queryable,
  ruleId: string,
  version: number,
  effectiveFrom: Date,
  definition: RuleDefinition,
  now: Date,
  actor: string | null,
): Promise<void> {
  await db.query(
    `INSERT INTO rule_version (rule_id, version, effective_from, definition, created_at, created_by)
     VALUES ($1, $2, $3, $4::text::jsonb, $5, $6)`,
    [ruleId, version, effectiveFrom.toISOString(), JSON.stringify(definition), now.toISOString(), actor],
  );
}

/**
 * The program's rules are about to change. Waits for the event batches evaluated with the old
 * rules that are committing (events_commit holds the same advisory lock, shared, and refuses a batch
 * evaluated with another revision): once the revision has moved (programs' bumpRulesRevision, in
 * the same transaction), every batch is evaluated again with the new rules.
 */
export async function lockRulesRevision(db: Queryable, programId: string): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock(7262312, hashtext($1))', [programId]);
}

/**
 * A rule gets its first per-member cap or frequency limit: from now on its awards are recorded in
 * rule_award (rules.cache, isLimited), and its past awards are copied there from the events'
 * results (read by the events module: pastAwards), so the new limit counts what the members earned
 * before it. Runs after rulesChanged (rules.service), in its transaction: every batch evaluated
 * with the old rules has committed, and no event of the program commits until this transaction
 * ends (events_commit waits on the advisory lock), so the pages read are one consistent whole.
 */
export async function backfillAwards(db: Queryable, programId: string, ruleId: string, pastAwards: PastAwards): Promise<void> {
  await db.query('DELETE FROM rule_award WHERE rule_id = $1', [ruleId]);
  for await (const page of pastAwards(db, programId, ruleId)) {
    if (page.length === 0) continue;
    await db.query(
      `INSERT INTO rule_award (program_id, member_id, rule_id, rule_version, event_id, entry_id, points, awarded_at)
       SELECT $1, a.member_id, $2, a.rule_version, a.event_id, a.entry_id, a.points, a.awarded_at::timestamptz
         FROM jsonb_to_recordset($3::text::jsonb)
           AS a(member_id text, rule_version integer, event_id text, entry_id text, points bigint, awarded_at text)`,
      [programId, ruleId, JSON.stringify(page)],
    );
  }
}

export async function lockRule(db: Queryable, ruleId: string): Promise<RuleRow | undefined> {
  const [row] = await db.query<RuleRow>(
    `SELECT id, program_id, jf_ts(created_at) AS created_at, jf_ts(archived_at) AS archived_at FROM rule WHERE id = $1 FOR UPDATE`,
    [ruleId],
  );
  return row;
}

export async function archiveRule(db: Queryable, ruleId: string, at: Date): Promise<void> {
  await db.query('UPDATE rule SET archived_at = $2 WHERE id = $1', [ruleId, at.toISOString()]);
}

const RULE_COLUMNS = `r.id, r.program_id, jf_ts(r.created_at) AS created_at, jf_ts(r.archived_at) AS archived_at`;
const VERSION_COLUMNS = `v.rule_id, v.version, jf_ts(v.effective_from) AS effective_from, v.definition, jf_ts(v.created_at) AS created_at, v.created_by`;

export async function findRule(db: Queryable, ruleId: string): Promise<RuleRow | undefined> {
  const [row] = await db.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM rule r WHERE r.id = $1`, [ruleId]);
  return row;
}

export async function versionsOf(db: Queryable, ruleIds: string[]): Promise<VersionRow[]> {
  if (ruleIds.length === 0) return [];
  return db.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM rule_version v WHERE v.rule_id = ANY ($1::text[]) ORDER BY v.rule_id, v.version DESC`, [ruleIds]);
}

export async function listRules(
  db: Queryable,
  programId: string,
  archivedBefore: Date | null,
  activeOnly: boolean | null,
  limit: number,
  after: string | undefined,
): Promise<RuleRow[]> {
  return db.query<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM rule r
      WHERE r.program_id = $1 AND ($2::text IS NULL OR r.id > $2)
        AND ($3::boolean IS NULL OR ($3 = (r.archived_at IS NULL OR r.archived_at > $4)))
      ORDER BY r.id LIMIT $5`,
    [programId, after ?? null, activeOnly, archivedBefore?.toISOString() ?? null, limit + 1],
  );
}

export interface RuleSetRow {
  rule_id: string;
  rule_created_at: string;
  archived_at: string | null;
  version: number;
  effective_from: string;
  definition: RuleDefinition;
}

/** Every version of every rule of a program: what the engine compiles. */
export async function allVersions(db: Queryable, programId: string): Promise<RuleSetRow[]> {
  return db.query<RuleSetRow>(
    `SELECT r.id AS rule_id, jf_ts(r.created_at) AS rule_created_at, jf_ts(r.archived_at) AS archived_at,
            v.version, jf_ts(v.effective_from) AS effective_from, v.definition
       FROM rule r JOIN rule_version v ON v.rule_id = r.id
      WHERE r.program_id = $1
      ORDER BY r.id, v.version`,
    [programId],
  );
}
