export * from './events.service.ts';
export * from './events.schemas.ts';
