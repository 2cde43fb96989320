// The dashboard's top rewards: the rewards most redeemed in the dashboard's window (30 or 90
// program-local days), with their redemptions, members and the points they spent
// (GET …/dashboard/top-rewards). Nothing redeemed yet: a line pointing to the catalogue.
import { useQuery } from '@tanstack/react-query';
import { Card, Table, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatPoints, type Locale } from '../../../shared/format.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { api } from '../../layout/session.tsx';
import { localized, type TopRewards } from './types.ts';

export default function TopRewardsCard({ programId, days }: { programId: string; days: number }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const top = useQuery({
    queryKey: ['top-rewards', programId, days],
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}/dashboard/top-rewards', { params: { path: { programId }, query: { days, limit: 5 } } })),
    placeholderData: (previous) => previous,
  });
  const n = (v: number) => formatPoints(v, locale);
  return (
    <Card
      data-testid="dashboard-top-rewards"
      title={
        <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
          {t('top.title', { count: days })}
        </Typography.Title>
      }
      extra={<Link to={`/${programId}/rewards`}>{t('top.catalogue')}</Link>}
    >
      {top.error ? <ErrorAlert error={top.error} onRetry={() => top.refetch()} /> : null}
      <Table<TopRewards['data'][number]>
        rowKey="reward_id"
        size="small"
        loading={top.isPending}
        dataSource={top.data?.data ?? []}
        pagination={false}
        locale={{ emptyText: top.isPending ? ' ' : <EmptyState description={t('top.empty')} /> }}
        columns={[
          {
            title: t('fields.name'),
            key: 'name',
            render: (_, r) => <Link to={`/${programId}/rewards/${r.reward_id}`}>{localized(r.name, locale)}</Link>,
          },
          { title: t('top.redemptions'), key: 'redemptions', align: 'right', render: (_, r) => n(r.redemptions) },
          { title: t('top.members'), key: 'members', align: 'right', render: (_, r) => n(r.members) },
          { title: t('top.points'), key: 'points', align: 'right', render: (_, r) => n(r.points) },
        ]}
      />
    </Card>
  );
}
