// The program's dashboard: what is outstanding (and its money value), what was issued, redeemed
// and expired in the window, the redemption rate, members active and earning in 30 days, the daily
// series, and what expires in the next 30/60/90 days. One request (GET /v1/programs/{id}/dashboard),
// answered from the ledger's rollups; docs/console.md ("Dashboard") says what each figure means.
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Col, Row, Segmented, Space, Statistic, Tooltip, Typography } from 'antd';
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatMoney, formatPoints, type Locale } from '../../../shared/format.ts';
import { EmptyState, ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';

const DashboardChart = lazy(() => import('./dashboard-chart.tsx'));
const TierMixCard = lazy(() => import('../tiers/tier-mix-card.tsx'));
const TopRewardsCard = lazy(() => import('../rewards/top-rewards-card.tsx'));

const WINDOWS = [30, 90] as const;
type WindowDays = (typeof WINDOWS)[number];

function Kpi({ testId, title, value, hint, extra }: { testId: string; title: string; value: string; hint: string; extra?: string }) {
  return (
    <Card data-testid={testId} style={{ height: '100%' }}>
      <Statistic
        title={
          <Tooltip title={hint}>
            <span style={{ cursor: 'help', borderBottom: '1px dotted currentColor' }}>{title}</span>
          </Tooltip>
        }
        value={value}
      />
      {extra && (
        <Typography.Text type="secondary" style={{ display: 'block', marginTop: 4 }}>
          {extra}
        </Typography.Text>
      )}
    </Card>
  );
}

export default function DashboardPage() {
  const { t, i18n } = useTranslation('dashboard');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const [days, setDays] = useState<WindowDays>(90);
  const dashboard = useQuery({
    queryKey: ['dashboard', program.id, days],
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}/dashboard', { params: { path: { programId: program.id }, query: { days } } })),
    placeholderData: (previous) => previous,
  });
  const d = dashboard.data;
  const points = (n: number) => formatPoints(n, locale);
  const percent = (r: number) => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(r);

  const header = (
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: 16, alignItems: 'flex-end', justifyContent: 'space-between' }}>
      <div>
        <Typography.Title level={1} style={{ fontSize: 24, marginBottom: 4 }}>
          {t('title')}
        </Typography.Title>
        <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
          {t('description')}
          {d && ` ${t('asOf', { time: formatDateTime(d.as_of, d.time_zone, locale), timeZone: d.time_zone })}`}
        </Typography.Paragraph>
      </div>
      <Space>
        <Segmented<WindowDays>
          aria-label={t('windowLabel')}
          data-testid="dashboard-window"
          value={days}
          onChange={setDays}
          options={WINDOWS.map((w) => ({ value: w, label: t('windowDays', { count: w }) }))}
        />
        <Button onClick={() => void dashboard.refetch()} loading={dashboard.isFetching}>
          {t('refresh')}
        </Button>
      </Space>
    </div>
  );

  if (dashboard.isPending) {
    return (
      <Space orientation="vertical" size="large" style={{ width: '100%' }}>
        {header}
        <PageLoading />
      </Space>
    );
  }
  if (dashboard.error && !d) {
    return (
      <Space orientation="vertical" size="large" style={{ width: '100%' }}>
        {header}
        <ErrorAlert error={dashboard.error} onRetry={() => void dashboard.refetch()} />
      </Space>
    );
  }
  if (!d) return null;

  const nothingYet = d.totals.issued === 0 && d.totals.adjusted === 0 && d.totals.outstanding === 0;
  if (nothingYet) {
    return (
      <Space orientation="vertical" size="large" style={{ width: '100%' }}>
        {header}
        <Card>
          <EmptyState
            description={
              <Space orientation="vertical" size={4}>
                <Typography.Text strong>{t('empty.title')}</Typography.Text>
                <Typography.Text type="secondary">{t('empty.description')}</Typography.Text>
              </Space>
            }
            action={
              <Space wrap style={{ justifyContent: 'center' }}>
                <Link to="../rules">
                  <Button type="primary">{t('empty.rules')}</Button>
                </Link>
                <Link to="../events">
                  <Button>{t('empty.events')}</Button>
                </Link>
                <Link to="../members">
                  <Button>{t('empty.members')}</Button>
                </Link>
              </Space>
            }
          />
        </Card>
      </Space>
    );
  }

  const windowText = t('inWindow', { count: d.window.days });
  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      {header}
      {dashboard.error && <ErrorAlert error={dashboard.error} onRetry={() => void dashboard.refetch()} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} sm={12} xl={6}>
          <Kpi
            testId="kpi-outstanding"
            title={t('kpi.outstanding')}
            hint={t('hint.outstanding')}
            value={points(d.totals.outstanding)}
            extra={t('kpi.outstandingValue', {
              value: formatMoney(d.totals.outstanding_value_minor, d.currency, locale),
              rate: points(d.redemption_rate),
              currency: d.currency,
              pending: points(d.totals.pending),
              held: points(d.totals.held),
            })}
          />
        </Col>
        <Col xs={24} sm={12} xl={6}>
          <Kpi
            testId="kpi-issued"
            title={t('kpi.issued')}
            hint={t('hint.issued')}
            value={points(d.window.issued)}
            extra={`${windowText} · ${t('kpi.allTime', { value: points(d.totals.issued) })}`}
          />
        </Col>
        <Col xs={24} sm={12} xl={6}>
          <Kpi
            testId="kpi-redeemed"
            title={t('kpi.redeemed')}
            hint={t('hint.redeemed')}
            value={points(d.window.redeemed)}
            extra={`${windowText} · ${t('kpi.rate', { rate: percent(d.window.redemption_rate) })}`}
          />
        </Col>
        <Col xs={24} sm={12} xl={6}>
          <Kpi
            testId="kpi-expired"
            title={t('kpi.expired')}
            hint={t('hint.expired')}
            value={points(d.window.expired)}
            extra={`${windowText} · ${t('kpi.allTime', { value: points(d.totals.expired) })}`}
          />
        </Col>
        <Col xs={24} sm={12} xl={6}>
          <Kpi
            testId="kpi-redemption-rate"
            title={t('kpi.redemptionRate')}
            hint={t('hint.redemptionRate')}
            value={percent(d.window.redemption_rate)}
            extra={windowText}
          />
        </Col>
        <Col xs={24} sm={12} xl={6}>
          <Kpi
            testId="kpi-active"
            title={t('kpi.active')}
            hint={t('hint.active')}
            value={points(d.members.active_30d)}
            extra={t('kpi.ofMembers', { total: points(d.members.total) })}
          />
        </Col>
        <Col xs={24} sm={12} xl={6}>
          <Kpi
            testId="kpi-earning"
            title={t('kpi.earning')}
            hint={t('hint.earning')}
            value={points(d.members.earning_30d)}
            extra={t('kpi.ofMembers', { total: points(d.members.total) })}
          />
        </Col>
        <Col xs={24} sm={12} xl={6}>
          <Kpi
            testId="kpi-members"
            title={t('kpi.members')}
            hint={t('hint.members')}
            value={points(d.members.total)}
            extra={t('kpi.adjusted', { value: formatPoints(d.totals.adjusted, locale, { signed: true }), reversed: points(d.totals.reversed) })}
          />
        </Col>
      </Row>
      <Card
        title={
          <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
            {t('chartTitle', { count: d.window.days })}
          </Typography.Title>
        }
      >
        <Suspense fallback={<PageLoading />}>
          <DashboardChart daily={d.daily} />
        </Suspense>
      </Card>
      <Suspense fallback={null}>
        <TierMixCard programId={program.id} />
      </Suspense>
      <Suspense fallback={null}>
        <TopRewardsCard programId={program.id} days={d.window.days} />
      </Suspense>
      <Card
        title={
          <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
            {t('expiringTitle')}
          </Typography.Title>
        }
      >
        <Typography.Paragraph type="secondary">{t('expiringDescription')}</Typography.Paragraph>
        <Row gutter={[16, 16]}>
          {(
            [
              ['expiring-30', 30, d.expiring.within_30d],
              ['expiring-60', 60, d.expiring.within_60d],
              ['expiring-90', 90, d.expiring.within_90d],
            ] as const
          ).map(([testId, within, value]) => (
            <Col xs={24} sm={8} key={testId}>
              <Card data-testid={testId} variant="outlined">
                <Statistic title={t('expiringWithin', { count: within })} value={points(value)} />
                <Typography.Text type="secondary">
                  {t('expiringShare', { share: percent(d.totals.outstanding > 0 ? value / d.totals.outstanding : 0) })}
                </Typography.Text>
              </Card>
            </Col>
          ))}
        </Row>
      </Card>
    </Space>
  );
}
