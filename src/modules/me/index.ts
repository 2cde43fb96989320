export * from './me.tokens.ts';
export * from './me.schemas.ts';
export { expiryForecast, FORECAST_MAX_LOTS } from './me.service.ts';
export { meRoutes, memberTokenRoutes } from './me.routes.ts';
