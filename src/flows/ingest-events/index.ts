import type { Queryable } from '../../db/db.ts';
import { isIntlTimeZone, unsupportedTimeZone } from '../../modules/programs/index.ts';
import { segmentIdsOfMembers } from '../../modules/segments/index.ts';
import { DomainError, fromDatabaseError } from '../../shared/errors.ts';
import { commitBatch } from './commit.ts';
import { type IngestDeps, type IngestItem, type ItemOutcome, type Prepared, type Run, refuse, type Snapshot } from './context.ts';
import { evaluateAll } from './evaluate.ts';
import { findMembers } from './members.ts';
import { planRefunds } from './refunds.ts';
import { replay, resolveRepeats } from './replay.ts';
import { readSnapshot } from './snapshot.ts';
import { loadTierStates, tierBook } from './tiers.ts';
import { usageOf } from './usage.ts';
import { validateAll } from './validate.ts';

/**
 * Events in, points out. For a batch of events of one program (after one read, snapshot.ts):
 *   1. validate each payload against its type (built-in or the program's custom schema);
 *   2. replay events already processed (an event id is processed once per program);
 *   3. find the members (member.registered creates an unknown one);
 *   4. read what each rule already awarded them (caps, frequency) and, for refunds, what the order earned;
 *   5. evaluate every event with the rule versions in force at its occurred_at (in process);
 *   6. write it all in one round trip (events_commit), which re-checks the members' award
 *      versions under lock; if someone else awarded them meanwhile, run 2–6 again.
 * One bad event does not fail the others: each gets its own result.
 */

export type { Skip } from '../../modules/rules/index.ts';
export type { IngestDeps, IngestItem, ItemOutcome } from './context.ts';
export { DRAFT_RULE_ID, type DraftRule, type Preview, previewEvent } from './preview.ts';

const MAX_ATTEMPTS = 5;

/** Processes the events of one program. `prefix` is the JSON pointer of each event in the request. */
export async function ingestEvents(deps: IngestDeps, programId: string, items: IngestItem[], now: Date): Promise<ItemOutcome[]> {
  const { db } = deps;
  const first = await readSnapshot(db, deps.rules, programId, items, now);
  if (!first.program) {
    const err = new DomainError('PROGRAM_NOT_FOUND', `No program ${programId}`, { program_id: programId });
    return items.map(({ index, input }) => ({ index, event_id: input.id, status: 404, error: err }));
  }
  const outcomes = new Map<number, ItemOutcome>();
  const valid = validateAll(items, first.program.currency, first.custom_types, now, outcomes);
  const run = (q: Queryable, snapshot: Snapshot, lockFirst: boolean, begin: Run['begin']): Run => ({
    db: q,
    rules: deps.rules,
    snapshot,
    program: snapshot.program!,
    now,
    outcomes,
    lockFirst,
    begin,
    tiers: tierBook(snapshot, snapshot.program!.time_zone, now),
  });

  for (let attempt = 1; ; attempt++) {
    try {
      const pending = valid.filter((p) => !outcomes.has(p.index));
      if (attempt === 1) {
        // optimistic: evaluate outside any transaction; events_commit checks nothing moved
        await process(
          run(db, first, false, (fn) => db.transaction(fn)),
          pending,
        );
      } else {
        // contended: lock the members first, so this attempt cannot be overtaken. db.transaction may
        // run this again from the start (deadlock, serialization failure): each run starts from the
        // outcomes decided before it, not from those of a run that was rolled back.
        const decided = new Map(outcomes);
        await db.transaction(async (tx) => {
          outcomes.clear();
          for (const [k, v] of decided) outcomes.set(k, v);
          return process(
            run(tx, await readSnapshot(tx, deps.rules, programId, items, now), true, (fn) => fn(tx)),
            pending,
          );
        });
      }
      break;
    } catch (err) {
      const e = err as { code?: string; constraint?: string; constraint_name?: string; message?: string };
      const domain = err instanceof DomainError ? err : fromDatabaseError(err);
      const stale =
        domain?.code === 'EVALUATION_STALE' ||
        (e.code === '23505' && /event_program_id_external_id_key/.test(`${e.constraint ?? e.constraint_name ?? ''} ${e.message ?? ''}`));
      const undecided = items.filter((i) => !outcomes.has(i.index) && valid.some((p) => p.index === i.index));
      if (domain?.code === 'BALANCE_LIMIT_EXCEEDED' && undecided.length > 1) {
        // a member's total would pass 2^53 − 1 (nothing of the batch was written): only the events
        // that would take it there are refused — each remaining event on its own, in order (rare)
        for (const one of undecided) {
          try {
            outcomes.set(one.index, (await ingestEvents(deps, programId, [one], now))[0]!);
          } catch (refused) {
            if (!(refused instanceof DomainError)) throw refused;
            refuse(outcomes, one, refused);
          }
        }
        break;
      }
      if (!stale || attempt >= MAX_ATTEMPTS) throw fromDatabaseError(err) ?? err;
      // someone wrote for the same members or events meanwhile: start over from what is stored now
    }
  }
  return items.map(({ index }) => outcomes.get(index)!);
}

