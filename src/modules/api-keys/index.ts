export * from './api-keys.service.ts';
export { apiKeyRoutes } from './api-keys.routes.ts';
