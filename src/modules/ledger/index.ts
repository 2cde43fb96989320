export * from './ledger.service.ts';
export * from './ledger.schemas.ts';
