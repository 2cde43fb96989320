// The catalogue (/m/rewards): the member's points, what is within reach, every reward with its
// state for the member (can redeem now, needs N more, locked by tier or segment, sold out, not yet
// with its start, ended), its price (积分+现金 too), its small print and announced price changes;
// a category filter. A reward's button opens the confirm sheet (redeem-sheet.tsx). Loaded when
// first opened.
import { Button } from 'antd-mobile';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { Choice } from '../../components/choice.tsx';
import { CardSkeleton, EmptyNote, ErrorView, Refreshable } from '../../components/feedback.tsx';
import { type MeProfile, useBalance, useProfile } from '../../components/queries.ts';
import { type CatalogueItem, useCatalogue, useWithinReach } from './queries.ts';
import { RedeemSheet } from './redeem-sheet.tsx';
import { localized, Price, useCategoryLabel, useRewardNotes, useStateText } from './reward-text.tsx';
import './rewards.css';

const ALL = '*';

export default function RewardsPage() {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const profile = useProfile();
  const balance = useBalance();
  const [category, setCategory] = useState(ALL);
  const everything = useCatalogue(null);
  const shown = useCatalogue(category === ALL ? null : category);
  const [open, setOpen] = useState<CatalogueItem | null>(null);
  const categoryLabel = useCategoryLabel();

  if (profile.error || everything.error) {
    return (
      <ErrorView
        error={profile.error ?? everything.error}
        onRetry={() => {
          void profile.refetch();
          void everything.refetch();
        }}
      />
    );
  }
  if (!profile.data || !everything.data) return <CardSkeleton lines={6} />;
  const program = profile.data.program;
  const available = balance.data?.available ?? everything.data.pages[0]?.available_points ?? 0;
  const categories = [...new Set(everything.data.pages.flatMap((p) => p.data.map((i) => i.reward.category)).filter((c): c is string => !!c))];
  const items = shown.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <Refreshable>
      <section className="m-card m-rewards-top">
        <div>
          <div className="m-muted">{t('available', { pointName: pointNameOf(program, locale) })}</div>
          <div className="m-rewards-balance" data-testid="rewards-available">
            {formatPoints(available, locale)}
          </div>
        </div>
        <div className="m-rewards-links">
          <Link to="/redemptions" className="m-link" data-testid="to-redemptions">
            {t('myRedemptions')}
          </Link>
          <Link to="/lottery" className="m-link" data-testid="to-lottery">
            {t('lottery')}
          </Link>
        </div>
      </section>
      <WithinReach profile={profile.data} onOpen={setOpen} />
      {categories.length > 1 && (
        <Choice
          label={t('categoryLabel')}
          testId="reward-categories"
          value={category}
          options={[{ label: t('common:all'), value: ALL }, ...categories.map((c) => ({ label: categoryLabel(c), value: c }))]}
          onChange={setCategory}
        />
      )}
      {shown.error ? (
        <ErrorView error={shown.error} onRetry={() => void shown.refetch()} />
      ) : !shown.data ? (
        <CardSkeleton lines={4} />
      ) : items.length === 0 ? (
        <div className="m-card">
          <EmptyNote>{category === ALL ? t('empty') : t('emptyCategory')}</EmptyNote>
        </div>
      ) : (
        <ul className="m-rewards" aria-label={t('listLabel')}>
          {items.map((item) => (
            <RewardCard key={item.reward.id} item={item} profile={profile.data} onOpen={() => setOpen(item)} />
          ))}
        </ul>
      )}
      {shown.hasNextPage && (
        <Button block fill="none" loading={shown.isFetchingNextPage} onClick={() => void shown.fetchNextPage()}>
          {t('common:loadMore')}
        </Button>
      )}
      <RedeemSheet item={open} profile={profile.data} available={available} onClose={() => setOpen(null)} />
    </Refreshable>
  );
}

