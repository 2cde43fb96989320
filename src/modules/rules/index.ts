export * from './rules.engine.ts';
export * from './rules.schemas.ts';
export { isLimited, RuleCache, RuleSet } from './rules.cache.ts';
export * from './rules.service.ts';
