import type { Queryable } from '../../db/db.ts';
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

export async function insertVersion(db: Queryable, ruleId: string, version: number, effectiveFrom: Date, definition: RuleDefinition, now: Date, actor: string | null): Promise<void> {
  await db.query(
    `INSERT INTO rule_version (rule_id, version, effective_from, definition, created_at, created_by)
     VALUES ($1, $2, $3, $4::text::jsonb, $5, $6)`,
    [ruleId, version, effectiveFrom.toISOString(), JSON.stringify(definition), now.toISOString(), actor],
  );
}

/** Tells every instance its compiled rules for the programme are stale. */
export async function bumpRulesRevision(db: Queryable, programId: string): Promise<void> {
  await db.query('UPDATE program SET rules_revision = rules_revision + 1 WHERE id = $1', [programId]);
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

export async function listRules(db: Queryable, programId: string, archivedBefore: Date | null, activeOnly: boolean | null, limit: number, after: string | undefined): Promise<RuleRow[]> {
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

/** Every version of every rule of a programme: what the engine compiles. */
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
