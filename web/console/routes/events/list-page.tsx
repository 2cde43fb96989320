// The event log: the program's processed events newest first, each with its outcome, points and the
// rules that awarded; filters by type, outcome, member (external id) and date range (in the
// program's time zone); "load more" by cursor; a row opens the event's detail (?event=evt_… in the
// URL, so a link can open it).

import type { operations } from '@jifen/client';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Button, Card, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatPoints, type Locale } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { DayRangeFilter, dayRange, LoadMore, PageHeader, useUrlFilters } from '../../layout/page.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { EventDrawer, OUTCOMES, type Outcome, OutcomeTag, pointsColor } from './event-drawer.tsx';

type ProgramEvent = operations['listProgramEvents']['responses'][200]['content']['application/json']['data'][number];

export default function EventsListPage() {
  const { t, i18n } = useTranslation('events');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const [params, set] = useUrlFilters();
  const type = params.get('type') ?? undefined;
  const outcomeParam = params.get('outcome');
  const outcome = OUTCOMES.includes(outcomeParam as Outcome) ? (outcomeParam as Outcome) : undefined;
  const member = params.get('member') ?? undefined;
  const { fromDay, toDay, from, to } = dayRange(params, program.time_zone);
  const openEvent = params.get('event') ?? undefined;
  const [memberText, setMemberText] = useState(member ?? '');

  const eventTypes = useQuery({
    queryKey: ['event-types', program.id],
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}/event-types', { params: { path: { programId: program.id } } })),
    staleTime: 60_000,
  });
  const events = useInfiniteQuery({
    queryKey: ['events', program.id, type, outcome, member, from, to],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/programs/{programId}/events', {
          params: { path: { programId: program.id }, query: { type, outcome, member_external_id: member, from, to, limit: 20, cursor: pageParam } },
        }),
      ),
  });
  const rows = events.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = [type, outcome, member, from, to].some((v) => v !== undefined);
  const when = (iso: string) => formatDateTime(iso, program.time_zone, locale);

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader title={t('title')} description={t('description')} />
      <Card>
        <Space wrap style={{ marginBottom: 16 }}>
          <Select
            aria-label={t('filters.type')}
            allowClear
            showSearch
            placeholder={t('filters.allTypes')}
            value={type}
            loading={eventTypes.isPending}
            onChange={(v?: string) => set({ type: v })}
            options={eventTypes.data?.data.map((et) => ({ value: et.type, label: et.type }))}
            style={{ width: 220 }}
          />
          <Select
            aria-label={t('filters.outcome')}
            allowClear
            placeholder={t('filters.allOutcomes')}
            value={outcome}
            onChange={(v?: Outcome) => set({ outcome: v })}
            options={OUTCOMES.map((o) => ({ value: o, label: t(`outcomes.${o}`) }))}
            style={{ width: 160 }}
          />
          <Input.Search
            aria-label={t('filters.member')}
            placeholder={t('filters.memberPlaceholder')}
            allowClear
            value={memberText}
            onChange={(e) => {
              setMemberText(e.target.value);
              if (e.target.value === '') set({ member: undefined });
            }}
            onSearch={(v) => set({ member: v.trim() || undefined })}
            style={{ width: 260 }}
          />
          <DayRangeFilter label={t('filters.dates')} fromDay={fromDay} toDay={toDay} onChange={set} />
        </Space>
        {events.error ? <ErrorAlert error={events.error} onRetry={() => events.refetch()} /> : null}
        <Table<ProgramEvent>
          data-testid="events-table"
          rowKey="id"
          loading={events.isPending}
          dataSource={rows}
          pagination={false}
          scroll={{ x: 1000 }}
          onRow={(e) => ({ onClick: () => set({ event: e.id }), style: { cursor: 'pointer' } })}
          locale={{
            emptyText: events.isPending ? (
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
            { title: t('columns.time'), dataIndex: 'occurred_at', width: 190, render: (v: string) => <span style={{ whiteSpace: 'nowrap' }}>{when(v)}</span> },
            {
              // the sender's event id under the type: one column fewer, so the rules that fired fit at 1280 px
              title: t('columns.type'),
              dataIndex: 'type',
              render: (v: string, e) => (
                <Space orientation="vertical" size={0}>
                  <Typography.Text code>{v}</Typography.Text>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }} title={t('columns.externalId')}>
                    {e.event_id}
                  </Typography.Text>
                </Space>
              ),
            },
            {
              title: t('columns.member'),
              key: 'member',
              render: (_, e) => (
                <Link to={`/${program.id}/members/${e.member_id}`} onClick={(click) => click.stopPropagation()}>
                  {e.member_external_id ?? e.member_id}
                </Link>
              ),
            },
            { title: t('columns.outcome'), dataIndex: 'outcome', render: (v: Outcome, e) => <OutcomeTag points={e.points} outcome={v} /> },
            {
              title: t('columns.points'),
              dataIndex: 'points',
              align: 'right',
              render: (v: number) => (
                <Typography.Text strong style={{ color: pointsColor(v) }}>
                  {formatPoints(v, locale, { signed: true })}
                </Typography.Text>
              ),
            },
            {
              title: t('columns.rules'),
              key: 'rules',
              render: (_, e) =>
                e.awards.length === 0 && e.reversals.length === 0 ? (
                  <Typography.Text type="secondary">{e.skipped.length > 0 ? t('skippedCount', { count: e.skipped.length }) : '—'}</Typography.Text>
                ) : (
                  <Space size={[0, 4]} wrap>
                    {e.awards.map((a) => (
                      <Tag key={`${a.rule_id}${a.entry_id ?? ''}`}>{String((a.explanation as { rule_name?: string }).rule_name ?? a.rule_id)}</Tag>
                    ))}
                    {e.reversals.map((r) => (
                      <Tag key={r.entry_id}>{t('reversalOf', { rule: r.rule_name ?? r.rule_id ?? t('reversal') })}</Tag>
                    ))}
                  </Space>
                ),
            },
          ]}
        />
        <LoadMore
          query={events}
          done={rows.length > 0 ? <Typography.Text type="secondary">{t('count', { count: rows.length })}</Typography.Text> : null}
          style={{ marginTop: 16 }}
        />
      </Card>
      <EventDrawer eventId={openEvent} onClose={() => set({ event: undefined })} />
    </Space>
  );
}
