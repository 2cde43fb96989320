// A program's expiry policy in plain words ("每笔积分在获得 12 个月后过期"), and the form's policy as
// the API takes it. Pure (no React).
import type { operations } from '@jifen/client';

export type Program = operations['getProgram']['responses'][200]['content']['application/json'];
export type ExpiryPolicy = Program['expiry_policy'];
export type Translate = (key: string, options?: Record<string, unknown>) => string;

/** The policy with only the fields its type uses (the API refuses the others). */
export function cleanPolicy(p: Partial<ExpiryPolicy> & { type: ExpiryPolicy['type'] }): ExpiryPolicy {
  switch (p.type) {
    case 'never':
      return { type: 'never' };
    case 'rolling':
      return { type: 'rolling', months: p.months };
    case 'end_of_period':
      return { type: 'end_of_period', unit: p.unit ?? 'year', offset: p.offset ?? 0 };
    default:
      return {
        type: 'activity_extended',
        months: p.months,
        ...(p.extend_by_months ? { extend_by_months: p.extend_by_months, extend_once_per: p.extend_once_per ?? 'quarter' } : {}),
        ...(p.hard_cap_months ? { hard_cap_months: p.hard_cap_months } : {}),
      };
  }
}

/** What the policy does to a member's points, in a sentence or two. */
export function explainPolicy(p: Partial<ExpiryPolicy> | undefined, t: Translate): string {
  if (!p?.type) return '';
  switch (p.type) {
    case 'never':
      return t('expiry.explain.never');
    case 'rolling':
      return t('expiry.explain.rolling', { months: p.months ?? '?' });
    case 'end_of_period': {
      const unit = t(`expiry.units.${p.unit ?? 'year'}`);
      return (p.offset ?? 0) === 0 ? t('expiry.explain.endOfPeriodSame', { unit }) : t('expiry.explain.endOfPeriod', { unit, offset: p.offset });
    }
    default: {
      const parts = [
        p.extend_by_months
          ? t('expiry.explain.activityExtend', {
              months: p.months ?? '?',
              extend: p.extend_by_months,
              per: t(`expiry.units.${p.extend_once_per ?? 'quarter'}`),
            })
          : t('expiry.explain.activityReset', { months: p.months ?? '?' }),
      ];
      if (p.hard_cap_months) parts.push(t('expiry.explain.hardCap', { months: p.hard_cap_months }));
      return parts.join(' ');
    }
  }
}
