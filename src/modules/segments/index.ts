/**
 * Segments: rule-based groups of a program's members — a JSONLogic condition (the rules engine's)
 * over the member's profile, tier, tags and computed stats (points by state and expiry, recency,
 * frequency, monetary) — their memberships, refreshed on demand or by the job, and the built-in
 * "at risk" segment every program has.
 *
 * Owns: segment, segment_member. To compute the stats set-based, a batch of members in one
 * statement, its repository reads member, member_account, lot and event directly, read-only
 * (docs/architecture.md, "Who owns which table"). A program gets its built-ins from
 * createBuiltInSegments, which programs' createProgram is handed by its caller (this module
 * imports programs). segmentIdsOfMembers is for rule targeting and reward gating.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './segments.engine.ts';
export * from './segments.schemas.ts';
export * from './segments.service.ts';
