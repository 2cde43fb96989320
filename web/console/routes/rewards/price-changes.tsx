// A reward's scheduled prices (动态调整): every change with when members see it and when it
// applies; a new one (points, cash part in yuan, effective and announcement times in the program's
// time zone); withdrawing one that has not taken effect.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Col, DatePicker, Form, InputNumber, Popconfirm, Row, Table, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatMoney, formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { instantOf } from './model.ts';
import { rewardKey } from './queries.ts';
import { currencySymbolOf, type PriceChange, type Reward, toMinor } from './types.ts';

interface PriceForm {
  points_cost?: number;
  cash_yuan?: number | null;
  effective_at?: Dayjs | null;
  announce_at?: Dayjs | null;
}

const FIELDS: Record<string, keyof PriceForm> = {
  points_cost: 'points_cost',
  cash_part: 'cash_yuan',
  effective_at: 'effective_at',
  announce_at: 'announce_at',
};

export function PriceChanges({ reward, canWrite }: { reward: Reward; canWrite: boolean }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<PriceForm>();
  const [formError, setFormError] = useState<unknown>();
  const submission = useRef<{ payload: string; key: string }>(undefined);
  const changes = useQuery({
    queryKey: ['reward', reward.id, 'price-changes'],
    queryFn: () => unwrap(api.GET('/v1/rewards/{rewardId}/price-changes', { params: { path: { rewardId: reward.id } } })),
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: rewardKey(reward.id) });
    void queryClient.invalidateQueries({ queryKey: ['rewards', program.id] });
  };
  const when = (iso: string) => formatDateTime(iso, program.time_zone, locale);
  const editable = canWrite && reward.status !== 'archived';

  const add = useMutation({
    mutationFn: async () => {
      const v = await form.validateFields();
      const body = {
        points_cost: v.points_cost ?? 0,
        cash_part: toMinor(v.cash_yuan, program.currency) || null,
        effective_at: instantOf(v.effective_at, program.time_zone) ?? '',
        ...(v.announce_at ? { announce_at: instantOf(v.announce_at, program.time_zone)! } : {}),
      };
      const payload = JSON.stringify(body);
      if (submission.current?.payload !== payload) submission.current = { payload, key: newIdempotencyKey() };
      return unwrap(
        api.POST('/v1/rewards/{rewardId}/price-changes', {
          params: { path: { rewardId: reward.id }, header: { 'idempotency-key': submission.current.key } },
          body,
        }),
      );
    },
    onSuccess: () => {
      setFormError(undefined);
      form.resetFields();
      message.success(t('prices.added'));
      refresh();
    },
    onError: (error) => {
      if (error && typeof error === 'object' && 'errorFields' in error) return;
      setFormError(error);
      if (error instanceof ApiError) {
        form.setFields(
          (error.problem.errors ?? [])
            .map((e) => ({ name: FIELDS[e.path.replace(/^\//, '').split('/')[0] ?? ''], errors: [fieldMessage(e, t)] }))
            .filter((f): f is { name: keyof PriceForm; errors: string[] } => f.name !== undefined),
        );
      }
    },
  });

  const withdraw = useMutation({
    mutationFn: (change: PriceChange) =>
      unwrap(
        api.DELETE('/v1/rewards/{rewardId}/price-changes/{priceChangeId}', {
          params: { path: { rewardId: reward.id, priceChangeId: change.id }, header: { 'idempotency-key': newIdempotencyKey() } },
          body: {},
        }),
      ),
    onSuccess: () => {
      message.success(t('prices.withdrawn'));
      refresh();
    },
  });

  return (
    <Card
      size="small"
      title={
        <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
          {t('prices.title')}
        </Typography.Title>
      }
    >
      <Typography.Paragraph type="secondary">
        {t('prices.description', { points: formatPoints(reward.points_cost, locale), pointName: pointNameOf(program, locale) })}
      </Typography.Paragraph>
      {changes.error ? <ErrorAlert error={changes.error} onRetry={() => changes.refetch()} /> : null}
      {withdraw.error ? <ErrorAlert error={withdraw.error} /> : null}
      <Table<PriceChange>
        rowKey="id"
        size="small"
        data-testid="price-changes"
        loading={changes.isPending}
        dataSource={changes.data?.data ?? []}
        pagination={false}
        locale={{ emptyText: changes.isPending ? ' ' : <EmptyState description={t('prices.empty')} /> }}
        columns={[
          {
            title: t('prices.price'),
            key: 'price',
            render: (_, c) => `${formatPoints(c.points_cost, locale)}${c.cash_part ? ` + ${formatMoney(c.cash_part, program.currency, locale)}` : ''}`,
          },
          { title: t('prices.effectiveAt'), key: 'effective', render: (_, c) => when(c.effective_at) },
          { title: t('prices.announceAt'), key: 'announce', render: (_, c) => when(c.announce_at) },
          {
            title: t('fields.status'),
            key: 'state',
            render: (_, c) => (c.in_effect ? <Tag>{t('prices.inEffect')}</Tag> : <Tag color="#0958d9">{t('prices.upcoming')}</Tag>),
          },
          {
            title: '',
            key: 'actions',
            width: 100,
            render: (_, c) =>
              editable && !c.in_effect ? (
                <Popconfirm
                  title={t('prices.withdrawConfirm')}
                  okText={t('prices.withdraw')}
                  cancelText={t('common:cancel')}
                  onConfirm={() => withdraw.mutate(c)}
                >
                  <Button size="small" danger loading={withdraw.isPending && withdraw.variables?.id === c.id}>
                    {t('prices.withdraw')}
                  </Button>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
      {editable ? (
        <Form<PriceForm> form={form} layout="vertical" style={{ marginTop: 16 }} onFinish={() => add.mutate()} data-testid="price-change-form">
          <Row gutter={16} align="bottom">
            <Col xs={24} md={6}>
              <Form.Item name="points_cost" label={t('prices.newPoints')} rules={[{ required: true, message: t('editor.required') }]}>
                <InputNumber min={1} precision={0} style={{ width: '100%' }} suffix={pointNameOf(program, locale)} />
              </Form.Item>
            </Col>
            {reward.type !== 'donation' && reward.type !== 'lottery' ? (
              <Col xs={24} md={5}>
                <Form.Item name="cash_yuan" label={t('fields.cashPart')}>
                  <InputNumber min={0} precision={2} style={{ width: '100%' }} prefix={currencySymbolOf(program.currency, locale)} />
                </Form.Item>
              </Col>
            ) : null}
            <Col xs={24} md={6}>
              <Form.Item name="effective_at" label={t('prices.effectiveAt')} rules={[{ required: true, message: t('editor.required') }]}>
                <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col xs={24} md={5}>
              <Form.Item name="announce_at" label={t('prices.announceAt')} extra={t('prices.announceHelp')}>
                <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col xs={24} md={2}>
              <Form.Item>
                <Button htmlType="submit" loading={add.isPending}>
                  {t('prices.add')}
                </Button>
              </Form.Item>
            </Col>
          </Row>
          {formError && !(formError instanceof ApiError && formError.problem.errors?.length) ? <ErrorAlert error={formError} /> : null}
        </Form>
      ) : null}
    </Card>
  );
}
