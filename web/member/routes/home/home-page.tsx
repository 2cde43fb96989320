// Home: the program, the available balance, what expires within 30 days, pending points with the
// day they become available, a short recent history, and the ways to the rewards, the member's
// redemptions, the history and the calendar.
import { useQuery } from '@tanstack/react-query';
import { NoticeBar } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { dayIn, formatDate, formatPoints, pointNameOf } from '../../../shared/format.ts';
import { EntryItem } from '../../components/entry-item.tsx';
import { CardSkeleton, EmptyNote, ErrorView, Refreshable } from '../../components/feedback.tsx';
import { type MeBalance, type MeProfile, useBalance, useLocale, useProfile } from '../../components/queries.ts';
import { memberApi } from '../../session.ts';
import { TierCard } from '../tiers/tier-card.tsx';

const DAY = 86_400_000;
const RECENT = 5;

export default function HomePage() {
  const profile = useProfile();
  const balance = useBalance();

  if (profile.error || balance.error) {
    return (
      <ErrorView
        error={profile.error ?? balance.error}
        onRetry={() => {
          void profile.refetch();
          void balance.refetch();
        }}
      />
    );
  }
  if (!profile.data || !balance.data) return <CardSkeleton lines={4} />;
  return (
    <Refreshable>
      <BalanceCard profile={profile.data} balance={balance.data} />
      <TierCard profile={profile.data} />
      {balance.data.pending > 0 && <PendingCard profile={profile.data} pending={balance.data.pending} />}
      <RecentHistory profile={profile.data} />
    </Refreshable>
  );
}

function BalanceCard({ profile, balance }: { profile: MeProfile; balance: MeBalance }) {
  const { t } = useTranslation('home');
  const locale = useLocale();
  const navigate = useNavigate();
  const { program } = profile;
  const next = balance.next_expiry;
  const soon = next !== null && Date.parse(next.at) - Date.parse(balance.as_of) <= 30 * DAY && balance.expiring.days_30 > 0;
  return (
    <section className="m-hero" aria-labelledby="home-title">
      <div className="m-hero-top">
        <h1 id="home-title" className="m-hero-program">
          {program.name}
        </h1>
        {profile.name && <span className="m-hero-member">{t('hello', { name: profile.name })}</span>}
      </div>
      <div className="m-hero-label">{t('available', { pointName: pointNameOf(program, locale) })}</div>
      <div className="m-hero-balance" data-testid="balance-available">
        {formatPoints(balance.available, locale)}
      </div>
      <dl className="m-hero-figures">
        <div>
          <dt>{t('pending')}</dt>
          <dd>{formatPoints(balance.pending, locale)}</dd>
        </div>
        <div>
          <dt>{t('held')}</dt>
          <dd>{formatPoints(balance.held, locale)}</dd>
        </div>
        <div>
          <dt>{t('lifetimeEarned')}</dt>
          <dd>{formatPoints(balance.lifetime_earned, locale)}</dd>
        </div>
      </dl>
      {soon && (
        <div data-testid="expiring-banner">
          <NoticeBar
            color="alert"
            wrap
            shape="rounded"
            content={
              <span>
                {t('expiring', {
                  points: formatPoints(next.points, locale),
                  pointName: pointNameOf(program, locale),
                  date: formatDate(next.at, program.time_zone, locale),
                })}
                {balance.expiring.days_30 > next.points && (
                  <> {t('expiringTotal', { points: formatPoints(balance.expiring.days_30, locale), pointName: pointNameOf(program, locale) })}</>
                )}
              </span>
            }
            extra={
              <Link to="/expiry" className="m-link">
                {t('seeCalendar')}
              </Link>
            }
            onClick={() => navigate('/expiry')}
          />
        </div>
      )}
    </section>
  );
}

