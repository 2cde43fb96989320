// A ladder in words, beside the editor, in the viewer's language: "会员按自然年消费金额评级：满 ¥1,000
// 升为白银，满 ¥5,000 升为黄金。升级立即生效，本次订单按原等级计分。等级有效期至次年年底。到期时未达保级
// 标准 ¥800 者降一级。" Pure (no React): the strings come from the tiers namespace through the `t` it
// is given; the ladder is the body the editor would PUT (thresholds in minor units for spend).
import { formatPoints, type Locale } from '../../../shared/format.ts';
import { formatMetric, type Localized, type TierMetric, type Translate, tierName } from '../../../shared/tier-progress.ts';

export interface LadderTierLike {
  code: string;
  name: Localized;
  entry: number;
  retention?: number;
  multiplier?: string;
  birthday_points?: number;
  welcome_points?: number;
  grants?: { key: string; name: Localized; every: 'month' | 'quarter' | 'year'; points?: number; coupon_prefix?: string }[];
  perks?: Localized[];
}

export interface LadderLike {
  metric: TierMetric;
  qualifying_window: { type: 'calendar_year' | 'rolling_months' | 'membership_year'; months?: number };
  validity: { type: 'months' | 'period_and_next' | 'until_date'; months?: number; month?: number; day?: number; years?: number };
  downgrade_policy: 'one_step' | 'requalify' | 'never';
  grace_days?: number;
  upgrade_event_rate?: 'old' | 'new';
  tiers: LadderTierLike[];
}

export interface LadderSummaryContext {
  t: Translate;
  locale: Locale;
  currency: string;
  pointName: string;
}

/** The ladder as sentences, in the order an operator reads it: ranking, upgrade, validity, downgrade, benefits. */
export function ladderSummary(ladder: LadderLike, ctx: LadderSummaryContext): string[] {
  const { t, locale } = ctx;
  const tiers = ladder.tiers;
  const base = tiers[0];
  if (!base) return [t('summary.noTiers')];
  const name = (tier: LadderTierLike) => tierName(tier.name, locale) || tier.code;
  const sep = t('summary.listSeparator');
  const amount = (value: number) => metricAmount(value, ladder.metric, ctx);
  const sentences: string[] = [];
  const upper = tiers.slice(1);

  if (upper.length === 0) {
    sentences.push(t('summary.onlyBase', { tier: name(base) }));
  } else {
    const steps = upper.map((tier) => t('summary.step', { amount: amount(tier.entry), tier: name(tier) })).join(sep);
    sentences.push(
      t('summary.basis', { window: windowWords(ladder.qualifying_window, t), metric: t(`summary.metric.${ladder.metric}`), steps, base: name(base) }),
    );
    sentences.push(t(`summary.upgrade.${ladder.upgrade_event_rate ?? 'old'}`, { event: t(`summary.event.${ladder.metric === 'points' ? 'event' : 'order'}`) }));
    sentences.push(validityWords(ladder, ctx));
    sentences.push(downgradeWords(ladder, upper, name, amount, ctx));
    const grace = ladder.grace_days ?? 0;
    if (grace > 0 && ladder.downgrade_policy !== 'never') sentences.push(t('summary.grace', { count: grace }));
  }

  for (const tier of tiers) {
    const items = benefitWords(tier, ctx);
    if (items.length > 0) sentences.push(t('summary.benefits', { tier: name(tier), items: items.join(sep) }));
  }
  return sentences;
}

/** ¥1,000 / 1,000 成长值 / 10 单: a threshold as it reads in a sentence. */
export function metricAmount(value: number, metric: TierMetric, ctx: { t: Translate; locale: Locale; currency: string }): string {
  if (metric === 'spend') return formatMetric(value, metric, ctx.currency, ctx.locale);
  return ctx.t(`summary.amount.${metric}`, { count: value, value: formatPoints(value, ctx.locale) });
}

function windowWords(window: LadderLike['qualifying_window'], t: Translate): string {
  if (window.type === 'rolling_months') return t('summary.window.rolling_months', { count: window.months ?? 12 });
  return t(`summary.window.${window.type}`);
}

/** "January 31" / "1月31日" (a leap year, so 29 February reads too). */
function monthDay(month: number, day: number, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', month: 'long', day: 'numeric' }).format(new Date(Date.UTC(2000, month - 1, day)));
}

function validityWords(ladder: LadderLike, ctx: LadderSummaryContext): string {
  const { t, locale } = ctx;
  const v = ladder.validity;
  if (v.type === 'months') return t('summary.validity.months', { count: v.months ?? 12 });
  if (v.type === 'period_and_next') {
    return t(ladder.qualifying_window.type === 'membership_year' ? 'summary.validity.periodAndNextMembership' : 'summary.validity.periodAndNext');
  }
  const years = v.years ?? 1;
  const year = years <= 2 ? t(`summary.validity.year${years}`) : t('summary.validity.yearN', { count: years });
  return t('summary.validity.untilDate', { date: monthDay(v.month ?? 1, v.day ?? 31, locale), year });
}

function downgradeWords(
  ladder: LadderLike,
  upper: LadderTierLike[],
  name: (tier: LadderTierLike) => string,
  amount: (value: number) => string,
  ctx: LadderSummaryContext,
): string {
  const { t } = ctx;
  if (ladder.downgrade_policy === 'never') return t('summary.downgrade.never');
  const retention = (tier: LadderTierLike) => tier.retention ?? tier.entry;
  const list = upper.map((tier) => t('summary.retentionItem', { tier: name(tier), amount: amount(retention(tier)) })).join(t('summary.listSeparator'));
  if (ladder.downgrade_policy === 'requalify') return t('summary.downgrade.requalify', { metric: t(`summary.metric.${ladder.metric}`), list });
  if (upper.every((tier) => retention(tier) === tier.entry)) return t('summary.downgrade.oneStepEntry');
  if (upper.length === 1) return t('summary.downgrade.oneStepSingle', { amount: amount(retention(upper[0]!)) });
  return t('summary.downgrade.oneStep', { list });
}

function benefitWords(tier: LadderTierLike, ctx: LadderSummaryContext): string[] {
  const { t, locale, pointName } = ctx;
  const items: string[] = [];
  const multiplier = tier.multiplier ?? '1';
  if (Number(multiplier) !== 1) items.push(t('summary.multiplier', { value: multiplier }));
  if (tier.welcome_points) items.push(t('summary.welcome', { points: formatPoints(tier.welcome_points, locale), pointName }));
  if (tier.birthday_points) items.push(t('summary.birthday', { points: formatPoints(tier.birthday_points, locale), pointName }));
  for (const grant of tier.grants ?? []) {
    const every = t(`summary.every.${grant.every}`);
    items.push(
      grant.points
        ? t('summary.grantPoints', { every, points: formatPoints(grant.points, locale), pointName })
        : t('summary.grantCoupon', { every, name: tierName(grant.name, locale) }),
    );
  }
  for (const perk of tier.perks ?? []) {
    const text = tierName(perk, locale);
    if (text) items.push(text);
  }
  return items;
}
