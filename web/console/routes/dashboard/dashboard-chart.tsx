// The daily series (issued, redeemed, expired) as an ECharts chart: echarts is loaded only when the
// chart is first shown (echarts/core with the line and bar charts, grid, tooltip and legend, the
// canvas renderer), and resized with its box.
import { Alert, Spin } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatPoints, type Locale } from '../../../shared/format.ts';

export interface DailyPoint {
  date: string;
  issued: number;
  redeemed: number;
  expired: number;
}

type EchartsCore = typeof import('echarts/core');
let echartsLoading: Promise<EchartsCore> | undefined;

function loadEcharts(): Promise<EchartsCore> {
  echartsLoading ??= Promise.all([import('echarts/core'), import('echarts/charts'), import('echarts/components'), import('echarts/renderers')]).then(
    ([core, charts, components, renderers]) => {
      core.use([
        charts.LineChart,
        charts.BarChart,
        components.GridComponent,
        components.TooltipComponent,
        components.LegendComponent,
        renderers.CanvasRenderer,
      ]);
      return core;
    },
  );
  return echartsLoading;
}

/** 'YYYY-MM-DD' (a calendar day of the program) as the viewer's short date: 12月2日 / Dec 2. */
function dayLabel(date: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', month: 'short', day: 'numeric' }).format(new Date(`${date}T00:00:00Z`));
}

function fullDayLabel(date: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric', weekday: 'short' }).format(
    new Date(`${date}T00:00:00Z`),
  );
}

export default function DashboardChart({ daily }: { daily: DailyPoint[] }) {
  const { t, i18n } = useTranslation('dashboard');
  const locale = i18n.language as Locale;
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<EchartsCore['init']> | undefined>(undefined);
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');

  // create once, dispose on unmount; resize with its box (the window, the side menu, the page's
  // scrollbar appearing after the first render all change it)
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
    const series = [
      { key: 'issued', name: t('series.issued'), type: 'bar' as const, color: '#1677ff' },
      { key: 'redeemed', name: t('series.redeemed'), type: 'line' as const, color: '#52c41a' },
      { key: 'expired', name: t('series.expired'), type: 'line' as const, color: '#fa8c16' },
    ] as const;
    chart.current.setOption(
      {
        grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
        legend: { top: 0, data: series.map((s) => s.name) },
        tooltip: {
          trigger: 'axis',
          formatter: (params: unknown) => {
            const items = params as { dataIndex: number; marker: string; seriesName: string; value: number }[];
            const day = daily[items[0]?.dataIndex ?? 0];
            const lines = items.map((p) => `${p.marker}${p.seriesName}: ${formatPoints(p.value, locale)}`);
            return [day ? fullDayLabel(day.date, locale) : '', ...lines].join('<br/>');
          },
        },
        xAxis: { type: 'category', data: daily.map((d) => dayLabel(d.date, locale)), axisTick: { alignWithLabel: true } },
        yAxis: { type: 'value', axisLabel: { formatter: (v: number) => formatPoints(v, locale) } },
        series: series.map((s) => ({
          name: s.name,
          type: s.type,
          data: daily.map((d) => d[s.key]),
          itemStyle: { color: s.color },
          showSymbol: false,
          smooth: false,
        })),
      },
      { notMerge: true },
    );
  }, [state, daily, locale, t]);

  return (
    <div style={{ position: 'relative' }}>
      {state === 'loading' && (
        <div style={{ position: 'absolute', inset: 0, display: 'flex', alignItems: 'center', justifyContent: 'center' }}>
          <Spin description={t('chartLoading')} />
        </div>
      )}
      {state === 'failed' && <Alert type="warning" showIcon title={t('chartFailed')} />}
      <div ref={ref} data-testid="dashboard-chart" role="img" aria-label={t('chartLabel', { days: daily.length })} style={{ width: '100%', height: 340 }} />
    </div>
  );
}
