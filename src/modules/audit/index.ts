/**
 * Audit: checks every invariant of the ledger and reports each account's balance (GET /v1/audit,
 * `jifen audit`).
 *
 * Owns no table. Reads the ledger's tables directly (member_account, lot, ledger_entry, hold,
 * hold_allocation), read-only, and only here: it compares them against each other in SQL, set-based
 * and exact (numeric sums), which the ledger's exported functions, made for one member or entry at
 * a time, could only do by loading the whole ledger into memory. A deliberate cross-cutting reader:
 * when the ledger's tables change, these queries change with them.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */
export * from './audit.service.ts';
