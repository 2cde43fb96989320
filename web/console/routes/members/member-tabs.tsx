// The tabs of a member's page: entries (each with its explanation), lots, the expiry forecast,
// events (opening the event's detail) and holds. Lists load 20 at a time, "load more" by cursor.
import { type QueryKey, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Badge, Button, Select, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { type ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { unwrap } from '../../../shared/api.ts';
import { formatDate, formatDateTime, formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { LoadMore } from '../../layout/page.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { EventDrawer, OutcomeTag, pointsColor } from '../events/event-drawer.tsx';
import { type BadgeStatus, ENTRY_KINDS, type Entry, type EntryKind, type Hold, type Lot, type MemberEvent, memberKey } from './types.ts';

interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** A list of the API, page by page (cursor), as one table with "load more". */
function PagedTable<T extends { id: string }>({
  queryKey,
  fetchPage,
  columns,
  empty,
  testId,
  onRowClick,
}: {
  queryKey: QueryKey;
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>;
  columns: ColumnsType<T>;
  empty: ReactNode;
  testId?: string;
  onRowClick?: (row: T) => void;
}) {
  const query = useInfiniteQuery({
    queryKey,
    ...cursorPages,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
  });
  const rows = query.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      {query.error ? <ErrorAlert error={query.error} onRetry={() => query.refetch()} /> : null}
      <Table<T>
        data-testid={testId}
        rowKey="id"
        size="middle"
        loading={query.isPending}
        dataSource={rows}
        columns={columns}
        pagination={false}
        scroll={{ x: 800 }}
        onRow={onRowClick ? (row) => ({ onClick: () => onRowClick(row), style: { cursor: 'pointer' } }) : undefined}
        locale={{ emptyText: query.isPending ? ' ' : <EmptyState description={empty} /> }}
      />
      <LoadMore query={query} />
    </Space>
  );
}

function useFormat() {
  const { t, i18n } = useTranslation('members');
  const locale = i18n.language as Locale;
  const program = useProgram();
  return {
    t,
    locale,
    program,
    points: (n: number, signed = false) => formatPoints(n, locale, { signed }),
    when: (iso: string | null | undefined) => (iso ? formatDateTime(iso, program.time_zone, locale) : '—'),
    day: (iso: string | null | undefined) => (iso ? formatDate(iso, program.time_zone, locale) : '—'),
  };
}

function Signed({ value }: { value: number }) {
  const { locale } = useFormat();
  return (
    <Typography.Text strong style={{ whiteSpace: 'nowrap', color: pointsColor(value) }}>
      {formatPoints(value, locale, { signed: true })}
    </Typography.Text>
  );
}

export function EntriesTab({ memberId }: { memberId: string }) {
  const { t, when } = useFormat();
  const [kind, setKind] = useState<EntryKind | undefined>();
  const [openEvent, setOpenEvent] = useState<string | undefined>();
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Select
        aria-label={t('entries.kindFilter')}
        allowClear
        placeholder={t('entries.allKinds')}
        value={kind}
        onChange={(v?: EntryKind) => setKind(v)}
        options={ENTRY_KINDS.map((k) => ({ value: k, label: t(`kinds.${k}`) }))}
        style={{ width: 200 }}
      />
      <PagedTable<Entry>
        testId="entries-table"
        queryKey={memberKey(memberId, 'entries', kind)}
        fetchPage={(cursor) => unwrap(api.GET('/v1/members/{memberId}/entries', { params: { path: { memberId }, query: { kind, limit: 20, cursor } } }))}
        empty={kind ? t('entries.noneOfKind') : t('entries.empty')}
        columns={[
          { title: t('entries.time'), dataIndex: 'occurred_at', width: 180, render: (v: string) => when(v) },
          { title: t('entries.kind'), dataIndex: 'kind', width: 110, render: (v: EntryKind) => <Tag>{t(`kinds.${v}`)}</Tag> },
          {
            title: t('entries.points'),
            dataIndex: 'delta',
            width: 110,
            align: 'right',
            render: (v: number, e) => <Signed value={v === 0 ? e.held_delta : v} />,
          },
          {
            title: t('entries.explanation'),
            key: 'reason',
            render: (_, e) => (
              <Space orientation="vertical" size={0}>
                <span>{e.reason ?? '—'}</span>
                {e.reason_code ? <Typography.Text type="secondary">{t('entries.reasonCode', { code: e.reason_code })}</Typography.Text> : null}
                {e.delta === 0 && e.held_delta !== 0 ? <Typography.Text type="secondary">{t('entries.heldOnly')}</Typography.Text> : null}
              </Space>
            ),
          },
          {
            title: t('entries.source'),
            key: 'source',
            width: 200,
            render: (_, e) => (
              <Space orientation="vertical" size={0}>
                {e.event_id ? (
                  <Button type="link" size="small" style={{ padding: 0 }} onClick={() => setOpenEvent(e.event_id ?? undefined)} title={e.event_id}>
                    {t('entries.viewEvent')}
                  </Button>
                ) : null}
                {e.reference ? (
                  <Typography.Text type="secondary" ellipsis={{ tooltip: e.reference }} style={{ maxWidth: 180 }}>
                    {t('entries.reference', { reference: e.reference })}
                  </Typography.Text>
                ) : null}
                {e.actor && !e.event_id ? (
                  <Typography.Text type="secondary" ellipsis={{ tooltip: e.actor }} style={{ maxWidth: 180 }}>
                    {t('entries.actor', { actor: e.actor })}
                  </Typography.Text>
                ) : null}
              </Space>
            ),
          },
        ]}
      />
      <EventDrawer eventId={openEvent} onClose={() => setOpenEvent(undefined)} />
    </Space>
  );
}

const LOT_BADGES: Record<Lot['state'], BadgeStatus> = { pending: 'warning', available: 'success', expired: 'default', consumed: 'default' };

export function LotsTab({ memberId }: { memberId: string }) {
  const { t, points, day } = useFormat();
  const [state, setState] = useState<'open' | 'all'>('open');
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Select
        aria-label={t('lots.stateFilter')}
        value={state}
        onChange={setState}
        options={[
          { value: 'open', label: t('lots.open') },
          { value: 'all', label: t('lots.all') },
        ]}
        style={{ width: 200 }}
      />
      <Typography.Text type="secondary">{t('lots.help')}</Typography.Text>
      <PagedTable<Lot>
        testId="lots-table"
        queryKey={memberKey(memberId, 'lots', state, 'paged')}
        fetchPage={(cursor) => unwrap(api.GET('/v1/members/{memberId}/lots', { params: { path: { memberId }, query: { state, limit: 20, cursor } } }))}
        empty={state === 'open' ? t('lots.emptyOpen') : t('lots.empty')}
        columns={[
          { title: t('lots.earned'), dataIndex: 'earned_at', render: (v: string) => day(v) },
          { title: t('lots.amount'), dataIndex: 'amount', align: 'right', render: (v: number) => points(v) },
          { title: t('lots.remaining'), dataIndex: 'remaining', align: 'right', render: (v: number) => points(v) },
          { title: t('lots.heldCol'), dataIndex: 'held', align: 'right', render: (v: number) => points(v) },
          { title: t('lots.availableAt'), dataIndex: 'available_at', render: (v: string) => day(v) },
          { title: t('lots.expires'), dataIndex: 'expires_at', render: (v: string | null) => (v ? day(v) : t('lots.never')) },
          { title: t('lots.state'), dataIndex: 'state', render: (v: Lot['state']) => <Badge status={LOT_BADGES[v]} text={t(`lotStates.${v}`)} /> },
        ]}
      />
    </Space>
  );
}

