export * from './rules.engine.ts';
export * from './rules.schemas.ts';
export { RuleCache } from './rules.cache.ts';
export { isLimited, RuleSet } from './rules.set.ts';
export * from './rules.service.ts';
