// A rule's editor: /rules/new creates it, /rules/:ruleId revises it (a new version with an
// effective date; future versions are announced). Sections: basics, condition (builder or raw
// JSONLogic), effect, multipliers, caps, schedule, targeting, publishing; a preview of the draft
// beside it; the version history below.
import { ArrowLeftOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Col,
  ConfigProvider,
  DatePicker,
  Form,
  Input,
  InputNumber,
  Popconfirm,
  Radio,
  Row,
  Select,
  Space,
  Switch,
  Table,
  Tabs,
  Tag,
  TimePicker,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { ApiError, newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatDateTime, type Locale, minorUnitsOf, pointNameOf } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { describeError, ErrorAlert, NotFound, PageLoading } from '../../layout/feedback.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { type Program, useProgram } from '../../layout/shell.tsx';
import { ConditionBuilder, type FieldOption } from './condition-builder/condition-builder.tsx';
import { type ConditionGroup, fromJsonLogic, incompleteRows, toJsonLogic, type Unsupported } from './condition-builder/logic.ts';
import {
  defaultDefinition,
  FormValueError,
  type FormValues,
  fieldOf,
  fromFormValues,
  instantOf,
  MULTIPLIER_TYPES,
  PERIODS,
  toFormValues,
} from './definition.ts';
import { eventTypeLabel, useEventTypes } from './list-page.tsx';
import { PreviewPanel } from './preview-panel.tsx';
import { dataFields } from './sample.ts';
import { ruleSummary, type SummaryContext } from './summary.ts';
import { DANGER_THEME, TAG_COLORS } from './tag-colors.ts';
import type { EventType, Rule, RuleDefinition, RuleVersion } from './types.ts';

export default function RuleEditorPage() {
  return (
    <ConfigProvider theme={DANGER_THEME}>
      <RuleEditorPageContent />
    </ConfigProvider>
  );
}

function RuleEditorPageContent() {
  const { ruleId } = useParams();
  const program = useProgram();
  const eventTypes = useEventTypes(program.id);
  const rule = useQuery({
    queryKey: ['rule', ruleId],
    enabled: ruleId !== undefined,
    queryFn: () => unwrap(api.GET('/v1/rules/{ruleId}', { params: { path: { ruleId: ruleId! } } })),
  });
  if (eventTypes.isPending || (ruleId && rule.isPending)) return <PageLoading />;
  if (eventTypes.error) return <ErrorAlert error={eventTypes.error} onRetry={() => eventTypes.refetch()} />;
  if (rule.error) {
    if (rule.error instanceof ApiError && rule.error.status === 404) return <NotFound />;
    return <ErrorAlert error={rule.error} onRetry={() => rule.refetch()} />;
  }
  if (rule.data && rule.data.program_id !== program.id) return <NotFound />;
  return <Editor key={`${ruleId ?? 'new'}-${rule.data?.versions.length ?? 0}`} program={program} rule={rule.data} eventTypes={eventTypes.data.data} />;
}

/** ¥, $, HK$: the currency's symbol in the viewer's locale. */
function currencySymbol(currency: string, locale: Locale): string {
  return (
    new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }).formatToParts(0).find((p) => p.type === 'currency')
      ?.value ?? currency
  );
}

/** The definition to edit: the latest version (a future one included, so an announced change is edited, not lost). */
function baseDefinition(rule: Rule | undefined): RuleDefinition {
  return rule?.versions[0]?.definition ?? defaultDefinition();
}

type ConditionState = { mode: 'builder'; tree: ConditionGroup } | { mode: 'raw'; text: string; unsupported?: Unsupported };

function initialCondition(def: RuleDefinition): ConditionState {
  const parsed = fromJsonLogic(def.condition);
  if (parsed.ok) return { mode: 'builder', tree: parsed.tree };
  return { mode: 'raw', text: JSON.stringify(def.condition, null, 2), unsupported: parsed.error };
}

