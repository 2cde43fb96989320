import type { Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { type ProgramScope, visible } from '../api-keys/index.ts';
import * as repo from './change-log.repository.ts';
import type { Change, ChangeListQuery, ChangeRecord } from './change-log.schemas.ts';

/** Appends one change; returns its id (chg_…). */
export async function recordChange(db: Queryable, record: ChangeRecord): Promise<string> {
  const id = newId('chg');
  await repo.insertChange(db, id, record);
  return id;
}

/** The program's changes, newest first. The caller checks the program exists and is in scope. */
export async function listChanges(db: Queryable, programId: string, query: ChangeListQuery): Promise<Page<Change>> {
  const limit = query.limit ?? 20;
  const after = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const rows = await repo.listChanges(db, programId, query, limit, after);
  return toPage(rows, limit, (c) => [c.at, c.id]);
}

function notFound(id: string): DomainError {
  return new DomainError('CHANGE_NOT_FOUND', `No change ${id}`, { change_id: id });
}

/** One change; a change of another program (or of the deployment, for a key limited to programs) is not found. */
export async function getChange(db: Queryable, id: string, scope: ProgramScope = null): Promise<Change> {
  const change = await repo.findChange(db, id);
  if (!change) throw notFound(id);
  if (scope !== null && (change.program_id === null || !visible(scope, id, change.program_id))) throw notFound(id);
  return change;
}
