// Donation totals (公益): per charity project, the points donated through the program's donation
// rewards, less cancelled and rejected donations, with the number of donations and donors.
import { ArrowLeftOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Space, Statistic, Table } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { PageHeader } from '../../layout/page.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import type { DonationTotals } from './types.ts';

type Project = DonationTotals['projects'][number];

export default function DonationsPage() {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const totals = useQuery({
    queryKey: ['donations', program.id],
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}/donations', { params: { path: { programId: program.id } } })),
  });
  const projects = totals.data?.projects ?? [];
  const all = projects.reduce((sum, p) => sum + p.points, 0);
  const n = (v: number) => formatPoints(v, locale);

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <Link to={`/${program.id}/rewards`}>
        <Button type="link" icon={<ArrowLeftOutlined />} style={{ paddingInline: 0 }}>
          {t('editor.back')}
        </Button>
      </Link>
      <PageHeader title={t('donations.title')} description={t('donations.description')} />
      {totals.error ? <ErrorAlert error={totals.error} onRetry={() => totals.refetch()} /> : null}
      {projects.length ? (
        <Card>
          <Statistic title={t('donations.total', { pointName: pointNameOf(program, locale) })} value={n(all)} data-testid="donations-total" />
        </Card>
      ) : null}
      <Table<Project>
        rowKey="project"
        data-testid="donations-table"
        loading={totals.isPending}
        dataSource={projects}
        pagination={false}
        locale={{ emptyText: totals.isPending ? ' ' : <EmptyState description={t('donations.empty')} /> }}
        columns={[
          { title: t('donations.project'), key: 'project', dataIndex: 'project' },
          { title: t('donations.points'), key: 'points', align: 'right', render: (_, p) => n(p.points) },
          { title: t('donations.donations'), key: 'donations', align: 'right', render: (_, p) => n(p.donations) },
          { title: t('donations.donors'), key: 'donors', align: 'right', render: (_, p) => n(p.donors) },
        ]}
      />
    </Space>
  );
}
