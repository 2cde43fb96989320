// The expiry calendar: a month view marking the days points expire (in the program's time zone)
// with the amount, and the list of upcoming expiries below. Points expire unless spent first.
import { Button } from 'antd-mobile';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { dayIn, formatDate, formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { CardSkeleton, EmptyNote, ErrorView } from '../../components/feedback.tsx';
import { type ExpiryForecast, useForecast, useLocale, useProfile } from '../../components/queries.ts';

/** A calendar date (YYYY-MM-DD) shown in the viewer's locale; dates are already the program's. */
const showDate = (date: string, locale: Locale) => formatDate(`${date}T12:00:00Z`, 'UTC', locale);

function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + n, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Upcoming expiries listed before "show all". */
const FIRST_DATES = 8;

export default function ExpiryPage() {
  const { t } = useTranslation('expiry');
  const locale = useLocale();
  const [all, setAll] = useState(false);
  const profile = useProfile();
  const forecast = useForecast();
  if (profile.error || forecast.error) {
    return <ErrorView error={profile.error ?? forecast.error} onRetry={() => void Promise.all([profile.refetch(), forecast.refetch()])} />;
  }
  if (!profile.data || !forecast.data) return <CardSkeleton lines={8} />;
  const f = forecast.data;
  const pointName = pointNameOf(profile.data.program, locale);
  return (
    <>
      <section className="m-card" aria-labelledby="expiry-summary">
        <h2 id="expiry-summary" className="m-h2">
          {f.total > 0 ? t('total', { points: formatPoints(f.total, locale), pointName }) : t('none', { pointName })}
        </h2>
        <p className="m-muted">{t('hint', { pointName })}</p>
        {!f.complete && <p className="m-muted">{t('incomplete')}</p>}
      </section>
      <MonthView forecast={f} pointName={pointName} />
      <section className="m-card" aria-labelledby="expiry-upcoming">
        <h2 id="expiry-upcoming" className="m-h2">
          {t('upcoming')}
        </h2>
        {f.by_date.length === 0 ? (
          <EmptyNote>{t('noUpcoming', { pointName })}</EmptyNote>
        ) : (
          <ul className="m-rows" data-testid="expiry-list">
            {(all ? f.by_date : f.by_date.slice(0, FIRST_DATES)).map((d) => (
              <li key={d.date} className="m-row">
                <span>{showDate(d.date, locale)}</span>
                <strong>{t('amount', { points: formatPoints(d.points, locale), pointName })}</strong>
              </li>
            ))}
          </ul>
        )}
        {!all && f.by_date.length > FIRST_DATES && (
          <Button block fill="none" color="primary" onClick={() => setAll(true)}>
            {t('showAll', { n: f.by_date.length })}
          </Button>
        )}
      </section>
    </>
  );
}

function MonthView({ forecast, pointName }: { forecast: ExpiryForecast; pointName: string }) {
  const { t } = useTranslation('expiry');
  const locale = useLocale();
  const today = dayIn(forecast.as_of, forecast.time_zone);
  const first = today.slice(0, 7);
  const last = forecast.by_month.at(-1)?.month ?? first;
  const [month, setMonth] = useState(forecast.by_date[0]?.date.slice(0, 7) ?? first);
  const points = new Map(forecast.by_date.map((d) => [d.date, d.points]));
  const monthTotal = forecast.by_month.find((m) => m.month === month)?.points ?? 0;

  const [y, m] = month.split('-').map(Number) as [number, number];
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const lead = (new Date(Date.UTC(y, m - 1, 1)).getUTCDay() + 6) % 7; // weeks start on Monday
  const cells: (number | null)[] = [...Array.from({ length: lead }, () => null), ...Array.from({ length: days }, (_, i) => i + 1)];
  while (cells.length % 7 !== 0) cells.push(null);
  const weeks = Array.from({ length: cells.length / 7 }, (_, i) => cells.slice(i * 7, i * 7 + 7));
  const weekday = new Intl.DateTimeFormat(locale, { weekday: 'narrow', timeZone: 'UTC' });
  // 2 March 2026 was a Monday
  const weekdays = Array.from({ length: 7 }, (_, i) => weekday.format(new Date(Date.UTC(2026, 2, 2 + i))));
  const title = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, 1)));
  const compact = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 });

  return (
    <section className="m-card" data-testid="expiry-calendar" aria-labelledby="expiry-month">
      <div className="m-cal-head">
        <Button size="small" fill="none" disabled={month <= first} onClick={() => setMonth(addMonths(month, -1))} aria-label={t('previous')}>
          ‹
        </Button>
        <h2 id="expiry-month" className="m-h2" aria-live="polite">
          {title}
        </h2>
        <Button size="small" fill="none" disabled={month >= last} onClick={() => setMonth(addMonths(month, 1))} aria-label={t('next')}>
          ›
        </Button>
      </div>
      <table className="m-cal">
        <caption className="m-muted">
          {monthTotal > 0 ? t('monthTotal', { points: formatPoints(monthTotal, locale), pointName }) : t('monthNone', { pointName })}
        </caption>
        <thead>
          <tr>
            {weekdays.map((w, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the seven weekdays, in order
              <th key={i} scope="col">
                {w}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weeks.map((week) => (
            <tr key={`${month}-${week.find((d) => d !== null)}`}>
              {week.map((d, i) => {
                // biome-ignore lint/suspicious/noArrayIndexKey: a blank cell is known by its place in the week
                if (d === null) return <td key={`blank-${i}`} />;
                const date = `${month}-${String(d).padStart(2, '0')}`;
                const p = points.get(date);
                return (
                  <td
                    key={date}
                    className={[p ? 'm-cal-mark' : '', date === today ? 'm-cal-today' : ''].filter(Boolean).join(' ') || undefined}
                    data-date={date}
                    data-points={p}
                    aria-label={p ? t('dayExpires', { date: showDate(date, locale), points: formatPoints(p, locale), pointName }) : undefined}
                  >
                    <span className="m-cal-day">{d}</span>
                    {p && <span className="m-cal-points">-{compact.format(p)}</span>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
