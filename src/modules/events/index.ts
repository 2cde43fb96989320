export * from './events.service.ts';
export * from './events.schemas.ts';
export { eventRoutes } from './events.routes.ts';
