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
  await repo.insertChanges(db, [{ id, record }]);
  return id;
}

interface Pending {
  id: string;
  record: ChangeRecord;
  resolve: (id: string) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for the change log. A write's row is recorded after the write committed, in a
 * transaction of its own, and the write answers only once the row is committed (so the log is
 * never behind what a client was told). One commit per row would cost every write a second disk
 * flush; instead, rows recorded while an INSERT is running wait for it and go together in the
 * next one: under load, one statement and one flush for many writes; alone, no wait at all.
 * A batch that fails is retried row by row, so one bad row fails only its own write's record.
 */
export class ChangeRecorder {
  readonly #db: Queryable;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #flushing = false;

  constructor(db: Queryable, maxBatch = 100) {
    this.#db = db;
    this.#maxBatch = maxBatch;
  }

  /** Resolves with the change's id once its row is committed. */
  record(record: ChangeRecord): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: newId('chg'), record, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          await repo.insertChanges(this.#db, batch);
          for (const p of batch) p.resolve(p.id);
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          for (const p of batch) {
            try {
              await repo.insertChanges(this.#db, [p]);
              p.resolve(p.id);
            } catch (one) {
              p.reject(one);
            }
          }
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
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
