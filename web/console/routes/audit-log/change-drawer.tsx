// One change: who, when, what, and the resource before and after as a field-level diff (changed
// fields highlighted by their row's colour and a tag saying added, removed or changed; "only changes" by default when there is a before), or the raw JSON.

import type { operations } from '@jifen/client';
import { useQuery } from '@tanstack/react-query';
import { Descriptions, Drawer, Empty, Segmented, Space, Switch, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatDateTime, type Locale } from '../../../shared/format.ts';
import { ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { ActorLabel } from './actor.tsx';
import { diffJson, type FieldDiff, show } from './diff.ts';
import { operationLabel, resourceHref } from './labels.ts';

export type Change = operations['getChange']['responses'][200]['content']['application/json'];

const ROW_BACKGROUND: Record<FieldDiff['kind'], string | undefined> = { added: '#f6ffed', removed: '#fff1f0', changed: '#fff7e6', same: undefined };

export function ChangeDrawer({ changeId, known, onClose }: { changeId: string | undefined; known: Change | undefined; onClose: () => void }) {
  const { t } = useTranslation('audit-log');
  const change = useQuery({
    queryKey: ['change', changeId],
    queryFn: () => unwrap(api.GET('/v1/changes/{changeId}', { params: { path: { changeId: changeId! } } })),
    enabled: changeId !== undefined && known === undefined,
  });
  const data = known ?? change.data;
  return (
    <Drawer open={changeId !== undefined} onClose={onClose} size="large" title={t('drawer.title')} data-testid="change-drawer" destroyOnHidden>
      {data ? <ChangeDetail change={data} /> : change.error ? <ErrorAlert error={change.error} onRetry={() => change.refetch()} /> : <PageLoading />}
    </Drawer>
  );
}

function ChangeDetail({ change }: { change: Change }) {
  const { t, i18n } = useTranslation('audit-log');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const [view, setView] = useState<'diff' | 'json'>('diff');
  const hasBefore = change.before !== null && change.before !== undefined;
  const [onlyChanged, setOnlyChanged] = useState(hasBefore);
  const fields = diffJson(change.before, change.after);
  const shown = onlyChanged ? fields.filter((f) => f.kind !== 'same') : fields;
  const href = resourceHref(program.id, change.resource_type, change.resource_id);
  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t('columns.time')}>{formatDateTime(change.at, program.time_zone, locale)}</Descriptions.Item>
        <Descriptions.Item label={t('columns.actor')}>
          <Space orientation="vertical" size={0}>
            <ActorLabel actor={change.actor} />
            {change.actor.id ? (
              <Typography.Text type="secondary" copyable>
                {change.actor.id}
              </Typography.Text>
            ) : null}
          </Space>
        </Descriptions.Item>
        <Descriptions.Item label={t('columns.operation')}>
          <Space>
            {operationLabel(change.operation, t)}
            <Typography.Text code>{change.operation}</Typography.Text>
          </Space>
        </Descriptions.Item>
        <Descriptions.Item label={t('columns.resource')}>
          <Space>
            <Tag>{t(`resourceTypes.${change.resource_type}`, { defaultValue: change.resource_type })}</Tag>
            {change.resource_id ? href ? <Link to={href}>{change.resource_id}</Link> : <Typography.Text copyable>{change.resource_id}</Typography.Text> : null}
          </Space>
        </Descriptions.Item>
        <Descriptions.Item label={t('drawer.request')}>
          <Space orientation="vertical" size={0}>
            <Typography.Text code>
              {change.method} {change.path}
            </Typography.Text>
            <Typography.Text type="secondary">
              {t('columns.status')} {change.status} · {change.request_id}
            </Typography.Text>
          </Space>
        </Descriptions.Item>
        {change.summary ? (
          <Descriptions.Item label={t('drawer.summary')}>
            <Space size={[4, 4]} wrap>
              {Object.entries(change.summary)
                .filter(([, v]) => v !== undefined && v !== null)
                .map(([k, v]) => (
                  <Tag key={k}>
                    {k}: {show(v)}
                  </Tag>
                ))}
            </Space>
          </Descriptions.Item>
        ) : null}
      </Descriptions>

      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
          {hasBefore ? t('drawer.beforeAfter') : t('drawer.result')}
        </Typography.Title>
        <Space>
          {view === 'diff' && hasBefore ? (
            <Space size={6}>
              <Switch id="audit-only-changed" size="small" checked={onlyChanged} onChange={setOnlyChanged} />
              <label htmlFor="audit-only-changed">{t('drawer.onlyChanged')}</label>
            </Space>
          ) : null}
          <Segmented
            value={view}
            onChange={(v) => setView(v as 'diff' | 'json')}
            options={[
              { value: 'diff', label: t('drawer.fields') },
              { value: 'json', label: 'JSON' },
            ]}
          />
        </Space>
      </Space>

      {view === 'json' ? (
        <div style={{ display: 'grid', gridTemplateColumns: hasBefore ? '1fr 1fr' : '1fr', gap: 12 }}>
          {hasBefore ? <JsonBlock title={t('drawer.before')} value={change.before} /> : null}
          <JsonBlock title={t('drawer.after')} value={change.after} />
        </div>
      ) : shown.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={fields.length === 0 ? t('drawer.noBody') : t('drawer.noDifference')} />
      ) : (
        <Table<FieldDiff>
          data-testid="change-diff"
          size="small"
          rowKey="path"
          pagination={false}
          dataSource={shown}
          onRow={(f) => ({ style: { background: hasBefore ? ROW_BACKGROUND[f.kind] : undefined }, 'data-kind': f.kind }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            {
              title: t('drawer.field'),
              dataIndex: 'path',
              render: (path: string, f) => (
                <Space size={4}>
                  <Typography.Text code>{path}</Typography.Text>
                  {hasBefore && f.kind !== 'same' ? <Tag>{t(`drawer.kinds.${f.kind}`)}</Tag> : null}
                </Space>
              ),
            },
            ...(hasBefore
              ? [{ title: t('drawer.before'), key: 'before', render: (_: unknown, f: FieldDiff) => <Value value={f.before} strike={f.kind !== 'same'} /> }]
              : []),
            {
              title: hasBefore ? t('drawer.after') : t('drawer.value'),
              key: 'after',
              render: (_: unknown, f: FieldDiff) => <Value value={f.after} strong={f.kind !== 'same' && hasBefore} />,
            },
          ]}
        />
      )}
    </Space>
  );
}

function Value({ value, strike, strong }: { value: unknown; strike?: boolean; strong?: boolean }) {
  if (value === undefined) return <Typography.Text type="secondary">—</Typography.Text>;
  return (
    <Typography.Text delete={strike} strong={strong} style={{ wordBreak: 'break-all' }}>
      {show(value)}
    </Typography.Text>
  );
}

function JsonBlock({ title, value }: { title: string; value: unknown }) {
  return (
    <div>
      <Typography.Text strong>{title}</Typography.Text>
      <pre style={{ background: '#fafafa', border: '1px solid #f0f0f0', borderRadius: 6, padding: 12, fontSize: 12, overflow: 'auto', maxHeight: 480 }}>
        {JSON.stringify(value, null, 2)}
      </pre>
    </div>
  );
}
