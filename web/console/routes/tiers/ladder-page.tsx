// The program's tier ladder: how members are ranked (metric, window), how long a tier lasts, how it
// is kept or lost (retention, grace, downgrade policy), and each tier's thresholds and benefits,
// with the ladder in plain language beside the form as it is edited. A program without a ladder
// gets an explanation and the seed ladder to start from. The API's field errors show at their fields.
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Col, Divider, Form, Input, InputNumber, Radio, Row, Select, Space, Tag, Typography } from 'antd';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatPoints, type Locale, minorUnitsOf, pointNameOf } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import type { TierLadder } from '../../../shared/tiers.ts';
import { EmptyState, ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { PageHeader } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { fieldOfPath, fromLadder, type LadderForm, seedLadderForm, type TierForm, toLadderInput } from './ladder.ts';
import { LADDER_WRITE } from './permissions.ts';
import { ladderKey, useLadder } from './queries.ts';
import { ladderSummary } from './summary.ts';

export default function LadderPage() {
  const { t } = useTranslation('tiers');
  const program = useProgram();
  const ladder = useLadder(program.id);
  const [draft, setDraft] = useState<LadderForm | undefined>();
  const { can } = useSession();
  const canWrite = can(program.id, LADDER_WRITE);

  if (ladder.isPending) return <PageLoading />;
  if (ladder.error) return <ErrorAlert error={ladder.error} onRetry={() => ladder.refetch()} />;
  const header = (
    <PageHeader
      title={t('ladder.title')}
      description={t('ladder.description')}
      extra={
        <Link to={`/${program.id}/tiers/history`}>
          <Button>{t('ladder.historyLink')}</Button>
        </Link>
      }
    />
  );
  if (!ladder.data && !draft) {
    return (
      <Space orientation="vertical" size="large" style={{ width: '100%' }}>
        {header}
        <Card>
          <EmptyState
            description={
              <Space orientation="vertical" style={{ maxWidth: 560, textAlign: 'start' }}>
                <Typography.Text strong>{t('empty.title')}</Typography.Text>
                <Typography.Text>{t('empty.what')}</Typography.Text>
                <Typography.Text type="secondary">{t('empty.seed')}</Typography.Text>
              </Space>
            }
            action={
              canWrite ? (
                <Space>
                  <Button type="primary" data-testid="ladder-from-seed" onClick={() => setDraft(seedLadderForm())}>
                    {t('empty.fromSeed')}
                  </Button>
                  <Button onClick={() => setDraft({ ...seedLadderForm(), tiers: seedLadderForm().tiers.slice(0, 1) })}>{t('empty.blank')}</Button>
                </Space>
              ) : (
                <Typography.Text type="secondary">{t('empty.noPermission')}</Typography.Text>
              )
            }
          />
        </Card>
      </Space>
    );
  }
  const minorUnits = minorUnitsOf(program.currency);
  const initial = draft ?? fromLadder(ladder.data!, minorUnits);
  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      {header}
      <LadderEditor
        key={ladder.data?.revision ?? 'new'}
        initial={initial}
        saved={ladder.data ?? null}
        canWrite={canWrite}
        onSaved={() => setDraft(undefined)}
      />
    </Space>
  );
}

