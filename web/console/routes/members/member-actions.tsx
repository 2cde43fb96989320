// What an operator does to a member: adjust points (add or deduct, with a reason code and a note),
// freeze or unfreeze (with a required reason, confirmed), edit the profile. Each submission has
// its own Idempotency-Key, kept while the form is unchanged, so a retry after a network failure is
// the same request; the API's message and code show in the dialog when it refuses.
import { EditOutlined, LockOutlined, PlusCircleOutlined, UnlockOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { App, Button, Form, Input, InputNumber, Modal, Radio, Select, Space, Typography } from 'antd';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { ErrorAlert } from '../../layout/feedback.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { useLadder } from '../tiers/queries.ts';
import { type Member, memberKey, REASON_CODES } from './types.ts';

/** One Idempotency-Key per submission: a new one whenever the form's values change. */
function useSubmissionKey() {
  const key = useRef(newIdempotencyKey());
  return { current: () => key.current, renew: () => (key.current = newIdempotencyKey()) };
}

interface AdjustValues {
  direction: 'add' | 'deduct';
  points: number;
  reason_code: (typeof REASON_CODES)[number];
  note?: string;
}

export function AdjustPointsButton({ member }: { member: Member }) {
  const { t, i18n } = useTranslation('members');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<AdjustValues>();
  const submission = useSubmissionKey();
  const adjust = useMutation({
    mutationFn: (v: AdjustValues) =>
      unwrap(
        api.POST('/v1/members/{memberId}/adjustments', {
          params: { path: { memberId: member.id }, header: { 'idempotency-key': submission.current() } },
          body: { points: v.direction === 'deduct' ? -v.points : v.points, reason_code: v.reason_code, reason: v.note?.trim() || undefined },
        }),
      ),
    onSuccess: async (result) => {
      message.success(
        t('adjust.done', { points: formatPoints(result.entry.delta, locale, { signed: true }), balance: formatPoints(result.balance.available, locale) }),
      );
      setOpen(false);
      form.resetFields();
      submission.renew();
      await queryClient.invalidateQueries({ queryKey: memberKey(member.id) });
    },
  });
  return (
    <>
      <Button type="primary" icon={<PlusCircleOutlined />} data-testid="adjust-button" onClick={() => setOpen(true)}>
        {t('adjust.button')}
      </Button>
      <Modal
        title={t('adjust.title', { name: member.name ?? member.external_id })}
        open={open}
        onCancel={() => {
          setOpen(false);
          adjust.reset();
        }}
        okText={t('adjust.submit')}
        okButtonProps={{ htmlType: 'submit', loading: adjust.isPending, 'data-testid': 'adjust-submit' }}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        <Form<AdjustValues>
          form={form}
          layout="vertical"
          initialValues={{ direction: 'add', reason_code: 'goodwill' }}
          onValuesChange={() => {
            submission.renew();
            adjust.reset();
          }}
          onFinish={(v) => adjust.mutate(v)}
        >
          <Form.Item name="direction" label={t('adjust.direction')}>
            <Radio.Group
              optionType="button"
              options={[
                { value: 'add', label: t('adjust.add') },
                { value: 'deduct', label: t('adjust.deduct') },
              ]}
            />
          </Form.Item>
          <Form.Item
            name="points"
            label={t('adjust.points', { name: pointNameOf(program, locale) })}
            rules={[
              { required: true, message: t('adjust.pointsRequired') },
              { type: 'integer', min: 1, message: t('adjust.pointsPositive') },
            ]}
          >
            <InputNumber<number> data-testid="adjust-points" min={1} precision={0} step={1} style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item name="reason_code" label={t('adjust.reasonCode')} rules={[{ required: true }]}>
            <Select data-testid="adjust-reason-code" options={REASON_CODES.map((c) => ({ value: c, label: t(`reasonCodes.${c}`) }))} />
          </Form.Item>
          <Form.Item name="note" label={t('adjust.note')} extra={t('adjust.noteHelp')} rules={[{ max: 500, message: t('adjust.noteTooLong') }]}>
            <Input.TextArea data-testid="adjust-note" rows={3} maxLength={500} showCount />
          </Form.Item>
        </Form>
        {adjust.error ? <ErrorAlert error={adjust.error} /> : null}
      </Modal>
    </>
  );
}

export function StatusButton({ member }: { member: Member }) {
  const { t } = useTranslation('members');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<{ reason: string }>();
  const submission = useSubmissionKey();
  const freezing = member.status === 'active';
  const action = freezing ? 'freeze' : 'unfreeze';
  const change = useMutation({
    mutationFn: (reason: string) =>
      unwrap(
        api.POST(freezing ? '/v1/members/{memberId}/freeze' : '/v1/members/{memberId}/unfreeze', {
          params: { path: { memberId: member.id }, header: { 'idempotency-key': submission.current() } },
          body: { reason },
        }),
      ),
    onSuccess: async () => {
      message.success(t(`${action}.done`));
      setOpen(false);
      form.resetFields();
      submission.renew();
      await queryClient.invalidateQueries({ queryKey: memberKey(member.id) });
      await queryClient.invalidateQueries({ queryKey: ['members'] });
    },
  });
  return (
    <>
      <Button danger={freezing} icon={freezing ? <LockOutlined /> : <UnlockOutlined />} data-testid="freeze-button" onClick={() => setOpen(true)}>
        {t(`${action}.button`)}
      </Button>
      <Modal
        title={t(`${action}.title`, { name: member.name ?? member.external_id })}
        open={open}
        onCancel={() => {
          setOpen(false);
          change.reset();
        }}
        okText={t(`${action}.confirm`)}
        okButtonProps={{ danger: freezing, loading: change.isPending, 'data-testid': 'status-submit' }}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        <Space orientation="vertical" style={{ width: '100%' }}>
          <Typography.Paragraph>{t(`${action}.explain`)}</Typography.Paragraph>
          <Form
            form={form}
            layout="vertical"
            onValuesChange={() => {
              submission.renew();
              change.reset();
            }}
            onFinish={(v) => change.mutate(v.reason.trim())}
          >
            <Form.Item
              name="reason"
              label={t('statusReason')}
              rules={[
                { required: true, whitespace: true, message: t('statusReasonRequired') },
                { max: 500, message: t('adjust.noteTooLong') },
              ]}
            >
              <Input.TextArea data-testid="status-reason" rows={3} maxLength={500} showCount />
            </Form.Item>
          </Form>
          {change.error ? <ErrorAlert error={change.error} /> : null}
        </Space>
      </Modal>
    </>
  );
}

interface ProfileValues {
  name?: string;
  phone?: string;
  email?: string;
  birthday?: string;
  tier?: string;
  tags?: string[];
}

export function EditProfileButton({ member }: { member: Member }) {
  const { t } = useTranslation('members');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<ProfileValues>();
  const submission = useSubmissionKey();
  // a program with a tier ladder: the tier follows it (the tier card's override sets a floor), the API refuses it here
  const program = useProgram();
  const ladder = useLadder(program.id);
  const tierEditable = ladder.data === null;
  const update = useMutation({
    mutationFn: (v: ProfileValues) => {
      // send only what changed; an emptied field is cleared (null)
      const text = (value: string | undefined) => (value?.trim() ? value.trim() : null);
      const body: Record<string, unknown> = {};
      for (const field of tierEditable ? (['name', 'phone', 'email', 'birthday', 'tier'] as const) : (['name', 'phone', 'email', 'birthday'] as const)) {
        if (text(v[field]) !== member[field]) body[field] = text(v[field]);
      }
      const tags = v.tags ?? [];
      if (JSON.stringify(tags) !== JSON.stringify(member.tags)) body.tags = tags;
      if (Object.keys(body).length === 0) return Promise.resolve(member);
      return unwrap(
        api.PATCH('/v1/members/{memberId}', {
          params: { path: { memberId: member.id }, header: { 'idempotency-key': submission.current() } },
          body: body as never,
        }),
      );
    },
    onSuccess: async () => {
      message.success(t('edit.done'));
      setOpen(false);
      submission.renew();
      await queryClient.invalidateQueries({ queryKey: memberKey(member.id) });
      await queryClient.invalidateQueries({ queryKey: ['members'] });
    },
  });
  return (
    <>
      <Button icon={<EditOutlined />} data-testid="edit-profile-button" onClick={() => setOpen(true)}>
        {t('edit.button')}
      </Button>
      <Modal
        title={t('edit.title')}
        open={open}
        onCancel={() => {
          setOpen(false);
          update.reset();
        }}
        okText={t('common:save')}
        okButtonProps={{ loading: update.isPending, 'data-testid': 'edit-submit' }}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        <Form<ProfileValues>
          form={form}
          layout="vertical"
          initialValues={{
            name: member.name ?? undefined,
            phone: member.phone ?? undefined,
            email: member.email ?? undefined,
            birthday: member.birthday ?? undefined,
            tier: member.tier ?? undefined,
            tags: member.tags,
          }}
          onValuesChange={() => {
            submission.renew();
            update.reset();
          }}
          onFinish={(v) => update.mutate(v)}
        >
          <Form.Item name="name" label={t('columns.name')} rules={[{ max: 200 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="phone" label={t('columns.phone')} rules={[{ pattern: /^\+?[0-9][0-9 -]{4,19}$/, message: t('edit.phoneInvalid') }]}>
            <Input inputMode="tel" />
          </Form.Item>
          <Form.Item name="email" label={t('columns.email')} rules={[{ type: 'email', message: t('edit.emailInvalid') }]}>
            <Input inputMode="email" />
          </Form.Item>
          <Form.Item
            name="birthday"
            label={t('fields.birthday')}
            extra={t('edit.birthdayHelp')}
            rules={[{ pattern: /^\d{4}-\d\d-\d\d$/, message: t('edit.birthdayHelp') }]}
          >
            <Input />
          </Form.Item>
          {tierEditable ? (
            <Form.Item
              name="tier"
              label={t('columns.tier')}
              extra={t('edit.tierHelp')}
              rules={[{ pattern: /^[a-z][a-z0-9_]{0,31}$/, message: t('edit.tierHelp') }]}
            >
              <Input />
            </Form.Item>
          ) : null}
          <Form.Item name="tags" label={t('fields.tags')}>
            <Select mode="tags" tokenSeparators={[',', '，']} open={false} suffixIcon={null} />
          </Form.Item>
        </Form>
        {update.error ? <ErrorAlert error={update.error} /> : null}
      </Modal>
    </>
  );
}
