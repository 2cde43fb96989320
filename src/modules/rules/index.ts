/**
 * Rules: earning rules and their versions (created, revised, back-dated, archived), the pure
 * engine that evaluates an event against them (rules.engine.ts), the set of rules in force at an
 * instant (rules.set.ts) and its cache per program (rules.cache.ts).
 *
 * Owns: rule, rule_version, rule_budget, rule_award. When a rule gets its first per-member limit,
 * its past awards are copied into rule_award (backfillAwards) from the events' results, which the
 * events module reads: reviseRule is handed its awardsOfRule (ReviseRuleSources), since the events
 * module imports this one.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './rules.awards.ts';
export { RuleCache } from './rules.cache.ts';
export * from './rules.engine.ts';
export * from './rules.schemas.ts';
export * from './rules.service.ts';
export { isLimited, RuleSet } from './rules.set.ts';
