// The rule editor's preview: a sample event (payload prefilled from its type) for a member or a
// guest → POST /v1/events/preview with the draft rule → the points and what each rule says, before
// anything is saved.
import { ExperimentOutlined } from '@ant-design/icons';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, AutoComplete, Button, Card, DatePicker, Descriptions, Form, Input, List, Select, Space, Statistic, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { unwrap } from '../../../shared/api.ts';
import { formatPoints, type Locale, minorUnitsOf, pointNameOf } from '../../../shared/format.ts';
import { ErrorAlert } from '../../layout/feedback.tsx';
import { api } from '../../layout/session.tsx';
import type { Program } from '../../layout/shell.tsx';
import { instantOf } from './definition.ts';
import { eventTypeLabel } from './list-page.tsx';
import { samplePayload } from './sample.ts';
import { TAG_COLORS } from './tag-colors.ts';
import type { EventType, PreviewResult, RuleDefinition } from './types.ts';

interface Props {
  program: Program;
  ruleId?: string;
  triggers: string[];
  eventTypes: EventType[];
  /** The draft as the API would get it, or null when the form cannot make one yet (the editor says why). */
  draft: () => RuleDefinition | null;
  /** An API error from the preview: the editor shows field errors next to their fields. */
  onFieldErrors: (error: unknown) => void;
}

