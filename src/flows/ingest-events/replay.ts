import type { Prepared, Run } from './context.ts';

/** The events of a run that are new, and those that repeat one of them (the same id twice in the batch). */
export interface Replay {
  todo: Prepared[];
  repeats: Prepared[];
  firstOf: Map<string, Prepared>;
}

/**
 * Step 2: an event id is processed once per program. An event processed before answers its
 * first result (200); the same id twice in one batch: the second answers what the first got.
 */
export function replay(run: Run, valid: Prepared[]): Replay {
  const stored = new Map(run.snapshot.existing.map((e) => [e.external_id, e]));
  const firstOf = new Map<string, Prepared>();
  const todo: Prepared[] = [];
  const repeats: Prepared[] = [];
  for (const p of valid) {
    const done = stored.get(p.input.id);
    if (done) run.outcomes.set(p.index, { index: p.index, event_id: p.input.id, status: 200, result: done.result });
    else if (firstOf.has(p.input.id)) repeats.push(p);
    else {
      firstOf.set(p.input.id, p);
      todo.push(p);
    }
  }
  return { todo, repeats, firstOf };
}

/** Once the first of each id is decided: its repeats answer the same (a result as a replay, 200). */
export function resolveRepeats(run: Run, { repeats, firstOf }: Replay): void {
  for (const p of repeats) {
    const o = run.outcomes.get(firstOf.get(p.input.id)!.index)!;
    run.outcomes.set(p.index, { ...o, index: p.index, status: o.result ? 200 : o.status });
  }
}
