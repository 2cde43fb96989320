import { customTypes, type EventInput, prepareEvents } from '../../modules/events/index.ts';
import { findMemberProfiles } from '../../modules/members/index.ts';
import { findProgramForEvaluation, isIntlTimeZone, unsupportedTimeZone } from '../../modules/programs/index.ts';
import {
  type CompiledRule,
  compileRule,
  type EvalMember,
  type Evaluation,
  evaluate,
  orderRules,
  type RuleDefinition,
  type Skip,
  type Warning,
} from '../../modules/rules/index.ts';
import { segmentIdsOfMembers } from '../../modules/segments/index.ts';
import { DomainError } from '../../shared/errors.ts';
import { timestampOf } from '../../shared/formats.ts';
import { breakdown } from './commit.ts';
import type { IngestDeps, Prepared } from './context.ts';
import { evalMember } from './evaluate.ts';
import { type TierBook, tierBook } from './tiers.ts';
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
 * A rule not saved yet, previewed with the rules in force: a new rule (no rule_id), or an edit of
 * a saved rule, which it replaces in the preview. Its awards and skips carry the rule_id (`draft`
 * for a new rule) and version 0.
 */
export interface DraftRule {
  rule_id?: string;
  definition: RuleDefinition;
}

/** The rule_id a new draft rule's awards and skips carry in a preview. */
export const DRAFT_RULE_ID = 'draft';

/**
 * "You will earn N points": evaluates an event as if it were processed now, writing nothing. The
 * member is optional (a guest checkout is evaluated as a member without tier or tags). Program
 * budgets are not applied: they depend on everyone else's awards at the time. With a draft rule,
 * the event is evaluated by the rules in force at its occurred_at with the draft in force too (in
 * place of the rule it edits): what the draft would earn before it is saved.
 */
export async function previewEvent(deps: IngestDeps, programId: string, input: EventInput, now: Date, draft?: DraftRule): Promise<Preview> {
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
  const inForce = draft ? withDraft(ruleSet.at(occurredAt), draft, now) : ruleSet.at(occurredAt);
  const usage = prepared.member ? (await loadUsage(db, program.time_zone, [prepared], { at: () => inForce })).of(member.id) : undefined;
  const ev = { id: input.id, type: input.type, occurred_at: occurredAt, data };
  let evaluation: Evaluation;
  const book = prepared.member ? await previewTiers(db, programId, program.time_zone, member.id, now) : undefined;
  if (prepared.member && (ruleSet.usesSegments || draft?.definition.targeting?.segments))
    member = { ...member, segments: (await segmentIdsOfMembers(db, [member.id])).get(member.id) ?? [] };
  if (book) {
    // a program with a tier ladder: at the member's tier, upgraded at once if this event crosses a threshold (as ingestion does)
    const m = member;
    evaluation = book.apply(prepared, 0, ruleSet, (rank) => evaluate(inForce, ev, { ...m, tier: book.code(rank) }, program, now, usage, book.benefit(rank)));
  } else {
    evaluation = evaluate(inForce, ev, member, program, now, usage);
  }
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

/** The ladder's book for one member (events_prepare: the ladder and the member's tier state), or none without a ladder. */
async function previewTiers(db: IngestDeps['db'], programId: string, tz: string, memberId: string, now: Date): Promise<TierBook | undefined> {
  const snap = await prepareEvents(db, { program_id: programId, external_ids: [], member_ids: [memberId], external_member_ids: [], now: now.toISOString() });
  return tierBook(snap, tz, now);
}

/**
 * The rules in force with the draft compiled among them (a bad definition is a 400 at its path
 * under /draft_rule/definition), replacing the version of the rule it edits, in evaluation order: an
 * edit keeps its rule's place among equal priorities, a new rule comes after the saved ones.
 */
function withDraft(rules: CompiledRule[], draft: DraftRule, now: Date): CompiledRule[] {
  const saved = draft.rule_id ? rules.find((r) => r.ruleId === draft.rule_id) : undefined;
  const compiled = compileRule(
    { rule_id: draft.rule_id ?? DRAFT_RULE_ID, version: 0, created_at: saved?.createdAt ?? now.toISOString(), definition: draft.definition },
    '/draft_rule/definition',
  );
  return orderRules([...rules.filter((r) => r.ruleId !== compiled.ruleId), compiled]);
}