function Editor({ program, rule, eventTypes }: { program: Program; rule?: Rule; eventTypes: EventType[] }) {
  const { t, i18n } = useTranslation('rules');
  const locale = i18n.language as Locale;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const { can } = useSession();
  const canWrite = can(program.id, 'rules.write') && rule?.status !== 'archived';
  const [form] = Form.useForm<FormValues & { publish: 'now' | 'later'; effective_from?: Dayjs; backdate?: boolean }>();
  const base = useMemo(() => baseDefinition(rule), [rule]);
  const initialValues = useMemo(() => ({ ...toFormValues(base, program.currency, program.time_zone), publish: 'now' as const }), [base, program]);
  const [condition, setCondition] = useState<ConditionState>(() => initialCondition(base));
  const [conditionError, setConditionError] = useState<string | undefined>();
  const [formError, setFormError] = useState<unknown>();
  const submission = useRef<{ payload: string; key: string } | undefined>(undefined);
  const values = Form.useWatch([], form) as (FormValues & { publish?: string }) | undefined;
  const triggers: string[] = Form.useWatch('triggers', form) ?? base.triggers;
  const effectType = Form.useWatch(['effect', 'type'], form) ?? base.effect.type;
  const publish = Form.useWatch('publish', form) ?? 'now';
  const effectiveFrom: Dayjs | undefined = Form.useWatch('effective_from', form);
  const minor = minorUnitsOf(program.currency);
  const ctx: SummaryContext = {
    t: (key, options) => String(t(key, options as never)),
    locale,
    currency: program.currency,
    pointName: pointNameOf(program, locale),
    timeZone: program.time_zone,
  };

  const fields = useMemo<FieldOption[]>(() => {
    const out = new Map<string, FieldOption>();
    for (const type of triggers) {
      for (const f of dataFields(eventTypes.find((e) => e.type === type)?.schema)) {
        if (!out.has(f.path))
          out.set(f.path, {
            path: f.path,
            type: f.type,
            label: f.name === 'amount' ? t('fields.amount') : f.name,
            money: f.type === 'number' && (f.name === 'amount' || /minor units/i.test(f.description ?? '')),
          });
      }
    }
    for (const [path, type] of [
      ['member.tier', 'string'],
      ['member.tags', 'array'],
      ['member.birthday', 'string'],
      ['event.type', 'string'],
      ['event.occurred_at', 'string'],
    ] as const) {
      out.set(path, { path, type, label: t(`fields.${path.replace('.', '_')}`) });
    }
    return [...out.values()];
  }, [triggers, eventTypes, t]);

  /** The condition as JSONLogic, or an error message (raw JSON that does not parse, rows without a field). */
  const conditionLogic = (): { ok: true; logic: unknown } | { ok: false; error: string } => {
    if (condition.mode === 'raw') {
      if (!condition.text.trim()) return { ok: true, logic: undefined };
      try {
        return { ok: true, logic: JSON.parse(condition.text) };
      } catch {
        return { ok: false, error: t('condition.invalidJson') };
      }
    }
    if (incompleteRows(condition.tree) > 0) return { ok: false, error: t('condition.incomplete') };
    return { ok: true, logic: toJsonLogic(condition.tree) };
  };

  /** The definition the form makes now, or null with the problems shown next to their fields. */
  const currentDefinition = (): RuleDefinition | null => {
    const logic = conditionLogic();
    if (!logic.ok) {
      setConditionError(logic.error);
      return null;
    }
    setConditionError(undefined);
    try {
      return fromFormValues(form.getFieldsValue(true), logic.logic, program.currency, program.time_zone);
    } catch (err) {
      if (err instanceof FormValueError) {
        form.setFields([{ name: err.field as never, errors: [t('condition.invalidJson')] }]);
        return null;
      }
      throw err;
    }
  };

  let liveSummary = '';
  try {
    const logic = conditionLogic();
    if (values?.effect)
      liveSummary = ruleSummary(fromFormValues({ ...initialValues, ...values }, logic.ok ? logic.logic : undefined, program.currency, program.time_zone), ctx);
  } catch {
    liveSummary = '';
  }

  /** Puts the API's field errors next to their fields; what has no field is shown above the save button. */
  const showApiErrors = (error: unknown) => {
    setFormError(error);
    if (!(error instanceof ApiError)) return;
    const byField = new Map<string, { name: (string | number)[]; errors: string[] }>();
    for (const e of error.problem.errors ?? []) {
      const target = fieldOf(e.path);
      if (target.kind === 'condition') setConditionError(`${e.path} ${e.message}`);
      else if (target.kind === 'form') {
        const key = JSON.stringify(target.name);
        const entry = byField.get(key) ?? { name: target.name, errors: [] };
        entry.errors.push(fieldMessage(e, t));
        byField.set(key, entry);
      }
    }
    if (byField.size) form.setFields([...byField.values()] as never);
  };

  const save = useMutation({
    mutationFn: async (): Promise<Rule> => {
      await form.validateFields();
      const definition = currentDefinition();
      if (!definition) throw new Error(t('editor.fixErrors'));
      const v = form.getFieldsValue(true);
      const body: { definition: RuleDefinition; effective_from?: string; backdate?: boolean } = { definition };
      if (v.publish === 'later' && v.effective_from) {
        body.effective_from = instantOf(v.effective_from, program.time_zone);
        if (v.backdate) body.backdate = true;
      }
      const payload = JSON.stringify(body);
      if (submission.current?.payload !== payload) submission.current = { payload, key: newIdempotencyKey() };
      const header = { 'idempotency-key': submission.current.key };
      return rule
        ? unwrap(api.POST('/v1/rules/{ruleId}/versions', { params: { path: { ruleId: rule.id }, header }, body }))
        : unwrap(api.POST('/v1/programs/{programId}/rules', { params: { path: { programId: program.id }, header }, body }));
    },
    onSuccess: (saved) => {
      setFormError(undefined);
      submission.current = undefined;
      queryClient.setQueryData(['rule', saved.id], saved);
      queryClient.invalidateQueries({ queryKey: ['rules', program.id] });
      const future = saved.versions[0] && Date.parse(saved.versions[0].effective_from) > Date.now();
      message.success(rule ? (future ? t('editor.announcedSaved') : t('editor.revised')) : t('editor.created'));
      if (!rule) navigate(`../${saved.id}`, { replace: true, relative: 'path' });
    },
    onError: (error) => {
      // a form validation failure has its messages on the fields already
      if (error && typeof error === 'object' && 'errorFields' in error) return;
      showApiErrors(error);
    },
  });

  const switchCondition = (mode: 'builder' | 'raw') => {
    if (mode === condition.mode) return;
    if (mode === 'raw') {
      const logic = condition.mode === 'builder' ? toJsonLogic(condition.tree) : undefined;
      setCondition({ mode: 'raw', text: logic === undefined ? '' : JSON.stringify(logic, null, 2) });
      setConditionError(undefined);
      return;
    }
    if (condition.mode !== 'raw') return;
    let logic: unknown;
    try {
      logic = condition.text.trim() ? JSON.parse(condition.text) : undefined;
    } catch {
      setConditionError(t('condition.invalidJson'));
      return;
    }
    const parsed = fromJsonLogic(logic);
    if (!parsed.ok) {
      setCondition({ ...condition, unsupported: parsed.error });
      return;
    }
    setConditionError(undefined);
    setCondition({ mode: 'builder', tree: parsed.tree });
  };

  const effectiveInPast = publish === 'later' && effectiveFrom !== undefined && effectiveFrom !== null && effectiveFrom.isBefore(dayjs());
  const title = rule ? (rule.current?.definition.name ?? base.name) : t('editor.newTitle');
  const latest = rule?.versions[0];

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <div>
        <Button type="link" icon={<ArrowLeftOutlined />} onClick={() => navigate('..', { relative: 'path' })} style={{ paddingLeft: 0 }}>
          {t('editor.back')}
        </Button>
        <Typography.Title level={1} style={{ fontSize: 24, marginBottom: 4 }}>
          {title}
        </Typography.Title>
        <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
          {rule ? t('editor.editDescription') : t('editor.newDescription')}
        </Typography.Paragraph>
        {rule?.status === 'archived' ? <Alert type="info" showIcon title={t('editor.archivedNote')} style={{ marginTop: 8 }} /> : null}
        {latest && Date.parse(latest.effective_from) > Date.now() ? (
          <Alert
            type="info"
            showIcon
            style={{ marginTop: 8 }}
            title={t('editor.editingAnnounced', { version: latest.version, date: formatDateTime(latest.effective_from, program.time_zone, locale) })}
          />
        ) : null}
      </div>
      <Row gutter={[24, 24]}>
        <Col xs={24} xl={15}>
          <Form form={form} layout="vertical" initialValues={initialValues} disabled={!canWrite} data-testid="rule-form" scrollToFirstError>
            <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
              <Card
                title={
                  <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                    {t('sections.basics')}
                  </Typography.Title>
                }
                size="small"
              >
                <Form.Item name="name" label={t('editor.name')} rules={[{ required: true, message: t('editor.nameRequired') }, { max: 120 }]}>
                  <Input data-testid="rule-name" placeholder={t('editor.namePlaceholder')} />
                </Form.Item>
                <Form.Item
                  name="triggers"
                  label={t('editor.triggers')}
                  rules={[{ required: true, message: t('editor.triggersRequired') }]}
                  extra={t('editor.triggersHelp')}
                >
                  <Select mode="multiple" options={eventTypes.map((e) => ({ value: e.type, label: eventTypeLabel(e.type, t) }))} />
                </Form.Item>
                <Form.Item name="description" label={t('editor.description')}>
                  <Input.TextArea rows={2} maxLength={1000} />
                </Form.Item>
                <Space wrap size="large">
                  <Form.Item name="priority" label={t('editor.priority')} extra={t('editor.priorityHelp')}>
                    <InputNumber min={-1000} max={1000} precision={0} />
                  </Form.Item>
                  <Form.Item name="exclusive" label={t('editor.exclusive')} valuePropName="checked" extra={t('editor.exclusiveHelp')}>
                    <Switch />
                  </Form.Item>
                </Space>
              </Card>

              <Card
                title={
                  <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                    {t('sections.condition')}
                  </Typography.Title>
                }
                size="small"
              >
                <Typography.Paragraph type="secondary">{t('condition.help')}</Typography.Paragraph>
                <Tabs
                  activeKey={condition.mode}
                  onChange={(k) => switchCondition(k as 'builder' | 'raw')}
                  items={[
                    {
                      key: 'builder',
                      label: t('condition.builderTab'),
                      children:
                        condition.mode === 'builder' ? (
                          <ConditionBuilder
                            value={condition.tree}
                            onChange={(tree) => setCondition({ mode: 'builder', tree })}
                            fields={fields}
                            disabled={!canWrite}
                            money={{ minorUnits: minor, symbol: currencySymbol(program.currency, locale) }}
                          />
                        ) : null,
                    },
                    {
                      key: 'raw',
                      label: t('condition.rawTab'),
                      children:
                        condition.mode === 'raw' ? (
                          <Space orientation="vertical" style={{ width: '100%' }}>
                            {condition.unsupported ? (
                              <Alert
                                type="warning"
                                showIcon
                                title={t('condition.cannotShow')}
                                description={t(`condition.unsupported.${condition.unsupported.code}`, {
                                  operator: condition.unsupported.operator ?? '',
                                  path: condition.unsupported.path || '/',
                                })}
                              />
                            ) : null}
                            <label htmlFor="rule-raw-jsonlogic">
                              <Typography.Text type="secondary">{t('condition.rawLabel')}</Typography.Text>
                            </label>
                            <Input.TextArea
                              id="rule-raw-jsonlogic"
                              data-testid="rule-raw-jsonlogic"
                              rows={10}
                              style={{ fontFamily: 'monospace' }}
                              disabled={!canWrite}
                              value={condition.text}
                              status={conditionError ? 'error' : undefined}
                              placeholder='{"and": [{">=": [{"var": "event.data.amount"}, 10000]}]}'
                              onChange={(e) => {
                                setCondition({ mode: 'raw', text: e.target.value, unsupported: condition.unsupported });
                                if (conditionError) setConditionError(undefined);
                              }}
                            />
                          </Space>
                        ) : null,
                    },
                  ]}
                />
                {conditionError ? <Alert type="error" showIcon title={conditionError} data-testid="condition-error" /> : null}
              </Card>

              <Card
                title={
                  <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                    {t('sections.effect')}
                  </Typography.Title>
                }
                size="small"
              >
                <Form.Item name={['effect', 'type']} label={t('effect.type')}>
                  <Radio.Group
                    optionType="button"
                    options={[
                      { value: 'rate', label: t('effect.rate') },
                      { value: 'fixed', label: t('effect.fixed') },
                    ]}
                  />
                </Form.Item>
                <Space wrap size="large" align="start">
                  {effectType === 'rate' ? (
                    <Form.Item
                      name={['effect', 'per_amount_major']}
                      label={t('effect.perAmount')}
                      rules={[{ required: true, message: t('effect.perAmountRequired') }]}
                    >
                      <InputNumber min={1 / minor} step={1} prefix={program.currency} style={{ width: 160 }} />
                    </Form.Item>
                  ) : null}
                  <Form.Item
                    name={['effect', 'points']}
                    label={t(effectType === 'rate' ? 'effect.pointsPer' : 'effect.points', { pointName: pointNameOf(program, locale) })}
                    rules={[{ required: true, message: t('effect.pointsRequired') }]}
                  >
                    <InputNumber min={1} max={1_000_000} precision={0} style={{ width: 160 }} />
                  </Form.Item>
                  {effectType === 'rate' ? (
                    <>
                      <Form.Item name={['effect', 'rounding']} label={t('effect.rounding')}>
                        <Select
                          style={{ width: 160 }}
                          options={(['floor', 'half_up', 'ceil'] as const).map((r) => ({ value: r, label: t(`effect.roundings.${r}`) }))}
                        />
                      </Form.Item>
                      <Form.Item name={['effect', 'basis']} label={t('effect.basis')}>
                        <Select
                          allowClear
                          style={{ width: 180 }}
                          placeholder={t('effect.bases.default')}
                          options={(['order', 'items'] as const).map((b) => ({ value: b, label: t(`effect.bases.${b}`) }))}
                        />
                      </Form.Item>
                    </>
                  ) : null}
                </Space>
                <Space wrap size="large">
                  <Form.Item name="min_order_amount_major" label={t('effect.minOrder')} extra={t('effect.minOrderHelp')}>
                    <InputNumber min={0} prefix={program.currency} style={{ width: 160 }} />
                  </Form.Item>
                  <Form.Item name="pending_days" label={t('effect.pendingDays')} extra={t('effect.pendingDaysHelp', { days: program.pending_days })}>
                    <InputNumber min={0} max={3650} precision={0} style={{ width: 160 }} />
                  </Form.Item>
                </Space>
                {liveSummary ? <Alert type="info" showIcon title={t('effect.summary')} description={liveSummary} data-testid="rule-summary" /> : null}
              </Card>

              <Card
                title={
                  <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                    {t('sections.multipliers')}
                  </Typography.Title>
                }
                size="small"
              >
                <Typography.Paragraph type="secondary">{t('multipliers.help')}</Typography.Paragraph>
                <MultipliersEditor program={program} disabled={!canWrite} />
                <Form.Item name="stacking" label={t('multipliers.stacking')} style={{ marginTop: 16 }}>
                  <Radio.Group options={(['multiply', 'add', 'highest'] as const).map((s) => ({ value: s, label: t(`multipliers.stackings.${s}`) }))} />
                </Form.Item>
                {effectType === 'rate' ? <ItemMultipliersEditor disabled={!canWrite} /> : null}
              </Card>

              <Card
                title={
                  <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                    {t('sections.caps')}
                  </Typography.Title>
                }
                size="small"
              >
                <Space wrap size="large" align="start">
                  <Form.Item name={['caps', 'per_event']} label={t('caps.perEvent')}>
                    <InputNumber min={1} precision={0} style={{ width: 150 }} />
                  </Form.Item>
                  {PERIODS.map((p) => (
                    <Form.Item key={p} name={['caps', 'per_member', p]} label={t(`caps.perMember.${p}`)}>
                      <InputNumber min={1} precision={0} style={{ width: 150 }} />
                    </Form.Item>
                  ))}
                </Space>
                <Space wrap size="large" align="start">
                  <Form.Item name={['caps', 'budget_points']} label={t('caps.budget')} extra={t('caps.budgetHelp')}>
                    <InputNumber min={1} precision={0} style={{ width: 150 }} />
                  </Form.Item>
                  <Form.Item name={['caps', 'budget_period']} label={t('caps.budgetPeriod')}>
                    <Select
                      style={{ width: 130 }}
                      options={(['day', 'week', 'month', 'total'] as const).map((p) => ({ value: p, label: t(`periods.${p}`) }))}
                    />
                  </Form.Item>
                  <Form.Item name="frequency_max" label={t('caps.frequency')} extra={t('caps.frequencyHelp')}>
                    <InputNumber min={1} max={10_000} precision={0} style={{ width: 150 }} />
                  </Form.Item>
                  <Form.Item name="frequency_per" label={t('caps.frequencyPer')}>
                    <Select style={{ width: 130 }} options={PERIODS.map((p) => ({ value: p, label: t(`periods.${p}`) }))} />
                  </Form.Item>
                </Space>
              </Card>

              <Card
                title={
                  <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                    {t('sections.schedule')}
                  </Typography.Title>
                }
                size="small"
              >
                <Typography.Paragraph type="secondary">{t('schedule.help', { timeZone: program.time_zone })}</Typography.Paragraph>
                <Form.Item name={['schedule', 'range']} label={t('schedule.range')}>
                  <DatePicker.RangePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" allowEmpty={[false, false]} />
                </Form.Item>
                <Form.Item name={['schedule', 'days_of_week']} label={t('schedule.daysOfWeek')}>
                  <Checkbox.Group options={[1, 2, 3, 4, 5, 6, 7].map((d) => ({ value: d, label: t(`weekday.${d}`) }))} />
                </Form.Item>
                <Form.Item name={['schedule', 'hours']} label={t('schedule.hours')}>
                  <TimePicker.RangePicker format="HH:mm" />
                </Form.Item>
              </Card>

              <Card
                title={
                  <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                    {t('sections.targeting')}
                  </Typography.Title>
                }
                size="small"
              >
                <Typography.Paragraph type="secondary">{t('targeting.help')}</Typography.Paragraph>
                {(['tiers', 'tags_any', 'tags_all', 'exclude_tags'] as const).map((k) => (
                  <Form.Item key={k} name={['targeting', k]} label={t(`targeting.${k}`)}>
                    <Select mode="tags" tokenSeparators={[',', '，']} open={false} suffixIcon={null} placeholder={t('targeting.placeholder')} />
                  </Form.Item>
                ))}
              </Card>

              <Card
                title={
                  <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
                    {t('sections.publish')}
                  </Typography.Title>
                }
                size="small"
              >
                <Form.Item name="publish" label={t('publish.when')}>
                  <Radio.Group
                    options={[
                      { value: 'now', label: t('publish.now') },
                      { value: 'later', label: t('publish.later') },
                    ]}
                  />
                </Form.Item>
                {publish === 'later' ? (
                  <Form.Item
                    name="effective_from"
                    label={t('publish.effectiveFrom', { timeZone: program.time_zone })}
                    rules={[{ required: true, message: t('publish.effectiveFromRequired') }]}
                    extra={t('publish.effectiveFromHelp')}
                  >
                    <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" />
                  </Form.Item>
                ) : null}
                {effectiveInPast ? (
                  <Form.Item name="backdate" valuePropName="checked" extra={t('publish.backdateHelp')}>
                    <Checkbox>{t('publish.backdate')}</Checkbox>
                  </Form.Item>
                ) : null}
                {formError ? (
                  <div style={{ marginBottom: 16 }}>
                    <ErrorAlert error={formError} />
                  </div>
                ) : null}
                {canWrite ? (
                  <Button type="primary" data-testid="rule-save" loading={save.isPending} onClick={() => save.mutate()}>
                    {rule ? t('editor.saveVersion') : t('editor.create')}
                  </Button>
                ) : (
                  <Typography.Text type="secondary">{t('editor.readOnly')}</Typography.Text>
                )}
              </Card>
            </Space>
          </Form>
        </Col>
        <Col xs={24} xl={9}>
          <div style={{ position: 'sticky', top: 16 }}>
            <PreviewPanel
              program={program}
              ruleId={rule?.id}
              triggers={triggers}
              eventTypes={eventTypes}
              draft={currentDefinition}
              onFieldErrors={(error) => {
                showApiErrors(error);
                setFormError(undefined);
              }}
            />
          </div>
        </Col>
      </Row>
      {rule ? <Versions rule={rule} program={program} canWrite={can(program.id, 'rules.write')} /> : null}
    </Space>
  );
}

