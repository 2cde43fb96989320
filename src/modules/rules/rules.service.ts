import type { Static } from 'typebox';
import type { Db, Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';
import { type IdempotencyContext, type WriteResult, withIdempotency } from '../../shared/idempotency.ts';
import { newId } from '../../shared/ids.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { type ProgramScope, visible } from '../api-keys/index.ts';
import { bumpRulesRevision, getProgram } from '../programs/index.ts';
import type { PastAwards } from './rules.awards.ts';
import { compileRule } from './rules.engine.ts';
import * as repo from './rules.repository.ts';
import { MAX_BACKDATE_DAYS, type Rule, type RuleDefinition, type RuleVersion } from './rules.schemas.ts';
import { isLimited } from './rules.set.ts';

/** Tells every instance its compiled rules for the program are stale, once the batches evaluated with them have committed. */
async function rulesChanged(tx: Queryable, programId: string): Promise<void> {
  await repo.lockRulesRevision(tx, programId);
  await bumpRulesRevision(tx, programId);
}

export type RuleView = Static<typeof Rule>;
type VersionView = Static<typeof RuleVersion>;

function notFound(ruleId: string) {
  return new DomainError('RULE_NOT_FOUND', `No rule ${ruleId}`, { rule_id: ruleId });
}

/** The API shape: all versions newest first (future ones included), and the one in force now. */
function view(rule: repo.RuleRow, versions: repo.VersionRow[], now: Date): RuleView {
  const t = now.getTime();
  const archived = rule.archived_at !== null && Date.parse(rule.archived_at) <= t;
  const sorted = versions.filter((v) => v.rule_id === rule.id).sort((a, b) => b.version - a.version);
  const out: VersionView[] = sorted.map((v, i) => ({
    version: v.version,
    effective_from: v.effective_from,
    effective_until: i === 0 ? rule.archived_at : sorted[i - 1]!.effective_from,
    definition: v.definition,
    created_at: v.created_at,
    created_by: v.created_by,
    // on record from the version's own instants: only backdate: true lets effective_from precede them by more than the leeway
    backdated: Date.parse(v.effective_from) < Date.parse(v.created_at) - CLOCK_SKEW_MS,
  }));
  const current = archived
    ? null
    : (out.find((v) => Date.parse(v.effective_from) <= t && (v.effective_until === null || t < Date.parse(v.effective_until))) ?? null);
  return {
    id: rule.id,
    object: 'rule',
    program_id: rule.program_id,
    status: archived ? 'archived' : 'active',
    current,
    versions: out,
    created_at: rule.created_at,
  };
}

/** A minute of leeway for clock skew between the caller and us: an effective_from that recent is not "in the past". */
const CLOCK_SKEW_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * When a new version (or rule) takes effect: now by default, or a given instant. A past one only
 * with `backdate: true` and at most MAX_BACKDATE_DAYS back: it then applies to events processed
 * from now on whose occurred_at falls after it; events already processed keep the result they got
 * (nothing is evaluated again, so what a member was told stays true).
 */
function effectiveFrom(given: string | undefined, now: Date, backdate = false): Date {
  if (given === undefined) return now;
  const at = new Date(given);
  if (at.getTime() >= now.getTime() - CLOCK_SKEW_MS) return at;
  if (!backdate) {
    throw new DomainError(
      'EFFECTIVE_FROM_IN_PAST',
      'A rule version cannot take effect in the past: events already evaluated would not match it (send backdate: true to publish it for events still to come)',
      { effective_from: given },
      [{ path: '/effective_from', location: 'body', message: 'must not be in the past', rule: 'not_past' }],
    );
  }
  const earliest = new Date(now.getTime() - MAX_BACKDATE_DAYS * DAY_MS);
  if (at.getTime() < earliest.getTime()) {
    throw new DomainError(
      'BACKDATE_LIMIT_EXCEEDED',
      `A rule version can be back-dated at most ${MAX_BACKDATE_DAYS} days, to ${earliest.toISOString()}`,
      { effective_from: given, earliest_effective_from: earliest.toISOString(), max_days: MAX_BACKDATE_DAYS },
      [
        {
          path: '/effective_from',
          location: 'body',
          message: `must be at or after ${earliest.toISOString()} (${MAX_BACKDATE_DAYS} days back)`,
          rule: 'backdate_limit',
          params: { limit: earliest.toISOString(), days: MAX_BACKDATE_DAYS },
        },
      ],
    );
  }
  return at;
}

export async function createRule(
  db: Db,
  programId: string,
  input: { definition: RuleDefinition; effective_from?: string; backdate?: boolean },
  now: Date,
  actor: string | null,
  idem?: IdempotencyContext,
): Promise<WriteResult<RuleView>> {
  await getProgram(db, programId);
  compileRule({ rule_id: 'rul_new', version: 1, created_at: now.toISOString(), definition: input.definition });
  const from = effectiveFrom(input.effective_from, now, input.backdate);
  return withIdempotency(db, idem, now, async (tx) => {
    const id = newId('rul');
    await repo.insertRule(tx, id, programId, now);
    await repo.insertVersion(tx, id, 1, from, input.definition, now, actor);
    await rulesChanged(tx, programId);
    return { status: 201, body: view((await repo.findRule(tx, id))!, await repo.versionsOf(tx, [id]), now) };
  });
}

/** What revising a rule needs of modules rules cannot import (the events module imports rules). */
export interface ReviseRuleSources {
  /** A rule's past awards, for its first per-member limit (the events module's awardsOfRule). */
  pastAwards: PastAwards;
}

/**
 * Editing a rule adds a version taking effect at effective_from (now by default, announced for
 * later, or back-dated): never before the latest version's, so versions stay in order.
 */
export async function reviseRule(
  db: Db,
  ruleId: string,
  input: { definition: RuleDefinition; effective_from?: string; backdate?: boolean },
  now: Date,
  actor: string | null,
  idem: IdempotencyContext | undefined,
  scope: ProgramScope,
  sources: ReviseRuleSources,
): Promise<WriteResult<RuleView>> {
  compileRule({ rule_id: ruleId, version: 1, created_at: now.toISOString(), definition: input.definition });
  const from = effectiveFrom(input.effective_from, now, input.backdate);
  return withIdempotency(db, idem, now, async (tx) => {
    const rule = await repo.lockRule(tx, ruleId);
    if (!rule || !visible(scope, ruleId, rule.program_id)) throw notFound(ruleId);
    if (rule.archived_at !== null && Date.parse(rule.archived_at) <= from.getTime()) {
      throw new DomainError('RULE_ARCHIVED', `Rule ${ruleId} is archived from ${rule.archived_at}`, { archived_at: rule.archived_at });
    }
    const versions = await repo.versionsOf(tx, [ruleId]);
    const latest = versions[0]!;
    if (Date.parse(latest.effective_from) > from.getTime()) {
      throw new DomainError(
        'EFFECTIVE_FROM_BEFORE_LATEST',
        `Version ${latest.version} takes effect at ${latest.effective_from}; a new version must take effect at or after it`,
        { latest_effective_from: latest.effective_from },
        [
          {
            path: '/effective_from',
            location: 'body',
            message: `must be at or after ${latest.effective_from}`,
            rule: 'at_or_after',
            params: { limit: latest.effective_from },
          },
        ],
      );
    }
    await repo.insertVersion(tx, ruleId, latest.version + 1, from, input.definition, now, actor);
    await rulesChanged(tx, rule.program_id);
    // its first limit: the limit counts what members earned from the rule before
    if (isLimited(input.definition) && !versions.some((v) => isLimited(v.definition)))
      await repo.backfillAwards(tx, rule.program_id, ruleId, sources.pastAwards);
    return { status: 201, body: view(rule, await repo.versionsOf(tx, [ruleId]), now) };
  });
}

export async function archiveRule(
  db: Db,
  ruleId: string,
  at: string | undefined,
  now: Date,
  idem?: IdempotencyContext,
  scope: ProgramScope = null,
): Promise<WriteResult<RuleView>> {
  const when = effectiveFrom(at, now);
  return withIdempotency(db, idem, now, async (tx) => {
    const rule = await repo.lockRule(tx, ruleId);
    if (!rule || !visible(scope, ruleId, rule.program_id)) throw notFound(ruleId);
    if (rule.archived_at !== null && Date.parse(rule.archived_at) <= now.getTime()) {
      throw new DomainError('RULE_ARCHIVED', `Rule ${ruleId} is already archived`, { archived_at: rule.archived_at });
    }
    await repo.archiveRule(tx, ruleId, when);
    await rulesChanged(tx, rule.program_id);
    return { status: 200, body: view((await repo.findRule(tx, ruleId))!, await repo.versionsOf(tx, [ruleId]), now) };
  });
}

export async function getRule(db: Queryable, ruleId: string, now: Date, scope: ProgramScope = null): Promise<RuleView> {
  const rule = await repo.findRule(db, ruleId);
  if (!rule || !visible(scope, ruleId, rule.program_id)) throw notFound(ruleId);
  return view(rule, await repo.versionsOf(db, [ruleId]), now);
}

export async function listRules(
  db: Queryable,
  programId: string,
  query: { status?: 'active' | 'archived'; trigger?: string; limit?: number; cursor?: string },
  now: Date,
): Promise<Page<RuleView>> {
  await getProgram(db, programId);
  const limit = query.limit ?? 20;
  const [after] = (decodeCursor(query.cursor, ['id']) ?? []) as [string?];
  const rows = await repo.listRules(db, programId, now, query.status === undefined ? null : query.status === 'active', limit, after);
  const page = toPage(rows, limit, (r) => [r.id]);
  const versions = await repo.versionsOf(
    db,
    page.data.map((r) => r.id),
  );
  let data = page.data.map((r) => view(r, versions, now));
  if (query.trigger) data = data.filter((r) => r.versions.some((v) => v.definition.triggers.includes(query.trigger!)));
  return { ...page, data };
}
