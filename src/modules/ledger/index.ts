/**
 * Ledger: balances, credits, debits, holds (capture, void, timeout), reversals, adjustments,
 * transfers, expiry and the sweep. The operations themselves are PL/pgSQL, one round trip per write
 * (src/db/functions/, docs/ledger.md); this module calls them and reads what they wrote.
 *
 * Owns: member_account, lot, ledger_entry, hold, hold_allocation, and the dashboard's rollups
 * ledger_daily and ledger_daily_delta (ledger.dashboard.ts; jf_post reads program.time_zone for an
 * entry's local day, and events_commit appends the deltas of its batches). A member's account is opened with
 * the member, in its transaction (openAccounts, called by members' addMembers). On purpose, its SQL
 * reads other owners' rows: jf_lock_member, under every write's lock, reads member.status and the
 * program's policies; ledger_set_status sets member.status when a member's status changes
 * (applyMemberStatus), because closing a member forfeits its points (docs/architecture.md, "Who
 * owns which table"). Idempotency keys are shared/idempotency.ts's.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './ledger.accounts.ts';
export * from './ledger.dashboard.ts';
export * from './ledger.schemas.ts';
export * from './ledger.service.ts';
