// Program settings: name, time zone, currency, point name, expiry policy, pending days, negative
// balances, redemption rate, hold timeout (PATCH /v1/programs/{id}); points at checkout (the
// checkout policy, checkout-policy.tsx); and how members sign in to
// the member centre: the member-token settings and the HS256 secret, rotated with the new secret
// shown once.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Checkbox, ConfigProvider, Descriptions, Form, Input, InputNumber, Modal, Radio, Select, Space, Typography } from 'antd';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatMoney, formatPoints, type Locale, minorUnitsOf, pointNameOf } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { describeError, ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { PageHeader } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgramId } from '../../layout/shell.tsx';
import { CheckoutPolicyCard } from './checkout-policy.tsx';
import { cleanPolicy, type ExpiryPolicy, explainPolicy, type Program } from './expiry.ts';
import { isFieldValidation, SaveFooter } from './save-footer.tsx';
import { DANGER_THEME } from './tag-colors.ts';

const CURRENCIES = ['CNY', 'HKD', 'TWD', 'MOP', 'USD', 'EUR', 'GBP', 'JPY', 'SGD', 'AUD', 'CAD', 'KRW'];

/** ¥1, $1: one unit of the currency. */
function oneUnit(currency: string, locale: Locale): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol', maximumFractionDigits: 0 }).format(1);
}

function timeZones(): string[] {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['Asia/Shanghai'];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

type FormValues = Pick<
  Program,
  'name' | 'time_zone' | 'currency' | 'point_name' | 'point_name_en' | 'pending_days' | 'negative_balance_policy' | 'redemption_rate' | 'hold_timeout_seconds'
> & { expiry_policy: Partial<ExpiryPolicy> & { type: ExpiryPolicy['type'] } };

export default function SettingsPage() {
  return (
    <ConfigProvider theme={DANGER_THEME}>
      <SettingsPageContent />
    </ConfigProvider>
  );
}

function SettingsPageContent() {
  const { t } = useTranslation('settings');
  const programId = useProgramId();
  const program = useQuery({
    queryKey: ['program', programId],
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}', { params: { path: { programId } } })),
  });
  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader title={t('title')} description={t('description')} />
      {program.isPending ? <PageLoading /> : program.error ? <ErrorAlert error={program.error} onRetry={() => program.refetch()} /> : null}
      {program.data ? <ProgramForm key={program.data.updated_at} program={program.data} /> : null}
      {program.data ? <CheckoutPolicyCard program={program.data} /> : null}
      <MemberTokens programId={programId} />
    </Space>
  );
}

