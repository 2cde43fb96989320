/**
 * Me: what a member sees of themselves with a member token (/v1/me: profile, balance, lots,
 * expiry forecast, history) and member tokens (minting, verifying HS256 or a JWKS).
 *
 * Owns no table: reads through the members, ledger and programs modules' functions.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './me.schemas.ts';
export { expiryForecast, FORECAST_MAX_LOTS, historyOf, profileOf } from './me.service.ts';
export * from './me.tokens.ts';
