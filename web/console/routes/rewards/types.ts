// The rewards area's types, from the typed client (generated from the API's schemas), and the
// small helpers its pages share: names in the viewer's language, yuan ⇄ minor units, tag colours.
import type { operations } from '@jifen/client';
import { minorUnitsOf } from '../../../shared/format.ts';
import { TAG_COLORS } from '../tiers/tag-colors.ts';

type Json<O extends keyof operations, S extends number> =
  operations[O]['responses'] extends Record<S, { content: { 'application/json': infer T } }> ? T : never;

export type Reward = Json<'getReward', 200>;
export type RewardType = Reward['type'];
export type RewardStatus = Reward['status'];
export type PriceChange = Json<'createPriceChange', 201>;
export type Redemption = Json<'getRedemption', 200>;
/** A row of the program's orders: the redemption and who redeemed it. */
export type OrderRow = Json<'listRedemptions', 200>['data'][number];
export type RedemptionStatus = Redemption['status'];
export type CodeImport = Json<'getRewardCodeImport', 200>;
export type RewardCodeList = Json<'listRewardCodes', 200>;
export type Prize = Json<'createLotteryPrize', 201>;
export type Seed = Json<'listLotterySeeds', 200>['data'][number];
export type Draw = Json<'listLotteryDraws', 200>['data'][number];
export type DonationTotals = Json<'getDonationTotals', 200>;
export type TopRewards = Json<'getTopRewards', 200>;

export const REWARD_TYPES: readonly RewardType[] = ['physical', 'coupon', 'service', 'experience', 'donation', 'lottery'];
export const REWARD_STATUSES: readonly RewardStatus[] = ['draft', 'active', 'archived'];
export const REDEMPTION_STATUSES: readonly RedemptionStatus[] = ['confirmed', 'shipped', 'delivered', 'cancelled', 'rejected', 'fulfilment_failed'];
export const LIMIT_PERIODS = ['day', 'week', 'month', 'year', 'ever'] as const;

export const STATUS_COLORS: Record<RewardStatus, string> = { draft: TAG_COLORS.grey, active: TAG_COLORS.green, archived: TAG_COLORS.volcano };
export const REDEMPTION_COLORS: Record<RedemptionStatus, string> = {
  confirmed: TAG_COLORS.blue,
  shipped: TAG_COLORS.purple,
  delivered: TAG_COLORS.green,
  cancelled: TAG_COLORS.grey,
  rejected: TAG_COLORS.red,
  fulfilment_failed: TAG_COLORS.red,
};

/** A zh-CN / English text in the viewer's language (the other one when it is empty). */
export function localized(text: { 'zh-CN'?: string; en?: string } | undefined, locale: string): string {
  if (!text) return '';
  return (locale === 'en' ? text.en : text['zh-CN']) || text['zh-CN'] || text.en || '';
}

/** Minor units (fen) → yuan for an input: 1250 → 12.5. */
export function toMajor(minor: number | null | undefined, currency: string): number | undefined {
  return minor == null ? undefined : minor / minorUnitsOf(currency);
}

/** Yuan from an input → minor units (fen), rounded to the nearest: 12.5 → 1250; empty → null. */
export function toMinor(major: number | null | undefined, currency: string): number | null {
  return major == null ? null : Math.round(major * minorUnitsOf(currency));
}

/** The currency's symbol in the viewer's language (¥, $, HK$), for the yuan inputs. */
export function currencySymbolOf(currency: string, locale: string): string {
  return (
    new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }).formatToParts(0).find((p) => p.type === 'currency')
      ?.value ?? currency
  );
}
