// The reward's form, for a new reward and an existing one: type, names and descriptions in both
// languages, images (the cover previewed), category, price and cash part (in yuan, sent in fen),
// stock, the per-member limit, tier and segment gating, the window, flash-sale hours, the donation
// project and the status. The API's field errors (problem+json `errors[].path`) show at their
// fields; what has no field shows above the buttons.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Checkbox, Col, DatePicker, Form, Image, Input, InputNumber, Radio, Row, Select, Space, Switch, Typography } from 'antd';
import { type ReactNode, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatMoney, formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { ErrorAlert } from '../../layout/feedback.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { useLadder } from '../tiers/queries.ts';
import { bodyOf, fieldOfPath, initialValues, type RewardFormValues } from './model.ts';
import { rewardKey } from './queries.ts';
import { currencySymbolOf, LIMIT_PERIODS, localized, REWARD_TYPES, type Reward } from './types.ts';

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Card
      size="small"
      title={
        <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
          {title}
        </Typography.Title>
      }
    >
      {children}
    </Card>
  );
}

export function RewardForm({ reward, canWrite, onSaved }: { reward?: Reward; canWrite: boolean; onSaved: (reward: Reward) => void }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<RewardFormValues>();
  const [formError, setFormError] = useState<unknown>();
  const submission = useRef<{ payload: string; key: string }>(undefined);
  const creating = !reward;
  const archived = reward?.status === 'archived';
  const ladder = useLadder(program.id);
  const segments = useQuery({
    queryKey: ['segments', program.id, 'active', 'options'],
    queryFn: () =>
      unwrap(api.GET('/v1/programs/{programId}/segments', { params: { path: { programId: program.id }, query: { status: 'active', limit: 100 } } })),
  });
  const type = Form.useWatch('type', form) ?? reward?.type ?? 'physical';
  const unlimited = Form.useWatch('unlimited', form) ?? true;
  const limited = Form.useWatch('limited', form) ?? false;
  const scheduled = Form.useWatch('scheduled', form) ?? false;
  const images = Form.useWatch('image_urls', form) ?? [];
  const pointName = pointNameOf(program, locale);
  const symbol = currencySymbolOf(program.currency, locale);
  const priceLabel = type === 'donation' ? t('fields.donationMinimum') : type === 'lottery' ? t('fields.drawCost') : t('fields.pointsCost');

  const save = useMutation({
    mutationFn: async () => {
      const values = await form.validateFields();
      const body = bodyOf(values, program, creating);
      const payload = JSON.stringify(body);
      if (submission.current?.payload !== payload) submission.current = { payload, key: newIdempotencyKey() };
      const header = { 'idempotency-key': submission.current.key };
      if (creating) {
        return unwrap(api.POST('/v1/programs/{programId}/rewards', { params: { path: { programId: program.id }, header }, body: body as never }));
      }
      return unwrap(api.PATCH('/v1/rewards/{rewardId}', { params: { path: { rewardId: reward.id }, header }, body: body as never }));
    },
    onSuccess: (saved) => {
      setFormError(undefined);
      queryClient.setQueryData(rewardKey(saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: ['rewards', program.id] });
      message.success(creating ? t('editor.created') : t('editor.saved'));
      onSaved(saved);
    },
    onError: (error) => {
      if (error && typeof error === 'object' && 'errorFields' in error) return;
      setFormError(error);
      if (error instanceof ApiError && error.problem.errors?.length) {
        const byField = new Map<string, string[]>();
        for (const e of error.problem.errors) {
          const field = fieldOfPath(e.path);
          if (field) byField.set(field, [...(byField.get(field) ?? []), fieldMessage(e, t)]);
        }
        form.setFields([...byField].map(([name, errors]) => ({ name: name as keyof RewardFormValues, errors })));
      }
    },
  });

  const weekdays = [1, 2, 3, 4, 5, 6, 7].map((d) => ({ value: d, label: t(`weekdays.${d}`) }));
  const tiers = ladder.data?.tiers ?? [];

  return (
    <Form<RewardFormValues>
      form={form}
      layout="vertical"
      initialValues={initialValues(reward, program)}
      disabled={!canWrite || archived}
      data-testid="reward-form"
      onFinish={() => save.mutate()}
    >
      <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
        <Section title={t('editor.sections.basics')}>
          <Row gutter={16}>
            <Col xs={24} md={12}>
              <Form.Item name="type" label={t('fields.type')} extra={t(`typeHelp.${type}`)}>
                <Select
                  aria-label={t('fields.type')}
                  disabled={!creating}
                  options={REWARD_TYPES.map((v) => ({ value: v, label: t(`types.${v}`) }))}
                  data-testid="reward-type"
                />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="category" label={t('fields.category')} extra={t('editor.categoryHelp')}>
                <Input maxLength={64} placeholder="coffee" />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="name_zh" label={t('fields.nameZh')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
                <Input maxLength={100} data-testid="reward-name-zh" />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="name_en" label={t('fields.nameEn')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
                <Input maxLength={100} data-testid="reward-name-en" />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="description_zh" label={t('fields.descriptionZh')}>
                <Input.TextArea rows={3} maxLength={2000} />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="description_en" label={t('fields.descriptionEn')}>
                <Input.TextArea rows={3} maxLength={2000} />
              </Form.Item>
            </Col>
            <Col xs={24} md={16}>
              <Form.Item name="image_urls" label={t('fields.images')} extra={t('editor.imagesHelp')}>
                <Select aria-label={t('fields.images')} mode="tags" tokenSeparators={[' ', '\n']} open={false} placeholder="https://…" />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item label={t('editor.cover')}>
                {images[0] ? (
                  <Image src={images[0]} alt={t('editor.cover')} width={120} height={120} style={{ objectFit: 'cover' }} data-testid="cover-preview" />
                ) : (
                  <Typography.Text type="secondary">{t('editor.noCover')}</Typography.Text>
                )}
              </Form.Item>
            </Col>
          </Row>
        </Section>

        <Section title={t('editor.sections.price')}>
          <Row gutter={16}>
            {creating ? (
              <>
                <Col xs={24} md={12}>
                  <Form.Item name="points_cost" label={priceLabel} rules={[{ required: true, message: t('editor.required') }]}>
                    <InputNumber min={1} precision={0} style={{ width: '100%' }} suffix={pointName} data-testid="reward-points" />
                  </Form.Item>
                </Col>
                {type !== 'donation' && type !== 'lottery' ? (
                  <Col xs={24} md={12}>
                    <Form.Item name="cash_yuan" label={t('fields.cashPart')} extra={t('editor.cashHelp')}>
                      <InputNumber min={0} precision={2} step={1} style={{ width: '100%' }} prefix={symbol} />
                    </Form.Item>
                  </Col>
                ) : null}
              </>
            ) : (
              <Col xs={24} md={12}>
                {/* the price in force now, as text: it changes by a price change (the next tab) */}
                <Form.Item label={priceLabel} extra={t('editor.priceByChange')}>
                  <Typography.Text strong data-testid="reward-price">
                    {formatPoints(reward.points_cost, locale)} {pointName}
                    {reward.cash_part ? ` + ${formatMoney(reward.cash_part, program.currency, locale)}` : ''}
                  </Typography.Text>
                </Form.Item>
              </Col>
            )}
            {type === 'donation' ? (
              <Col xs={24} md={12}>
                <Form.Item name="donation_project" label={t('fields.donationProject')} extra={t('editor.donationHelp')}>
                  <Input maxLength={100} />
                </Form.Item>
              </Col>
            ) : null}
          </Row>
        </Section>

        <Section title={t('editor.sections.stock')}>
          <Row gutter={16}>
            <Col xs={24} md={12}>
              <Form.Item name="unlimited" label={t('fields.stock')} valuePropName="checked">
                <Switch checkedChildren={t('editor.unlimited')} unCheckedChildren={t('editor.finite')} aria-label={t('editor.unlimited')} />
              </Form.Item>
              {!unlimited ? (
                <Form.Item
                  name="stock"
                  label={t('fields.stockTotal')}
                  extra={reward?.stock != null ? t('editor.stockHelp', { left: reward.stock_left ?? 0 }) : undefined}
                  rules={[{ required: true, message: t('editor.required') }]}
                >
                  <InputNumber min={0} precision={0} style={{ width: '100%' }} data-testid="reward-stock" />
                </Form.Item>
              ) : null}
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="limited" label={t('fields.limit')} valuePropName="checked">
                <Switch aria-label={t('fields.limit')} />
              </Form.Item>
              {limited ? (
                <Space.Compact block>
                  <Form.Item name="per_member" noStyle rules={[{ required: true, message: t('editor.required') }]}>
                    <InputNumber min={1} precision={0} style={{ width: '50%' }} aria-label={t('fields.perMember')} placeholder={t('fields.perMember')} />
                  </Form.Item>
                  <Form.Item name="period" noStyle rules={[{ required: true, message: t('editor.required') }]}>
                    <Select
                      style={{ width: '50%' }}
                      aria-label={t('fields.period')}
                      placeholder={t('fields.period')}
                      options={LIMIT_PERIODS.map((p) => ({ value: p, label: t(`periods.${p}`) }))}
                    />
                  </Form.Item>
                </Space.Compact>
              ) : null}
            </Col>
          </Row>
        </Section>

        <Section title={t('editor.sections.gating')}>
          <Row gutter={16}>
            <Col xs={24} md={12}>
              <Form.Item name="min_tier" label={t('fields.minTier')} extra={ladder.data === null ? t('editor.noLadder') : t('editor.minTierHelp')}>
                <Select
                  aria-label={t('fields.minTier')}
                  allowClear
                  placeholder={t('editor.anyTier')}
                  loading={ladder.isPending}
                  options={tiers.map((tier) => ({ value: tier.code, label: localized(tier.name, locale) }))}
                />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="segment_id" label={t('fields.segment')} extra={t('editor.segmentHelp')}>
                <Select
                  aria-label={t('fields.segment')}
                  allowClear
                  showSearch={{ optionFilterProp: 'label' }}
                  placeholder={t('editor.anyMember')}
                  loading={segments.isPending}
                  options={segments.data?.data.map((s) => ({ value: s.id, label: localized(s.name, locale) }))}
                />
              </Form.Item>
            </Col>
          </Row>
          {ladder.error ? <ErrorAlert error={ladder.error} /> : null}
          {segments.error ? <ErrorAlert error={segments.error} /> : null}
        </Section>

        <Section title={t('editor.sections.availability')}>
          <Row gutter={16}>
            <Col xs={24} md={12}>
              <Form.Item name="window" label={t('fields.window')} extra={t('editor.windowHelp', { timeZone: program.time_zone })}>
                <DatePicker.RangePicker
                  showTime={{ format: 'HH:mm' }}
                  format="YYYY-MM-DD HH:mm"
                  allowEmpty={[true, true]}
                  style={{ width: '100%' }}
                  aria-label={t('fields.window')}
                />
              </Form.Item>
            </Col>
            <Col xs={24} md={12}>
              <Form.Item name="scheduled" label={t('fields.schedule')} valuePropName="checked" extra={t('editor.scheduleHelp')}>
                <Switch aria-label={t('fields.schedule')} />
              </Form.Item>
              {scheduled ? (
                <>
                  <Form.Item name="schedule_days" label={t('fields.weekdays')} rules={[{ required: true, message: t('editor.required') }]}>
                    <Checkbox.Group options={weekdays} />
                  </Form.Item>
                  <Space>
                    <Form.Item name="schedule_from" label={t('fields.from')} rules={[{ required: true, message: t('editor.required') }]}>
                      <Input placeholder="10:00" style={{ width: 100 }} />
                    </Form.Item>
                    <Form.Item name="schedule_until" label={t('fields.until')} rules={[{ required: true, message: t('editor.required') }]}>
                      <Input placeholder="12:00" style={{ width: 100 }} />
                    </Form.Item>
                  </Space>
                </>
              ) : null}
            </Col>
            <Col xs={24}>
              <Form.Item name="status" label={t('fields.status')} extra={t('editor.statusHelp')}>
                <Radio.Group
                  options={[
                    { value: 'draft', label: t('status.draft') },
                    { value: 'active', label: t('status.active') },
                  ]}
                />
              </Form.Item>
            </Col>
          </Row>
        </Section>

        {formError && !(formError instanceof ApiError && formError.problem.errors?.some((e) => fieldOfPath(e.path))) ? <ErrorAlert error={formError} /> : null}
        {formError instanceof ApiError && formError.problem.errors?.length ? <Typography.Text type="danger">{t('editor.fixFields')}</Typography.Text> : null}
        {canWrite && !archived ? (
          <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="reward-save">
            {creating ? t('editor.create') : t('editor.save')}
          </Button>
        ) : null}
      </Space>
    </Form>
  );
}
