// How a reward reads in the member centre: its price (500 积分 + ¥9.90), its state for the member
// (can redeem, needs N more, locked by tier or segment, sold out, not yet, ended), its stock,
// limit, sale hours and announced price changes.
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { formatDateTime, formatPoints, type Locale, minorUnitsOf, pointNameOf } from '../../../shared/format.ts';
import { tierLabel } from '../../../shared/tier-progress.ts';
import type { MeProfile } from '../../components/queries.ts';
import { useMyTier } from '../tiers/queries.ts';
import type { CatalogueItem, Reward } from './queries.ts';

type Program = MeProfile['program'];

/** ¥9.90 in both languages (the narrow symbol: not CN¥ in English, beside points it is plain which yuan). */
function cashText(minor: number, currency: string, locale: Locale): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }).format(minor / minorUnitsOf(currency));
}

/** 500 积分, or 500 积分 + ¥9.90 (积分+现金). */
export function priceText(points: number, cash: number | null, program: Program, locale: Locale, t: TFunction): string {
  const p = t('rewards:price.points', { points: formatPoints(points, locale), pointName: pointNameOf(program, locale) });
  return cash ? t('rewards:price.withCash', { points: p, cash: cashText(cash, program.currency, locale) }) : p;
}

/** The reward's price as a member sees it (a donation: from its minimum). */
export function Price({ reward, program }: { reward: Reward; program: Program }) {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const price = priceText(reward.points_cost, reward.cash_part, program, locale, t);
  return (
    <span className="m-reward-price" data-testid="reward-price">
      {reward.type === 'donation' ? t('price.donation', { price }) : price}
    </span>
  );
}

export function localized(name: { 'zh-CN'?: string; en?: string }, locale: Locale): string {
  return (locale === 'en' ? (name.en ?? name['zh-CN']) : (name['zh-CN'] ?? name.en)) ?? '';
}

/** A category's name when the member centre knows it, else the category as the merchant wrote it. */
export function useCategoryLabel() {
  const { t, i18n } = useTranslation('rewards');
  return (category: string) => (i18n.exists(`rewards:categories.${category}`) ? t(`categories.${category}`) : category);
}

/** The state of a catalogue item in words: 可兑换, 还差 120 积分, 金卡及以上会员专享, 已兑完, 12月5日 10:00 开始… */
export function useStateText() {
  const { t, i18n } = useTranslation('rewards');
  const tier = useMyTier();
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  return (item: CatalogueItem, program: Program): string => {
    switch (item.state) {
      case 'needs_points':
        return t('state.needs_points', { points: formatPoints(item.needs_points, locale), pointName: pointNameOf(program, locale) });
      case 'locked_tier':
        return t('state.locked_tier', { tier: item.required_tier ? tierLabel(item.required_tier, tier.data?.ladder ?? [], locale) : '' });
      case 'not_yet':
        return t('state.not_yet', { date: item.starts_at ? formatDateTime(item.starts_at, program.time_zone, locale) : '' });
      default:
        return t(`state.${item.state}`);
    }
  };
}

/** Stock left, the per-member limit, the sale hours, price changes announced: the small print under a reward. */
export function useRewardNotes() {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  return (reward: Reward, program: Program): string[] => {
    const notes: string[] = [];
    if (reward.stock_left !== null) notes.push(t('notes.stockLeft', { count: reward.stock_left, n: formatPoints(reward.stock_left, locale) }));
    if (reward.limit) notes.push(t(`notes.limit.${reward.limit.period}`, { count: reward.limit.per_member }));
    if (reward.schedule) {
      const days = reward.schedule.days.map((d) => t(`weekdays.${d}`)).join(t('notes.daySeparator'));
      notes.push(t('notes.schedule', { days, from: reward.schedule.from, until: reward.schedule.until }));
    }
    if (reward.available_until) notes.push(t('notes.until', { date: formatDateTime(reward.available_until, program.time_zone, locale) }));
    for (const change of reward.upcoming_prices)
      notes.push(
        t('notes.priceChange', {
          date: formatDateTime(change.effective_at, program.time_zone, locale),
          price: priceText(change.points_cost, change.cash_part, program, locale, t),
        }),
      );
    return notes;
  };
}
