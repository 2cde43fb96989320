// Points at checkout (积分抵扣): the program's checkout policy (GET/PUT
// /v1/programs/{id}/checkout-policy): on or off, the largest share of an order points may pay, the
// minimum order and points, a per-order cap, whether points combine with other discounts, and how
// long a checkout holds the points. The rate is the program's redemption rate (the card above).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Card, Checkbox, Form, InputNumber, Space, Switch, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { ApiError, unwrap } from '../../../shared/api.ts';
import { formatMoney, formatPoints, type Locale, minorUnitsOf, pointNameOf } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { api, useSession } from '../../layout/session.tsx';
import type { Program } from './expiry.ts';
import { isFieldValidation, SaveFooter } from './save-footer.tsx';

interface Values {
  enabled: boolean;
  /** percent of the payable amount, 0–100 (sent as basis points) */
  max_share_percent: number;
  /** in currency units (sent in minor units) */
  min_order: number;
  min_points: number;
  max_points_per_order: number | null;
  combinable_with_discounts: boolean;
  hold_timeout_minutes: number | null;
}

/** The most an order of `amount` minor units may take under the values, in points and minor units (at most the share and the cap). */
function exampleCap(values: Pick<Values, 'max_share_percent' | 'max_points_per_order'>, rate: number, minorPerUnit: number, amount: number) {
  const shareMinor = Math.floor((amount * Math.round((values.max_share_percent ?? 0) * 100)) / 10_000);
  // points worth shareMinor: rate points per currency unit
  let points = Math.floor((shareMinor * rate) / minorPerUnit);
  if (values.max_points_per_order) points = Math.min(points, values.max_points_per_order);
  return { points, minor: Math.floor((points * minorPerUnit) / rate) };
}