export function PreviewPanel({ program, ruleId, triggers, eventTypes, draft, onFieldErrors }: Props) {
  const { t, i18n } = useTranslation('rules');
  const locale = i18n.language as Locale;
  const [type, setType] = useState<string | undefined>(triggers[0]);
  const [payload, setPayload] = useState('');
  const [payloadError, setPayloadError] = useState<string | undefined>();
  const [memberRef, setMemberRef] = useState('');
  const [occurredAt, setOccurredAt] = useState<Dayjs | null>(null);
  const edited = useRef(false);
  // members matching what is typed (name, external id, phone, email), once typing pauses
  const [search, setSearch] = useState('');
  useEffect(() => {
    const q = memberRef.trim();
    const timer = setTimeout(() => setSearch(q.startsWith('mbr_') ? '' : q), 300);
    return () => clearTimeout(timer);
  }, [memberRef]);
  const members = useQuery({
    queryKey: ['members', program.id, 'search', search],
    enabled: search.length > 0,
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}/members', { params: { path: { programId: program.id }, query: { q: search, limit: 8 } } })),
  });

  // follow the rule's event types until the user picks one of their own
  useEffect(() => {
    if (!type || !triggers.includes(type)) setType(triggers[0]);
  }, [triggers, type]);
  useEffect(() => {
    if (edited.current || !type) return;
    const schema = eventTypes.find((e) => e.type === type)?.schema;
    setPayload(JSON.stringify(samplePayload(schema, program.currency, minorUnitsOf(program.currency)), null, 2));
  }, [type, eventTypes, program.currency]);

  const preview = useMutation({
    mutationFn: async (): Promise<PreviewResult> => {
      const drafted = draft();
      if (!drafted) throw new Error(t('preview.fixForm'));
      // a preview needs no name yet
      const definition = drafted.name ? drafted : { ...drafted, name: t('preview.untitled') };
      let data: Record<string, unknown>;
      try {
        data = payload.trim() ? JSON.parse(payload) : {};
        if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('not an object');
        setPayloadError(undefined);
      } catch {
        setPayloadError(t('preview.payloadInvalid'));
        throw new Error(t('preview.payloadInvalid'));
      }
      const ref = memberRef.trim();
      const member = ref === '' ? {} : /^mbr_[A-Za-z0-9_]{1,64}$/.test(ref) ? { member_id: ref } : { external_member_id: ref };
      return unwrap(
        api.POST('/v1/events/preview', {
          body: {
            id: 'console-preview',
            type: type ?? triggers[0] ?? 'order.paid',
            program_id: program.id,
            ...member,
            ...(occurredAt ? { occurred_at: instantOf(occurredAt, program.time_zone) } : {}),
            data,
            draft_rule: { ...(ruleId ? { rule_id: ruleId } : {}), definition },
          },
        }),
      );
    },
    onError: onFieldErrors,
  });

  const result = preview.data;
  const draftId = ruleId ?? 'draft';
  return (
    <Card title={t('preview.title')} size="small">
      <Typography.Paragraph type="secondary">{t('preview.description')}</Typography.Paragraph>
      <Form layout="vertical" component="div">
        <Form.Item label={t('preview.eventType')} htmlFor="preview-event-type">
          <Select
            id="preview-event-type"
            value={type}
            onChange={(v: string) => {
              edited.current = false;
              setType(v);
            }}
            options={(triggers.length ? triggers : eventTypes.map((e) => e.type)).map((tr) => ({ value: tr, label: eventTypeLabel(tr, t) }))}
          />
        </Form.Item>
        <Form.Item
          label={t('preview.payload')}
          htmlFor="preview-payload"
          validateStatus={payloadError ? 'error' : undefined}
          help={payloadError ?? t('preview.payloadHelp')}
        >
          <Input.TextArea
            id="preview-payload"
            rows={6}
            style={{ fontFamily: 'monospace' }}
            value={payload}
            onChange={(e) => {
              edited.current = true;
              setPayload(e.target.value);
            }}
          />
        </Form.Item>
        <Form.Item label={t('preview.member')} htmlFor="preview-member" help={t('preview.memberHelp')}>
          <AutoComplete
            id="preview-member"
            value={memberRef}
            onChange={(v: string) => setMemberRef(v)}
            options={members.data?.data.map((m) => ({
              value: m.id,
              label: `${m.name ?? m.external_id} · ${m.external_id}${m.tier ? ` · ${m.tier}` : ''}`,
            }))}
            placeholder={t('preview.memberPlaceholder')}
          />
        </Form.Item>
        <Form.Item label={t('preview.occurredAt')} htmlFor="preview-occurred-at" help={t('preview.occurredAtHelp', { timeZone: program.time_zone })}>
          <DatePicker id="preview-occurred-at" showTime style={{ width: '100%' }} value={occurredAt} onChange={(v) => setOccurredAt(v)} />
        </Form.Item>
        <Button
          type="primary"
          icon={<ExperimentOutlined />}
          data-testid="rule-preview-button"
          loading={preview.isPending}
          onClick={() => preview.mutate()}
          block
        >
          {t('preview.run')}
        </Button>
      </Form>
      <div data-testid="rule-preview-result" aria-live="polite" style={{ marginTop: 16 }}>
        {preview.error ? <ErrorAlert error={preview.error} /> : null}
        {result && !preview.isPending && !preview.error ? (
          <Space orientation="vertical" style={{ width: '100%' }}>
            <Statistic title={t('preview.total')} value={formatPoints(result.points, locale)} suffix={` ${pointNameOf(program, locale)}`} />
            {result.warnings.map((w) => (
              <Alert key={w.code + w.tier} type="warning" showIcon title={t('preview.unknownTier', { tier: w.tier })} description={w.message} />
            ))}
            <List
              size="small"
              header={<Typography.Text strong>{t('preview.awards')}</Typography.Text>}
              locale={{ emptyText: t('preview.noAwards') }}
              dataSource={result.awards}
              renderItem={(a) => (
                <List.Item>
                  <Space orientation="vertical" size={0}>
                    <Space size={4}>
                      {a.rule_id === draftId ? (
                        <Tag color={TAG_COLORS.orange} variant="solid">
                          {t('preview.thisRule')}
                        </Tag>
                      ) : (
                        <Tag>{t('preview.otherRule')}</Tag>
                      )}
                      <Typography.Text strong>{String(a.explanation.rule_name ?? a.rule_id)}</Typography.Text>
                      <Typography.Text>{formatPoints(a.points, locale, { signed: true })}</Typography.Text>
                    </Space>
                    <Typography.Text type="secondary">{a.text}</Typography.Text>
                  </Space>
                </List.Item>
              )}
            />
            {result.skipped.length ? (
              <Descriptions
                size="small"
                column={1}
                title={t('preview.skipped')}
                items={result.skipped.map((s, i) => ({
                  key: `${s.rule_id}-${i}`,
                  label: s.rule_id === draftId ? t('preview.thisRule') : s.rule_id,
                  children: (
                    <Space orientation="vertical" size={0}>
                      <Typography.Text>{t(`skip.${s.reason}`)}</Typography.Text>
                      {s.detail ? <Typography.Text type="secondary">{s.detail}</Typography.Text> : null}
                    </Space>
                  ),
                }))}
              />
            ) : null}
          </Space>
        ) : null}
      </div>
    </Card>
  );
}