/** A cover for rewards without an image: a line drawing of the reward's type (inline: no icon font, no emoji font needed). */
const TYPE_COVERS: Record<string, string> = {
  physical: 'M4 10h16v4H4zM6 14h12v7H6zM12 10v11M12 10c-2-4-6-4-6-1.5S10 10 12 10zM12 10c2-4 6-4 6-1.5S14 10 12 10z',
  coupon: 'M3 7h18v3a2 2 0 0 0 0 4v3H3v-3a2 2 0 0 0 0-4zM14 7v10',
  service: 'M5 9h11v5a5 5 0 0 1-5 5h-1a5 5 0 0 1-5-5zM16 10h2a2 2 0 0 1 0 4h-2M8 3v3M11 3v3',
  experience: 'M12 3l2.6 5.6 6.1.7-4.5 4.1 1.2 6L12 16.5 6.6 19.4l1.2-6-4.5-4.1 6.1-.7z',
  donation: 'M12 20s-7-4.4-7-10a4 4 0 0 1 7-2.6A4 4 0 0 1 19 10c0 5.6-7 10-7 10z',
  lottery: 'M4 4h16v16H4zM8.5 8.5h.01M15.5 8.5h.01M12 12h.01M8.5 15.5h.01M15.5 15.5h.01',
};

function TypeCover({ type }: { type: string }) {
  return (
    <svg
      width="36"
      height="36"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.5"
      strokeLinejoin="round"
      strokeLinecap="round"
      aria-hidden="true"
    >
      <path d={TYPE_COVERS[type] ?? TYPE_COVERS.physical} />
    </svg>
  );
}

function RewardCard({ item, profile, onOpen }: { item: CatalogueItem; profile: MeProfile; onOpen: () => void }) {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const stateText = useStateText();
  const notesOf = useRewardNotes();
  const { reward } = item;
  const program = profile.program;
  const name = localized(reward.name, locale);
  const description = localized(reward.description, locale);
  const notes = notesOf(reward, program);
  const can = item.state === 'can_redeem';
  const action = reward.type === 'donation' ? t('donate') : t('redeem');
  return (
    <li className="m-card m-reward" data-testid="reward-card" data-reward-id={reward.id} data-state={item.state}>
      <div className="m-reward-cover">{reward.image_urls[0] ? <img src={reward.image_urls[0]} alt="" loading="lazy" /> : <TypeCover type={reward.type} />}</div>
      <div className="m-reward-body">
        <div className="m-reward-head">
          <h2 className="m-reward-name">{name}</h2>
          <span className="m-reward-type">{t(`types.${reward.type}`)}</span>
        </div>
        {description && <p className="m-reward-description">{description}</p>}
        <Price reward={reward} program={program} />
        {notes.length > 0 && (
          <ul className="m-reward-notes">
            {notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        )}
        <div className="m-reward-action">
          <span className={can ? 'm-reward-state m-reward-state-ok' : 'm-reward-state'} data-testid="reward-state">
            {stateText(item, program)}
          </span>
          <Button size="small" color="primary" disabled={!can} onClick={onOpen} data-testid="reward-redeem" aria-label={t('redeemNamed', { action, name })}>
            {action}
          </Button>
        </div>
      </div>
    </li>
  );
}

/** Rewards the member can redeem now or nearly: ranked by the API (affordability and the member's categories). */
function WithinReach({ profile, onOpen }: { profile: MeProfile; onOpen: (item: CatalogueItem) => void }) {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const reach = useWithinReach();
  const stateText = useStateText();
  if (reach.error) return <ErrorView error={reach.error} onRetry={() => void reach.refetch()} />;
  if (!reach.data || reach.data.data.length === 0) return null;
  return (
    <section className="m-card" aria-labelledby="reach-title" data-testid="within-reach">
      <h2 id="reach-title" className="m-h2">
        {t('withinReach')}
      </h2>
      <ul className="m-reach">
        {reach.data.data.map((item) => (
          <li key={item.reward.id}>
            <button type="button" className="m-reach-item" disabled={item.state !== 'can_redeem'} onClick={() => onOpen(item)}>
              <span className="m-reach-name">{localized(item.reward.name, locale)}</span>
              <Price reward={item.reward} program={profile.program} />
              <span className={item.state === 'can_redeem' ? 'm-reward-state m-reward-state-ok' : 'm-reward-state'}>{stateText(item, profile.program)}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
