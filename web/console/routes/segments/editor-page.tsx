// Create or edit a segment: its name in both languages, a description, and the condition — the
// rules' condition builder with the segment's variables, or raw JSONLogic — with a live count of
// the members it holds for now (the API's preview, a moment after the last change).
import { ArrowLeftOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Form, Input, Space, Spin, Tabs, Typography } from 'antd';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { ApiError, newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { type Locale, minorUnitsOf } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { PageHeader } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { ConditionBuilder, type FieldOption } from '../rules/condition-builder/condition-builder.tsx';
import { type ConditionGroup, fromJsonLogic, incompleteRows, toJsonLogic } from '../rules/condition-builder/logic.ts';
import { nameOf, type Segment, type SegmentPreview } from './types.ts';

/** The variables a segment's condition reads (docs/segments.md), with their types for the builder. */
export const SEGMENT_FIELDS: readonly { path: string; type: FieldOption['type']; money?: boolean }[] = [
  { path: 'stats.days_since_last_activity', type: 'number' },
  { path: 'stats.points_balance', type: 'number' },
  { path: 'stats.points_pending', type: 'number' },
  { path: 'stats.points_expiring_30d', type: 'number' },
  { path: 'stats.points_expiring_45d', type: 'number' },
  { path: 'stats.points_expiring_90d', type: 'number' },
  { path: 'stats.days_since_last_order', type: 'number' },
  { path: 'stats.orders_90d', type: 'number' },
  { path: 'stats.orders_365d', type: 'number' },
  { path: 'stats.spend_365d', type: 'number', money: true },
  { path: 'member.tier', type: 'string' },
  { path: 'member.tags', type: 'array' },
  { path: 'member.status', type: 'string' },
  { path: 'member.birthday_month', type: 'number' },
  { path: 'member.days_since_joined', type: 'number' },
];

/** ¥, $, HK$: the currency's symbol in the viewer's locale. */
function currencySymbol(currency: string, locale: Locale): string {
  return (
    new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'narrowSymbol' }).formatToParts(0).find((p) => p.type === 'currency')
      ?.value ?? currency
  );
}

type ConditionState = { mode: 'builder'; tree: ConditionGroup } | { mode: 'raw'; text: string };

function initialCondition(condition: unknown): ConditionState {
  const parsed = fromJsonLogic(condition);
  if (parsed.ok) return { mode: 'builder', tree: parsed.tree };
  return { mode: 'raw', text: JSON.stringify(condition, null, 2) };
}

interface FormValues {
  name_zh: string;
  name_en: string;
  description?: string;
}

export default function SegmentEditorPage() {
  const { segmentId } = useParams();
  const segment = useQuery({
    queryKey: ['segment', segmentId],
    enabled: segmentId !== undefined,
    queryFn: () => unwrap(api.GET('/v1/segments/{segmentId}', { params: { path: { segmentId: segmentId! } } })),
  });
  if (segmentId === undefined) return <Editor />;
  if (segment.isPending) return <PageLoading />;
  if (segment.error) return <ErrorAlert error={segment.error} onRetry={() => segment.refetch()} />;
  return <Editor segment={segment.data} />;
}

