// A member's tier progress for people, shared by the console's tier card and the member centre:
// the bar to the next tier, "再消费 ¥500 即可升级黄金" (by the window's last day when it has one) and
// the keep-tier line "2027年12月31日前再消费 ¥300 即可保级白银". Pure (no React): the strings come
// from common:tierProgress through the `t` it is given. The figures are the API's (TierStatus):
// this only words them and turns them into a percentage.
import { formatPoints, type Locale, minorUnitsOf } from './format.ts';

export type Translate = (key: string, options?: Record<string, unknown>) => string;
export type TierMetric = 'spend' | 'points' | 'orders';
export type Localized = { 'zh-CN': string; en: string };

/** What the progress needs of a TierStatus (GET /v1/members/{id}/tier, /v1/me/tier). */
export interface TierProgressInput {
  metric: TierMetric;
  currency: string;
  tier: { code: string; name: Localized };
  earned: { code: string };
  window: { value: number };
  next: { tier: { name: Localized }; threshold: number; needed: number; by?: string | null } | null;
  keep: { threshold: number; needed: number; review_at: string; at_risk: boolean } | null;
  ladder: { code: string; name: Localized }[];
}

export interface ProgressContext {
  t: Translate;
  locale: Locale;
  timeZone: string;
  pointName: string;
}

export interface TierProgress {
  /** 0–100 (whole percent) of the way to the next tier's threshold; 100 at the top. */
  percent: number;
  /** "再消费 ¥500 即可升级黄金"; at the top: "已是最高等级". */
  nextLine: string;
  /** "2027年12月31日前再消费 ¥300 即可保级白银" or "已达到保级白银的标准"; null when nothing needs keeping. */
  keepLine: string | null;
  atRisk: boolean;
}

export function tierName(name: Localized, locale: Locale): string {
  return (locale === 'en' ? name.en : name['zh-CN']) || name['zh-CN'] || name.en;
}

/** ¥1,000 / ¥0.5 — money without trailing zeros, as people say a threshold. */
export function shortMoney(minor: number, currency: string, locale: Locale): string {
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    currencyDisplay: 'narrowSymbol',
    minimumFractionDigits: 0,
    maximumFractionDigits: 4,
  }).format(minor / minorUnitsOf(currency));
}

/** A metric's amount: money for spend (minor units), a number for points and orders. */
export function formatMetric(value: number, metric: TierMetric, currency: string, locale: Locale): string {
  return metric === 'spend' ? shortMoney(value, currency, locale) : formatPoints(value, locale);
}

/** 2026年12月31日 / Dec 31, 2026 for a calendar date (YYYY-MM-DD), whatever the viewer's zone. */
export function formatDay(day: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' }).format(new Date(`${day}T00:00:00Z`));
}

/** The calendar date before an instant's local day in a time zone: the last day that counts before a review. */
export function dayBefore(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(iso));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const day = new Date(Date.UTC(get('year'), get('month') - 1, get('day') - 1));
  return day.toISOString().slice(0, 10);
}

/** Whole percent of the way to a threshold, 0–100; only a reached threshold shows 100. */
export function percentOf(value: number, threshold: number): number {
  if (threshold <= 0 || value >= threshold) return 100;
  if (value <= 0) return 0;
  return Math.min(99, Math.floor((value / threshold) * 100));
}

export function tierProgress(status: TierProgressInput, ctx: ProgressContext): TierProgress {
  const { t, locale, timeZone, pointName } = ctx;
  const amount = (value: number) => formatMetric(value, status.metric, status.currency, locale);
  const vars = { pointName, count: 0 };

  let nextLine: string;
  let percent: number;
  if (status.next) {
    const tier = tierName(status.next.tier.name, locale);
    percent = percentOf(status.window.value, status.next.threshold);
    const key = status.next.by ? 'nextBy' : 'next';
    nextLine = t(`tierProgress.${key}.${status.metric}`, {
      ...vars,
      count: status.next.needed,
      amount: amount(status.next.needed),
      tier,
      date: status.next.by ? formatDay(status.next.by, locale) : '',
    });
  } else {
    percent = 100;
    nextLine = t('tierProgress.top', { tier: tierName(status.tier.name, locale) });
  }

  let keepLine: string | null = null;
  if (status.keep) {
    const earned = status.ladder.find((tier) => tier.code === status.earned.code);
    const tier = earned ? tierName(earned.name, locale) : status.earned.code;
    const date = formatDay(dayBefore(status.keep.review_at, timeZone), locale);
    keepLine =
      status.keep.needed > 0
        ? t(`tierProgress.keep.${status.metric}`, { ...vars, count: status.keep.needed, amount: amount(status.keep.needed), tier, date })
        : t('tierProgress.kept', { tier, date: formatDay(dayBefore(status.keep.review_at, timeZone), locale) });
  }
  return { percent, nextLine, keepLine, atRisk: status.keep?.at_risk ?? false };
}

/** A tier code as people read it: its name in the ladder (金卡 / Gold), else the code itself (no ladder, or a code the ladder no longer has). */
export function tierLabel(code: string, tiers: readonly { code: string; name: Localized }[] | undefined, locale: Locale): string {
  const tier = tiers?.find((x) => x.code === code);
  return tier ? tierName(tier.name, locale) : code;
}
