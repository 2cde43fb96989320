export * from './events.service.ts';
export * from './events.schemas.ts';
export * from './events.payloads.ts';
export * from './refunds.ts';
export type { EventTypeRow, StoredEvent } from './events.repository.ts';
