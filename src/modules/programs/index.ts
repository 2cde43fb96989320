/**
 * Programs: a brand's points program and its policies (currency, time zone, pending days, expiry
 * policy), its rules_revision (moved by the rules module when rules change) and its member-token
 * settings (audience, issuer, JWKS URL, HS256 secret).
 *
 * Owns: program, member_token_config.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './member-tokens.schemas.ts';
export * from './member-tokens.service.ts';
export * from './programs.evaluation.ts';
export * from './programs.schemas.ts';
export * from './programs.service.ts';
export * from './time-zones.ts';
