import { customTypes, type EventInput } from '../../modules/events/index.ts';
import { findMemberProfiles } from '../../modules/members/index.ts';
import { findProgramForEvaluation, isIntlTimeZone, unsupportedTimeZone } from '../../modules/programs/index.ts';
import { type EvalMember, evaluate, type Skip, type Warning } from '../../modules/rules/index.ts';
import { DomainError } from '../../shared/errors.ts';
import { timestampOf } from '../../shared/formats.ts';
import { breakdown } from './commit.ts';
import type { IngestDeps, Prepared } from './context.ts';
import { evalMember } from './evaluate.ts';
import { loadUsage } from './usage.ts';
import { validateEvent } from './validate.ts';

export interface Preview {
  object: 'preview';
  points: number;
  awards: { rule_id: string; rule_version: number; points: number; available_at: string | null; text: string; explanation: Record<string, unknown> }[];
  skipped: Skip[];
  warnings: Warning[];
}

/**
 * "You will earn N points": evaluates an event as if it were processed now, writing nothing. The
 * member is optional (a guest checkout is evaluated as a member without tier or tags). Program
 * budgets are not applied: they depend on everyone else's awards at the time.
 */
export async function previewEvent(deps: IngestDeps, programId: string, input: EventInput, now: Date): Promise<Preview> {
  const { db } = deps;
  const program = await findProgramForEvaluation(db, programId);
  if (!program) throw new DomainError('PROGRAM_NOT_FOUND', `No program ${programId}`, { program_id: programId });
  if (!isIntlTimeZone(program.time_zone)) throw unsupportedTimeZone(program.id, program.time_zone);
  const custom = new Map((await customTypes(db, programId)).map((t) => [t.type, t]));
  const anonymous = !input.member_id && !input.external_member_id;
  const error = validateEvent(anonymous ? { ...input, member_id: 'mbr_preview' } : input, program.currency, custom, '');
  if (error) throw error;
  const occurredAt = input.occurred_at ? new Date(input.occurred_at) : now;
  const data = input.data ?? {};
  let member: EvalMember = { id: 'guest', tier: null, tags: [], birthday: null, attributes: {} };
  const prepared: Prepared = { index: 0, input, prefix: '', occurredAt, data };
  if (!anonymous) {
    const [m] = await findMemberProfiles(db, programId, input.member_id ? [input.member_id] : [], input.external_member_id ? [input.external_member_id] : []);
    if (!m) throw new DomainError('MEMBER_NOT_FOUND', `No member ${input.member_id ?? input.external_member_id} in ${programId}`);
    member = evalMember(m);
    // usage is read for the member (no award version: nothing is written)
    prepared.member = { ...m, award_version: 0 };
  }
  const ruleSet = await deps.rules.get(db, programId, Number(program.rules_revision));
  const usage = prepared.member ? (await loadUsage(db, program.time_zone, [prepared], ruleSet)).of(member.id) : undefined;
  const evaluation = evaluate(ruleSet.at(occurredAt), { id: input.id, type: input.type, occurred_at: occurredAt, data }, member, program, now, usage);
  return {
    object: 'preview',
    points: evaluation.total,
    awards: evaluation.awards.map((a) => ({
      rule_id: a.rule_id,
      rule_version: a.rule_version,
      points: a.points,
      available_at: timestampOf(now.getTime() + a.pending_days * 86_400_000),
      text: a.explanation.text,
      explanation: breakdown(a.explanation),
    })),
    skipped: evaluation.skipped,
    warnings: evaluation.warnings,
  };
}