function ProgramForm({ program }: { program: Program }) {
  const { t, i18n } = useTranslation('settings');
  const locale = i18n.language as Locale;
  const { can } = useSession();
  const canWrite = can(program.id, 'settings.write');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<FormValues>();
  const zones = useMemo(() => timeZones().map((z) => ({ value: z, label: z })), []);
  const submission = useRef<{ payload: string; key: string } | undefined>(undefined);
  const initialValues: FormValues = {
    name: program.name,
    time_zone: program.time_zone,
    currency: program.currency,
    point_name: program.point_name,
    point_name_en: program.point_name_en,
    pending_days: program.pending_days,
    negative_balance_policy: program.negative_balance_policy,
    redemption_rate: program.redemption_rate,
    hold_timeout_seconds: program.hold_timeout_seconds,
    expiry_policy: program.expiry_policy,
  };
  const policy = Form.useWatch('expiry_policy', form) ?? program.expiry_policy;
  const rate = Form.useWatch('redemption_rate', form) ?? program.redemption_rate;
  const currency = Form.useWatch('currency', form) ?? program.currency;
  // the name as typed, in the viewer's language (the redemption rate's unit and example say it)
  const pointNameZh = Form.useWatch('point_name', form) ?? program.point_name;
  const pointNameEn = Form.useWatch('point_name_en', form) ?? program.point_name_en;
  const pointName = pointNameOf({ point_name: pointNameZh, point_name_en: pointNameEn }, locale);
  const hold = Form.useWatch('hold_timeout_seconds', form) ?? program.hold_timeout_seconds;
  const tr = (key: string, options?: Record<string, unknown>) => String(t(key, options as never));

  const save = useMutation({
    mutationFn: async () => {
      const v = await form.validateFields();
      const next = { ...v, expiry_policy: cleanPolicy(v.expiry_policy) } as Record<string, unknown>;
      const before = { ...initialValues, expiry_policy: program.expiry_policy } as Record<string, unknown>;
      // only what changed: a PATCH of the same value would still be an update
      const body = Object.fromEntries(Object.entries(next).filter(([k, value]) => JSON.stringify(value) !== JSON.stringify(before[k])));
      if (Object.keys(body).length === 0) return undefined;
      const payload = JSON.stringify(body);
      if (submission.current?.payload !== payload) submission.current = { payload, key: newIdempotencyKey() };
      return unwrap(
        api.PATCH('/v1/programs/{programId}', {
          params: { path: { programId: program.id }, header: { 'idempotency-key': submission.current.key } },
          body: body as never,
        }),
      );
    },
    onSuccess: (saved) => {
      submission.current = undefined;
      if (!saved) {
        message.info(t('noChanges'));
        return;
      }
      queryClient.setQueryData(['program', program.id], saved);
      queryClient.invalidateQueries({ queryKey: ['programs'] });
      message.success(t('saved'));
    },
    onError: (error) => {
      if (isFieldValidation(error)) return;
      if (error instanceof ApiError && error.problem.errors?.length) {
        form.setFields(
          error.problem.errors.filter((e) => e.path.startsWith('/')).map((e) => ({ name: e.path.slice(1).split('/') as never, errors: [fieldMessage(e, t)] })),
        );
      }
    },
  });

  const example = Math.max(1, rate) * 100;
  return (
    <Card
      title={
        <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
          {t('programSection')}
        </Typography.Title>
      }
      size="small"
    >
      <Form form={form} layout="vertical" initialValues={initialValues} disabled={!canWrite} data-testid="settings-form" style={{ maxWidth: 760 }}>
        <Form.Item name="name" label={t('fields.name')} rules={[{ required: true, message: t('required') }, { max: 200 }]}>
          <Input />
        </Form.Item>
        <Space wrap size="large" align="start">
          <Form.Item name="time_zone" label={t('fields.timeZone')} extra={t('help.timeZone')} rules={[{ required: true, message: t('required') }]}>
            <Select showSearch options={zones} style={{ width: 280 }} />
          </Form.Item>
          <Form.Item name="currency" label={t('fields.currency')} extra={t('help.currency')} rules={[{ required: true, message: t('required') }]}>
            <Select
              showSearch
              style={{ width: 160 }}
              options={(CURRENCIES.includes(program.currency) ? CURRENCIES : [program.currency, ...CURRENCIES]).map((c) => ({ value: c, label: c }))}
            />
          </Form.Item>
          <Form.Item
            name="point_name"
            label={t('fields.pointName')}
            extra={t('help.pointName')}
            rules={[{ required: true, message: t('required') }, { max: 32 }]}
          >
            <Input style={{ width: 160 }} />
          </Form.Item>
          <Form.Item
            name="point_name_en"
            label={t('fields.pointNameEn')}
            extra={t('help.pointNameEn')}
            rules={[{ required: true, message: t('required') }, { max: 32 }]}
          >
            <Input style={{ width: 160 }} />
          </Form.Item>
        </Space>

        <Typography.Title level={3} style={{ fontSize: 14 }}>
          {t('expiry.title')}
        </Typography.Title>
        <Form.Item name={['expiry_policy', 'type']} label={t('expiry.type')}>
          <Radio.Group
            options={(['never', 'rolling', 'end_of_period', 'activity_extended'] as const).map((p) => ({ value: p, label: t(`expiry.types.${p}`) }))}
          />
        </Form.Item>
        <Space wrap size="large" align="start">
          {policy.type === 'rolling' || policy.type === 'activity_extended' ? (
            <Form.Item name={['expiry_policy', 'months']} label={t('expiry.months')} rules={[{ required: true, message: t('required') }]}>
              <InputNumber min={1} max={240} precision={0} style={{ width: 140 }} />
            </Form.Item>
          ) : null}
          {policy.type === 'end_of_period' ? (
            <>
              <Form.Item name={['expiry_policy', 'unit']} label={t('expiry.unit')} rules={[{ required: true, message: t('required') }]}>
                <Select style={{ width: 140 }} options={(['month', 'quarter', 'year'] as const).map((u) => ({ value: u, label: t(`expiry.units.${u}`) }))} />
              </Form.Item>
              <Form.Item name={['expiry_policy', 'offset']} label={t('expiry.offset')} extra={t('expiry.offsetHelp')}>
                <InputNumber min={0} max={20} precision={0} style={{ width: 140 }} />
              </Form.Item>
            </>
          ) : null}
          {policy.type === 'activity_extended' ? (
            <>
              <Form.Item name={['expiry_policy', 'extend_by_months']} label={t('expiry.extendBy')} extra={t('expiry.extendByHelp')}>
                <InputNumber min={1} max={120} precision={0} style={{ width: 140 }} />
              </Form.Item>
              <Form.Item name={['expiry_policy', 'extend_once_per']} label={t('expiry.extendOncePer')}>
                <Select
                  allowClear
                  style={{ width: 140 }}
                  options={(['month', 'quarter', 'year'] as const).map((u) => ({ value: u, label: t(`expiry.units.${u}`) }))}
                />
              </Form.Item>
              <Form.Item name={['expiry_policy', 'hard_cap_months']} label={t('expiry.hardCap')}>
                <InputNumber min={1} max={600} precision={0} style={{ width: 140 }} />
              </Form.Item>
            </>
          ) : null}
        </Space>
        <Alert
          type="info"
          showIcon
          title={explainPolicy(policy, tr)}
          description={t('expiry.note')}
          style={{ marginBottom: 24 }}
          data-testid="expiry-explanation"
        />

        <Space wrap size="large" align="start">
          <Form.Item name="pending_days" label={t('fields.pendingDays')} extra={t('help.pendingDays')}>
            <InputNumber min={0} max={3650} precision={0} style={{ width: 160 }} />
          </Form.Item>
          <Form.Item
            name="redemption_rate"
            label={t('fields.redemptionRate', { currencyUnit: oneUnit(currency, locale) })}
            extra={t('help.redemptionRate', {
              points: formatPoints(example, locale),
              pointName,
              money: formatMoney(Math.round((example / Math.max(1, rate)) * minorUnitsOf(currency)), currency, locale),
            })}
          >
            <InputNumber min={1} max={1_000_000} precision={0} style={{ width: 160 }} suffix={pointName} />
          </Form.Item>
          <Form.Item
            name="hold_timeout_seconds"
            label={t('fields.holdTimeout')}
            extra={t('help.holdTimeout', { minutes: Math.round(((hold ?? 0) / 60) * 10) / 10 })}
          >
            <InputNumber min={1} max={2_592_000} precision={0} style={{ width: 160 }} />
          </Form.Item>
        </Space>
        <Form.Item name="negative_balance_policy" label={t('fields.negativeBalance')}>
          <Radio.Group>
            <Space orientation="vertical">
              <Radio value="write_off">{t('negative.write_off')}</Radio>
              <Radio value="allow_negative">{t('negative.allow_negative')}</Radio>
            </Space>
          </Radio.Group>
        </Form.Item>
        <Typography.Paragraph type="secondary">{t('appliesNext')}</Typography.Paragraph>
        <SaveFooter error={save.error} canWrite={canWrite} saving={save.isPending} onSave={() => save.mutate()} testId="settings-save" />
      </Form>
    </Card>
  );
}

