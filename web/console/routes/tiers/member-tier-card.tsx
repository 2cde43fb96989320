// A member's tier on the member page (only in a program with a ladder): the tier now, and when an
// operator's override sets it, the override with its reason and end — never silently — beside the
// tier the member earned; validity, review, the progress to the next tier and the keep-tier line;
// the benefits granted; the tier history with the reason of each change; and, for roles that may,
// "override" (tier, until, reason) and "end override".
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, DatePicker, Descriptions, Form, Input, Modal, Progress, Select, Space, Table, Tabs, Tag, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import timezone from 'dayjs/plugin/timezone';
import utc from 'dayjs/plugin/utc';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatDate, formatDateTime, formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { formatDay, formatMetric, tierLabel, tierName, tierProgress } from '../../../shared/tier-progress.ts';
import type { TierHistoryType, TierStatus } from '../../../shared/tiers.ts';
import { ErrorAlert } from '../../layout/feedback.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { TierHistoryTable } from './history.tsx';
import { OVERRIDE_WRITE } from './permissions.ts';
import { useMemberTier } from './queries.ts';
import { TAG_COLORS } from './tag-colors.ts';

dayjs.extend(utc);
dayjs.extend(timezone);

export function MemberTierCard({ memberId }: { memberId: string }) {
  const { t } = useTranslation('tiers');
  const status = useMemberTier(memberId);
  const [historyType, setHistoryType] = useState<TierHistoryType | undefined>();
  if (status.error) return <ErrorAlert error={status.error} onRetry={() => status.refetch()} />;
  if (status.isPending) return <Card loading title={t('card.title')} />;
  if (!status.data) return null;
  const s = status.data;
  return (
    <Card data-testid="member-tier-card" size="small">
      <Tabs
        items={[
          { key: 'status', label: t('card.title'), children: <TierStatusView status={s} /> },
          {
            key: 'history',
            label: t('card.history'),
            children: <TierHistoryTable memberId={memberId} type={historyType} onTypeChange={setHistoryType} tiers={s.ladder} />,
          },
        ]}
      />
    </Card>
  );
}

function TierStatusView({ status: s }: { status: TierStatus }) {
  const { t, i18n } = useTranslation('tiers');
  const { t: tc } = useTranslation('common');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const { can } = useSession();
  const name = (code: string) => tierLabel(code, s.ladder, locale);
  const when = (iso: string | null) => (iso ? formatDate(iso, program.time_zone, locale) : t('card.noDate'));
  const progress = tierProgress(s, {
    t: (key, options) => String(tc(key, options as never)),
    locale,
    timeZone: program.time_zone,
    pointName: pointNameOf(program, locale),
  });
  const overridden = s.override !== null;
  const canOverride = can(program.id, OVERRIDE_WRITE);
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
        <Space align="center" wrap>
          <Typography.Title level={2} style={{ fontSize: 20, margin: 0 }} data-testid="member-tier-name">
            {tierName(s.tier.name, locale)}
          </Typography.Title>
          {overridden ? <Tag color={TAG_COLORS.purple}>{t('card.override')}</Tag> : null}
          {s.earned.in_grace ? <Tag color={TAG_COLORS.orange}>{t('card.inGrace')}</Tag> : null}
          {progress.atRisk ? <Tag color={TAG_COLORS.red}>{t('card.atRisk')}</Tag> : null}
        </Space>
        {canOverride ? (
          <Space wrap>
            <OverrideButton status={s} />
            {overridden ? <EndOverrideButton status={s} /> : null}
          </Space>
        ) : null}
      </Space>
      {s.override ? (
        <Alert
          type="info"
          showIcon
          data-testid="member-tier-override"
          title={t('card.overrideLine', {
            by: s.override.by,
            tier: name(s.override.tier),
            until: formatDateTime(s.override.until, program.time_zone, locale),
            reason: s.override.reason,
          })}
        />
      ) : null}
      <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }}>
        {overridden ? <Descriptions.Item label={t('card.earnedTier')}>{name(s.earned.code)}</Descriptions.Item> : null}
        <Descriptions.Item label={t('card.since')}>{when(s.earned.since)}</Descriptions.Item>
        <Descriptions.Item label={t('card.validUntil')}>{when(s.earned.valid_until)}</Descriptions.Item>
        <Descriptions.Item label={t('card.reviewAt')}>{when(s.earned.review_at)}</Descriptions.Item>
        <Descriptions.Item label={t('card.multiplier')}>{`${s.tier.multiplier}×`}</Descriptions.Item>
        <Descriptions.Item label={t('card.window', { start: formatDay(s.window.start, locale), end: formatDay(previousDay(s.window.end), locale) })}>
          {formatMetric(s.window.value, s.metric, s.currency, locale)}
        </Descriptions.Item>
      </Descriptions>
      <div data-testid="member-tier-progress">
        <Progress percent={progress.percent} showInfo={false} aria-label={progress.nextLine} />
        <Typography.Text>{progress.nextLine}</Typography.Text>
        {progress.keepLine ? (
          <div>
            <Typography.Text type={progress.atRisk ? 'danger' : 'secondary'}>{progress.keepLine}</Typography.Text>
          </div>
        ) : null}
      </div>
      {s.grants.length > 0 ? (
        <Table
          size="small"
          rowKey={(g) => `${g.kind}:${g.key}:${g.tier}:${g.period_start}`}
          pagination={false}
          dataSource={s.grants}
          title={() => t('card.grants')}
          columns={[
            { title: t('history.at'), dataIndex: 'issued_at', render: (at: string) => formatDateTime(at, program.time_zone, locale) },
            { title: t('history.change'), key: 'kind', render: (_, g) => `${t(`card.grantKinds.${g.kind}`)} · ${name(g.tier)}` },
            {
              title: t('editor.grantKind'),
              key: 'what',
              render: (_, g) =>
                g.coupon_code ? <Typography.Text code>{g.coupon_code}</Typography.Text> : `${formatPoints(g.points, locale)} ${pointNameOf(program, locale)}`,
            },
          ]}
        />
      ) : null}
    </Space>
  );
}

function previousDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

interface OverrideValues {
  tier: string;
  until: Dayjs;
  reason: string;
}

function OverrideButton({ status }: { status: TierStatus }) {
  const { t, i18n } = useTranslation('tiers');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<OverrideValues>();
  const key = useRef(newIdempotencyKey());
  const set = useMutation({
    mutationFn: (v: OverrideValues) =>
      unwrap(
        api.POST('/v1/members/{memberId}/tier-override', {
          params: { path: { memberId: status.member_id }, header: { 'idempotency-key': key.current } },
          // valid through the chosen day of the program's calendar
          body: { tier: v.tier, until: dayjs.tz(v.until.format('YYYY-MM-DD'), program.time_zone).add(1, 'day').toISOString(), reason: v.reason.trim() },
        }),
      ),
    onSuccess: async (_, v) => {
      message.success(t('override.done', { tier: tierLabel(v.tier, status.ladder, locale) }));
      setOpen(false);
      form.resetFields();
      key.current = newIdempotencyKey();
      await queryClient.invalidateQueries({ queryKey: ['member', status.member_id] });
      await queryClient.invalidateQueries({ queryKey: ['tier-history'] });
    },
  });
  return (
    <>
      <Button data-testid="tier-override-button" onClick={() => setOpen(true)}>
        {t('card.setOverride')}
      </Button>
      <Modal
        title={t('override.title')}
        open={open}
        onCancel={() => {
          setOpen(false);
          set.reset();
        }}
        okText={t('override.submit')}
        okButtonProps={{ loading: set.isPending, 'data-testid': 'tier-override-submit' }}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">{t('override.help')}</Typography.Paragraph>
        <Form<OverrideValues>
          form={form}
          layout="vertical"
          initialValues={{ tier: status.override?.tier ?? status.next?.tier.code ?? status.tier.code, until: dayjs().add(3, 'month') }}
          onValuesChange={() => {
            key.current = newIdempotencyKey();
            set.reset();
          }}
          onFinish={(v) => set.mutate(v)}
        >
          <Form.Item name="tier" label={t('override.tier')} rules={[{ required: true, message: t('editor.required') }]}>
            <Select data-testid="tier-override-tier" options={status.ladder.map((x) => ({ value: x.code, label: tierName(x.name, locale) }))} />
          </Form.Item>
          <Form.Item name="until" label={t('override.until')} rules={[{ required: true, message: t('editor.required') }]}>
            <DatePicker
              style={{ width: '100%' }}
              disabledDate={(d) => d.isBefore(dayjs(), 'day') || d.isAfter(dayjs().add(5, 'year').subtract(1, 'day'), 'day')}
            />
          </Form.Item>
          <Form.Item
            name="reason"
            label={t('override.reason')}
            rules={[
              { required: true, whitespace: true, message: t('editor.required') },
              { max: 500, message: t('editor.required') },
            ]}
          >
            <Input.TextArea data-testid="tier-override-reason" rows={3} maxLength={500} showCount placeholder={t('override.reasonPlaceholder')} />
          </Form.Item>
        </Form>
        {set.error ? <ErrorAlert error={set.error} /> : null}
      </Modal>
    </>
  );
}

function EndOverrideButton({ status }: { status: TierStatus }) {
  const { t } = useTranslation('tiers');
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<{ reason: string }>();
  const key = useRef(newIdempotencyKey());
  const end = useMutation({
    mutationFn: (reason: string) =>
      unwrap(
        api.DELETE('/v1/members/{memberId}/tier-override', {
          params: { path: { memberId: status.member_id }, header: { 'idempotency-key': key.current } },
          body: { reason },
        }),
      ),
    onSuccess: async () => {
      message.success(t('override.ended'));
      setOpen(false);
      form.resetFields();
      key.current = newIdempotencyKey();
      await queryClient.invalidateQueries({ queryKey: ['member', status.member_id] });
      await queryClient.invalidateQueries({ queryKey: ['tier-history'] });
    },
  });
  return (
    <>
      <Button danger data-testid="tier-override-end" onClick={() => setOpen(true)}>
        {t('card.endOverride')}
      </Button>
      <Modal
        title={t('override.endTitle')}
        open={open}
        onCancel={() => {
          setOpen(false);
          end.reset();
        }}
        okText={t('override.endSubmit')}
        okButtonProps={{ danger: true, loading: end.isPending, 'data-testid': 'tier-override-end-submit' }}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">{t('override.endHelp')}</Typography.Paragraph>
        <Form
          form={form}
          layout="vertical"
          onValuesChange={() => {
            key.current = newIdempotencyKey();
            end.reset();
          }}
          onFinish={(v) => end.mutate(v.reason.trim())}
        >
          <Form.Item name="reason" label={t('override.endReason')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
            <Input.TextArea data-testid="tier-override-end-reason" rows={3} maxLength={500} showCount />
          </Form.Item>
        </Form>
        {end.error ? <ErrorAlert error={end.error} /> : null}
      </Modal>
    </>
  );
}
