// Tier changes as a table, newest first, filtered by type: the program's feed (its own page) or one
// member's (a tab of the member page). Each row says what changed, from which tier to which, why
// (the API's reason: the metric at an upgrade, an operator's words for an override) and who did it.
import { useInfiniteQuery } from '@tanstack/react-query';
import { Select, Space, Table, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatDateTime, type Locale } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { formatMetric, type TierMetric, tierLabel } from '../../../shared/tier-progress.ts';
import { TIER_HISTORY_TYPES, type TierChange, type TierChangePage, type TierHistoryType, type TierRef } from '../../../shared/tiers.ts';
import { ErrorAlert } from '../../layout/feedback.tsx';
import { LoadMore } from '../../layout/page.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { TAG_COLORS } from './tag-colors.ts';

/** Who changes tiers besides console users and API keys (tier_history.actor). */
const ACTORS = new Set(['rules', 'tiers', 'migration']);

export const TYPE_COLORS: Record<TierHistoryType, string> = {
  'tier.upgraded': TAG_COLORS.green,
  'tier.downgraded': TAG_COLORS.volcano,
  'tier.renewed': TAG_COLORS.blue,
  'tier.at_risk': TAG_COLORS.orange,
  'tier.override_set': TAG_COLORS.purple,
  'tier.override_ended': TAG_COLORS.grey,
};

export function TierHistoryTable({
  memberId,
  type,
  onTypeChange,
  tiers,
}: {
  memberId?: string;
  type: TierHistoryType | undefined;
  onTypeChange: (type: TierHistoryType | undefined) => void;
  tiers: TierRef[];
}) {
  const { t, i18n } = useTranslation('tiers');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const history = useInfiniteQuery({
    queryKey: ['tier-history', memberId ?? program.id, type ?? 'all'],
    ...cursorPages,
    queryFn: ({ pageParam }) => {
      const query = { type, cursor: pageParam, limit: 50 };
      const call = memberId
        ? api.GET('/v1/members/{memberId}/tier-history', { params: { path: { memberId }, query } })
        : api.GET('/v1/programs/{programId}/tier-history', { params: { path: { programId: program.id }, query } });
      return unwrap(call) as Promise<TierChangePage>;
    },
  });
  const rows = history.data?.pages.flatMap((p) => p.data) ?? [];
  const nameOf = (code: string | null) => (code ? tierLabel(code, tiers, locale) : '—');
  // the figures of a change made by the ladder (the metric, and the threshold it was measured
  // against) in the viewer's language and the program's money; an operator's own words otherwise
  const reasonOf = (c: TierChange) => {
    const { metric, value, threshold } = c.payload as { metric?: TierMetric; value?: number; threshold?: number };
    if (metric && typeof value === 'number' && typeof threshold === 'number') {
      const figure = (n: number) => formatMetric(n, metric, program.currency, locale);
      return t('history.figures', { value: figure(value), threshold: figure(threshold) });
    }
    return c.reason || '—';
  };
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Select<TierHistoryType | 'all'>
        aria-label={t('history.type')}
        style={{ width: 200 }}
        value={type ?? 'all'}
        onChange={(v) => onTypeChange(v === 'all' ? undefined : v)}
        options={[{ value: 'all', label: t('history.allTypes') }, ...TIER_HISTORY_TYPES.map((v) => ({ value: v, label: t(`history.types.${v}`) }))]}
      />
      {history.error ? <ErrorAlert error={history.error} onRetry={() => history.refetch()} /> : null}
      <Table<TierChange>
        data-testid={memberId ? 'member-tier-history' : 'tier-history'}
        rowKey="id"
        size="middle"
        loading={history.isPending}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: t('history.empty') }}
        columns={[
          { title: t('history.at'), dataIndex: 'at', width: 180, render: (at: string) => formatDateTime(at, program.time_zone, locale) },
          ...(memberId
            ? []
            : [
                {
                  title: t('history.member'),
                  dataIndex: 'member_id',
                  render: (id: string) => <Link to={`/${program.id}/members/${id}`}>{id}</Link>,
                },
              ]),
          {
            title: t('history.change'),
            key: 'type',
            render: (_: unknown, c: TierChange) => (
              <Space size={4} wrap>
                <Tag color={TYPE_COLORS[c.type]}>{t(`history.types.${c.type}`)}</Tag>
                {c.from_tier || c.to_tier ? (
                  <Typography.Text>
                    {c.from_tier && c.to_tier && c.from_tier !== c.to_tier ? `${nameOf(c.from_tier)} → ${nameOf(c.to_tier)}` : nameOf(c.to_tier ?? c.from_tier)}
                  </Typography.Text>
                ) : null}
              </Space>
            ),
          },
          { title: t('history.reason'), key: 'reason', render: (_: unknown, c: TierChange) => reasonOf(c) },
          {
            title: t('history.actor'),
            dataIndex: 'actor',
            width: 160,
            render: (actor: string) => (ACTORS.has(actor) ? t(`history.actors.${actor}`) : actor),
          },
        ]}
      />
      <LoadMore query={history} />
    </Space>
  );
}
