/**
 * Checkout deduction (结算直接抵扣, docs/rewards.md "Checkout deduction"): points used as cash on
 * an order at checkout. The quote's engine (how many points a basket may take under a policy:
 * the program's rate, share of the order, minimum order, minimum points, per-order cap,
 * combination with other discounts, and why fewer than the balance), the program's policy, and
 * deductions: a ledger hold per order, captured on payment (whole or part), voided on cancel,
 * released by the hold timeout, refunded after payment.
 *
 * Owns: checkout_policy, checkout_deduction. Its SQL functions (src/db/functions/50_checkout.sql)
 * move points only through the ledger's helpers (jf_lock_member, jf_hold_locked, jf_hold_resolve,
 * jf_restore_capture), as the rewards module does, and read the deduction's hold for its status.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './checkout.engine.ts';
export * from './checkout.schemas.ts';
export * from './checkout.service.ts';
