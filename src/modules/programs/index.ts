export * from './programs.service.ts';
export * from './programs.schemas.ts';
export * from './time-zones.ts';
export { programRoutes } from './programs.routes.ts';
export * from './member-tokens.service.ts';
export * from './member-tokens.schemas.ts';
export { memberTokenSettingsRoutes } from './member-tokens.routes.ts';
