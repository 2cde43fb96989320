export * from './members.service.ts';
export * from './members.schemas.ts';
export { memberRoutes } from './members.routes.ts';
