export * from './me.tokens.ts';
export * from './me.schemas.ts';
export { expiryForecast, FORECAST_MAX_LOTS, historyOf, profileOf } from './me.service.ts';
