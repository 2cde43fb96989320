// Earning rules: what each rule gives, in words, with its badges and dates; filters by status and
// event type; "load more" by cursor.
import { PlusOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Button, Card, ConfigProvider, Select, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatDateTime, type Locale, pointNameOf } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { LoadMore, PageHeader } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { capSummaries, effectSummary, multiplierSummary, type SummaryContext } from './summary.ts';
import { DANGER_THEME, TAG_COLORS } from './tag-colors.ts';
import type { Rule, RuleVersion } from './types.ts';

/** The version a rule's row describes: the one in force, else the next announced one, else the latest. */
export function shownVersion(rule: Rule): RuleVersion | undefined {
  if (rule.current) return rule.current;
  const now = Date.now();
  const upcoming = rule.versions.filter((v) => Date.parse(v.effective_from) > now).sort((a, b) => Date.parse(a.effective_from) - Date.parse(b.effective_from));
  return upcoming[0] ?? rule.versions[0];
}

export function announcedVersions(rule: Rule): RuleVersion[] {
  const now = Date.now();
  return rule.versions.filter((v) => Date.parse(v.effective_from) > now);
}

export function useEventTypes(programId: string) {
  return useQuery({
    queryKey: ['event-types', programId],
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}/event-types', { params: { path: { programId } } })),
    staleTime: 60_000,
  });
}

export default function RulesListPage() {
  return (
    <ConfigProvider theme={DANGER_THEME}>
      <RulesListPageContent />
    </ConfigProvider>
  );
}

function RulesListPageContent() {
  const { t, i18n } = useTranslation('rules');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const navigate = useNavigate();
  const { can } = useSession();
  const canWrite = can(program.id, 'rules.write');
  const [status, setStatus] = useState<'active' | 'archived' | undefined>('active');
  const [trigger, setTrigger] = useState<string | undefined>();
  const eventTypes = useEventTypes(program.id);
  const rules = useInfiniteQuery({
    queryKey: ['rules', program.id, status, trigger],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/programs/{programId}/rules', {
          params: { path: { programId: program.id }, query: { status, trigger, limit: 50, cursor: pageParam } },
        }),
      ),
  });
  const ctx: SummaryContext = {
    t: (key, options) => String(t(key, options as never)),
    locale,
    currency: program.currency,
    pointName: pointNameOf(program, locale),
    timeZone: program.time_zone,
  };
  const rows = rules.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = status !== undefined || trigger !== undefined;
  const when = (iso: string | null | undefined) => (iso ? formatDateTime(iso, program.time_zone, locale) : '—');

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader
        title={t('title')}
        description={t('description')}
        extra={
          canWrite ? (
            <Button type="primary" icon={<PlusOutlined />} data-testid="rule-create" onClick={() => navigate('new')}>
              {t('create')}
            </Button>
          ) : null
        }
      />
      <Card size="small">
        <Space wrap>
          <Select
            aria-label={t('filters.status')}
            style={{ width: 160 }}
            value={status ?? 'all'}
            onChange={(v: string) => setStatus(v === 'all' ? undefined : (v as 'active' | 'archived'))}
            options={[
              { value: 'all', label: t('filters.allStatuses') },
              { value: 'active', label: t('status.active') },
              { value: 'archived', label: t('status.archived') },
            ]}
          />
          <Select
            aria-label={t('filters.eventType')}
            style={{ width: 220 }}
            allowClear
            placeholder={t('filters.allEventTypes')}
            value={trigger}
            onChange={(v?: string) => setTrigger(v)}
            loading={eventTypes.isPending}
            options={eventTypes.data?.data.map((e) => ({ value: e.type, label: eventTypeLabel(e.type, t) }))}
          />
        </Space>
      </Card>
      {rules.error ? <ErrorAlert error={rules.error} onRetry={() => rules.refetch()} /> : null}
      <Table<Rule>
        data-testid="rules-table"
        rowKey="id"
        loading={rules.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 960 }}
        locale={{
          emptyText: rules.isPending ? (
            ' '
          ) : (
            <EmptyState
              description={filtered ? t('emptyFiltered') : t('empty')}
              action={
                canWrite && !filtered ? (
                  <Button type="primary" onClick={() => navigate('new')}>
                    {t('createFirst')}
                  </Button>
                ) : undefined
              }
            />
          ),
        }}
        columns={[
          {
            title: t('columns.name'),
            key: 'name',
            render: (_, rule) => {
              const v = shownVersion(rule);
              return <Link to={rule.id}>{v?.definition.name ?? rule.id}</Link>;
            },
          },
          {
            title: t('columns.eventType'),
            key: 'triggers',
            render: (_, rule) => (
              <Space size={4} wrap>
                {shownVersion(rule)?.definition.triggers.map((tr) => (
                  <Tag key={tr}>{eventTypeLabel(tr, t)}</Tag>
                ))}
              </Space>
            ),
          },
          {
            title: t('columns.status'),
            key: 'status',
            render: (_, rule) => {
              const announced = announcedVersions(rule);
              return (
                <Space size={4} wrap>
                  {rule.status === 'archived' ? (
                    <Tag>{t('status.archived')}</Tag>
                  ) : rule.current ? (
                    <Tag color={TAG_COLORS.green} variant="solid">
                      {t('status.inForce')}
                    </Tag>
                  ) : (
                    <Tag color={TAG_COLORS.blue} variant="solid">
                      {t('status.notYet')}
                    </Tag>
                  )}
                  {announced.length ? (
                    <Tooltip title={t('announcedFrom', { date: when(announced[announced.length - 1]!.effective_from) })}>
                      <Tag color={TAG_COLORS.gold} variant="solid" data-testid="rule-announced">
                        {t('announced')}
                      </Tag>
                    </Tooltip>
                  ) : null}
                </Space>
              );
            },
          },
          {
            title: t('columns.effect'),
            key: 'effect',
            render: (_, rule) => {
              const v = shownVersion(rule);
              if (!v) return '—';
              const def = v.definition;
              const caps = capSummaries(def, ctx);
              return (
                <Space orientation="vertical" size={2}>
                  <Typography.Text>{effectSummary(def, ctx)}</Typography.Text>
                  <Space size={4} wrap>
                    {(def.multipliers ?? []).map((m, i) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: a version's multipliers never change
                      <Tag key={i} color={TAG_COLORS.orange} variant="solid">
                        {multiplierSummary(m, ctx)}
                      </Tag>
                    ))}
                    {caps.map((c) => (
                      <Tag key={c} color={TAG_COLORS.purple} variant="solid">
                        {c}
                      </Tag>
                    ))}
                  </Space>
                </Space>
              );
            },
          },
          { title: t('columns.from'), key: 'from', render: (_, rule) => when(shownVersion(rule)?.effective_from) },
          {
            title: t('columns.until'),
            key: 'until',
            render: (_, rule) => {
              const v = shownVersion(rule);
              return v?.effective_until ? when(v.effective_until) : t('openEnded');
            },
          },
        ]}
      />
      <LoadMore query={rules} />
    </Space>
  );
}

const BUILT_IN = new Set([
  'order.paid',
  'order.refunded',
  'member.registered',
  'member.profile_completed',
  'member.birthday',
  'checkin',
  'review.posted',
  'content.shared',
  'app.opened',
]);

/** A built-in event type in words ("订单支付 order.paid"); a program's own type as it is named. */
export function eventTypeLabel(type: string, t: (key: string) => string): string {
  return BUILT_IN.has(type) ? `${t(`eventTypes.${type.replace('.', '_')}`)} · ${type}` : type;
}
