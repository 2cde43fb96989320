// The catalogue: every reward of the program with its type, status, price (and cash part), stock
// and codes left; search by name and filters by type, status and category kept in the URL; "load
// more" by cursor. Owners and operators create rewards from here.
import { HeartOutlined, PlusOutlined } from '@ant-design/icons';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Button, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatMoney, formatPoints, type Locale } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { LoadMore, PageHeader, useUrlFilters } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { CATALOGUE_WRITE } from './permissions.ts';
import { localized, REWARD_STATUSES, REWARD_TYPES, type Reward, type RewardStatus, type RewardType, STATUS_COLORS } from './types.ts';

export function RewardStatusTag({ status }: { status: RewardStatus }) {
  const { t } = useTranslation('rewards');
  return (
    <Tag color={STATUS_COLORS[status]} data-testid="reward-status">
      {t(`status.${status}`)}
    </Tag>
  );
}

export default function RewardsListPage() {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const navigate = useNavigate();
  const { can } = useSession();
  const canWrite = can(program.id, CATALOGUE_WRITE);
  const [params, setFilters] = useUrlFilters();
  const q = params.get('q') ?? undefined;
  const type = (REWARD_TYPES as readonly string[]).includes(params.get('type') ?? '') ? (params.get('type') as RewardType) : undefined;
  const status = (REWARD_STATUSES as readonly string[]).includes(params.get('status') ?? '') ? (params.get('status') as RewardStatus) : undefined;
  const category = params.get('category') ?? undefined;
  const filtered = Boolean(q || type || status || category);

  const rewards = useInfiniteQuery({
    queryKey: ['rewards', program.id, { q, type, status, category }],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/programs/{programId}/rewards', {
          params: { path: { programId: program.id }, query: { q, type, status, category, limit: 50, cursor: pageParam } },
        }),
      ),
  });
  const rows = rewards.data?.pages.flatMap((p) => p.data) ?? [];
  const points = (n: number) => formatPoints(n, locale);

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader
        title={t('list.title')}
        description={t('list.description')}
        extra={
          <Space wrap>
            <Link to="donations">
              <Button icon={<HeartOutlined />}>{t('donations.title')}</Button>
            </Link>
            {canWrite ? (
              <Button type="primary" icon={<PlusOutlined />} data-testid="reward-create" onClick={() => navigate('new')}>
                {t('list.create')}
              </Button>
            ) : null}
          </Space>
        }
      />
      <Space wrap>
        <Input.Search
          aria-label={t('list.search')}
          placeholder={t('list.search')}
          allowClear
          defaultValue={q}
          style={{ width: 240 }}
          onSearch={(value) => setFilters({ q: value.trim() || undefined })}
          data-testid="reward-search"
        />
        <Select
          aria-label={t('fields.type')}
          style={{ width: 150 }}
          value={type ?? 'all'}
          onChange={(v: string) => setFilters({ type: v === 'all' ? undefined : v })}
          options={[{ value: 'all', label: t('list.allTypes') }, ...REWARD_TYPES.map((v) => ({ value: v, label: t(`types.${v}`) }))]}
        />
        <Select
          aria-label={t('fields.status')}
          style={{ width: 150 }}
          value={status ?? 'all'}
          onChange={(v: string) => setFilters({ status: v === 'all' ? undefined : v })}
          options={[{ value: 'all', label: t('list.allStatuses') }, ...REWARD_STATUSES.map((v) => ({ value: v, label: t(`status.${v}`) }))]}
        />
        <Input.Search
          aria-label={t('fields.category')}
          placeholder={t('fields.category')}
          allowClear
          defaultValue={category}
          style={{ width: 180 }}
          onSearch={(value) => setFilters({ category: value.trim() || undefined })}
        />
      </Space>
      {rewards.error ? <ErrorAlert error={rewards.error} onRetry={() => rewards.refetch()} /> : null}
      <Table<Reward>
        data-testid="rewards-table"
        rowKey="id"
        loading={rewards.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 1000 }}
        locale={{
          emptyText: rewards.isPending ? (
            ' '
          ) : (
            <EmptyState
              description={filtered ? t('list.emptyFiltered') : t('list.empty')}
              action={
                !filtered && canWrite ? (
                  <Button type="primary" onClick={() => navigate('new')}>
                    {t('list.create')}
                  </Button>
                ) : undefined
              }
            />
          ),
        }}
        columns={[
          {
            title: t('fields.name'),
            key: 'name',
            render: (_, r) => (
              <Space size={12}>
                {r.image_urls[0] ? (
                  <img src={r.image_urls[0]} alt="" width={40} height={40} style={{ objectFit: 'cover', borderRadius: 4, background: '#f5f5f5' }} />
                ) : null}
                <Space orientation="vertical" size={0}>
                  <Link to={r.id} data-testid="reward-link">
                    {localized(r.name, locale)}
                  </Link>
                  {r.category ? <Typography.Text type="secondary">{r.category}</Typography.Text> : null}
                </Space>
              </Space>
            ),
          },
          { title: t('fields.type'), key: 'type', width: 110, render: (_, r) => t(`types.${r.type}`) },
          { title: t('fields.status'), key: 'status', width: 100, render: (_, r) => <RewardStatusTag status={r.status} /> },
          {
            title: t('fields.price'),
            key: 'price',
            align: 'right',
            width: 200,
            render: (_, r) => (
              <Space orientation="vertical" size={0} style={{ alignItems: 'flex-end' }}>
                <span>
                  {r.type === 'donation' ? t('list.from', { points: points(r.points_cost) }) : points(r.points_cost)}
                  {r.cash_part ? ` + ${formatMoney(r.cash_part, program.currency, locale)}` : ''}
                </span>
                {r.upcoming_prices[0] ? (
                  <Typography.Text type="secondary">{t('list.priceChangeComing', { points: points(r.upcoming_prices[0].points_cost) })}</Typography.Text>
                ) : null}
              </Space>
            ),
          },
          {
            title: t('fields.stockLeft'),
            key: 'stock',
            align: 'right',
            width: 130,
            render: (_, r) =>
              r.stock == null ? (
                <Typography.Text type="secondary">{t('list.unlimited')}</Typography.Text>
              ) : (
                <span data-testid="stock-left">
                  {points(r.stock_left ?? 0)} / {points(r.stock)}
                </span>
              ),
          },
          {
            title: t('fields.codesLeft'),
            key: 'codes',
            align: 'right',
            width: 110,
            render: (_, r) => (r.codes_left == null ? '—' : <span data-testid="codes-left">{points(r.codes_left)}</span>),
          },
        ]}
      />
      <LoadMore query={rewards} />
    </Space>
  );
}
