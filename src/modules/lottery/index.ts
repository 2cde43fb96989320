/**
 * Lottery (积分抽奖): the prize table of a lottery reward, seeds published as SHA-256 hashes before
 * the draws they cover and revealed on rotation, the members' client seeds, and verifiable draws
 * whose outcome is HMAC-SHA256(seed, client_seed:nonce) with rejection sampling over the weights
 * (lottery.engine.ts; docs/rewards.md, "Lottery").
 *
 * Owns: lottery_prize, lottery_seed, lottery_client_seed, lottery_draw. A draw spends its points
 * as a redemption of the lottery reward (a row of the rewards module's redemption, delivered at
 * once) through the ledger's helpers, in src/db/functions/41_lottery.sql, as rewards_redeem does.
 *
 * This file is the module's only way in (checked by test/architecture.test.ts).
 */

export * from './lottery.engine.ts';
export * from './lottery.schemas.ts';
export * from './lottery.service.ts';
export * from './lottery.verify.ts';