function Editor({ segment }: { segment?: Segment }) {
  const { t, i18n } = useTranslation('segments');
  const { t: tr } = useTranslation('rules');
  const program = useProgram();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const { can } = useSession();
  const canWrite = can(program.id, 'rules.write') && !segment?.built_in && segment?.status !== 'archived';
  const [form] = Form.useForm<FormValues>();
  const [condition, setCondition] = useState<ConditionState>(() => initialCondition(segment?.condition ?? true));
  const [conditionError, setConditionError] = useState<string | undefined>();
  const [formError, setFormError] = useState<unknown>();
  const submission = useRef<{ payload: string; key: string } | undefined>(undefined);

  const fields = useMemo<FieldOption[]>(() => SEGMENT_FIELDS.map((f) => ({ ...f, label: t(`fields.${f.path.replace('.', '_')}`) })), [t]);

  /** The condition as JSONLogic (no rows: every member), or an error message. */
  const logic = useMemo((): { ok: true; logic: unknown } | { ok: false; error: string } => {
    if (condition.mode === 'raw') {
      if (!condition.text.trim()) return { ok: true, logic: true };
      try {
        return { ok: true, logic: JSON.parse(condition.text) };
      } catch {
        return { ok: false, error: tr('condition.invalidJson') };
      }
    }
    if (incompleteRows(condition.tree) > 0) return { ok: false, error: tr('condition.incomplete') };
    return { ok: true, logic: toJsonLogic(condition.tree) ?? true };
  }, [condition, tr]);

  // the live count: the preview of the condition as it is, a moment after the last change
  const logicText = logic.ok ? JSON.stringify(logic.logic) : undefined;
  const [debounced, setDebounced] = useState(logicText);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(logicText), 400);
    return () => clearTimeout(timer);
  }, [logicText]);
  const preview = useQuery<SegmentPreview>({
    queryKey: ['segment-preview', program.id, debounced],
    enabled: debounced !== undefined,
    retry: false,
    queryFn: () =>
      unwrap(
        api.POST('/v1/programs/{programId}/segments/preview', { params: { path: { programId: program.id } }, body: { condition: JSON.parse(debounced!) } }),
      ),
  });

  const switchCondition = (mode: 'builder' | 'raw') => {
    if (mode === condition.mode) return;
    if (mode === 'raw') {
      const l = condition.mode === 'builder' ? toJsonLogic(condition.tree) : undefined;
      setCondition({ mode: 'raw', text: l === undefined ? '' : JSON.stringify(l, null, 2) });
      setConditionError(undefined);
      return;
    }
    if (!logic.ok) {
      setConditionError(logic.error);
      return;
    }
    const parsed = fromJsonLogic(logic.logic);
    if (!parsed.ok) {
      setConditionError(tr(`condition.unsupported.${parsed.error.code}`, { operator: parsed.error.operator ?? '', path: parsed.error.path || '/' }));
      return;
    }
    setConditionError(undefined);
    setCondition({ mode: 'builder', tree: parsed.tree });
  };

  const save = useMutation({
    mutationFn: async () => {
      const values = await form.validateFields();
      if (!logic.ok) throw new Error(logic.error);
      const name = { 'zh-CN': values.name_zh.trim(), en: values.name_en.trim() };
      const description = values.description?.trim() || undefined;
      const condition = logic.logic as boolean | Record<string, unknown>;
      const body = { name, description, condition };
      const payload = JSON.stringify(body);
      // the same form sent again (a retry) is the same write
      if (submission.current?.payload !== payload) submission.current = { payload, key: newIdempotencyKey() };
      const header = { 'idempotency-key': submission.current.key };
      return segment
        ? unwrap(
            api.PATCH('/v1/segments/{segmentId}', {
              params: { path: { segmentId: segment.id }, header },
              body: { name, description: description ?? null, condition },
            }),
          )
        : unwrap(api.POST('/v1/programs/{programId}/segments', { params: { path: { programId: program.id }, header }, body }));
    },
    onSuccess: (saved) => {
      queryClient.invalidateQueries({ queryKey: ['segments', program.id] });
      queryClient.invalidateQueries({ queryKey: ['segment', saved.id] });
      queryClient.invalidateQueries({ queryKey: ['segment-members', saved.id] });
      message.success(segment ? t('editor.saved') : t('editor.created'));
      navigate(`/${program.id}/segments/${saved.id}`);
    },
    onError: (error) => {
      if (error && typeof error === 'object' && 'errorFields' in error) return;
      if (error instanceof ApiError) {
        const onCondition = error.problem.errors?.find((e) => e.path.startsWith('/condition'));
        if (onCondition) setConditionError(`${onCondition.path} ${fieldMessage(onCondition, t)}`);
      } else if (!logic.ok) setConditionError(logic.error);
      setFormError(error);
    },
  });

  const previewError = preview.error instanceof ApiError ? preview.error.problem.errors?.find((e) => e.path.startsWith('/condition')) : undefined;

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <div>
        <Button type="link" icon={<ArrowLeftOutlined />} onClick={() => navigate(`/${program.id}/segments`)} style={{ paddingLeft: 0 }}>
          {t('editor.back')}
        </Button>
        <PageHeader title={segment ? nameOf(segment, i18n.language) : t('editor.newTitle')} description={t('editor.description')} />
      </div>
      {formError && !(formError instanceof ApiError && formError.problem.errors?.length) ? <ErrorAlert error={formError} /> : null}
      <Form<FormValues>
        form={form}
        layout="vertical"
        disabled={!canWrite}
        initialValues={{ name_zh: segment?.name['zh-CN'] ?? '', name_en: segment?.name.en ?? '', description: segment?.description ?? '' }}
      >
        <Card size="small">
          <Form.Item name="name_zh" label={t('editor.nameZh')} rules={[{ required: true, whitespace: true, message: t('editor.nameRequired') }, { max: 100 }]}>
            <Input data-testid="segment-name-zh" maxLength={100} />
          </Form.Item>
          <Form.Item name="name_en" label={t('editor.nameEn')} rules={[{ required: true, whitespace: true, message: t('editor.nameRequired') }, { max: 100 }]}>
            <Input data-testid="segment-name-en" maxLength={100} />
          </Form.Item>
          <Form.Item name="description" label={t('editor.descriptionLabel')} rules={[{ max: 500 }]}>
            <Input.TextArea rows={2} maxLength={500} />
          </Form.Item>
        </Card>
      </Form>
      <Card
        size="small"
        title={
          <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
            {t('editor.condition')}
          </Typography.Title>
        }
        extra={
          <span data-testid="segment-preview-count" aria-live="polite">
            {!logic.ok ? null : preview.isFetching ? (
              <Spin size="small" />
            ) : preview.data ? (
              t('editor.previewCount', { count: preview.data.member_count, evaluated: preview.data.evaluated })
            ) : null}
          </span>
        }
      >
        <Typography.Paragraph type="secondary">{t('editor.conditionHelp')}</Typography.Paragraph>
        <Tabs
          activeKey={condition.mode}
          onChange={(k) => switchCondition(k as 'builder' | 'raw')}
          items={[
            {
              key: 'builder',
              label: tr('condition.builderTab'),
              children:
                condition.mode === 'builder' ? (
                  <ConditionBuilder
                    value={condition.tree}
                    onChange={(tree) => setCondition({ mode: 'builder', tree })}
                    fields={fields}
                    disabled={!canWrite}
                    emptyText={t('editor.emptyCondition')}
                    money={{ minorUnits: minorUnitsOf(program.currency), symbol: currencySymbol(program.currency, i18n.language as Locale) }}
                  />
                ) : null,
            },
            {
              key: 'raw',
              label: tr('condition.rawTab'),
              children:
                condition.mode === 'raw' ? (
                  <Space orientation="vertical" style={{ width: '100%' }}>
                    <label htmlFor="segment-raw-jsonlogic">
                      <Typography.Text type="secondary">{tr('condition.rawLabel')}</Typography.Text>
                    </label>
                    <Input.TextArea
                      id="segment-raw-jsonlogic"
                      data-testid="segment-raw-jsonlogic"
                      rows={10}
                      style={{ fontFamily: 'monospace' }}
                      disabled={!canWrite}
                      value={condition.text}
                      status={conditionError ? 'error' : undefined}
                      placeholder='{">=": [{"var": "stats.days_since_last_activity"}, 90]}'
                      onChange={(e) => {
                        setCondition({ mode: 'raw', text: e.target.value });
                        if (conditionError) setConditionError(undefined);
                      }}
                    />
                  </Space>
                ) : null,
            },
          ]}
        />
        {conditionError ? <Alert type="error" showIcon title={conditionError} data-testid="condition-error" /> : null}
        {!conditionError && previewError ? <Alert type="warning" showIcon title={`${previewError.path} ${fieldMessage(previewError, t)}`} /> : null}
        {preview.data && preview.data.sample.length > 0 ? (
          <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }}>
            {t('editor.sample', { names: preview.data.sample.map((m) => m.name ?? m.external_id).join('、') })}
          </Typography.Paragraph>
        ) : null}
      </Card>
      {canWrite ? (
        <Space>
          <Button type="primary" data-testid="segment-save" loading={save.isPending} onClick={() => save.mutate()}>
            {segment ? t('editor.save') : t('editor.create')}
          </Button>
          <Button onClick={() => navigate(-1)}>{t('common:cancel')}</Button>
        </Space>
      ) : null}
    </Space>
  );
}
