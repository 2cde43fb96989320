/**
 * Tiers: a program's ladder (qualifying metric, window, validity, retention, grace, benefits),
 * each member's tier status, its history and the benefits granted (docs/tiers.md).
 *
 * Owns: tier_ladder, member_tier, tier_activity, tier_history, tier_grant. On purpose, its SQL
 * functions (src/db/functions/30_tiers.sql) write member.tier (the effective tier, which the rule
 * engine and profiles read) and bump member_account.award_version under the member's lock, so an
 * evaluation that read the old tier runs again; events_commit (the events module's SQL) writes
 * qualifying activity and upgrades with these functions, in the transaction of the event
 * (docs/architecture.md, "Who owns which table"). A ladder edit (tiers_rebuild, 31_tiers_ladder.sql)
 * locks the program's accounts in member id order and, for a first ladder, reads the program's
 * events (and which rules qualify, rule_version) to backfill tier_activity, read-only.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './tiers.jobs.ts';
export * from './tiers.schemas.ts';
export * from './tiers.service.ts';
