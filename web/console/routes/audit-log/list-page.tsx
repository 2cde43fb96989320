// The audit log: every change made to the program through the console or the API, newest first —
// who, when, what, on which resource, with what status; filters by operation, actor, resource id
// and date range (in the program's time zone); "load more" by cursor; a row opens the change
// (?change=chg_… in the URL, so a link can open it) with the resource before and after.

import { CloseOutlined } from '@ant-design/icons';
import type { operations } from '@jifen/client';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Badge, Button, Card, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatDateTime, type Locale } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { DayRangeFilter, dayRange, LoadMore, PageHeader, useUrlFilters } from '../../layout/page.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { ActorLabel } from './actor.tsx';
import { ChangeDrawer } from './change-drawer.tsx';
import { operationLabel, resourceHref } from './labels.ts';
import { ACTOR_TYPES, type ActorType, OPERATION_GROUPS } from './operations.ts';

type Change = operations['listChanges']['responses'][200]['content']['application/json']['data'][number];

const OPERATION = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

export default function AuditLogPage() {
  const { t, i18n } = useTranslation('audit-log');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const [params, set] = useUrlFilters();
  const operation = OPERATION.test(params.get('operation') ?? '') ? params.get('operation')! : undefined;
  const actorTypeParam = params.get('actor_type');
  const actorType = ACTOR_TYPES.includes(actorTypeParam as ActorType) ? (actorTypeParam as ActorType) : undefined;
  const actorId = params.get('actor') || undefined;
  const actorName = params.get('actor_name') || undefined;
  const resourceId = params.get('resource') || undefined;
  const { fromDay, toDay, from, to } = dayRange(params, program.time_zone);
  const openChange = params.get('change') ?? undefined;
  const [resourceText, setResourceText] = useState(resourceId ?? '');

  const changes = useInfiniteQuery({
    queryKey: ['changes', program.id, operation, actorType, actorId, resourceId, from, to],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/programs/{programId}/changes', {
          params: {
            path: { programId: program.id },
            query: { operation, actor_type: actorType, actor_id: actorId, resource_id: resourceId, from, to, limit: 20, cursor: pageParam },
          },
        }),
      ),
  });
  const rows = changes.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = [operation, actorType, actorId, resourceId, from, to].some((v) => v !== undefined);
  const known = openChange ? rows.find((c) => c.id === openChange) : undefined;

  const operationOptions = Object.entries(OPERATION_GROUPS).map(([group, ops]) => ({
    label: t(`groups.${group}`),
    title: t(`groups.${group}`),
    options: ops.map((op) => ({ value: op, label: operationLabel(op, t) })),
  }));
  if (operation && !Object.values(OPERATION_GROUPS).some((ops) => ops.includes(operation))) {
    operationOptions.push({ label: t('groups.other'), title: t('groups.other'), options: [{ value: operation, label: operation }] });
  }

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader title={t('title')} description={t('description')} />
      <Card>
        <Space wrap style={{ marginBottom: 16 }}>
          <Select
            aria-label={t('filters.operation')}
            allowClear
            showSearch={{ optionFilterProp: 'label' }}
            placeholder={t('filters.allOperations')}
            value={operation}
            onChange={(v?: string) => set({ operation: v })}
            options={operationOptions}
            style={{ width: 220 }}
          />
          <Select
            aria-label={t('filters.actorType')}
            allowClear
            placeholder={t('filters.allActors')}
            value={actorType}
            onChange={(v?: ActorType) => set({ actor_type: v })}
            options={ACTOR_TYPES.map((a) => ({ value: a, label: t(`actorTypes.${a}`) }))}
            style={{ width: 160 }}
          />
          <Input.Search
            aria-label={t('filters.resource')}
            placeholder={t('filters.resourcePlaceholder')}
            allowClear
            value={resourceText}
            onChange={(e) => {
              setResourceText(e.target.value);
              if (e.target.value === '') set({ resource: undefined });
            }}
            onSearch={(v) => set({ resource: v.trim() || undefined })}
            style={{ width: 280 }}
          />
          <DayRangeFilter label={t('filters.dates')} fromDay={fromDay} toDay={toDay} onChange={set} />
          {actorId ? (
            <Button size="small" icon={<CloseOutlined />} title={t('filters.clearActor')} onClick={() => set({ actor: undefined, actor_name: undefined })}>
              {t('filters.byActor', { name: actorName ?? actorId })}
            </Button>
          ) : null}
        </Space>
        {changes.error ? <ErrorAlert error={changes.error} onRetry={() => changes.refetch()} /> : null}
        <Table<Change>
          data-testid="audit-log-table"
          rowKey="id"
          loading={changes.isPending}
          dataSource={rows}
          pagination={false}
          scroll={{ x: 900 }}
          onRow={(c) => ({ onClick: () => set({ change: c.id }), style: { cursor: 'pointer' } })}
          locale={{
            emptyText: changes.isPending ? ' ' : filtered ? <EmptyState description={t('noMatch')} /> : <EmptyState description={t('empty')} />,
          }}
          columns={[
            { title: t('columns.time'), dataIndex: 'at', width: 180, render: (v: string) => formatDateTime(v, program.time_zone, locale) },
            {
              title: t('columns.actor'),
              key: 'actor',
              render: (_, c) =>
                c.actor.id ? (
                  <Button
                    type="link"
                    size="small"
                    style={{ padding: 0 }}
                    title={t('filters.filterByActor')}
                    onClick={(click) => {
                      click.stopPropagation();
                      set({ actor: c.actor.id ?? undefined, actor_name: c.actor.name ?? undefined });
                    }}
                  >
                    <ActorLabel actor={c.actor} />
                  </Button>
                ) : (
                  <ActorLabel actor={c.actor} />
                ),
            },
            {
              title: t('columns.operation'),
              dataIndex: 'operation',
              width: 180,
              render: (op: string) => <Typography.Text>{operationLabel(op, t)}</Typography.Text>,
            },
            {
              title: t('columns.resource'),
              key: 'resource',
              render: (_, c) => {
                const href = resourceHref(program.id, c.resource_type, c.resource_id);
                return (
                  <Space size={4}>
                    <Tag>{t(`resourceTypes.${c.resource_type}`, { defaultValue: c.resource_type })}</Tag>
                    {href ? (
                      <Link to={href} onClick={(click) => click.stopPropagation()}>
                        {c.resource_id}
                      </Link>
                    ) : (
                      <Typography.Text type="secondary">{c.resource_id ?? ''}</Typography.Text>
                    )}
                  </Space>
                );
              },
            },
            {
              title: t('columns.status'),
              dataIndex: 'status',
              width: 90,
              render: (v: number) => <Badge status={v >= 200 && v < 300 ? 'success' : 'default'} text={v} />,
            },
            {
              title: t('columns.detail'),
              key: 'detail',
              width: 100,
              render: (_, c) => (
                <Button
                  size="small"
                  onClick={(click) => {
                    click.stopPropagation();
                    set({ change: c.id });
                  }}
                >
                  {t('view')}
                </Button>
              ),
            },
          ]}
        />
        <LoadMore
          query={changes}
          done={rows.length > 0 ? <Typography.Text type="secondary">{t('count', { count: rows.length })}</Typography.Text> : null}
          style={{ marginTop: 16 }}
        />
      </Card>
      <ChangeDrawer changeId={openChange} known={known} onClose={() => set({ change: undefined })} />
    </Space>
  );
}
