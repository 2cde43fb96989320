/**
 * Checkout deduction (结算直接抵扣, docs/rewards.md "Checkout deduction"): points used as cash on
 * an order at checkout. So far the quote's engine: how many points a basket may take under a
 * policy (rate, share of the order, minimum order, minimum points, per-order cap, combination
 * with other discounts) and why fewer than the balance. Owns no table yet.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './checkout.engine.ts';