export function ForecastTab({ memberId }: { memberId: string }) {
  const { t, points, day, program, locale } = useFormat();
  const forecast = useQuery({
    queryKey: memberKey(memberId, 'forecast'),
    queryFn: () => unwrap(api.GET('/v1/members/{memberId}/expiry-forecast', { params: { path: { memberId } } })),
  });
  if (forecast.error) return <ErrorAlert error={forecast.error} onRetry={() => forecast.refetch()} />;
  const f = forecast.data;
  const max = Math.max(1, ...(f?.by_month.map((m) => m.points) ?? []));
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="forecast">
      {f ? (
        <Typography.Paragraph>
          {f.total > 0
            ? t('forecast.summary', {
                points: points(f.total),
                name: pointNameOf(program, locale),
                next: f.next_expiry ? t('forecast.next', { points: points(f.next_expiry.points), date: day(f.next_expiry.at) }) : '',
              })
            : t('forecast.none')}
          {f.complete ? null : ` ${t('forecast.incomplete')}`}
        </Typography.Paragraph>
      ) : null}
      <Table
        rowKey="month"
        size="middle"
        loading={forecast.isPending}
        dataSource={f?.by_month ?? []}
        pagination={false}
        locale={{ emptyText: forecast.isPending ? ' ' : <EmptyState description={t('forecast.empty')} /> }}
        columns={[
          { title: t('forecast.month'), dataIndex: 'month', width: 120 },
          { title: t('forecast.points'), dataIndex: 'points', width: 140, align: 'right', render: (v: number) => points(v) },
          {
            title: t('forecast.share'),
            key: 'bar',
            render: (_, m) => (
              <div aria-hidden style={{ background: '#fde7d9', borderRadius: 3, height: 10, width: `${Math.max(2, (m.points / max) * 100)}%` }} />
            ),
          },
        ]}
        expandable={{
          rowExpandable: () => true,
          columnTitle: t('forecast.days'),
          expandedRowRender: (m) => (
            <Space wrap>
              {(f?.by_date ?? [])
                .filter((d) => d.date.startsWith(m.month))
                .map((d) => (
                  <Tag key={d.date}>{t('forecast.onDate', { date: d.date, points: points(d.points) })}</Tag>
                ))}
            </Space>
          ),
        }}
      />
      {f ? <Typography.Text type="secondary">{t('forecast.timeZone', { zone: f.time_zone })}</Typography.Text> : null}
    </Space>
  );
}

