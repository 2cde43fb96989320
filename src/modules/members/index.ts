/**
 * Members: the people in a program, by our id or the merchant's external id: profile, tier,
 * tags, attributes and status (active, frozen, closed).
 *
 * Owns: member. Creating members (addMembers, which createMember and event ingestion's
 * member.registered use) also opens their ledger accounts through the ledger's openAccounts, in the
 * same transaction: a member never exists without one. Status changes go through the ledger
 * (applyMemberStatus), which forfeits a closed member's points.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './members.profiles.ts';
export * from './members.schemas.ts';
export * from './members.service.ts';
