export * from './programs.service.ts';
export * from './programs.schemas.ts';
export * from './time-zones.ts';
export * from './member-tokens.service.ts';
export * from './member-tokens.schemas.ts';
