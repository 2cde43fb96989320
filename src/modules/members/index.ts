export * from './members.service.ts';
export * from './members.schemas.ts';
