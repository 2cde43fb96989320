// Members: search by name, phone, email or external id (the API's q), filter by status, newest
// first, "load more" by cursor; a row opens the member's page.
import { useInfiniteQuery } from '@tanstack/react-query';
import { Badge, Button, Card, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatDate, type Locale } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { tierLabel } from '../../../shared/tier-progress.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { LoadMore, PageHeader, useUrlFilters } from '../../layout/page.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { useLadder } from '../tiers/queries.ts';
import { MEMBER_STATUSES, type Member, type MemberStatus, STATUS_BADGES } from './types.ts';

export default function MembersListPage() {
  const { t, i18n } = useTranslation('members');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const ladder = useLadder(program.id);
  const navigate = useNavigate();
  // the search lives in the URL: back from a member's page returns to the same list
  const [params, set] = useUrlFilters();
  const q = params.get('q') ?? undefined;
  const statusParam = params.get('status');
  const status = MEMBER_STATUSES.includes(statusParam as MemberStatus) ? (statusParam as MemberStatus) : undefined;
  const [text, setText] = useState(q ?? '');
  const setFilter = (name: 'q' | 'status', value: string | undefined) => set({ [name]: value });

  const members = useInfiniteQuery({
    queryKey: ['members', program.id, q, status],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/v1/programs/{programId}/members', { params: { path: { programId: program.id }, query: { q, status, limit: 20, cursor: pageParam } } })),
  });
  const rows = members.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = q !== undefined || status !== undefined;

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader title={t('title')} description={t('description')} />
      <Card>
        <Space wrap style={{ marginBottom: 16 }}>
          <Input.Search
            data-testid="member-search"
            aria-label={t('searchLabel')}
            placeholder={t('searchPlaceholder')}
            allowClear
            enterButton={t('common:search')}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              if (e.target.value === '') setFilter('q', undefined);
            }}
            onSearch={(value) => setFilter('q', value.trim() || undefined)}
            style={{ width: 420 }}
          />
          <Select
            aria-label={t('statusFilter')}
            allowClear
            placeholder={t('allStatuses')}
            value={status}
            onChange={(value?: MemberStatus) => setFilter('status', value)}
            options={MEMBER_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
            style={{ width: 160 }}
          />
        </Space>
        {members.error ? <ErrorAlert error={members.error} onRetry={() => members.refetch()} /> : null}
        <Table<Member>
          data-testid="members-table"
          rowKey="id"
          loading={members.isPending}
          dataSource={rows}
          pagination={false}
          scroll={{ x: 900 }}
          onRow={(m) => ({ onClick: () => navigate(m.id), style: { cursor: 'pointer' } })}
          locale={{
            emptyText: members.isPending ? (
              ' '
            ) : filtered ? (
              <EmptyState description={t('noMatch')} />
            ) : (
              <EmptyState
                description={t('empty', { id: program.id })}
                action={
                  <Button href="/docs" target="_blank">
                    {t('apiDocs')}
                  </Button>
                }
              />
            ),
          }}
          columns={[
            {
              title: t('columns.name'),
              key: 'name',
              render: (_, m) => (
                <Link to={m.id} onClick={(e) => e.stopPropagation()}>
                  {m.name ?? t('noName')}
                </Link>
              ),
            },
            { title: t('columns.externalId'), dataIndex: 'external_id', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
            { title: t('columns.phone'), dataIndex: 'phone', render: (v: string | null) => v ?? '—' },
            { title: t('columns.email'), dataIndex: 'email', render: (v: string | null) => v ?? '—' },
            { title: t('columns.tier'), dataIndex: 'tier', render: (v: string | null) => (v ? <Tag>{tierLabel(v, ladder.data?.tiers, locale)}</Tag> : '—') },
            {
              title: t('columns.status'),
              dataIndex: 'status',
              render: (v: MemberStatus) => <Badge status={STATUS_BADGES[v]} text={t(`status.${v}`)} />,
            },
            { title: t('columns.createdAt'), dataIndex: 'created_at', render: (v: string) => formatDate(v, program.time_zone, locale) },
          ]}
        />
        <LoadMore
          query={members}
          done={rows.length > 0 ? <Typography.Text type="secondary">{t('count', { count: rows.length })}</Typography.Text> : null}
          style={{ marginTop: 16 }}
        />
      </Card>
    </Space>
  );
}
