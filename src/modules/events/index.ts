/**
 * Events: event types (built-in and a program's own, with the JSON Schema of their payload),
 * processed events and their stored results, and the pure refund arithmetic. Ingesting an event is
 * a flow (src/flows/ingest-events/), which uses this module and the others through their index.ts.
 *
 * Owns: event, event_type. Rules' backfill reads its events' awards through awardsOfRule. On
 * purpose, its SQL functions cross owners: events_prepare reads what evaluation needs of the
 * program, members, accounts and rule awards in one round trip, events_commit writes a batch's
 * events, ledger rows (through the ledger's SQL helpers) and rule awards in one, and
 * events_reserve_budgets grants rule budgets (docs/architecture.md, "Who owns which table").
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export { awardsOfRule } from './events.awards.ts';
export * from './events.payloads.ts';
export {
  type CommitAward,
  type CommitEntry,
  type CommitEvent,
  type CommitMember,
  type CommitReversal,
  commitEvents,
  commitWire,
  customTypes,
  type EventsCommit,
  type EventsSnapshot,
  type EventTypeRow,
  type LadderView,
  orderEvents,
  payersOfOrders,
  prepareEvents,
  reserveBudgets,
  type StoredEvent,
  type TierStateView,
  tierStates,
  type WrittenReversal,
} from './events.repository.ts';
export * from './events.schemas.ts';
export * from './events.service.ts';
export * from './refunds.ts';