export function EventsTab({ memberId }: { memberId: string }) {
  const { t, when } = useFormat();
  const [open, setOpen] = useState<string | undefined>();
  return (
    <>
      <PagedTable<MemberEvent>
        testId="member-events-table"
        queryKey={memberKey(memberId, 'events')}
        fetchPage={(cursor) => unwrap(api.GET('/v1/members/{memberId}/events', { params: { path: { memberId }, query: { limit: 20, cursor } } }))}
        empty={t('events.empty')}
        onRowClick={(e) => setOpen(e.id)}
        columns={[
          { title: t('events.time'), dataIndex: 'occurred_at', render: (v: string) => when(v) },
          { title: t('events.type'), dataIndex: 'type', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
          { title: t('events.outcome'), key: 'outcome', render: (_, e) => <OutcomeTag points={e.points} /> },
          { title: t('events.points'), dataIndex: 'points', align: 'right', render: (v: number) => <Signed value={v} /> },
          {
            title: t('events.eventId'),
            dataIndex: 'event_id',
            render: (v: string, e) => (
              <Button
                type="link"
                size="small"
                onClick={(click) => {
                  click.stopPropagation();
                  setOpen(e.id);
                }}
              >
                {v}
              </Button>
            ),
          },
        ]}
      />
      <EventDrawer eventId={open} onClose={() => setOpen(undefined)} />
    </>
  );
}

const HOLD_BADGES: Record<Hold['status'], BadgeStatus> = { open: 'warning', captured: 'success', voided: 'default', expired: 'default' };

export function HoldsTab({ memberId }: { memberId: string }) {
  const { t, points, when } = useFormat();
  return (
    <PagedTable<Hold>
      testId="holds-table"
      queryKey={memberKey(memberId, 'holds')}
      fetchPage={(cursor) => unwrap(api.GET('/v1/members/{memberId}/holds', { params: { path: { memberId }, query: { limit: 20, cursor } } }))}
      empty={t('holds.empty')}
      columns={[
        { title: t('holds.created'), dataIndex: 'created_at', render: (v: string) => when(v) },
        { title: t('holds.status'), dataIndex: 'status', render: (v: Hold['status']) => <Badge status={HOLD_BADGES[v]} text={t(`holdStatuses.${v}`)} /> },
        { title: t('holds.amount'), dataIndex: 'amount', align: 'right', render: (v: number) => points(v) },
        { title: t('holds.captured'), dataIndex: 'captured', align: 'right', render: (v: number) => points(v) },
        { title: t('holds.expires'), dataIndex: 'expires_at', render: (v: string) => when(v) },
        { title: t('holds.reference'), key: 'reference', render: (_, h) => h.description ?? h.reference ?? '—' },
      ]}
    />
  );
}
