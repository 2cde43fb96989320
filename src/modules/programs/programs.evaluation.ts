import type { Queryable } from '../../db/db.ts';

/** What evaluating a program's events needs of it; `rules_revision` moves whenever its rules change. */
export interface EvaluationProgram {
  id: string;
  time_zone: string;
  currency: string;
  pending_days: number;
  rules_revision: number;
}

export async function findProgramForEvaluation(db: Queryable, programId: string): Promise<EvaluationProgram | undefined> {
  const [row] = await db.query<EvaluationProgram>('SELECT id, time_zone, currency, pending_days, rules_revision FROM program WHERE id = $1', [programId]);
  return row;
}