/** Steps 2–6 for the valid events not decided yet. */
async function process(run: Run, valid: Prepared[]): Promise<void> {
  if (valid.length === 0) return;
  const { program } = run;

  // 2. replay
  const replayed = replay(run, valid);
  let todo = replayed.todo;
  // a zone stored before zones were checked on both sides: refused, as the engine cannot use it
  if (todo.length > 0 && !isIntlTimeZone(program.time_zone)) {
    const err = unsupportedTimeZone(program.id, program.time_zone);
    for (const p of todo) refuse(run.outcomes, p, err);
    return resolveRepeats(run, replayed);
  }

  // 3. members
  todo = await findMembers(run, todo);
  if (run.tiers) {
    // tier states of members the snapshot does not have (registered just now), or, on a contended
    // retry, of all of them again, read under the members' locks
    const inSnapshot = new Set(run.snapshot.members.flatMap((m) => (m.tier_state !== undefined ? [m.id] : [])));
    const ids = [...new Set(todo.map((p) => p.member!.id))];
    await loadTierStates(run.db, run.tiers, program.id, run.lockFirst ? ids : ids.filter((id) => !inSnapshot.has(id)), run.now, run.lockFirst);
  }
  const ruleSet = await run.rules.get(run.db, program.id, Number(program.rules_revision));

  // the members' segments, for rules that target segments, when the snapshot did not read them
  // (it reads them for the rules compiled before it; new rules, or members registered by the batch)
  if (ruleSet.usesSegments) {
    const missing = [...new Set(todo.flatMap((p) => (p.member!.segments ? [] : [p.member!.id])))];
    if (missing.length > 0) {
      const found = await segmentIdsOfMembers(run.db, missing);
      for (const p of todo) p.member!.segments ??= found.get(p.member!.id) ?? [];
    }
  }

  // 4. what rules already awarded, and what refunded orders earned
  const usage = await usageOf(run, todo, ruleSet);
  await planRefunds(run, todo);
  todo = todo.filter((p) => !run.outcomes.has(p.index));

  // 5. evaluate
  todo = evaluateAll(run, todo, ruleSet, usage);
  if (todo.length === 0) return resolveRepeats(run, replayed);

  // 6. write (with program budgets, which need a transaction of their own unless already in one)
  const write = (q: Queryable) => commitBatch(q, program.id, Number(program.rules_revision), ruleSet, todo, run.now, run.tiers);
  const budgeted = todo.some((p) => p.evaluation!.awards.some((a) => a.budget));
  const { results, json } = budgeted ? await run.begin(write) : await write(run.db);
  todo.forEach((p, i) => {
    run.outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: 201, result: results[i], json: json[i] });
  });
  resolveRepeats(run, replayed);
}
