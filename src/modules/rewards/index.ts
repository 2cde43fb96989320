/**
 * Rewards: a program's catalogue (rewards with their price, stock, limits, gating, windows and
 * scheduled price changes), redemptions and their order lifecycle (confirmed → shipped →
 * delivered; cancelled or rejected with points and stock given back exactly once), code pools of
 * coupon rewards, donation totals, and the member's catalogue view (docs/rewards.md).
 *
 * Owns: reward, reward_price_change, redemption, redemption_history, reward_code. On purpose, its
 * SQL functions (src/db/functions/40_rewards.sql) redeem in one round trip: under the member's
 * lock they read the member's effective tier (member.tier, tier_ladder) and segments
 * (segment_member), and move points only through the ledger's helpers (jf_hold_locked,
 * jf_hold_resolve, jf_restore_capture: 11_ledger_operations.sql);
 * the catalogue reads the same tables read-only, and the member's recent orders through the
 * events module (docs/architecture.md, "Who owns which table").
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './rewards.codes.ts';
export * from './rewards.engine.ts';
export * from './rewards.schemas.ts';
export * from './rewards.service.ts';
