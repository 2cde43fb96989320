// The dashboard's tier card (only when the program has a ladder): members per tier now (overrides
// included, and how many of them are overrides) as an ECharts bar chart, upgrades and downgrades in
// the last 30 days, and the members at risk of losing their tier at a review within 30 days.
// Loaded with its chart library only when the dashboard shows it.
import { Alert, Card, Col, Row, Statistic, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { formatPoints, type Locale } from '../../../shared/format.ts';
import { tierName } from '../../../shared/tier-progress.ts';
import type { TierMix } from '../../../shared/tiers.ts';
import { ErrorAlert } from '../../layout/feedback.tsx';
import { useTierMix } from './queries.ts';

type EchartsCore = typeof import('echarts/core');
let echartsLoading: Promise<EchartsCore> | undefined;

function loadEcharts(): Promise<EchartsCore> {
  echartsLoading ??= Promise.all([import('echarts/core'), import('echarts/charts'), import('echarts/components'), import('echarts/renderers')]).then(
    ([core, charts, components, renderers]) => {
      core.use([charts.BarChart, components.GridComponent, components.TooltipComponent, components.LegendComponent, renderers.CanvasRenderer]);
      return core;
    },
  );
  return echartsLoading;
}

export default function TierMixCard({ programId }: { programId: string }) {
  const { t, i18n } = useTranslation('tiers');
  const locale = i18n.language as Locale;
  const mix = useTierMix(programId);
  if (mix.error) return <ErrorAlert error={mix.error} onRetry={() => mix.refetch()} />;
  if (!mix.data) return null;
  const m = mix.data;
  const total = m.tiers.reduce((sum, tier) => sum + tier.members, 0);
  return (
    <Card
      data-testid="dashboard-tier-mix"
      title={
        <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
          {t('mix.title')}
        </Typography.Title>
      }
      extra={<Link to={`/${programId}/tiers`}>{t('mix.link')}</Link>}
    >
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={16}>
          <MixChart mix={m} />
        </Col>
        <Col xs={24} lg={8}>
          <Row gutter={[16, 16]}>
            <Col span={12}>
              <Statistic title={t('mix.members')} value={formatPoints(total, locale)} />
            </Col>
            <Col span={12} data-testid="tier-mix-at-risk">
              <Statistic title={t('mix.atRisk')} value={formatPoints(m.at_risk, locale)} />
            </Col>
            <Col span={12} data-testid="tier-mix-upgrades">
              <Statistic title={t('mix.upgrades')} value={formatPoints(m.upgrades_30d, locale)} />
            </Col>
            <Col span={12} data-testid="tier-mix-downgrades">
              <Statistic title={t('mix.downgrades')} value={formatPoints(m.downgrades_30d, locale)} />
            </Col>
          </Row>
        </Col>
      </Row>
    </Card>
  );
}

function MixChart({ mix }: { mix: TierMix }) {
  const { t, i18n } = useTranslation('tiers');
  const locale = i18n.language as Locale;
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<EchartsCore['init']> | undefined>(undefined);
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');

  useEffect(() => {
    let disposed = false;
    const observer = new ResizeObserver(() => chart.current?.resize());
    loadEcharts()
      .then((echarts) => {
        if (disposed || !ref.current) return;
        chart.current = echarts.init(ref.current);
        observer.observe(ref.current);
        setState('ready');
      })
      .catch(() => setState('failed'));
    return () => {
      disposed = true;
      observer.disconnect();
      chart.current?.dispose();
      chart.current = undefined;
    };
  }, []);

  useEffect(() => {
    if (state !== 'ready' || !chart.current) return;
    const names = mix.tiers.map((tier) => tierName(tier.name, locale));
    chart.current.setOption(
      {
        grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
        legend: { top: 0 },
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        xAxis: { type: 'value', minInterval: 1, axisLabel: { formatter: (v: number) => formatPoints(v, locale) } },
        yAxis: { type: 'category', data: names },
        series: [
          { name: t('mix.members'), type: 'bar', stack: 'm', data: mix.tiers.map((tier) => tier.members - tier.overrides), itemStyle: { color: '#1677ff' } },
          { name: t('mix.overrides'), type: 'bar', stack: 'm', data: mix.tiers.map((tier) => tier.overrides), itemStyle: { color: '#722ed1' } },
        ],
      },
      { notMerge: true },
    );
  }, [state, mix, locale, t]);

  return (
    <div>
      {state === 'failed' && <Alert type="warning" showIcon title={t('mix.chartFailed')} />}
      <div
        ref={ref}
        data-testid="tier-mix-chart"
        role="img"
        aria-label={mix.tiers.map((tier) => `${tierName(tier.name, locale)} ${formatPoints(tier.members, locale)}`).join(', ')}
        style={{ width: '100%', height: Math.max(160, 48 * mix.tiers.length + 48) }}
      />
    </div>
  );
}
