// A rule in words, for the list and the editor: "每消费 ¥1 得 1 积分，金卡 1.5 倍；每人每日最多 100 积分".
// Pure (no React): the strings come from the rules namespace through the `t` it is given.
import { formatPoints, type Locale, minorUnitsOf } from '../../../shared/format.ts';
import type { Multiplier, RuleDefinition } from './types.ts';

export type Translate = (key: string, options?: Record<string, unknown>) => string;

export interface SummaryContext {
  t: Translate;
  locale: Locale;
  currency: string;
  pointName: string;
  timeZone: string;
}

/** The effect: "每消费 ¥1 得 1 积分" / "20 积分 each time", with "by item line" for item bases. */
export function effectSummary(def: RuleDefinition, ctx: SummaryContext): string {
  const { t, locale, currency, pointName } = ctx;
  const e = def.effect;
  const points = formatPoints(e.points, locale);
  if (e.type === 'fixed') return t('summary.fixed', { points, pointName });
  const amount = shortMoney(e.per_amount ?? 100, currency, locale);
  const items = e.basis === 'items' || (def.item_multipliers?.length ?? 0) > 0;
  return t(items ? 'summary.rateItems' : 'summary.rate', { amount, points, pointName });
}

/** ¥1, ¥0.5, ¥100 — no trailing zeros: it reads as a rate, not a price. */
function shortMoney(minor: number, currency: string, locale: Locale): string {
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    currencyDisplay: 'narrowSymbol',
    minimumFractionDigits: 0,
    maximumFractionDigits: 4,
  }).format(minor / minorUnitsOf(currency));
}

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;

export function weekdayName(day: number, t: Translate): string {
  return t(`weekday.${WEEKDAYS.includes(day as 1) ? day : 1}`);
}

/** One multiplier: "金卡 1.5 倍、银卡 1 倍" / "周三 2 倍". */
export function multiplierSummary(m: Multiplier, ctx: SummaryContext): string {
  const { t } = ctx;
  const times = (value: string | undefined) => t('summary.times', { value: value ?? '1' });
  switch (m.type) {
    case 'tier':
    case 'channel':
      return Object.entries(m.values ?? {})
        .map(([key, value]) => `${m.labels?.[key] ?? key} ${times(value)}`)
        .join(t('summary.listSeparator'));
    case 'date_window':
      return `${m.label ? `${m.label} ` : ''}${t('summary.dateWindow', {
        from: m.from ? new Date(m.from).toLocaleDateString(ctx.locale, { timeZone: ctx.timeZone }) : '',
        to: m.to ? new Date(m.to).toLocaleDateString(ctx.locale, { timeZone: ctx.timeZone }) : '',
      })} ${times(m.multiplier)}`;
    case 'monthly_day':
      return `${m.label ? `${m.label} ` : ''}${t('summary.monthlyDay', { days: (m.days ?? []).join(t('summary.listSeparator')) })} ${times(m.multiplier)}`;
    case 'weekday':
      return `${m.label ? `${m.label} ` : ''}${(m.days ?? []).map((d) => weekdayName(d, t)).join(t('summary.listSeparator'))} ${times(m.multiplier)}`;
    case 'birthday_month':
      return `${m.label ?? t('summary.birthdayMonth')} ${times(m.multiplier)}`;
    default:
      return `${m.label ?? t('summary.whenCondition')} ${times(m.multiplier)}`;
  }
}

/** Caps and frequency in words: "每单最多 50 积分；每人每日最多 100 积分". */
export function capSummaries(def: RuleDefinition, ctx: SummaryContext): string[] {
  const { t, locale, pointName } = ctx;
  const out: string[] = [];
  const caps = def.caps;
  if (caps?.per_event !== undefined) out.push(t('summary.capPerEvent', { points: formatPoints(caps.per_event, locale), pointName }));
  for (const period of ['day', 'week', 'month', 'lifetime'] as const) {
    const points = caps?.per_member?.[period];
    if (points !== undefined) out.push(t(`summary.capPerMember.${period}`, { points: formatPoints(points, locale), pointName }));
  }
  if (caps?.budget) out.push(t(`summary.budget.${caps.budget.period}`, { points: formatPoints(caps.budget.points, locale), pointName }));
  if (def.frequency) out.push(t(`summary.frequency.${def.frequency.per}`, { max: def.frequency.max, count: def.frequency.max }));
  return out;
}

/** The whole rule in one sentence: effect, multipliers, caps. */
export function ruleSummary(def: RuleDefinition, ctx: SummaryContext): string {
  const parts = [effectSummary(def, ctx), ...(def.multipliers ?? []).map((m) => multiplierSummary(m, ctx))];
  for (const im of def.item_multipliers ?? []) {
    const what = [...(im.categories ?? []), ...(im.skus ?? [])].join(ctx.t('summary.listSeparator'));
    parts.push(`${im.label ?? what} ${ctx.t('summary.times', { value: im.multiplier })}`);
  }
  const caps = capSummaries(def, ctx);
  return parts.join(ctx.t('summary.clauseSeparator')) + (caps.length ? ctx.t('summary.sentenceSeparator') + caps.join(ctx.t('summary.clauseSeparator')) : '');
}
