export * from './api-keys.service.ts';
export * from './access.ts';
export { apiKeyRoutes } from './api-keys.routes.ts';
