// Redemption orders: the program's redemptions newest first with their status, reward, member,
// points and tracking; filters by status, reward and member (id or external id) kept in the URL;
// "load more" by cursor. A row opens the order (redemptions/:redemptionId, so a link opens it
// too) with its history and the actions the viewer's role allows.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Input, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError, unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatPoints, type Locale } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { LoadMore, PageHeader, useUrlFilters } from '../../layout/page.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { MemberCell } from './member-cell.tsx';
import { OrderDrawer, RedemptionStatusTag } from './order-drawer.tsx';
import { RewardSelect } from './reward-select.tsx';
import { localized, type OrderRow, REDEMPTION_STATUSES, type RedemptionStatus } from './types.ts';

const MEMBER_ID = /^mbr_[A-Za-z0-9_]{1,64}$/;

export default function RedemptionsPage() {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const navigate = useNavigate();
  const { redemptionId } = useParams();
  const [params, setFilters] = useUrlFilters();
  const status = (REDEMPTION_STATUSES as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as RedemptionStatus) : undefined;
  const rewardId = params.get('reward') ?? undefined;
  const member = params.get('member') ?? undefined;
  const [memberText, setMemberText] = useState(member ?? '');

  // a member filter by external id is looked up first: the list takes a member id
  const memberLookup = useQuery({
    queryKey: ['member-by-external-id', program.id, member],
    enabled: member !== undefined && !MEMBER_ID.test(member),
    queryFn: () =>
      unwrap(api.GET('/v1/programs/{programId}/members/by-external-id/{externalId}', { params: { path: { programId: program.id, externalId: member! } } })),
  });
  const memberId = member === undefined ? undefined : MEMBER_ID.test(member) ? member : memberLookup.data?.id;
  const memberUnknown = memberLookup.error instanceof ApiError && memberLookup.error.status === 404;

  const orders = useInfiniteQuery({
    queryKey: ['redemptions', program.id, { status, rewardId, memberId }],
    enabled: member === undefined || memberId !== undefined,
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/programs/{programId}/redemptions', {
          params: { path: { programId: program.id }, query: { status, reward_id: rewardId, member_id: memberId, limit: 50, cursor: pageParam } },
        }),
      ),
  });
  const rows = memberUnknown ? [] : (orders.data?.pages.flatMap((p) => p.data) ?? []);
  const filtered = Boolean(status || rewardId || member);
  const open = (id: string | undefined) =>
    navigate({ pathname: id ? `/${program.id}/redemptions/${id}` : `/${program.id}/redemptions`, search: params.toString() });

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader title={t('orders.title')} description={t('orders.description')} />
      <Space wrap>
        <Select
          aria-label={t('fields.status')}
          style={{ width: 150 }}
          value={status ?? 'all'}
          onChange={(v: string) => setFilters({ status: v === 'all' ? undefined : v })}
          options={[{ value: 'all', label: t('list.allStatuses') }, ...REDEMPTION_STATUSES.map((s) => ({ value: s, label: t(`orderStatus.${s}`) }))]}
          data-testid="order-status-filter"
        />
        <RewardSelect
          programId={program.id}
          aria-label={t('orders.reward')}
          style={{ width: 240 }}
          placeholder={t('orders.allRewards')}
          value={rewardId}
          onChange={(v) => setFilters({ reward: v })}
          data-testid="order-reward-filter"
        />
        <Input.Search
          aria-label={t('orders.memberFilter')}
          placeholder={t('orders.memberFilter')}
          allowClear
          style={{ width: 260 }}
          value={memberText}
          onChange={(e) => setMemberText(e.target.value)}
          onSearch={(value) => setFilters({ member: value.trim() || undefined })}
        />
      </Space>
      {orders.error ? <ErrorAlert error={orders.error} onRetry={() => orders.refetch()} /> : null}
      {memberLookup.error && !memberUnknown ? <ErrorAlert error={memberLookup.error} onRetry={() => memberLookup.refetch()} /> : null}
      <Table<OrderRow>
        data-testid="orders-table"
        rowKey="id"
        loading={orders.isPending && orders.fetchStatus !== 'idle'}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 1000 }}
        onRow={(r) => ({ onClick: () => open(r.id), style: { cursor: 'pointer' } })}
        locale={{
          emptyText:
            orders.isPending && orders.fetchStatus !== 'idle' ? (
              ' '
            ) : (
              <EmptyState description={memberUnknown ? t('orders.memberUnknown', { member }) : filtered ? t('orders.emptyFiltered') : t('orders.empty')} />
            ),
        }}
        columns={[
          { title: t('orders.createdAt'), key: 'at', width: 170, render: (_, r) => formatDateTime(r.created_at, program.time_zone, locale) },
          {
            title: t('orders.reward'),
            key: 'reward',
            width: 260,
            render: (_, r) => (
              <Space orientation="vertical" size={0}>
                <Link to={`/${program.id}/redemptions/${r.id}?${params.toString()}`} onClick={(e) => e.stopPropagation()} data-testid="order-link">
                  {localized(r.reward_name, locale)}
                  {r.quantity > 1 ? ` × ${r.quantity}` : ''}
                </Link>
                <Typography.Text type="secondary">{t(`types.${r.reward_type}`)}</Typography.Text>
              </Space>
            ),
          },
          {
            title: t('orders.member'),
            key: 'member',
            width: 230,
            render: (_, r) => <MemberCell programId={program.id} memberId={r.member_id} member={r.member} onClick={(e) => e.stopPropagation()} />,
          },
          { title: t('orders.points'), key: 'points', align: 'right', width: 110, render: (_, r) => formatPoints(r.points, locale) },
          { title: t('fields.status'), key: 'status', width: 110, render: (_, r) => <RedemptionStatusTag status={r.status} rewardType={r.reward_type} /> },
          {
            title: t('orders.tracking'),
            key: 'tracking',
            width: 200,
            render: (_, r) => (r.carrier ? `${r.carrier} ${r.tracking_number ?? ''}` : <Typography.Text type="secondary">—</Typography.Text>),
          },
        ]}
      />
      <LoadMore query={orders} />
      <OrderDrawer redemptionId={redemptionId} onClose={() => open(undefined)} />
    </Space>
  );
}
