export * from './api-keys.service.ts';
export * from './api-keys.schemas.ts';
export * from './access.ts';
