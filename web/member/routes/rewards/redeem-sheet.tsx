// Redeeming in two taps: the reward's button opens this sheet (the price, the balance after it, the
// shipping address of a physical reward, the points of a donation), its confirm button redeems, and
// the sheet turns into the done screen (the coupon's code to copy, the order's number). One
// Idempotency-Key per sheet: a double tap or a retry gives one redemption. A refusal shows the API's
// message; PRICE_CHANGED shows the new price, which the next confirm sends as expected_points.
import { Button, Input, Popup, Stepper, Toast } from 'antd-mobile';
import { type ReactNode, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { ApiError, newIdempotencyKey } from '../../../shared/api.ts';
import { formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { describeError } from '../../components/feedback.tsx';
import type { MeProfile } from '../../components/queries.ts';
import { type CatalogueItem, type Redeemed, type Shipping, useLastShipping, useRedeem } from './queries.ts';
import { localized, priceText } from './reward-text.tsx';

type Program = MeProfile['program'];

export function RedeemSheet({ item, profile, available, onClose }: { item: CatalogueItem | null; profile: MeProfile; available: number; onClose: () => void }) {
  return (
    <Popup visible={item !== null} onMaskClick={onClose} onClose={onClose} bodyClassName="m-sheet" destroyOnClose>
      {/* a new sheet for every reward opened: its own key, its own form */}
      {item && <SheetBody key={item.reward.id} item={item} profile={profile} available={available} onClose={onClose} />}
    </Popup>
  );
}

function SheetBody({ item, profile, available, onClose }: { item: CatalogueItem; profile: MeProfile; available: number; onClose: () => void }) {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const { program } = profile;
  const reward = item.reward;
  const [key, setKey] = useState(newIdempotencyKey);
  const [price, setPrice] = useState({ points: reward.points_cost, cash: reward.cash_part });
  const [donation, setDonation] = useState(reward.points_cost);
  const [shipping, setShipping] = useState<Shipping | null>(null);
  const [missing, setMissing] = useState<string[]>([]);
  const redeem = useRedeem();
  const lastOrder = useLastShipping(reward.type === 'physical');
  const address: Shipping = shipping ?? lastOrder ?? { name: profile.name ?? '', phone: profile.phone ?? '' };
  const points = reward.type === 'donation' ? donation : price.points;

  if (redeem.data) return <Done redemption={redeem.data} program={program} onClose={onClose} />;

  const confirm = () => {
    if (reward.type === 'physical') {
      const empty = (['name', 'phone', 'address'] as const).filter((f) => !address[f]?.trim());
      setMissing(empty);
      if (empty.length > 0) return;
    }
    const trimmed = Object.fromEntries(
      Object.entries(address)
        .filter(([, v]) => v?.trim())
        .map(([k, v]) => [k, v!.trim()]),
    ) as Shipping;
    redeem.mutate(
      {
        key,
        input: {
          reward_id: reward.id,
          ...(reward.type === 'donation' ? { points: donation } : { expected_points: price.points }),
          ...(reward.type === 'physical' ? { shipping: trimmed } : {}),
        },
      },
      {
        onError: (error) => {
          // a refusal changed nothing: the next confirm is another request, with a key of its own
          setKey(newIdempotencyKey());
          if (error instanceof ApiError && error.code === 'PRICE_CHANGED' && typeof error.problem.points === 'number')
            setPrice({ points: error.problem.points, cash: price.cash });
        },
      },
    );
  };

  const after = available - points;
  return (
    <div data-testid="redeem-sheet">
      <h2 className="m-h2">{t('sheet.title')}</h2>
      <p className="m-sheet-name">{localized(reward.name, locale)}</p>
      <dl className="m-sheet-figures">
        <div>
          <dt>{reward.type === 'donation' ? t('sheet.donationPoints', { pointName: pointNameOf(program, locale) }) : t('sheet.price')}</dt>
          <dd data-testid="redeem-sheet-price">
            {reward.type === 'donation' ? formatPoints(donation, locale) : priceText(price.points, price.cash, program, locale, t)}
          </dd>
        </div>
        <div>
          <dt>{t('sheet.available', { pointName: pointNameOf(program, locale) })}</dt>
          <dd>{formatPoints(available, locale)}</dd>
        </div>
        <div>
          <dt>{t('sheet.after', { pointName: pointNameOf(program, locale) })}</dt>
          <dd data-testid="redeem-sheet-after" className={after < 0 ? 'm-sheet-negative' : undefined}>
            {formatPoints(after, locale)}
          </dd>
        </div>
      </dl>
      {price.cash !== null && price.cash > 0 && <p className="m-muted">{t('sheet.cashNote')}</p>}
      {reward.type === 'donation' && (
        <div className="m-sheet-field">
          <span className="m-sheet-label">
            {t('sheet.donationAmount', { min: formatPoints(reward.points_cost, locale), pointName: pointNameOf(program, locale) })}
          </span>
          <Stepper
            aria-label={t('sheet.donationPoints', { pointName: pointNameOf(program, locale) })}
            data-testid="donation-points"
            min={reward.points_cost}
            max={Math.max(reward.points_cost, available)}
            step={reward.points_cost}
            digits={0}
            value={donation}
            onChange={(v) => setDonation(Math.max(reward.points_cost, Math.floor(v)))}
          />
        </div>
      )}
      {reward.type === 'physical' && (
        <fieldset className="m-sheet-address">
          <legend className="m-h2">{t('sheet.shipping')}</legend>
          {lastOrder && shipping === null && <p className="m-muted">{t('sheet.lastAddress')}</p>}
          {(['name', 'phone', 'address', 'postal_code'] as const).map((field) => (
            <AddressField key={field} label={t(`sheet.fields.${field}`)} invalid={missing.includes(field) ? t(`sheet.required.${field}`) : undefined}>
              {(id) => (
                <Input
                  id={id}
                  data-testid={`shipping-${field}`}
                  value={address[field] ?? ''}
                  maxLength={field === 'address' ? 500 : field === 'postal_code' ? 20 : field === 'phone' ? 40 : 100}
                  type={field === 'phone' ? 'tel' : 'text'}
                  onChange={(v) => setShipping({ ...address, [field]: v })}
                />
              )}
            </AddressField>
          ))}
        </fieldset>
      )}
      {redeem.error && <Refusal error={redeem.error} program={program} />}
      <div className="m-sheet-actions">
        <Button block fill="outline" onClick={onClose}>
          {t('common:cancel')}
        </Button>
        <Button block color="primary" data-testid="redeem-confirm" loading={redeem.isPending} disabled={redeem.isPending} onClick={confirm}>
          {reward.type === 'donation' ? t('sheet.confirmDonation') : t('sheet.confirm')}
        </Button>
      </div>
    </div>
  );
}

export function AddressField({ label, invalid, children }: { label: string; invalid?: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="m-sheet-field">
      <label className="m-sheet-label" htmlFor={id}>
        {label}
      </label>
      {children(id)}
      {invalid && (
        <span className="m-sheet-invalid" role="alert">
          {invalid}
        </span>
      )}
    </div>
  );
}

/** The API's refusal: what it means in the member's words, the API's own message and code. */
export function Refusal({ error, program }: { error: unknown; program: Program }) {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const { message, code } = describeError(error, t);
  const problem = error instanceof ApiError ? error.problem : undefined;
  const specific = code === 'PRICE_CHANGED' ? typeof problem?.points === 'number' : Boolean(code && i18n.exists(`rewards:refusals.${code}`));
  const headline = !specific
    ? t('refusals.other')
    : code === 'PRICE_CHANGED'
      ? t('refusals.PRICE_CHANGED', { price: priceText(problem!.points as number, null, program, locale, t) })
      : t(`refusals.${code}`, { pointName: pointNameOf(program, locale) });
  return (
    <div className="m-sheet-refusal" role="alert" data-testid="redeem-refusal" data-code={code}>
      <strong>{headline}</strong>
      {/* a refusal of its own says it all; the general one is followed by what the error says */}
      {specific ? null : <div>{message}</div>}
      {code && <div className="m-muted">{t('common:errorCode', { code })}</div>}
    </div>
  );
}

/** The done screen: the coupon's code to copy, the order's number, the points left. */
function Done({ redemption, program, onClose }: { redemption: Redeemed; program: Program; onClose: () => void }) {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const navigate = useNavigate();
  const copy = async (code: string) => {
    try {
      await navigator.clipboard.writeText(code);
      Toast.show({ content: t('common:copied') });
    } catch {
      Toast.show({ content: t('done.copyFailed') });
    }
  };
  const hint =
    redemption.reward_type === 'physical'
      ? t('done.physicalHint')
      : redemption.reward_type === 'coupon'
        ? t('done.couponHint')
        : redemption.reward_type === 'donation'
          ? t('done.donationHint', { pointName: pointNameOf(program, locale) })
          : t('done.serviceHint');
  return (
    <div data-testid="redeem-done" className="m-done">
      <div className="m-done-mark" aria-hidden="true">
        ✓
      </div>
      <h2 className="m-h2">{redemption.reward_type === 'donation' ? t('done.donated') : t('done.title')}</h2>
      <p className="m-sheet-name">{localized(redemption.reward_name, locale)}</p>
      {redemption.codes.map((code) => (
        <div key={code} className="m-done-code">
          <span className="m-muted">{t('done.code')}</span>
          <strong data-testid="redeem-code">{code}</strong>
          <Button size="small" color="primary" fill="outline" onClick={() => void copy(code)}>
            {t('common:copy')}
          </Button>
        </div>
      ))}
      {redemption.reward_type !== 'coupon' && (
        <p>
          <span className="m-muted">{t('done.order')}</span> <strong data-testid="redeem-order">{redemption.id}</strong>
        </p>
      )}
      <p className="m-muted">{hint}</p>
      {redemption.balance && (
        <p data-testid="redeem-balance">
          {t('done.balance', { points: formatPoints(redemption.balance.available, locale), pointName: pointNameOf(program, locale) })}
        </p>
      )}
      <div className="m-sheet-actions">
        <Button block fill="outline" onClick={() => navigate('/redemptions')}>
          {t('done.myRedemptions')}
        </Button>
        <Button block color="primary" data-testid="redeem-close" onClick={onClose}>
          {t('done.close')}
        </Button>
      </div>
    </div>
  );
}