function MemberTokens({ programId }: { programId: string }) {
  const { t, i18n } = useTranslation('settings');
  const locale = i18n.language as Locale;
  const { can } = useSession();
  const canWrite = can(programId, 'settings.write');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ audience?: string; issuer?: string; jwks_url?: string }>();
  const [revokePrevious, setRevokePrevious] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [secret, setSecret] = useState<{ id: string; secret: string } | undefined>();
  const rotateKey = useRef<string | undefined>(undefined);
  const updateKey = useRef<{ payload: string; key: string } | undefined>(undefined);
  const settings = useQuery({
    queryKey: ['member-token-settings', programId],
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}/member-token-settings', { params: { path: { programId } } })),
  });
  const program = queryClient.getQueryData<Program>(['program', programId]);
  const when = (iso: string) => formatDateTime(iso, program?.time_zone ?? 'Asia/Shanghai', locale);

  const update = useMutation({
    mutationFn: async () => {
      const v = await form.validateFields();
      const s = settings.data!;
      const defaultAudience = `jifen:${programId}`;
      const body: Record<string, string | null> = {};
      const issuer = v.issuer?.trim() || null;
      const jwks = v.jwks_url?.trim() || null;
      const audience = v.audience?.trim() || null;
      if (issuer !== s.issuer) body.issuer = issuer;
      if (jwks !== s.jwks_url) body.jwks_url = jwks;
      if ((audience ?? defaultAudience) !== s.audience) body.audience = audience;
      if (Object.keys(body).length === 0) return undefined;
      const payload = JSON.stringify(body);
      if (updateKey.current?.payload !== payload) updateKey.current = { payload, key: newIdempotencyKey() };
      return unwrap(
        api.PATCH('/v1/programs/{programId}/member-token-settings', {
          params: { path: { programId }, header: { 'idempotency-key': updateKey.current.key } },
          body,
        }),
      );
    },
    onSuccess: (saved) => {
      updateKey.current = undefined;
      if (!saved) {
        message.info(t('noChanges'));
        return;
      }
      queryClient.setQueryData(['member-token-settings', programId], saved);
      message.success(t('tokens.saved'));
    },
    onError: (error) => {
      if (isFieldValidation(error)) return;
      if (error instanceof ApiError && error.problem.errors?.length) {
        form.setFields(error.problem.errors.map((e) => ({ name: e.path.replace(/^\//, '') as never, errors: [fieldMessage(e, t)] })));
      }
    },
  });

  const rotate = useMutation({
    mutationFn: () => {
      rotateKey.current ??= newIdempotencyKey();
      return unwrap(
        api.POST('/v1/programs/{programId}/member-token-secrets', {
          params: { path: { programId }, header: { 'idempotency-key': rotateKey.current } },
          body: { revoke_previous: revokePrevious },
        }),
      );
    },
    onSuccess: (made) => {
      rotateKey.current = undefined;
      setConfirming(false);
      setSecret({ id: made.id, secret: made.secret });
      queryClient.invalidateQueries({ queryKey: ['member-token-settings', programId] });
    },
    onError: (error) => message.error(describeError(error, t).message),
  });

  const s = settings.data;
  return (
    <Card
      title={
        <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
          {t('tokens.title')}
        </Typography.Title>
      }
      size="small"
    >
      <Typography.Paragraph type="secondary">{t('tokens.description')}</Typography.Paragraph>
      {settings.isPending ? <PageLoading /> : null}
      {settings.error ? <ErrorAlert error={settings.error} onRetry={() => settings.refetch()} /> : null}
      {s ? (
        <Space orientation="vertical" size="middle" style={{ width: '100%', maxWidth: 760 }}>
          <Descriptions
            size="small"
            column={1}
            bordered
            items={[
              {
                key: 'secret',
                label: t('tokens.secret'),
                children: s.secret ? t('tokens.secretSet', { id: s.secret.id, date: when(s.secret.created_at) }) : t('tokens.noSecret'),
              },
              {
                key: 'previous',
                label: t('tokens.previous'),
                children: s.previous_secret
                  ? s.previous_secret.retired_at
                    ? t('tokens.previousRetired', { id: s.previous_secret.id, date: when(s.previous_secret.retired_at) })
                    : t('tokens.previousValid', { id: s.previous_secret.id })
                  : t('common:none'),
              },
              { key: 'updated', label: t('tokens.updated'), children: s.updated_at ? when(s.updated_at) : '—' },
            ]}
          />
          {canWrite ? (
            <Button danger onClick={() => setConfirming(true)} data-testid="rotate-secret">
              {s.secret ? t('tokens.rotate') : t('tokens.create')}
            </Button>
          ) : null}
          <Form
            form={form}
            layout="vertical"
            disabled={!canWrite}
            initialValues={{ audience: s.audience === `jifen:${programId}` ? '' : s.audience, issuer: s.issuer ?? '', jwks_url: s.jwks_url ?? '' }}
            key={s.updated_at ?? 'never'}
          >
            <Form.Item name="audience" label={t('tokens.audience')} extra={t('tokens.audienceHelp', { audience: `jifen:${programId}` })}>
              <Input placeholder={`jifen:${programId}`} />
            </Form.Item>
            <Form.Item name="issuer" label={t('tokens.issuer')} extra={t('tokens.issuerHelp')}>
              <Input placeholder="https://auth.example.com/" />
            </Form.Item>
            <Form.Item name="jwks_url" label={t('tokens.jwksUrl')} extra={t('tokens.jwksUrlHelp')}>
              <Input placeholder="https://auth.example.com/.well-known/jwks.json" />
            </Form.Item>
            {update.error && !isFieldValidation(update.error) ? (
              <div style={{ marginBottom: 16 }}>
                <ErrorAlert error={update.error} />
              </div>
            ) : null}
            {canWrite ? (
              <Button onClick={() => update.mutate()} loading={update.isPending}>
                {t('tokens.save')}
              </Button>
            ) : null}
          </Form>
        </Space>
      ) : null}
      <Modal
        open={confirming}
        title={s?.secret ? t('tokens.rotateTitle') : t('tokens.create')}
        okText={s?.secret ? t('tokens.rotate') : t('tokens.create')}
        okButtonProps={{ danger: true, loading: rotate.isPending }}
        cancelText={t('common:cancel')}
        onOk={() => rotate.mutate()}
        onCancel={() => setConfirming(false)}
      >
        <Typography.Paragraph>{t('tokens.rotateExplain')}</Typography.Paragraph>
        {s?.secret ? (
          <Checkbox checked={revokePrevious} onChange={(e) => setRevokePrevious(e.target.checked)}>
            {t('tokens.revokePrevious')}
          </Checkbox>
        ) : null}
      </Modal>
      <Modal
        open={secret !== undefined}
        title={t('tokens.newSecret')}
        closable={false}
        keyboard={false}
        mask={{ closable: false }}
        footer={
          <Button type="primary" onClick={() => setSecret(undefined)}>
            {t('tokens.stored')}
          </Button>
        }
      >
        <Alert type="warning" showIcon title={t('tokens.onceWarning')} style={{ marginBottom: 16 }} />
        <Typography.Paragraph>{t('tokens.kid', { id: secret?.id })}</Typography.Paragraph>
        <Typography.Paragraph copyable={{ text: secret?.secret }} code data-testid="new-secret">
          {secret?.secret}
        </Typography.Paragraph>
      </Modal>
    </Card>
  );
}
