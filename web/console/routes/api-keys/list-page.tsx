// API keys of the program: the keys that can reach it (limited to it, or to the whole deployment),
// create (limited to this program by default, or several, or the whole deployment when the user
// may), the secret shown once, revoke with a confirmation.
import { KeyOutlined, PlusOutlined } from '@ant-design/icons';
import type { operations } from '@jifen/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Checkbox, ConfigProvider, Form, Input, Modal, Popconfirm, Radio, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, unwrap } from '../../../shared/api.ts';
import { formatDateTime, type Locale } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { describeError, EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { PageHeader } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram, usePrograms } from '../../layout/shell.tsx';
import { DANGER_THEME, TAG_COLORS } from './tag-colors.ts';

type ApiKey = operations['listApiKeys']['responses'][200]['content']['application/json']['data'][number];
type Created = operations['createApiKey']['responses'][201]['content']['application/json'];
type Scope = ApiKey['scopes'][number];
const SCOPES: Scope[] = ['integration', 'read', 'admin'];

export default function ApiKeysPage() {
  return (
    <ConfigProvider theme={DANGER_THEME}>
      <ApiKeysPageContent />
    </ConfigProvider>
  );
}

function ApiKeysPageContent() {
  const { t, i18n } = useTranslation('api-keys');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const { can } = useSession();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [showRevoked, setShowRevoked] = useState(false);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Created | undefined>();
  const allowed = can(program.id, 'api_keys.manage');
  const keys = useQuery({
    queryKey: ['api-keys'],
    enabled: allowed,
    queryFn: () => unwrap(api.GET('/v1/api-keys')),
  });
  const programs = usePrograms();
  const nameOf = (id: string) => programs.data?.data.find((p) => p.id === id)?.name ?? id;
  const revoke = useMutation({
    mutationFn: (keyId: string) => unwrap(api.DELETE('/v1/api-keys/{keyId}', { params: { path: { keyId } } })),
    onSuccess: (key) => {
      queryClient.invalidateQueries({ queryKey: ['api-keys'] });
      message.success(t('revoked', { name: key.name }));
    },
    onError: (error) => message.error(describeError(error, t).message),
  });
  const when = (iso: string) => formatDateTime(iso, program.time_zone, locale);

  if (!allowed) return <Alert type="info" showIcon title={t('notAllowed')} />;
  // the keys that reach this program: limited to it, or to the whole deployment
  const rows = (keys.data?.data ?? [])
    .filter((k) => k.program_ids === null || k.program_ids.includes(program.id))
    .filter((k) => showRevoked || k.revoked_at === null)
    .sort((a, b) => b.created_at.localeCompare(a.created_at));

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <PageHeader
        title={t('title')}
        description={t('description')}
        extra={
          <Button type="primary" icon={<PlusOutlined />} data-testid="api-key-create" onClick={() => setCreating(true)}>
            {t('create')}
          </Button>
        }
      />
      <Space>
        <Switch id="show-revoked" checked={showRevoked} onChange={setShowRevoked} />
        <label htmlFor="show-revoked">{t('showRevoked')}</label>
      </Space>
      {keys.error ? <ErrorAlert error={keys.error} onRetry={() => keys.refetch()} /> : null}
      <Table<ApiKey>
        data-testid="api-keys-table"
        rowKey="id"
        loading={keys.isPending}
        dataSource={rows}
        pagination={rows.length > 20 ? { pageSize: 20 } : false}
        scroll={{ x: 900 }}
        locale={{
          emptyText: keys.isPending ? (
            ' '
          ) : (
            <EmptyState
              description={t('empty')}
              action={
                <Button type="primary" onClick={() => setCreating(true)}>
                  {t('createFirst')}
                </Button>
              }
            />
          ),
        }}
        columns={[
          {
            title: t('columns.name'),
            key: 'name',
            render: (_, k) => (
              <Space orientation="vertical" size={0}>
                <Typography.Text strong>{k.name}</Typography.Text>
                <Typography.Text type="secondary" code>
                  {k.prefix}…
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('columns.scopes'),
            key: 'scopes',
            render: (_, k) => (
              <Space size={4} wrap>
                {k.scopes.map((s) => (
                  <Tag
                    key={s}
                    color={s === 'admin' ? TAG_COLORS.red : s === 'integration' ? TAG_COLORS.blue : undefined}
                    variant={s === 'read' ? undefined : 'solid'}
                  >
                    {t(`scopes.${s}`)}
                  </Tag>
                ))}
              </Space>
            ),
          },
          {
            title: t('columns.programs'),
            key: 'programs',
            render: (_, k) =>
              k.program_ids === null ? (
                <Tag color={TAG_COLORS.gold} variant="solid">
                  {t('wholeDeployment')}
                </Tag>
              ) : (
                <Space size={4} wrap>
                  {k.program_ids.map((id) => (
                    <Tag key={id}>{nameOf(id)}</Tag>
                  ))}
                </Space>
              ),
          },
          { title: t('columns.created'), key: 'created', render: (_, k) => when(k.created_at) },
          {
            title: t('columns.status'),
            key: 'status',
            render: (_, k) =>
              k.revoked_at ? (
                <Tag>{t('revokedAt', { date: when(k.revoked_at) })}</Tag>
              ) : (
                <Tag color={TAG_COLORS.green} variant="solid">
                  {t('active')}
                </Tag>
              ),
          },
          {
            title: t('common:actions'),
            key: 'actions',
            render: (_, k) =>
              k.revoked_at ? null : (
                <Popconfirm
                  title={t('revokeTitle', { name: k.name })}
                  description={t('revokeConfirm')}
                  okText={t('revoke')}
                  okButtonProps={{ danger: true }}
                  cancelText={t('common:cancel')}
                  onConfirm={() => revoke.mutateAsync(k.id).catch(() => undefined)}
                >
                  <Button danger size="small" loading={revoke.isPending && revoke.variables === k.id}>
                    {t('revoke')}
                  </Button>
                </Popconfirm>
              ),
          },
        ]}
      />
      <Typography.Paragraph type="secondary">{t('lastUsedNote')}</Typography.Paragraph>
      <CreateKey
        open={creating}
        programId={program.id}
        deploymentWide={can(undefined, 'api_keys.manage')}
        programOptions={(programs.data?.data ?? []).filter((p) => can(p.id, 'api_keys.manage')).map((p) => ({ value: p.id, label: p.name }))}
        onClose={() => setCreating(false)}
        onCreated={(key) => {
          setCreating(false);
          setCreated(key);
          queryClient.invalidateQueries({ queryKey: ['api-keys'] });
        }}
      />
      <Modal
        open={created !== undefined}
        title={t('secretTitle', { name: created?.name })}
        closable={false}
        keyboard={false}
        mask={{ closable: false }}
        footer={
          <Button type="primary" onClick={() => setCreated(undefined)}>
            {t('stored')}
          </Button>
        }
      >
        <Alert type="warning" showIcon title={t('onceWarning')} style={{ marginBottom: 16 }} />
        <Typography.Paragraph copyable={{ text: created?.secret }} code data-testid="api-key-secret" style={{ wordBreak: 'break-all' }}>
          {created?.secret}
        </Typography.Paragraph>
        <Typography.Paragraph type="secondary">{t('usage')}</Typography.Paragraph>
      </Modal>
    </Space>
  );
}