/** Pending points by the day they become available (from the member's open lots). */
function PendingCard({ profile, pending }: { profile: MeProfile; pending: number }) {
  const { t } = useTranslation('home');
  const locale = useLocale();
  const { program } = profile;
  const lots = useQuery({
    queryKey: ['me', 'lots', 'open'],
    queryFn: () => unwrap(memberApi().GET('/v1/me/lots', { params: { query: { state: 'open', limit: 100 } } })),
  });
  const byDay = new Map<string, { at: string; points: number }>();
  for (const lot of lots.data?.data ?? []) {
    if (lot.state !== 'pending' || lot.remaining <= 0) continue;
    const day = dayIn(lot.available_at, program.time_zone);
    const slot = byDay.get(day);
    if (slot) slot.points += lot.remaining;
    else byDay.set(day, { at: lot.available_at, points: lot.remaining });
  }
  const days = [...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return (
    <section className="m-card" data-testid="pending-points" aria-labelledby="pending-title">
      <h2 id="pending-title" className="m-h2">
        {t('pendingTitle', { points: formatPoints(pending, locale), pointName: pointNameOf(program, locale) })}
      </h2>
      <p className="m-muted">{t('pendingHint')}</p>
      {lots.error && <ErrorView error={lots.error} onRetry={() => void lots.refetch()} />}
      {lots.isPending && <p className="m-muted">{t('common:loading')}</p>}
      {days.length > 0 && (
        <ul className="m-rows">
          {days.map(([day, slot]) => (
            <li key={day} className="m-row">
              <span>{t('availableOn', { date: formatDate(slot.at, program.time_zone, locale) })}</span>
              <strong>{formatPoints(slot.points, locale, { signed: true })}</strong>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RecentHistory({ profile }: { profile: MeProfile }) {
  const { t } = useTranslation('home');
  const locale = useLocale();
  const entries = useQuery({
    queryKey: ['me', 'entries', 'recent'],
    queryFn: () => unwrap(memberApi().GET('/v1/me/entries', { params: { query: { limit: RECENT } } })),
  });
  return (
    <>
      <div className="m-card m-shortcuts">
        <Link to="/rewards" className="m-shortcut" data-testid="home-rewards">
          <span>
            <span className="m-shortcut-title">{t('rewards')}</span>
            <span className="m-muted">{t('rewardsHint')}</span>
          </span>
          <span aria-hidden="true">›</span>
        </Link>
        <Link to="/redemptions" className="m-shortcut">
          <span>
            <span className="m-shortcut-title">{t('redemptions')}</span>
            <span className="m-muted">{t('redemptionsHint')}</span>
          </span>
          <span aria-hidden="true">›</span>
        </Link>
        <Link to="/history" className="m-shortcut">
          <span>
            <span className="m-shortcut-title">{t('history')}</span>
            <span className="m-muted">{t('historyHint')}</span>
          </span>
          <span aria-hidden="true">›</span>
        </Link>
        <Link to="/expiry" className="m-shortcut">
          <span>
            <span className="m-shortcut-title">{t('calendar')}</span>
            <span className="m-muted">{t('calendarHint')}</span>
          </span>
          <span aria-hidden="true">›</span>
        </Link>
      </div>
      <section className="m-card" aria-labelledby="recent-title">
        <h2 id="recent-title" className="m-h2">
          {t('recent')}
        </h2>
        {entries.error && <ErrorView error={entries.error} onRetry={() => void entries.refetch()} />}
        {entries.isPending && <p className="m-muted">{t('common:loading')}</p>}
        {entries.data && entries.data.data.length === 0 && <EmptyNote>{t('noHistory', { pointName: pointNameOf(profile.program, locale) })}</EmptyNote>}
        {entries.data && entries.data.data.length > 0 && (
          <ul className="m-entries">
            {entries.data.data.map((e) => (
              <EntryItem key={e.id} entry={e} timeZone={profile.program.time_zone} />
            ))}
          </ul>
        )}
        {entries.data?.has_more && (
          <Link to="/history" className="m-link m-more">
            {t('allHistory')}
          </Link>
        )}
      </section>
    </>
  );
}