export function CheckoutPolicyCard({ program }: { program: Program }) {
  const { t, i18n } = useTranslation('settings');
  const locale = i18n.language as Locale;
  const { can } = useSession();
  const canWrite = can(program.id, 'settings.write');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<Values>();
  const policy = useQuery({
    queryKey: ['checkout-policy', program.id],
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}/checkout-policy', { params: { path: { programId: program.id } } })),
  });
  const minor = minorUnitsOf(program.currency);
  const save = useMutation({
    mutationFn: async () => {
      const v = await form.validateFields();
      return unwrap(
        api.PUT('/v1/programs/{programId}/checkout-policy', {
          params: { path: { programId: program.id } },
          body: {
            enabled: v.enabled,
            max_share_bps: Math.round(v.max_share_percent * 100),
            min_order_amount: Math.round((v.min_order ?? 0) * minor),
            min_points: v.min_points ?? 0,
            max_points_per_order: v.max_points_per_order || null,
            combinable_with_discounts: v.combinable_with_discounts,
            hold_timeout_seconds: v.hold_timeout_minutes ? Math.round(v.hold_timeout_minutes * 60) : null,
          },
        }),
      );
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(['checkout-policy', program.id], saved);
      message.success(t('checkout.saved'));
    },
    onError: (error) => {
      if (isFieldValidation(error)) return;
      if (error instanceof ApiError && error.problem.errors?.length) {
        const field: Record<string, keyof Values> = {
          '/max_share_bps': 'max_share_percent',
          '/min_order_amount': 'min_order',
          '/min_points': 'min_points',
          '/max_points_per_order': 'max_points_per_order',
          '/hold_timeout_seconds': 'hold_timeout_minutes',
        };
        form.setFields(error.problem.errors.filter((e) => field[e.path]).map((e) => ({ name: field[e.path]!, errors: [fieldMessage(e, t)] })));
      }
    },
  });
  const enabled = Form.useWatch('enabled', form);
  const share = Form.useWatch('max_share_percent', form);
  const cap = Form.useWatch('max_points_per_order', form);
  const pointName = pointNameOf(program, locale);
  const title = (
    <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
      {t('checkout.title')}
    </Typography.Title>
  );
  if (policy.isPending)
    return (
      <Card title={title} size="small">
        <PageLoading />
      </Card>
    );
  if (policy.error)
    return (
      <Card title={title} size="small">
        <ErrorAlert error={policy.error} onRetry={() => policy.refetch()} />
      </Card>
    );
  const p = policy.data;
  const initialValues: Values = {
    enabled: p.enabled,
    max_share_percent: p.max_share_bps / 100,
    min_order: p.min_order_amount / minor,
    min_points: p.min_points,
    max_points_per_order: p.max_points_per_order,
    combinable_with_discounts: p.combinable_with_discounts,
    hold_timeout_minutes: p.hold_timeout_seconds === null ? null : p.hold_timeout_seconds / 60,
  };
  const order = 100 * minor;
  const example = exampleCap(
    { max_share_percent: share ?? initialValues.max_share_percent, max_points_per_order: cap ?? null },
    p.points_per_yuan,
    minor,
    order,
  );
  return (
    <Card title={title} size="small" data-testid="checkout-policy">
      <Typography.Paragraph type="secondary">
        {t('checkout.description', { points: formatPoints(p.points_per_yuan, locale), pointName, money: formatMoney(minor, program.currency, locale) })}
      </Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        initialValues={initialValues}
        disabled={!canWrite}
        key={p.updated_at ?? 'default'}
        style={{ maxWidth: 760 }}
        data-testid="checkout-policy-form"
      >
        <Form.Item name="enabled" label={t('checkout.enabled')} valuePropName="checked">
          <Switch data-testid="checkout-enabled" />
        </Form.Item>
        <Space wrap size="large" align="start">
          <Form.Item
            name="max_share_percent"
            label={t('checkout.maxShare')}
            extra={t('checkout.maxShareHelp')}
            rules={[{ required: true, message: t('required') }]}
          >
            <InputNumber min={0} max={100} precision={2} suffix="%" style={{ width: 160 }} />
          </Form.Item>
          <Form.Item name="min_order" label={t('checkout.minOrder')} extra={t('checkout.minOrderHelp')}>
            <InputNumber min={0} max={10_000_000_000} precision={2} style={{ width: 160 }} />
          </Form.Item>
          <Form.Item name="min_points" label={t('checkout.minPoints')}>
            <InputNumber min={0} max={1_000_000_000_000} precision={0} style={{ width: 160 }} suffix={pointName} />
          </Form.Item>
          <Form.Item name="max_points_per_order" label={t('checkout.maxPerOrder')} extra={t('checkout.maxPerOrderHelp')}>
            <InputNumber min={1} max={1_000_000_000_000} precision={0} style={{ width: 160 }} suffix={pointName} />
          </Form.Item>
          <Form.Item
            name="hold_timeout_minutes"
            label={t('checkout.holdTimeout')}
            extra={t('checkout.holdTimeoutHelp', { minutes: program.hold_timeout_seconds / 60 })}
          >
            <InputNumber min={1} max={43_200} precision={0} style={{ width: 160 }} />
          </Form.Item>
        </Space>
        <Form.Item name="combinable_with_discounts" valuePropName="checked">
          <Checkbox>{t('checkout.combinable')}</Checkbox>
        </Form.Item>
        <Alert
          type={enabled ? 'info' : 'warning'}
          showIcon
          data-testid="checkout-example"
          style={{ marginBottom: 16 }}
          title={
            enabled
              ? t('checkout.example', {
                  order: formatMoney(order, program.currency, locale),
                  points: formatPoints(example.points, locale),
                  pointName,
                  money: formatMoney(example.minor, program.currency, locale),
                })
              : t('checkout.off')
          }
        />
        <SaveFooter error={save.error} canWrite={canWrite} saving={save.isPending} onSave={() => save.mutate()} testId="checkout-save" />
      </Form>
    </Card>
  );
}