function CreateKey({
  open,
  programId,
  deploymentWide,
  programOptions,
  onClose,
  onCreated,
}: {
  open: boolean;
  programId: string;
  deploymentWide: boolean;
  programOptions: { value: string; label: string }[];
  onClose: () => void;
  onCreated: (key: Created) => void;
}) {
  const { t } = useTranslation('api-keys');
  const [form] = Form.useForm<{ name: string; scopes: Scope[]; reach: 'this' | 'several' | 'all'; program_ids?: string[] }>();
  const reach = Form.useWatch('reach', form) ?? 'this';
  const create = useMutation({
    mutationFn: async () => {
      const v = await form.validateFields();
      const program_ids = v.reach === 'all' ? null : v.reach === 'several' ? v.program_ids : [programId];
      return unwrap(api.POST('/v1/api-keys', { body: { name: v.name.trim(), scopes: v.scopes, program_ids } }));
    },
    onSuccess: (key) => {
      form.resetFields();
      onCreated(key);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.problem.errors?.length) {
        form.setFields(error.problem.errors.map((e) => ({ name: (e.path.replace(/^\//, '').split('/')[0] ?? 'name') as never, errors: [fieldMessage(e, t)] })));
      }
    },
  });
  return (
    <Modal
      open={open}
      title={
        <Space>
          <KeyOutlined />
          {t('createTitle')}
        </Space>
      }
      okText={t('create')}
      cancelText={t('common:cancel')}
      okButtonProps={{ loading: create.isPending }}
      onOk={() => create.mutate()}
      onCancel={onClose}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" initialValues={{ scopes: ['integration'], reach: 'this', program_ids: [programId] }} preserve={false}>
        <Form.Item
          name="name"
          label={t('fields.name')}
          extra={t('fields.nameHelp')}
          rules={[{ required: true, whitespace: true, message: t('nameRequired') }, { max: 100 }]}
        >
          <Input placeholder="checkout-service" />
        </Form.Item>
        <Form.Item
          name="scopes"
          label={t('fields.scopes')}
          // a validator, not required: true, which would put aria-required on the group's div (not allowed there)
          rules={[{ validator: async (_, v: Scope[] | undefined) => (v?.length ? undefined : Promise.reject(new Error(t('scopesRequired')))) }]}
        >
          <Checkbox.Group>
            <Space orientation="vertical">
              {SCOPES.map((s) => (
                <Checkbox key={s} value={s}>
                  <Typography.Text strong>{t(`scopes.${s}`)}</Typography.Text> <Typography.Text type="secondary">{t(`scopeHelp.${s}`)}</Typography.Text>
                </Checkbox>
              ))}
            </Space>
          </Checkbox.Group>
        </Form.Item>
        <Form.Item name="reach" label={t('fields.programs')}>
          <Radio.Group>
            <Space orientation="vertical">
              <Radio value="this">{t('reach.this')}</Radio>
              <Radio value="several">{t('reach.several')}</Radio>
              {deploymentWide ? <Radio value="all">{t('reach.all')}</Radio> : null}
            </Space>
          </Radio.Group>
        </Form.Item>
        {reach === 'several' ? (
          <Form.Item name="program_ids" label={t('fields.programList')} rules={[{ required: true, message: t('programsRequired') }]}>
            <Select mode="multiple" options={programOptions} />
          </Form.Item>
        ) : null}
        {reach === 'all' ? <Alert type="warning" showIcon title={t('reach.allWarning')} /> : null}
        {create.error && !(typeof create.error === 'object' && 'errorFields' in create.error) ? (
          <div style={{ marginTop: 16 }}>
            <ErrorAlert error={create.error} />
          </div>
        ) : null}
      </Form>
    </Modal>
  );
}
