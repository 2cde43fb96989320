// Segments: each with its member count and when it was last refreshed; the built-in at-risk
// segment first among equals (a tag says so); "load more" by cursor.
import { PlusOutlined } from '@ant-design/icons';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Button, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatDateTime, type Locale } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { LoadMore, PageHeader } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { nameOf, type Segment } from './types.ts';

export default function SegmentsListPage() {
  const { t, i18n } = useTranslation('segments');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const navigate = useNavigate();
  const { can } = useSession();
  const canWrite = can(program.id, 'rules.write');
  const [status, setStatus] = useState<'active' | 'archived' | undefined>('active');
  const segments = useInfiniteQuery({
    queryKey: ['segments', program.id, status],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/v1/programs/{programId}/segments', { params: { path: { programId: program.id }, query: { status, limit: 50, cursor: pageParam } } })),
  });
  const rows = segments.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader
        title={t('title')}
        description={t('description')}
        extra={
          canWrite ? (
            <Button type="primary" icon={<PlusOutlined />} data-testid="segment-create" onClick={() => navigate('new')}>
              {t('create')}
            </Button>
          ) : null
        }
      />
      <Select
        aria-label={t('filters.status')}
        style={{ width: 160 }}
        value={status ?? 'all'}
        onChange={(v: string) => setStatus(v === 'all' ? undefined : (v as 'active' | 'archived'))}
        options={[
          { value: 'all', label: t('filters.all') },
          { value: 'active', label: t('status.active') },
          { value: 'archived', label: t('status.archived') },
        ]}
      />
      {segments.error ? <ErrorAlert error={segments.error} onRetry={() => segments.refetch()} /> : null}
      <Table<Segment>
        data-testid="segments-table"
        rowKey="id"
        loading={segments.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 800 }}
        locale={{
          emptyText: segments.isPending ? ' ' : <EmptyState description={status === 'archived' ? t('emptyArchived') : t('empty')} />,
        }}
        columns={[
          {
            title: t('columns.name'),
            key: 'name',
            render: (_, s) => (
              <Space orientation="vertical" size={0}>
                <Space size={4} wrap>
                  <Link to={s.id}>{nameOf(s, locale)}</Link>
                  {s.built_in ? <Tag color="blue">{t('builtIn')}</Tag> : null}
                  {s.status === 'archived' ? <Tag>{t('status.archived')}</Tag> : null}
                </Space>
                {s.built_in_key ? (
                  <Typography.Text type="secondary">{t(`builtInDescriptions.${s.built_in_key}`)}</Typography.Text>
                ) : s.description ? (
                  <Typography.Text type="secondary">{s.description}</Typography.Text>
                ) : null}
              </Space>
            ),
          },
          {
            title: t('columns.members'),
            key: 'members',
            align: 'right',
            width: 140,
            render: (_, s) => <span data-testid="segment-count">{s.member_count.toLocaleString(locale)}</span>,
          },
          {
            title: t('columns.refreshed'),
            key: 'refreshed',
            width: 220,
            render: (_, s) => (s.refreshed_at ? formatDateTime(s.refreshed_at, program.time_zone, locale) : t('neverRefreshed')),
          },
        ]}
      />
      <LoadMore query={segments} />
    </Space>
  );
}
