import { type EvalMember, evaluate, type RuleSet, type UsageBook } from '../../modules/rules/index.ts';
import { DomainError } from '../../shared/errors.ts';
import type { EventMember } from './context.ts';
import { type Prepared, type Run, refuse } from './context.ts';

/** What the rule engine knows of a member. */
export function evalMember(m: Pick<EventMember, 'id' | 'tier' | 'tags' | 'birthday' | 'attributes'> & { segments?: string[] | null }): EvalMember {
  return { id: m.id, tier: m.tier, tags: m.tags, birthday: m.birthday, attributes: m.attributes, ...(m.segments ? { segments: m.segments } : {}) };
}

/**
 * Step 5: every event with the rule versions in force at its occurred_at, in order, in process.
 * An event's awards count for the member's next events of the batch (caps, frequency). An award
 * beyond the limits (AWARD_LIMIT_EXCEEDED) refuses its event only. Returns the evaluated events.
 */
export function evaluateAll(run: Run, todo: Prepared[], ruleSet: RuleSet, usage: UsageBook): Prepared[] {
  const evaluated: Prepared[] = [];
  for (const p of todo) {
    const m = p.member!;
    const memberUsage = usage.of(m.id);
    const rules = ruleSet.at(p.occurredAt);
    const ev = { id: p.input.id, type: p.input.type, occurred_at: p.occurredAt, data: p.data };
    const book = run.tiers;
    try {
      p.evaluation = book
        ? // a program with a tier ladder: at the member's tier as the batch has moved it (an upgrade counts at once)
          book.apply(p, evaluated.length, ruleSet, (rank) =>
            evaluate(rules, ev, evalMember({ ...m, tier: book.code(rank) }), run.program, run.now, memberUsage, book.benefit(rank)),
          )
        : evaluate(rules, ev, evalMember(m), run.program, run.now, memberUsage);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      refuse(run.outcomes, p, err);
      continue;
    }
    for (const a of p.evaluation.awards) memberUsage.add(a.rule_id, p.occurredAt, a.points);
    evaluated.push(p);
  }
  return evaluated;
}