function MultipliersEditor({ program, disabled }: { program: Program; disabled: boolean }) {
  const { t } = useTranslation('rules');
  const form = Form.useFormInstance();
  return (
    <Form.List name="multipliers">
      {(items, { add, remove }) => (
        <Space orientation="vertical" style={{ width: '100%' }}>
          {items.map((item) => (
            <Card
              key={item.key}
              size="small"
              type="inner"
              extra={disabled ? null : <Button aria-label={t('multipliers.remove')} icon={<DeleteOutlined />} onClick={() => remove(item.name)} />}
              title={
                <Form.Item name={[item.name, 'type']} noStyle>
                  <Select
                    aria-label={t('multipliers.type')}
                    style={{ width: 200 }}
                    options={MULTIPLIER_TYPES.map((m) => ({ value: m, label: t(`multipliers.types.${m}`) }))}
                  />
                </Form.Item>
              }
            >
              <Form.Item noStyle shouldUpdate>
                {() => {
                  const type = form.getFieldValue(['multipliers', item.name, 'type']);
                  if (type === 'tier' || type === 'channel') {
                    return (
                      <Form.List name={[item.name, 'entries']}>
                        {(entries, ops) => (
                          <Space orientation="vertical">
                            {entries.map((entry) => (
                              <Space key={entry.key} wrap>
                                <Form.Item
                                  name={[entry.name, 'key']}
                                  label={t(type === 'tier' ? 'multipliers.tierCode' : 'multipliers.channelCode')}
                                  rules={[{ required: true }]}
                                >
                                  <Input style={{ width: 140 }} placeholder={type === 'tier' ? 'gold' : 'store'} />
                                </Form.Item>
                                <Form.Item
                                  name={[entry.name, 'value']}
                                  label={t('multipliers.value')}
                                  rules={[{ required: true, pattern: /^\d{1,4}(\.\d{1,4})?$/, message: t('multipliers.decimal') }]}
                                >
                                  <Input style={{ width: 100 }} placeholder="1.5" />
                                </Form.Item>
                                <Form.Item name={[entry.name, 'label']} label={t('multipliers.label')}>
                                  <Input style={{ width: 140 }} placeholder={type === 'tier' ? '金卡' : '门店'} />
                                </Form.Item>
                                {disabled ? null : (
                                  <Button aria-label={t('multipliers.removeEntry')} icon={<DeleteOutlined />} onClick={() => ops.remove(entry.name)} />
                                )}
                              </Space>
                            ))}
                            {disabled ? null : (
                              <Button size="small" icon={<PlusOutlined />} onClick={() => ops.add({ value: '1' })}>
                                {t(type === 'tier' ? 'multipliers.addTier' : 'multipliers.addChannel')}
                              </Button>
                            )}
                          </Space>
                        )}
                      </Form.List>
                    );
                  }
                  return (
                    <Space wrap align="start">
                      <Form.Item
                        name={[item.name, 'multiplier']}
                        label={t('multipliers.value')}
                        rules={[{ required: true, pattern: /^\d{1,4}(\.\d{1,4})?$/, message: t('multipliers.decimal') }]}
                      >
                        <Input style={{ width: 100 }} placeholder="2" />
                      </Form.Item>
                      {type === 'date_window' ? (
                        <Form.Item name={[item.name, 'range']} label={t('multipliers.window', { timeZone: program.time_zone })} rules={[{ required: true }]}>
                          <DatePicker.RangePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" />
                        </Form.Item>
                      ) : null}
                      {type === 'weekday' ? (
                        <Form.Item name={[item.name, 'days']} label={t('multipliers.weekdays')} rules={[{ required: true }]}>
                          <Checkbox.Group options={[1, 2, 3, 4, 5, 6, 7].map((d) => ({ value: d, label: t(`weekday.${d}`) }))} />
                        </Form.Item>
                      ) : null}
                      {type === 'monthly_day' ? (
                        <Form.Item name={[item.name, 'days']} label={t('multipliers.monthDays')} rules={[{ required: true }]}>
                          <Select
                            mode="multiple"
                            style={{ minWidth: 200 }}
                            options={Array.from({ length: 31 }, (_, i) => ({ value: i + 1, label: String(i + 1) }))}
                          />
                        </Form.Item>
                      ) : null}
                      {type === 'condition' ? (
                        <Form.Item
                          name={[item.name, 'condition_text']}
                          label={t('multipliers.condition')}
                          rules={[
                            { required: true },
                            {
                              validator: async (_, value: string) => {
                                JSON.parse(value);
                              },
                              message: t('condition.invalidJson'),
                            },
                          ]}
                        >
                          <Input.TextArea
                            rows={3}
                            style={{ fontFamily: 'monospace', width: 360 }}
                            placeholder='{"==": [{"var": "event.data.channel"}, "app"]}'
                          />
                        </Form.Item>
                      ) : null}
                      <Form.Item name={[item.name, 'label']} label={t('multipliers.label')}>
                        <Input style={{ width: 140 }} placeholder={t('multipliers.labelPlaceholder')} />
                      </Form.Item>
                    </Space>
                  );
                }}
              </Form.Item>
            </Card>
          ))}
          {disabled ? null : (
            <Button icon={<PlusOutlined />} onClick={() => add({ type: 'tier', entries: [{ key: 'gold', value: '1.5', label: '' }] })}>
              {t('multipliers.add')}
            </Button>
          )}
        </Space>
      )}
    </Form.List>
  );
}