function LadderEditor({ initial, saved, canWrite, onSaved }: { initial: LadderForm; saved: TierLadder | null; canWrite: boolean; onSaved: () => void }) {
  const { t, i18n } = useTranslation('tiers');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<LadderForm>();
  const minorUnits = minorUnitsOf(program.currency);
  const values = Form.useWatch([], form) as LadderForm | undefined;
  const current = values?.tiers ? values : initial;
  const [formError, setFormError] = useState<unknown>();
  const submission = useRef<{ payload: string; key: string } | undefined>(undefined);

  const summary = useMemo(() => {
    try {
      return ladderSummary(toLadderInput(current, minorUnits), {
        t: (key, options) => String(t(key, options as never)),
        locale,
        currency: program.currency,
        pointName: pointNameOf(program, locale),
      });
    } catch {
      return [];
    }
  }, [current, minorUnits, t, locale, program]);

  const save = useMutation({
    mutationFn: async () => {
      const v = await form.validateFields();
      const body = toLadderInput(v, minorUnits);
      const payload = JSON.stringify(body);
      if (submission.current?.payload !== payload) submission.current = { payload, key: newIdempotencyKey() };
      return (await unwrap(
        api.PUT('/v1/programs/{programId}/tier-ladder', {
          params: { path: { programId: program.id }, header: { 'idempotency-key': submission.current.key } },
          body,
        }),
      )) as TierLadder;
    },
    onSuccess: (ladder) => {
      setFormError(undefined);
      queryClient.setQueryData(ladderKey(program.id), ladder);
      void queryClient.invalidateQueries({ queryKey: ['tier-mix', program.id] });
      message.success(saved ? t('editor.saved') : t('editor.created'));
      onSaved();
    },
    onError: (error) => {
      if (error && typeof error === 'object' && 'errorFields' in error) return;
      setFormError(error);
      if (error instanceof ApiError && error.problem.errors?.length) {
        const placed = error.problem.errors
          .map((e) => ({ name: fieldOfPath(e.path), errors: [fieldMessage(e, t)] }))
          .filter((f): f is { name: (string | number)[]; errors: string[] } => f.name !== undefined);
        form.setFields(placed as never);
      }
    },
  });

  const unit = current.metric === 'spend' ? currencySymbol(program.currency, locale) : undefined;
  const unitSuffix = current.metric === 'points' ? t('editor.pointsUnit') : current.metric === 'orders' ? t('editor.ordersUnit') : undefined;

  return (
    <Row gutter={[24, 24]}>
      <Col xs={24} xl={15}>
        {formError ? (
          <div style={{ marginBottom: 16 }}>
            <ErrorAlert error={formError} />
          </div>
        ) : null}
        <Form<LadderForm> form={form} layout="vertical" initialValues={initial} disabled={!canWrite} data-testid="ladder-form">
          <Card
            size="small"
            title={
              <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                {t('editor.ranking')}
              </Typography.Title>
            }
          >
            <Row gutter={16}>
              <Col xs={24} md={12}>
                <Form.Item name="metric" label={t('editor.metric')} extra={t(`editor.metricHelp.${current.metric}`)}>
                  <Select
                    aria-label={t('editor.metric')}
                    options={(['spend', 'points', 'orders'] as const).map((m) => ({ value: m, label: t(`editor.metrics.${m}`) }))}
                  />
                </Form.Item>
              </Col>
              <Col xs={24} md={12}>
                <Form.Item label={t('editor.window')} required>
                  <Space.Compact style={{ width: '100%' }}>
                    <Form.Item name="window_type" noStyle>
                      <Select
                        aria-label={t('editor.window')}
                        style={{ width: current.window_type === 'rolling_months' ? '60%' : '100%' }}
                        options={(['calendar_year', 'rolling_months', 'membership_year'] as const).map((w) => ({ value: w, label: t(`editor.windows.${w}`) }))}
                      />
                    </Form.Item>
                    {current.window_type === 'rolling_months' ? (
                      <Form.Item name="window_months" noStyle rules={[{ required: true, message: t('editor.required') }]}>
                        <InputNumber aria-label={t('editor.months')} min={1} max={36} precision={0} style={{ width: '40%' }} suffix={t('editor.monthsUnit')} />
                      </Form.Item>
                    ) : null}
                  </Space.Compact>
                </Form.Item>
              </Col>
              <Col xs={24} md={12}>
                <Form.Item name="validity_type" label={t('editor.validity')} extra={t(`editor.validityHelp.${current.validity_type}`)}>
                  <Select
                    aria-label={t('editor.validity')}
                    options={(['months', 'period_and_next', 'until_date'] as const).map((v) => ({ value: v, label: t(`editor.validities.${v}`) }))}
                  />
                </Form.Item>
              </Col>
              <Col xs={24} md={12}>
                {current.validity_type === 'months' ? (
                  <Form.Item name="validity_months" label={t('editor.validityMonths')} rules={[{ required: true, message: t('editor.required') }]}>
                    <InputNumber min={1} max={120} precision={0} style={{ width: '100%' }} suffix={t('editor.monthsUnit')} />
                  </Form.Item>
                ) : null}
                {current.validity_type === 'until_date' ? (
                  <Space wrap>
                    <Form.Item name="validity_years" label={t('editor.validityYears')} rules={[{ required: true, message: t('editor.required') }]}>
                      <InputNumber min={1} max={5} precision={0} />
                    </Form.Item>
                    <Form.Item name="validity_month" label={t('editor.validityMonth')} rules={[{ required: true, message: t('editor.required') }]}>
                      <InputNumber min={1} max={12} precision={0} />
                    </Form.Item>
                    <Form.Item name="validity_day" label={t('editor.validityDay')} rules={[{ required: true, message: t('editor.required') }]}>
                      <InputNumber min={1} max={31} precision={0} />
                    </Form.Item>
                  </Space>
                ) : null}
              </Col>
              <Col xs={24} md={12}>
                <Form.Item name="downgrade_policy" label={t('editor.downgrade')} extra={t(`editor.downgradeHelp.${current.downgrade_policy}`)}>
                  <Select
                    aria-label={t('editor.downgrade')}
                    options={(['one_step', 'requalify', 'never'] as const).map((p) => ({ value: p, label: t(`editor.downgrades.${p}`) }))}
                  />
                </Form.Item>
              </Col>
              <Col xs={24} md={12}>
                <Form.Item name="grace_days" label={t('editor.grace')} extra={t('editor.graceHelp')}>
                  <InputNumber min={0} max={366} precision={0} style={{ width: '100%' }} suffix={t('editor.daysUnit')} />
                </Form.Item>
              </Col>
              <Col xs={24}>
                <Form.Item name="upgrade_event_rate" label={t('editor.upgradeRate')}>
                  <Radio.Group
                    options={[
                      { value: 'old', label: t('editor.upgradeRates.old') },
                      { value: 'new', label: t('editor.upgradeRates.new') },
                    ]}
                  />
                </Form.Item>
              </Col>
            </Row>
          </Card>
          <Form.List name="tiers">
            {(fields, { add, remove, move }) => (
              <Space orientation="vertical" style={{ width: '100%', marginTop: 16 }}>
                {fields.map((field, index) => {
                  const tier = current.tiers?.[index];
                  const savedTier = saved?.tiers.find((s) => s.code === tier?.code);
                  return (
                    <Card
                      key={field.key}
                      size="small"
                      data-testid={`tier-card-${index}`}
                      title={
                        <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                          {index === 0 ? t('editor.baseTier') : t('editor.tierN', { n: index + 1 })}
                          {tier?.name_zh || tier?.name_en ? ` · ${locale === 'en' ? tier.name_en || tier.name_zh : tier.name_zh || tier.name_en}` : ''}
                        </Typography.Title>
                      }
                      extra={
                        <Space>
                          {savedTier ? <Tag>{t('editor.members', { count: savedTier.members, value: formatPoints(savedTier.members, locale) })}</Tag> : null}
                          {canWrite ? (
                            <>
                              <Button
                                size="small"
                                icon={<ArrowUpOutlined />}
                                aria-label={t('editor.moveUp')}
                                disabled={index === 0}
                                onClick={() => move(index, index - 1)}
                              />
                              <Button
                                size="small"
                                icon={<ArrowDownOutlined />}
                                aria-label={t('editor.moveDown')}
                                disabled={index === fields.length - 1}
                                onClick={() => move(index, index + 1)}
                              />
                              <Button
                                size="small"
                                danger
                                icon={<DeleteOutlined />}
                                aria-label={t('editor.remove')}
                                disabled={fields.length === 1}
                                onClick={() => remove(index)}
                              />
                            </>
                          ) : null}
                        </Space>
                      }
                    >
                      <TierFields index={index} unit={unit} unitSuffix={unitSuffix} base={index === 0} />
                    </Card>
                  );
                })}
                {canWrite && fields.length < 10 ? (
                  <Button icon={<PlusOutlined />} data-testid="tier-add" onClick={() => add(newTier(current.tiers ?? []))}>
                    {t('editor.addTier')}
                  </Button>
                ) : null}
              </Space>
            )}
          </Form.List>
        </Form>
        {canWrite ? (
          <Space style={{ marginTop: 16 }}>
            <Button type="primary" data-testid="ladder-save" loading={save.isPending} onClick={() => save.mutate()}>
              {saved ? t('editor.save') : t('editor.create')}
            </Button>
            {saved ? null : <Button onClick={onSaved}>{t('common:cancel')}</Button>}
          </Space>
        ) : null}
      </Col>
      <Col xs={24} xl={9}>
        <Card
          size="small"
          style={{ position: 'sticky', top: 16 }}
          title={
            <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
              {t('editor.summary')}
            </Typography.Title>
          }
        >
          <div data-testid="ladder-summary" aria-live="polite">
            {summary.map((sentence) => (
              <Typography.Paragraph key={sentence} style={{ marginBottom: 8 }}>
                {sentence}
              </Typography.Paragraph>
            ))}
          </div>
          {saved ? (
            <>
              <Divider style={{ margin: '12px 0' }} />
              <Typography.Text type="secondary">{t('editor.revision', { revision: saved.revision })}</Typography.Text>
            </>
          ) : (
            <Alert type="info" showIcon title={t('editor.firstSave')} style={{ marginTop: 8 }} />
          )}
        </Card>
      </Col>
    </Row>
  );
}

