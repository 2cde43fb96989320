export * from './programs.service.ts';
export * from './programs.schemas.ts';
export { programRoutes } from './programs.routes.ts';
