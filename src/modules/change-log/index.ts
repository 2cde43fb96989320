/**
 * Change log: the audit log of every change made through the API or the console (who, when, what,
 * before and after), one row per successful write, recorded by src/plugins/change-log.ts and read
 * by GET /v1/programs/{programId}/changes and GET /v1/changes/{changeId}. Not the ledger's
 * consistency audit (modules/audit, GET /v1/audit).
 *
 * Owns: change_log (append-only: triggers in src/db/functions/25_change_log.sql refuse UPDATE,
 * DELETE and TRUNCATE). Reads no other table: the plugin hands it what the write answered.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './change-log.redact.ts';
export * from './change-log.schemas.ts';
export * from './change-log.service.ts';