function newTier(tiers: TierForm[]): TierForm {
  const n = tiers.length + 1;
  const top = tiers.at(-1)?.entry ?? 0;
  return {
    code: `tier_${n}`,
    name_zh: '',
    name_en: '',
    entry: top > 0 ? top * 2 : 1000,
    retention: null,
    multiplier: '1',
    birthday_points: 0,
    welcome_points: 0,
    grants: [],
    perks: [],
  };
}

function TierFields({ index, unit, unitSuffix, base }: { index: number; unit?: string; unitSuffix?: string; base: boolean }) {
  const { t } = useTranslation('tiers');
  const path = (field: string) => [index, field];
  return (
    <>
      <Row gutter={12}>
        <Col xs={24} md={8}>
          <Form.Item
            name={path('code')}
            label={t('editor.code')}
            rules={[
              { required: true, message: t('editor.required') },
              { pattern: /^[a-z][a-z0-9_]{0,31}$/, message: t('editor.codePattern') },
            ]}
          >
            <Input data-testid={`tier-code-${index}`} maxLength={32} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item name={path('name_zh')} label={t('editor.nameZh')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
            <Input maxLength={40} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item name={path('name_en')} label={t('editor.nameEn')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
            <Input maxLength={40} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item
            name={path('entry')}
            label={t('editor.entry')}
            extra={base ? t('editor.baseEntry') : undefined}
            rules={[{ required: true, message: t('editor.required') }]}
          >
            <InputNumber data-testid={`tier-entry-${index}`} min={0} disabled={base} prefix={unit} suffix={unitSuffix} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item name={path('retention')} label={t('editor.retention')} extra={base ? undefined : t('editor.retentionHelp')}>
            <InputNumber min={0} disabled={base} prefix={unit} suffix={unitSuffix} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item
            name={path('multiplier')}
            label={t('editor.multiplier')}
            rules={[{ pattern: /^(0|[1-9]\d{0,2})(\.\d{1,4})?$/, message: t('editor.multiplierPattern') }]}
          >
            <Input suffix="×" maxLength={9} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item name={path('welcome_points')} label={t('editor.welcome')}>
            <InputNumber min={0} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={8}>
          <Form.Item name={path('birthday_points')} label={t('editor.birthday')}>
            <InputNumber min={0} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
      </Row>
      <GrantList index={index} />
      <PerkList index={index} />
    </>
  );
}

function GrantList({ index }: { index: number }) {
  const { t } = useTranslation('tiers');
  const form = Form.useFormInstance<LadderForm>();
  return (
    <Form.List name={[index, 'grants']}>
      {(fields, { add, remove }) => (
        <div>
          <Typography.Text strong>{t('editor.grants')}</Typography.Text>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
            {t('editor.grantsHelp')}
          </Typography.Paragraph>
          {fields.map((field) => {
            const kind = form.getFieldValue(['tiers', index, 'grants', field.name, 'kind']) as string | undefined;
            return (
              <Space key={field.key} wrap align="start" style={{ marginBottom: 8 }}>
                <Form.Item name={[field.name, 'key']} rules={[{ required: true, pattern: /^[a-z][a-z0-9_]{0,31}$/, message: t('editor.codePattern') }]} noStyle>
                  <Input aria-label={t('editor.grantKey')} placeholder={t('editor.grantKey')} style={{ width: 120 }} />
                </Form.Item>
                <Form.Item name={[field.name, 'name_zh']} rules={[{ required: true, whitespace: true, message: t('editor.required') }]} noStyle>
                  <Input aria-label={t('editor.grantNameZh')} placeholder={t('editor.grantNameZh')} style={{ width: 120 }} />
                </Form.Item>
                <Form.Item name={[field.name, 'name_en']} rules={[{ required: true, whitespace: true, message: t('editor.required') }]} noStyle>
                  <Input aria-label={t('editor.grantNameEn')} placeholder={t('editor.grantNameEn')} style={{ width: 120 }} />
                </Form.Item>
                <Form.Item name={[field.name, 'every']} noStyle>
                  <Select
                    aria-label={t('editor.grantEvery')}
                    style={{ width: 100 }}
                    options={(['month', 'quarter', 'year'] as const).map((e) => ({ value: e, label: t(`summary.every.${e}`) }))}
                  />
                </Form.Item>
                <Form.Item name={[field.name, 'kind']} noStyle>
                  <Select
                    aria-label={t('editor.grantKind')}
                    style={{ width: 100 }}
                    options={[
                      { value: 'points', label: t('editor.grantPoints') },
                      { value: 'coupon', label: t('editor.grantCoupon') },
                    ]}
                  />
                </Form.Item>
                {kind === 'coupon' ? (
                  <Form.Item
                    name={[field.name, 'coupon_prefix']}
                    rules={[{ required: true, pattern: /^[A-Z0-9][A-Z0-9-]{0,15}$/, message: t('editor.prefixPattern') }]}
                    noStyle
                  >
                    <Input aria-label={t('editor.couponPrefix')} placeholder={t('editor.couponPrefix')} style={{ width: 130 }} />
                  </Form.Item>
                ) : (
                  <Form.Item name={[field.name, 'points']} rules={[{ required: true, message: t('editor.required') }]} noStyle>
                    <InputNumber aria-label={t('editor.grantPoints')} placeholder={t('editor.grantPoints')} min={1} precision={0} style={{ width: 110 }} />
                  </Form.Item>
                )}
                <Button icon={<DeleteOutlined />} aria-label={t('editor.removeGrant')} onClick={() => remove(field.name)} />
              </Space>
            );
          })}
          {fields.length < 5 ? (
            <Button
              size="small"
              type="dashed"
              icon={<PlusOutlined />}
              onClick={() => add({ key: `grant_${fields.length + 1}`, name_zh: '', name_en: '', every: 'month', kind: 'coupon', coupon_prefix: '' })}
            >
              {t('editor.addGrant')}
            </Button>
          ) : null}
        </div>
      )}
    </Form.List>
  );
}

function PerkList({ index }: { index: number }) {
  const { t } = useTranslation('tiers');
  return (
    <Form.List name={[index, 'perks']}>
      {(fields, { add, remove }) => (
        <div style={{ marginTop: 12 }}>
          <Typography.Text strong>{t('editor.perks')}</Typography.Text>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
            {t('editor.perksHelp')}
          </Typography.Paragraph>
          {fields.map((field) => (
            <Space key={field.key} wrap style={{ marginBottom: 8 }}>
              <Form.Item name={[field.name, 'zh']} rules={[{ required: true, whitespace: true, message: t('editor.required') }]} noStyle>
                <Input aria-label={t('editor.perkZh')} placeholder={t('editor.perkZh')} style={{ width: 220 }} maxLength={120} />
              </Form.Item>
              <Form.Item name={[field.name, 'en']} rules={[{ required: true, whitespace: true, message: t('editor.required') }]} noStyle>
                <Input aria-label={t('editor.perkEn')} placeholder={t('editor.perkEn')} style={{ width: 220 }} maxLength={120} />
              </Form.Item>
              <Button icon={<DeleteOutlined />} aria-label={t('editor.removePerk')} onClick={() => remove(field.name)} />
            </Space>
          ))}
          {fields.length < 10 ? (
            <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => add({ zh: '', en: '' })}>
              {t('editor.addPerk')}
            </Button>
          ) : null}
        </div>
      )}
    </Form.List>
  );
}

/** ¥, $: the currency's symbol in the viewer's locale. */
function currencySymbol(currency: string, locale: Locale): string {
  return (
    new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }).formatToParts(0).find((p) => p.type === 'currency')
      ?.value ?? currency
  );
}