function ItemMultipliersEditor({ disabled }: { disabled: boolean }) {
  const { t } = useTranslation('rules');
  return (
    <>
      <Typography.Title level={3} style={{ fontSize: 14 }}>
        {t('items.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('items.help')}</Typography.Paragraph>
      <Form.List name="item_multipliers">
        {(items, { add, remove }) => (
          <Space orientation="vertical" style={{ width: '100%' }}>
            {items.map((item) => (
              <Space key={item.key} wrap align="start">
                <Form.Item name={[item.name, 'categories']} label={t('items.categories')}>
                  <Select mode="tags" open={false} suffixIcon={null} style={{ minWidth: 180 }} tokenSeparators={[',', '，']} />
                </Form.Item>
                <Form.Item name={[item.name, 'skus']} label={t('items.skus')}>
                  <Select mode="tags" open={false} suffixIcon={null} style={{ minWidth: 180 }} tokenSeparators={[',', '，']} />
                </Form.Item>
                <Form.Item
                  name={[item.name, 'multiplier']}
                  label={t('multipliers.value')}
                  rules={[{ required: true, pattern: /^\d{1,4}(\.\d{1,4})?$/, message: t('multipliers.decimal') }]}
                >
                  <Input style={{ width: 100 }} placeholder="2" />
                </Form.Item>
                <Form.Item name={[item.name, 'label']} label={t('multipliers.label')}>
                  <Input style={{ width: 140 }} placeholder={t('items.labelPlaceholder')} />
                </Form.Item>
                {disabled ? null : (
                  <Button aria-label={t('items.remove')} icon={<DeleteOutlined />} onClick={() => remove(item.name)} style={{ marginTop: 30 }} />
                )}
              </Space>
            ))}
            {disabled ? null : (
              <Button icon={<PlusOutlined />} onClick={() => add({ multiplier: '2' })}>
                {t('items.add')}
              </Button>
            )}
          </Space>
        )}
      </Form.List>
    </>
  );
}

/** The version history: effective dates, in force / announced / superseded, who published it; archiving. */
function Versions({ rule, program, canWrite }: { rule: Rule; program: Program; canWrite: boolean }) {
  const { t, i18n } = useTranslation('rules');
  const locale = i18n.language as Locale;
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const key = useRef(newIdempotencyKey());
  const [shown, setShown] = useState<RuleVersion | undefined>();
  const archive = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/v1/rules/{ruleId}/archive', { params: { path: { ruleId: rule.id }, header: { 'idempotency-key': key.current } }, body: {} })),
    onSuccess: (saved) => {
      queryClient.setQueryData(['rule', rule.id], saved);
      queryClient.invalidateQueries({ queryKey: ['rules', program.id] });
      message.success(t('versions.archived'));
    },
    onError: (error) => message.error(describeError(error, t).message),
  });
  const when = (iso: string | null) => (iso ? formatDateTime(iso, program.time_zone, locale) : t('openEnded'));
  const now = Date.now();
  return (
    <Card
      title={
        <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
          {t('versions.title')}
        </Typography.Title>
      }
      size="small"
      extra={
        canWrite && rule.status === 'active' ? (
          <Popconfirm title={t('versions.archiveConfirm')} okText={t('versions.archive')} cancelText={t('common:cancel')} onConfirm={() => archive.mutate()}>
            <Button danger loading={archive.isPending}>
              {t('versions.archive')}
            </Button>
          </Popconfirm>
        ) : null
      }
    >
      <Table<RuleVersion>
        data-testid="rule-versions"
        rowKey="version"
        size="small"
        pagination={false}
        dataSource={rule.versions}
        expandable={{
          expandedRowKeys: shown ? [shown.version] : [],
          onExpand: (open, v) => setShown(open ? v : undefined),
          expandedRowRender: (v) => <pre style={{ margin: 0, whiteSpace: 'pre-wrap', fontSize: 12 }}>{JSON.stringify(v.definition, null, 2)}</pre>,
        }}
        columns={[
          { title: t('versions.version'), dataIndex: 'version', render: (v: number) => `v${v}` },
          { title: t('versions.name'), key: 'name', render: (_, v) => v.definition.name },
          { title: t('versions.from'), key: 'from', render: (_, v) => when(v.effective_from) },
          { title: t('versions.until'), key: 'until', render: (_, v) => when(v.effective_until) },
          {
            title: t('versions.state'),
            key: 'state',
            render: (_, v) => {
              const from = Date.parse(v.effective_from);
              const until = v.effective_until ? Date.parse(v.effective_until) : Infinity;
              return (
                <Space size={4}>
                  {from > now ? (
                    <Tag color={TAG_COLORS.gold} variant="solid">
                      {t('announced')}
                    </Tag>
                  ) : until <= now ? (
                    <Tag>{t('versions.superseded')}</Tag>
                  ) : (
                    <Tag color={TAG_COLORS.green} variant="solid">
                      {t('status.inForce')}
                    </Tag>
                  )}
                  {v.backdated ? (
                    <Tag color={TAG_COLORS.purple} variant="solid">
                      {t('versions.backdated')}
                    </Tag>
                  ) : null}
                </Space>
              );
            },
          },
          { title: t('versions.created'), key: 'created', render: (_, v) => `${when(v.created_at)}${v.created_by ? ` · ${v.created_by}` : ''}` },
        ]}
      />
    </Card>
  );
}
