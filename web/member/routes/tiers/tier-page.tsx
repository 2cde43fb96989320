// The tier page (/m/tier, from the home page's tier card): the member's tier and progress, the
// ladder with what each tier gives (its earn multiplier and perks, the threshold that reaches it),
// and the member's tier history. Loaded when first opened.
import { Button } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { formatDate, formatPoints, pointNameOf } from '../../../shared/format.ts';
import { formatMetric, type Localized, tierLabel, tierName } from '../../../shared/tier-progress.ts';
import type { TierRef, TierStatus } from '../../../shared/tiers.ts';
import { CardSkeleton, EmptyNote, ErrorView } from '../../components/feedback.tsx';
import { type MeProfile, useLocale, useProfile } from '../../components/queries.ts';
import { useMyTier, useMyTierHistory } from './queries.ts';
import { TierSummary } from './tier-card.tsx';
import './tiers.css';

/** A ladder entry: the API may give each tier's threshold and benefits beside its name. */
type LadderEntry = TierRef & Partial<{ entry: number; multiplier: string; perks: Localized[]; birthday_points: number; welcome_points: number }>;

export default function TierPage() {
  const { t } = useTranslation('tiers');
  const locale = useLocale();
  const profile = useProfile();
  const tier = useMyTier();
  if (profile.error || tier.error) {
    return (
      <ErrorView
        error={profile.error ?? tier.error}
        onRetry={() => {
          void profile.refetch();
          void tier.refetch();
        }}
      />
    );
  }
  if (!profile.data || tier.isPending) return <CardSkeleton lines={4} />;
  if (!tier.data) return <EmptyNote>{t('page.noLadder')}</EmptyNote>;
  return (
    <>
      <TierSummary status={tier.data} profile={profile.data} />
      {tier.data.override && (
        <p className="m-card m-muted" data-testid="member-tier-override">
          {t('page.override', { date: formatDate(tier.data.override.until, profile.data.program.time_zone, locale) })}
        </p>
      )}
      <Ladder status={tier.data} profile={profile.data} />
      <History status={tier.data} profile={profile.data} />
    </>
  );
}

function Ladder({ status, profile }: { status: TierStatus; profile: MeProfile }) {
  const { t } = useTranslation('tiers');
  const locale = useLocale();
  const { program } = profile;
  const ladder = status.ladder as LadderEntry[];
  const currentRank = status.tier.rank;
  return (
    <section className="m-card" aria-labelledby="ladder-title">
      <h2 id="ladder-title" className="m-h2">
        {t('page.ladder')}
      </h2>
      <ol className="m-ladder">
        {ladder.map((entry) => {
          const current = entry.code === status.tier.code;
          const multiplier = current ? status.tier.multiplier : entry.multiplier;
          const perks = current ? status.tier.perks : (entry.perks ?? []);
          const threshold = entry.entry ?? (status.next?.tier.code === entry.code ? status.next.threshold : undefined);
          const benefits: string[] = [];
          if (multiplier && Number(multiplier) !== 1) benefits.push(t('page.multiplier', { value: multiplier }));
          if (entry.welcome_points)
            benefits.push(t('page.welcome', { points: formatPoints(entry.welcome_points, locale), pointName: pointNameOf(program, locale) }));
          if (entry.birthday_points)
            benefits.push(t('page.birthday', { points: formatPoints(entry.birthday_points, locale), pointName: pointNameOf(program, locale) }));
          for (const perk of perks) benefits.push(tierName(perk, locale));
          return (
            <li key={entry.code} className={current ? 'm-ladder-tier m-ladder-current' : 'm-ladder-tier'} aria-current={current ? 'true' : undefined}>
              <div className="m-ladder-head">
                <h3 className="m-ladder-name">{tierName(entry.name, locale)}</h3>
                {current ? (
                  <span className="m-ladder-badge">{t('page.current')}</span>
                ) : entry.rank < currentRank ? (
                  <span className="m-muted">{t('page.below')}</span>
                ) : null}
              </div>
              {threshold !== undefined && entry.rank > 0 && (
                <p className="m-muted">
                  {t(`page.threshold.${status.metric}`, { amount: formatMetric(threshold, status.metric, status.currency, locale), count: threshold })}
                </p>
              )}
              {entry.rank === 0 && <p className="m-muted">{t('page.base')}</p>}
              {benefits.length > 0 && (
                <ul className="m-ladder-benefits">
                  {benefits.map((b) => (
                    <li key={b}>{b}</li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function History({ status, profile }: { status: TierStatus; profile: MeProfile }) {
  const { t } = useTranslation('tiers');
  const locale = useLocale();
  const history = useMyTierHistory();
  const rows = history.data?.pages.flatMap((p) => p.data) ?? [];
  const name = (code: string | null) => (code ? tierLabel(code, status.ladder, locale) : '');
  return (
    <section className="m-card" aria-labelledby="tier-history-title">
      <h2 id="tier-history-title" className="m-h2">
        {t('page.history')}
      </h2>
      {history.error && <ErrorView error={history.error} onRetry={() => void history.refetch()} />}
      {history.isPending && <p className="m-muted">{t('common:loading')}</p>}
      {history.data && rows.length === 0 && <EmptyNote>{t('page.noHistory')}</EmptyNote>}
      {rows.length > 0 && (
        <ul className="m-rows" data-testid="member-tier-history">
          {rows.map((c) => (
            <li key={c.id} className="m-row">
              <span>
                <strong>{t(`page.types.${c.type}`, { tier: name(c.to_tier ?? c.from_tier) })}</strong>
                <span className="m-muted" style={{ display: 'block' }}>
                  {formatDate(c.at, profile.program.time_zone, locale)}
                </span>
              </span>
            </li>
          ))}
        </ul>
      )}
      {history.hasNextPage && (
        <Button block fill="none" loading={history.isFetchingNextPage} onClick={() => void history.fetchNextPage()}>
          {t('common:loadMore')}
        </Button>
      )}
    </section>
  );
}
