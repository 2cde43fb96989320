export * from './ledger.service.ts';
export * from './ledger.schemas.ts';
export { ledgerRoutes } from './ledger.routes.ts';
