// One segment: what it is (name, condition), its count and last refresh, a refresh button that
// shows it running and then what changed and how long it took, and its members (newest first,
// each linking to the member's page).
import { ReloadOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Descriptions, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatPoints, type Locale } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { LoadMore, PageHeader } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { nameOf, type SegmentMember, type SegmentRefresh } from './types.ts';

/** Seconds since `running` became true, ticking while it is. */
function useElapsed(running: boolean): number {
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    if (!running) return;
    const started = Date.now();
    setSeconds(0);
    const timer = setInterval(() => setSeconds(Math.floor((Date.now() - started) / 1000)), 250);
    return () => clearInterval(timer);
  }, [running]);
  return seconds;
}

export default function SegmentPage() {
  const { t, i18n } = useTranslation('segments');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const { segmentId } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const { can } = useSession();
  const canWrite = can(program.id, 'rules.write');
  const archiveKey = useRef(newIdempotencyKey());
  const [lastRun, setLastRun] = useState<SegmentRefresh | undefined>();

  const segment = useQuery({
    queryKey: ['segment', segmentId],
    queryFn: () => unwrap(api.GET('/v1/segments/{segmentId}', { params: { path: { segmentId: segmentId! } } })),
  });
  const members = useInfiniteQuery({
    queryKey: ['segment-members', segmentId],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/v1/segments/{segmentId}/members', { params: { path: { segmentId: segmentId! }, query: { limit: 50, cursor: pageParam } } })),
  });
  const refreshed = () => {
    queryClient.invalidateQueries({ queryKey: ['segment', segmentId] });
    queryClient.invalidateQueries({ queryKey: ['segment-members', segmentId] });
    queryClient.invalidateQueries({ queryKey: ['segments', program.id] });
  };
  const refresh = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/segments/{segmentId}/refresh', { params: { path: { segmentId: segmentId! } }, body: {} })),
    onSuccess: (result) => {
      setLastRun(result);
      refreshed();
    },
    onError: (error) => message.error(String((error as Error).message)),
  });
  const archive = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/segments/{segmentId}/archive', {
          params: { path: { segmentId: segmentId! }, header: { 'idempotency-key': archiveKey.current } },
          body: {},
        }),
      ),
    onSuccess: () => {
      refreshed();
      message.success(t('archived'));
      navigate('..', { relative: 'path' });
    },
    onError: (error) => message.error(String((error as Error).message)),
  });
  const elapsed = useElapsed(refresh.isPending);

  if (segment.isPending) return <PageLoading />;
  if (segment.error) return <ErrorAlert error={segment.error} onRetry={() => segment.refetch()} />;
  const s = segment.data;
  const active = s.status === 'active';
  const rows = members.data?.pages.flatMap((p) => p.data) ?? [];
  const when = (iso: string | null) => (iso ? formatDateTime(iso, program.time_zone, locale) : t('neverRefreshed'));

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader
        title={
          <Space wrap>
            {nameOf(s, locale)}
            {s.built_in ? <Tag color="blue">{t('builtIn')}</Tag> : null}
            {active ? null : <Tag>{t('status.archived')}</Tag>}
          </Space>
        }
        description={s.built_in_key ? t(`builtInDescriptions.${s.built_in_key}`) : (s.description ?? undefined)}
        extra={
          <Space wrap>
            {active && canWrite ? (
              <Button type="primary" icon={<ReloadOutlined />} loading={refresh.isPending} data-testid="segment-refresh" onClick={() => refresh.mutate()}>
                {refresh.isPending ? t('refreshing', { seconds: elapsed }) : t('refresh')}
              </Button>
            ) : null}
            {active && canWrite && !s.built_in ? <Button onClick={() => navigate('edit')}>{t('edit')}</Button> : null}
            {active && canWrite && !s.built_in ? (
              <Popconfirm title={t('archiveConfirm')} okText={t('archive')} cancelText={t('common:cancel')} onConfirm={() => archive.mutate()}>
                <Button danger loading={archive.isPending}>
                  {t('archive')}
                </Button>
              </Popconfirm>
            ) : null}
          </Space>
        }
      />
      <Card size="small">
        <Descriptions column={{ xs: 1, md: 3 }} size="small">
          <Descriptions.Item label={t('columns.members')}>
            <span data-testid="segment-member-count">{s.member_count.toLocaleString(locale)}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('columns.refreshed')}>{when(s.refreshed_at)}</Descriptions.Item>
          <Descriptions.Item label={t('lastRefresh')}>
            {s.last_refresh
              ? t('refreshFigures', {
                  evaluated: s.last_refresh.evaluated,
                  added: s.last_refresh.added,
                  removed: s.last_refresh.removed,
                  ms: s.last_refresh.duration_ms,
                })
              : '—'}
          </Descriptions.Item>
        </Descriptions>
        {lastRun ? (
          <Typography.Paragraph type="success" data-testid="segment-refresh-result" style={{ marginBottom: 0 }}>
            {t('refreshDone', { added: lastRun.added, removed: lastRun.removed, count: lastRun.member_count, ms: lastRun.duration_ms })}
          </Typography.Paragraph>
        ) : null}
        <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 4 }}>
          {t('conditionLabel')}
        </Typography.Paragraph>
        <pre style={{ whiteSpace: 'pre-wrap', margin: 0, fontSize: 12 }}>{JSON.stringify(s.condition, null, 2)}</pre>
      </Card>
      {members.error ? <ErrorAlert error={members.error} onRetry={() => members.refetch()} /> : null}
      <Table<SegmentMember>
        data-testid="segment-members-table"
        rowKey="member_id"
        loading={members.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 720 }}
        locale={{ emptyText: members.isPending ? ' ' : <EmptyState description={s.refreshed_at ? t('noMembers') : t('notRefreshedYet')} /> }}
        columns={[
          {
            title: t('members.name'),
            key: 'name',
            render: (_, m) => <Link to={`/${program.id}/members/${m.member_id}`}>{m.name ?? m.external_id}</Link>,
          },
          { title: t('members.externalId'), dataIndex: 'external_id', key: 'external_id' },
          { title: t('members.tier'), key: 'tier', render: (_, m) => m.tier ?? '—' },
          { title: t('members.balance'), key: 'balance', align: 'right', render: (_, m) => formatPoints(m.points_balance, locale) },
          { title: t('members.since'), key: 'since', render: (_, m) => (m.since ? formatDateTime(m.since, program.time_zone, locale) : '—') },
        ]}
      />
      <LoadMore query={members} />
    </Space>
  );
}
