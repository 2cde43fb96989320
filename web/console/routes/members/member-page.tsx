// A member's page: who they are, their balance (available, pending with its next release, held),
// points expiring within 30 days, and tabs for entries (with their explanations), lots, the expiry
// forecast, events and holds. Actions (adjust points, freeze/unfreeze, edit profile) show only to
// roles that may do them; the API refuses the others anyway.
import { ArrowLeftOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Badge, Card, Col, Descriptions, Row, Space, Statistic, Tabs, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ApiError, unwrap } from '../../../shared/api.ts';
import { formatDate, formatDateTime, formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { tierLabel } from '../../../shared/tier-progress.ts';
import { ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { MemberSegmentTags } from '../segments/member-segments.tsx';
import { MemberTierCard } from '../tiers/member-tier-card.tsx';
import { useLadder } from '../tiers/queries.ts';
import { AdjustPointsButton, EditProfileButton, StatusButton } from './member-actions.tsx';
import { EntriesTab, EventsTab, ForecastTab, HoldsTab, LotsTab } from './member-tabs.tsx';
import { memberKey, STATUS_BADGES } from './types.ts';

export default function MemberPage() {
  const { t, i18n } = useTranslation('members');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const memberId = useParams().memberId!;
  const { can } = useSession();
  // with a ladder, the header names the tier as members see it (金卡 / Gold), not by its code
  const ladder = useLadder(program.id);

  const member = useQuery({
    queryKey: memberKey(memberId, 'profile'),
    queryFn: () => unwrap(api.GET('/v1/members/{memberId}', { params: { path: { memberId } } })),
  });
  const balance = useQuery({
    queryKey: memberKey(memberId, 'balance'),
    queryFn: () => unwrap(api.GET('/v1/members/{memberId}/balance', { params: { path: { memberId } } })),
  });
  // the next pending release: the soonest available_at of the open lots still pending
  const pendingLots = useQuery({
    queryKey: memberKey(memberId, 'lots', 'open'),
    queryFn: () => unwrap(api.GET('/v1/members/{memberId}/lots', { params: { path: { memberId }, query: { state: 'open', limit: 100 } } })),
    enabled: (balance.data?.pending ?? 0) > 0,
  });

  if (member.isPending) return <PageLoading />;
  if (member.error) {
    const notFound = member.error instanceof ApiError && member.error.code === 'MEMBER_NOT_FOUND';
    return (
      <Space orientation="vertical" style={{ width: '100%' }}>
        <Link to="..">
          <ArrowLeftOutlined /> {t('backToList')}
        </Link>
        {notFound ? <Typography.Title level={1}>{t('notFound')}</Typography.Title> : null}
        <ErrorAlert error={member.error} onRetry={() => member.refetch()} />
      </Space>
    );
  }
  const m = member.data;
  const when = (iso: string) => formatDateTime(iso, program.time_zone, locale);
  const nextRelease = pendingLots.data?.data
    .filter((l) => l.state === 'pending')
    .map((l) => l.available_at)
    .sort()[0];
  const b = balance.data;

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <Link to={`/${program.id}/members`}>
        <ArrowLeftOutlined /> {t('backToList')}
      </Link>
      <Space style={{ width: '100%', justifyContent: 'space-between' }} align="start" wrap>
        <Space align="center" wrap>
          <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
            {m.name ?? t('noName')}
          </Typography.Title>
          <Badge status={STATUS_BADGES[m.status]} text={t(`status.${m.status}`)} data-testid="member-status" />
          {m.tier ? <Tag data-testid="member-tier-tag">{tierLabel(m.tier, ladder.data?.tiers, locale)}</Tag> : null}
        </Space>
        <Space wrap>
          {can(program.id, 'points.adjust') && m.status !== 'closed' ? <AdjustPointsButton member={m} /> : null}
          {can(program.id, 'members.status') && m.status !== 'closed' ? <StatusButton member={m} /> : null}
          {can(program.id, 'members.write') && m.status !== 'closed' ? <EditProfileButton member={m} /> : null}
        </Space>
      </Space>
      <Card>
        <Descriptions column={{ xs: 1, sm: 2, lg: 3 }} size="small">
          <Descriptions.Item label={t('columns.externalId')}>
            <Typography.Text code copyable>
              {m.external_id}
            </Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label={t('columns.phone')}>{m.phone ?? '—'}</Descriptions.Item>
          <Descriptions.Item label={t('columns.email')}>{m.email ?? '—'}</Descriptions.Item>
          <Descriptions.Item label={t('fields.birthday')}>{m.birthday ?? '—'}</Descriptions.Item>
          <Descriptions.Item label={t('fields.tags')}>{m.tags.length ? m.tags.map((tag) => <Tag key={tag}>{tag}</Tag>) : '—'}</Descriptions.Item>
          <Descriptions.Item label={t('columns.createdAt')}>{when(m.created_at)}</Descriptions.Item>
          <Descriptions.Item label={t('fields.memberId')}>
            <Typography.Text copyable>{m.id}</Typography.Text>
          </Descriptions.Item>
          {m.status_reason ? <Descriptions.Item label={t('fields.statusReason')}>{m.status_reason}</Descriptions.Item> : null}
        </Descriptions>
        <MemberSegmentTags programId={program.id} memberId={m.id} />
      </Card>
      {balance.error ? <ErrorAlert error={balance.error} onRetry={() => balance.refetch()} /> : null}
      <MemberTierCard memberId={m.id} />
      <Row gutter={[16, 16]}>
        <Col xs={24} md={8}>
          <Card data-testid="balance-available" loading={balance.isPending}>
            <Statistic title={t('balance.available')} value={b ? formatPoints(b.available, locale) : '—'} suffix={pointNameOf(program, locale)} />
            <Typography.Text type="secondary">
              {b ? t('balance.lifetime', { earned: formatPoints(b.lifetime_earned, locale), spent: formatPoints(b.lifetime_spent, locale) }) : null}
            </Typography.Text>
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card data-testid="balance-pending" loading={balance.isPending}>
            <Statistic title={t('balance.pending')} value={b ? formatPoints(b.pending, locale) : '—'} suffix={pointNameOf(program, locale)} />
            <Typography.Text type="secondary">
              {b && b.pending > 0 && nextRelease
                ? t('balance.nextRelease', { date: formatDate(nextRelease, program.time_zone, locale) })
                : t('balance.nothingPending')}
            </Typography.Text>
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card data-testid="balance-held" loading={balance.isPending}>
            <Statistic title={t('balance.held')} value={b ? formatPoints(b.held, locale) : '—'} suffix={pointNameOf(program, locale)} />
            <Typography.Text type="secondary">
              {b && b.debt > 0 ? t('balance.debt', { points: formatPoints(b.debt, locale) }) : t('balance.heldHelp')}
            </Typography.Text>
          </Card>
        </Col>
      </Row>
      {b && b.expiring.days_30 > 0 ? (
        <Alert
          type="warning"
          showIcon
          data-testid="expiring-alert"
          title={t('balance.expiring30', { points: formatPoints(b.expiring.days_30, locale), name: pointNameOf(program, locale) })}
          description={
            b.next_expiry
              ? t('balance.nextExpiry', { points: formatPoints(b.next_expiry.points, locale), date: formatDate(b.next_expiry.at, program.time_zone, locale) })
              : undefined
          }
        />
      ) : null}
      <Card>
        <Tabs
          items={[
            { key: 'entries', label: t('tabs.entries'), children: <EntriesTab memberId={memberId} /> },
            { key: 'lots', label: t('tabs.lots'), children: <LotsTab memberId={memberId} /> },
            { key: 'forecast', label: t('tabs.forecast'), children: <ForecastTab memberId={memberId} /> },
            { key: 'events', label: t('tabs.events'), children: <EventsTab memberId={memberId} /> },
            { key: 'holds', label: t('tabs.holds'), children: <HoldsTab memberId={memberId} /> },
          ]}
        />
      </Card>
    </Space>
  );
}
