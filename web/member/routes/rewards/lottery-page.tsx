// The lottery (/m/lottery): each lottery with its price per draw and the member's state, a draw
// button (one Idempotency-Key per draw: a double tap draws once), the result, the member's draws
// each with its verification link, and the member's client seed, which they may change. Loaded
// when first opened.
import { Button, Input } from 'antd-mobile';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { newIdempotencyKey } from '../../../shared/api.ts';
import { formatDateTime, formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { CardSkeleton, EmptyNote, ErrorView } from '../../components/feedback.tsx';
import { type MeProfile, useProfile } from '../../components/queries.ts';
import {
  type CatalogueItem,
  type Drawn,
  type LotteryPrizes,
  type MyDraw,
  type Shipping,
  useClientSeed,
  useDraw,
  useLastShipping,
  useLotteries,
  useLotteryPrizes,
  useMyDraws,
  useSetClientSeed,
} from './queries.ts';
import { AddressField, Refusal } from './redeem-sheet.tsx';
import { localized, Price, useStateText } from './reward-text.tsx';
import './rewards.css';

export default function LotteryPage() {
  const { t } = useTranslation('rewards');
  const profile = useProfile();
  const lotteries = useLotteries();
  if (profile.error || lotteries.error) {
    return (
      <ErrorView
        error={profile.error ?? lotteries.error}
        onRetry={() => {
          void profile.refetch();
          void lotteries.refetch();
        }}
      />
    );
  }
  if (!profile.data || !lotteries.data) return <CardSkeleton lines={4} />;
  return (
    <>
      {lotteries.data.data.length === 0 ? (
        <div className="m-card">
          <EmptyNote>{t('lotteryPage.none')}</EmptyNote>
        </div>
      ) : (
        lotteries.data.data.map((item) => <Lottery key={item.reward.id} item={item} profile={profile.data} />)
      )}
      <section className="m-card" aria-labelledby="fair-title">
        <h2 id="fair-title" className="m-h2">
          {t('lotteryPage.fairTitle')}
        </h2>
        <p className="m-muted">{t('lotteryPage.fairText')}</p>
        <ClientSeed />
      </section>
      <MyDraws profile={profile.data} />
    </>
  );
}

function Lottery({ item, profile }: { item: CatalogueItem; profile: MeProfile }) {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const stateText = useStateText();
  const draw = useDraw();
  const lastShipping = useLastShipping(true);
  const prizes = useLotteryPrizes().data?.get(item.reward.id);
  // a prize that ships goods: the draw carries an address (the last order's, or one given here)
  const needsAddress = prizes?.prizes.some((z) => z.in_stock && z.issues?.needs_shipping) ?? false;
  const [typed, setTyped] = useState<Shipping>({ name: profile.name ?? '', phone: profile.phone ?? '' });
  const addressComplete = (['name', 'phone', 'address'] as const).every((f) => typed[f]?.trim());
  const shipping = lastShipping ?? (needsAddress && addressComplete ? typed : null);
  // one key per draw: a second tap while the first is on its way is the same draw
  const [key, setKey] = useState(newIdempotencyKey);
  const [result, setResult] = useState<Drawn | null>(null);
  const { reward } = item;
  const can = item.state === 'can_redeem' && (!needsAddress || shipping !== null);
  const onDraw = () =>
    draw.mutate(
      { rewardId: reward.id, expected: reward.points_cost, key, shipping },
      {
        onSuccess: (drawn) => setResult(drawn),
        onSettled: () => setKey(newIdempotencyKey()),
      },
    );
  const description = localized(reward.description, locale);
  return (
    <section className="m-card" data-testid="lottery" data-reward-id={reward.id}>
      <div className="m-reward-head">
        <h2 className="m-reward-name">{localized(reward.name, locale)}</h2>
        <Price reward={reward} program={profile.program} />
      </div>
      {description && <p className="m-reward-description">{description}</p>}
      <div className="m-reward-action">
        <span className={can ? 'm-reward-state m-reward-state-ok' : 'm-reward-state'} data-testid="lottery-state">
          {/* redeemable, but the goods a prize may be need somewhere to go first */}
          {item.state === 'can_redeem' && !can ? t('lotteryPage.addressFirst') : stateText(item, profile.program)}
        </span>
        <Button color="primary" disabled={!can || draw.isPending} loading={draw.isPending} onClick={onDraw} data-testid="lottery-draw">
          {t('lotteryPage.draw')}
        </Button>
      </div>
      {prizes && <PrizeList prizes={prizes} locale={locale} />}
      {needsAddress && !lastShipping && (
        <fieldset className="m-sheet-address" data-testid="lottery-address">
          <legend className="m-h2">{t('lotteryPage.addressTitle')}</legend>
          <p className="m-muted">{t('lotteryPage.addressNote')}</p>
          {(['name', 'phone', 'address'] as const).map((field) => (
            <AddressField key={field} label={t(`sheet.fields.${field}`)}>
              {(id) => (
                <Input
                  id={id}
                  data-testid={`lottery-shipping-${field}`}
                  value={typed[field] ?? ''}
                  maxLength={field === 'address' ? 500 : field === 'phone' ? 40 : 100}
                  type={field === 'phone' ? 'tel' : 'text'}
                  onChange={(v) => setTyped({ ...typed, [field]: v })}
                />
              )}
            </AddressField>
          ))}
        </fieldset>
      )}
      {draw.error && <Refusal error={draw.error} program={profile.program} />}
      {result && (
        <div className="m-draw-result" data-testid="lottery-result" role="status">
          <span className="m-muted">{t('lotteryPage.result')}</span>
          <strong data-testid="lottery-prize">{localized(result.prize.name, locale)}</strong>
          {result.prize.points ? (
            <span>{t('lotteryPage.wonPoints', { points: formatPoints(result.prize.points, locale), pointName: pointNameOf(profile.program, locale) })}</span>
          ) : null}
          {result.prize_redemption_id && (
            <span>
              {t('lotteryPage.prizeRedemption')}{' '}
              <Link to="/redemptions" className="m-link" data-testid="lottery-prize-redemption">
                {t('myRedemptions')}
              </Link>
            </span>
          )}
          <Link to={`/lottery/draws/${result.id}`} className="m-link" data-testid="lottery-verify-link">
            {t('lotteryPage.verify')}
          </Link>
        </div>
      )}
    </section>
  );
}

function ClientSeed() {
  const { t } = useTranslation('rewards');
  const seed = useClientSeed();
  const save = useSetClientSeed();
  const [value, setValue] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const id = useId();
  if (seed.error) return <ErrorView error={seed.error} onRetry={() => void seed.refetch()} />;
  const shown = value ?? seed.data?.client_seed ?? '';
  const valid = /^[!-~]{1,64}$/.test(shown);
  return (
    <form
      className="m-seed"
      onSubmit={(e) => {
        e.preventDefault();
        if (!valid) return;
        save.mutate(
          { clientSeed: shown, key: newIdempotencyKey() },
          {
            onSuccess: () => {
              setValue(null);
              setSaved(true);
            },
          },
        );
      }}
    >
      <label className="m-sheet-label" htmlFor={id}>
        {t('lotteryPage.clientSeed')}
      </label>
      <div className="m-seed-row">
        <Input
          id={id}
          data-testid="client-seed"
          value={shown}
          maxLength={64}
          placeholder={seed.isPending ? t('common:loading') : t('lotteryPage.clientSeedUnset')}
          onChange={(v) => {
            setValue(v);
            setSaved(false);
          }}
        />
        <Button size="small" color="primary" type="submit" disabled={!valid || value === null} loading={save.isPending} data-testid="client-seed-save">
          {t('common:save')}
        </Button>
      </div>
      {/* before the first draw the seed is empty: not a mistake until the member types one */}
      <p className="m-muted">{valid || value === null ? t('lotteryPage.clientSeedHint') : t('lotteryPage.clientSeedInvalid')}</p>
      {saved && (
        <p className="m-muted" role="status">
          {t('lotteryPage.seedSaved')}
        </p>
      )}
      {save.error && <ErrorView error={save.error} />}
    </form>
  );
}

function MyDraws({ profile }: { profile: MeProfile }) {
  const { t } = useTranslation('rewards');
  const draws = useMyDraws();
  const rows = draws.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <section className="m-card" aria-labelledby="draws-title">
      <h2 id="draws-title" className="m-h2">
        {t('lotteryPage.myDraws')}
      </h2>
      {draws.error && <ErrorView error={draws.error} onRetry={() => void draws.refetch()} />}
      {draws.isPending && <p className="m-muted">{t('common:loading')}</p>}
      {draws.data && rows.length === 0 && <EmptyNote>{t('lotteryPage.noDraws')}</EmptyNote>}
      {rows.length > 0 && (
        <ul className="m-rows" data-testid="my-draws">
          {rows.map((d) => (
            <DrawRow key={d.id} draw={d} profile={profile} />
          ))}
        </ul>
      )}
      {draws.hasNextPage && (
        <Button block fill="none" loading={draws.isFetchingNextPage} onClick={() => void draws.fetchNextPage()}>
          {t('common:loadMore')}
        </Button>
      )}
    </section>
  );
}

function DrawRow({ draw, profile }: { draw: MyDraw; profile: MeProfile }) {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  return (
    <li className="m-row">
      <span>
        <strong>{localized(draw.prize.name, locale)}</strong>
        <span className="m-muted" style={{ display: 'block' }}>
          {formatDateTime(draw.at, profile.program.time_zone, locale)}
        </span>
      </span>
      <Link to={`/lottery/draws/${draw.id}`} className="m-link">
        {t('lotteryPage.verifyShort')}
      </Link>
    </li>
  );
}

/** The prize table as the member sees it: each prize, its odds now, what it gives; those drawn out shown as such. */
function PrizeList({ prizes, locale }: { prizes: LotteryPrizes; locale: Locale }) {
  const { t } = useTranslation('rewards');
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 });
  return (
    <details className="m-prizes" data-testid="lottery-prizes">
      <summary>{t('lotteryPage.prizes', { count: prizes.prizes.length })}</summary>
      <ul>
        {prizes.prizes.map((z) => (
          <li key={z.code} className={z.in_stock ? undefined : 'm-muted'} data-testid="lottery-prize-row">
            <span>{localized(z.name, locale)}</span>
            <span>{z.in_stock ? percent.format(z.chance) : t('lotteryPage.drawnOut')}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}
