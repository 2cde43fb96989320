// My redemptions (/m/redemptions): every redemption, newest first, with its status (待发货, 已发货
// with the carrier and tracking number, 已完成, 已取消 with the reason…), its codes to copy, what it
// cost and its dates. Loaded when first opened.
import { Button, Toast } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { formatDateTime, type Locale } from '../../../shared/format.ts';
import { CardSkeleton, EmptyNote, ErrorView, Refreshable } from '../../components/feedback.tsx';
import { type MeProfile, useProfile } from '../../components/queries.ts';
import { type MyRedemption, useMyRedemptions } from './queries.ts';
import { localized, priceText } from './reward-text.tsx';
import './rewards.css';

export default function RedemptionsPage() {
  const { t } = useTranslation('rewards');
  const profile = useProfile();
  const redemptions = useMyRedemptions();
  if (profile.error || redemptions.error) {
    return (
      <ErrorView
        error={profile.error ?? redemptions.error}
        onRetry={() => {
          void profile.refetch();
          void redemptions.refetch();
        }}
      />
    );
  }
  if (!profile.data || !redemptions.data) return <CardSkeleton lines={5} />;
  const rows = redemptions.data.pages.flatMap((p) => p.data);
  return (
    <Refreshable>
      {rows.length === 0 ? (
        <div className="m-card m-center-text" data-testid="redemptions-empty">
          <EmptyNote>{t('redemptions.empty')}</EmptyNote>
          <Link to="/rewards" className="m-link">
            {t('redemptions.browse')}
          </Link>
        </div>
      ) : (
        <ul className="m-rewards" aria-label={t('redemptions.listLabel')}>
          {rows.map((r) => (
            <RedemptionItem key={r.id} redemption={r} profile={profile.data} />
          ))}
        </ul>
      )}
      {redemptions.hasNextPage && (
        <Button block fill="none" loading={redemptions.isFetchingNextPage} onClick={() => void redemptions.fetchNextPage()}>
          {t('common:loadMore')}
        </Button>
      )}
    </Refreshable>
  );
}

/** 待发货 for a physical order not shipped yet; else the status's own word. */
function statusKey(r: MyRedemption): string {
  return r.status === 'confirmed' && r.reward_type === 'physical' ? 'awaiting_shipment' : r.status;
}

function RedemptionItem({ redemption: r, profile }: { redemption: MyRedemption; profile: MeProfile }) {
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const { program } = profile;
  const when = (iso: string) => formatDateTime(iso, program.time_zone, locale);
  const copy = async (code: string) => {
    try {
      await navigator.clipboard.writeText(code);
      Toast.show({ content: t('common:copied') });
    } catch {
      Toast.show({ content: t('done.copyFailed') });
    }
  };
  const rows: [label: string, value: string, testId?: string][] = [
    [t('redemptions.cost'), priceText(r.points, r.cash, program, locale, t)],
    [t('redemptions.redeemedAt'), when(r.created_at)],
  ];
  if (r.carrier) rows.push([t('redemptions.carrier'), r.carrier, 'redemption-carrier']);
  if (r.tracking_number) rows.push([t('redemptions.tracking'), r.tracking_number, 'redemption-tracking']);
  if (r.shipped_at) rows.push([t('redemptions.shippedAt'), when(r.shipped_at)]);
  if (r.delivered_at) rows.push([t(r.reward_type === 'physical' ? 'redemptions.deliveredAt' : 'redemptions.completedAt'), when(r.delivered_at)]);
  if (r.ended_at) rows.push([t(r.status === 'rejected' ? 'redemptions.rejectedAt' : 'redemptions.cancelledAt'), when(r.ended_at)]);
  if (r.reason) rows.push([t('redemptions.reason'), r.reason]);
  if (r.shipping?.address) rows.push([t('redemptions.address'), [r.shipping.name, r.shipping.address].filter(Boolean).join(t('redemptions.addressSeparator'))]);
  if (r.reward_type !== 'coupon' && r.reward_type !== 'lottery') rows.push([t('redemptions.order'), r.id]);
  const key = statusKey(r);
  return (
    <li className="m-card" data-testid="redemption-item" data-redemption-id={r.id}>
      <div className="m-reward-head">
        <h2 className="m-reward-name">{localized(r.reward_name, locale)}</h2>
        <span className={`m-status m-status-${key}`} data-testid="redemption-status">
          {t(`status.${key}`)}
        </span>
      </div>
      {r.codes.map((code) => (
        <div key={code} className="m-done-code">
          <span className="m-muted">{t('done.code')}</span>
          <strong data-testid="redemption-code">{code}</strong>
          <Button size="small" fill="outline" onClick={() => void copy(code)}>
            {t('common:copy')}
          </Button>
        </div>
      ))}
      <dl className="m-facts">
        {rows.map(([label, value, testId]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd data-testid={testId}>{value}</dd>
          </div>
        ))}
      </dl>
    </li>
  );
}
