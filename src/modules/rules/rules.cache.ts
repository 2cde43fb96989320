import type { Queryable } from '../../db/db.ts';
import { allVersions } from './rules.repository.ts';
import { RuleSet } from './rules.set.ts';

/** Compiled rule sets per program, refreshed when the program's rules_revision moves. */
export class RuleCache {
  readonly #sets = new Map<string, { revision: number; set: Promise<RuleSet>; ready?: RuleSet }>();

  get(db: Queryable, programId: string, revision: number): Promise<RuleSet> {
    const hit = this.#sets.get(programId);
    if (hit && hit.revision === revision) return hit.set;
    const entry: { revision: number; set: Promise<RuleSet>; ready?: RuleSet } = {
      revision,
      set: allVersions(db, programId).then((rows) => (entry.ready = new RuleSet(rows))),
    };
    entry.set.catch(() => this.#sets.delete(programId));
    this.#sets.set(programId, entry);
    return entry.set;
  }

  /** The rule set last compiled for the program, whatever its revision, if any. */
  peek(programId: string): RuleSet | undefined {
    return this.#sets.get(programId)?.ready;
  }
}
