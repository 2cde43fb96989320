// The home page's tier card (only when the program has a ladder): the tier's name, a bar to the
// next tier with "再消费 ¥500 即可升级黄金" (by the window's last day when it has one), the keep-tier
// line and the validity date. The whole card opens the tier page.
import { ProgressBar } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { formatDate, pointNameOf } from '../../../shared/format.ts';
import { tierName, tierProgress } from '../../../shared/tier-progress.ts';
import type { TierStatus } from '../../../shared/tiers.ts';
import { type MeProfile, useLocale } from '../../components/queries.ts';
import { useMyTier } from './queries.ts';
import './tiers.css';

export function TierCard({ profile }: { profile: MeProfile }) {
  const tier = useMyTier();
  // the card is extra: no ladder, an error or still loading leaves the home page as it is
  if (!tier.data) return null;
  return <TierSummary status={tier.data} profile={profile} link />;
}

export function TierSummary({ status, profile, link }: { status: TierStatus; profile: MeProfile; link?: boolean }) {
  const { t } = useTranslation('tiers');
  const { t: tc } = useTranslation('common');
  const locale = useLocale();
  const { program } = profile;
  const progress = tierProgress(status, {
    t: (key, options) => String(tc(key, options as never)),
    locale,
    timeZone: program.time_zone,
    pointName: pointNameOf(program, locale),
  });
  const validUntil =
    status.override && (!status.earned.valid_until || status.override.until > status.earned.valid_until) ? status.override.until : status.earned.valid_until;
  const body = (
    <>
      <div className="m-tier-top">
        <span className="m-tier-label">{t('card.label')}</span>
        <span className="m-tier-name" data-testid="member-tier-name">
          {tierName(status.tier.name, locale)}
        </span>
        {link && <span aria-hidden="true">›</span>}
      </div>
      <ProgressBar percent={progress.percent} className="m-tier-bar" aria-hidden="true" />
      <p className="m-tier-next" data-testid="member-tier-next">
        {progress.nextLine}
      </p>
      {progress.keepLine && <p className={progress.atRisk ? 'm-tier-keep m-tier-risk' : 'm-tier-keep'}>{progress.keepLine}</p>}
      {validUntil && <p className="m-muted">{t('card.validUntil', { date: formatDate(validUntil, program.time_zone, locale) })}</p>}
    </>
  );
  return link ? (
    // the link's name is its text (the card's lines): a shorter aria-label would hide some of them from screen readers
    <Link to="/tier" className="m-card m-tier" data-testid="member-tier-card">
      {body}
    </Link>
  ) : (
    <section className="m-card m-tier" data-testid="member-tier-card" aria-label={t('card.label')}>
      {body}
    </section>
  );
}
