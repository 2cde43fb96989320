// /console/users: console users and their roles per program. An owner of every program manages
// everyone; an owner of some programs manages roles in those programs. Passwords made here (a new
// user's, a reset) are shown once, with a copy button.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, ConfigProvider, Form, Input, Modal, Popconfirm, Result, Select, Space, Table, Tag, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatDateTime } from '../../../shared/format.ts';
import { describeError, EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { api, type Role, useSession } from '../../layout/session.tsx';
import { usePrograms } from '../../layout/shell.tsx';
import { DANGER_THEME, TAG_COLORS } from './tag-colors.ts';

const ROLES: Role[] = ['owner', 'operator', 'finance', 'support', 'viewer'];
/** The program select's value for a role in every program. */
const ALL = '*';

interface RoleField {
  program: string;
  role: Role;
}
interface UserFields {
  email: string;
  name: string;
  roles: RoleField[];
}
interface ConsoleUser {
  id: string;
  email: string;
  name: string;
  roles: { program_id: string | null; role: Role }[];
  created_at: string;
  disabled_at: string | null;
}

const USERS_KEY = ['console-users'] as const;

export default function UsersPage() {
  const { t, i18n } = useTranslation('users');
  const { session } = useSession();
  const programs = usePrograms();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [editing, setEditing] = useState<ConsoleUser | 'new' | undefined>();
  const [shownPassword, setShownPassword] = useState<{ email: string; password: string } | undefined>();
  const [search, setSearch] = useState('');
  const canManage = session?.access.some((a) => a.permissions.includes('users.manage')) ?? false;
  const everyProgram = session?.access.some((a) => a.program_id === null && a.permissions.includes('users.manage')) ?? false;
  const users = useQuery({ queryKey: USERS_KEY, queryFn: () => unwrap(api.GET('/v1/console/users')), enabled: canManage });
  const programName = (id: string | null) => (id === null ? t('allPrograms') : (programs.data?.data.find((p) => p.id === id)?.name ?? id));
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  const rows = useMemo(() => {
    const q = search.trim().toLowerCase();
    const data = (users.data?.data ?? []) as ConsoleUser[];
    return q ? data.filter((u) => u.email.includes(q) || u.name.toLowerCase().includes(q)) : data;
  }, [users.data, search]);

  const setDisabled = useMutation({
    mutationFn: ({ user, disabled }: { user: ConsoleUser; disabled: boolean }) =>
      unwrap(
        api.PATCH('/v1/console/users/{userId}', {
          params: { path: { userId: user.id }, header: { 'idempotency-key': newIdempotencyKey() } },
          body: { disabled },
        }),
      ),
    onSuccess: async (_, { disabled }) => {
      message.success(disabled ? t('disabledDone') : t('enabledDone'));
      await queryClient.invalidateQueries({ queryKey: USERS_KEY });
    },
    onError: (error) => message.error(describeError(error, t).message),
  });
  const reset = useMutation({
    mutationFn: (user: ConsoleUser) =>
      unwrap(
        api.POST('/v1/console/users/{userId}/password-reset', {
          params: { path: { userId: user.id }, header: { 'idempotency-key': newIdempotencyKey() } },
          body: {},
        }),
      ),
    onSuccess: (result) => {
      if (result.password) setShownPassword({ email: result.email, password: result.password });
    },
    onError: (error) => message.error(describeError(error, t).message),
  });

  if (!canManage) return <Result status="403" title={t('forbidden')} />;

  return (
    <ConfigProvider theme={DANGER_THEME}>
      <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
        <Space style={{ width: '100%', justifyContent: 'space-between' }} wrap>
          <div>
            <Typography.Title level={1} style={{ fontSize: 24, marginBottom: 4 }}>
              {t('title')}
            </Typography.Title>
            <Typography.Text type="secondary">{t('description')}</Typography.Text>
          </div>
          <Button type="primary" onClick={() => setEditing('new')} data-testid="create-user">
            {t('create')}
          </Button>
        </Space>
        <Input.Search
          aria-label={t('search')}
          placeholder={t('search')}
          allowClear
          style={{ maxWidth: 320 }}
          onChange={(e) => setSearch(e.target.value)}
          data-testid="users-search"
        />
        {users.error ? <ErrorAlert error={users.error} onRetry={() => users.refetch()} /> : null}
        <Table<ConsoleUser>
          rowKey="id"
          loading={users.isPending}
          dataSource={rows}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          data-testid="users-table"
          locale={{ emptyText: <EmptyState description={t('empty')} /> }}
          columns={[
            {
              title: t('user'),
              key: 'user',
              render: (_, u) => (
                <Space orientation="vertical" size={0}>
                  <Typography.Text strong>{u.name}</Typography.Text>
                  <Typography.Text type="secondary">{u.email}</Typography.Text>
                </Space>
              ),
            },
            {
              title: t('roles'),
              key: 'roles',
              render: (_, u) => (
                <Space wrap size={4}>
                  {u.roles.map((r) => (
                    <Tag key={r.program_id ?? ALL} color={r.program_id === null ? TAG_COLORS.orange : TAG_COLORS.blue} variant="solid">
                      {programName(r.program_id)} · {t(`layout:roles.${r.role}`)}
                    </Tag>
                  ))}
                </Space>
              ),
            },
            {
              title: t('status'),
              key: 'status',
              render: (_, u) =>
                u.disabled_at ? (
                  <Tag color={TAG_COLORS.red} variant="solid">
                    {t('disabled')}
                  </Tag>
                ) : (
                  <Tag color={TAG_COLORS.green} variant="solid">
                    {t('active')}
                  </Tag>
                ),
            },
            { title: t('created'), key: 'created', render: (_, u) => formatDateTime(u.created_at, timeZone, i18n.language as 'en') },
            {
              title: t('common:actions'),
              key: 'actions',
              render: (_, u) => (
                <Space wrap size={0}>
                  <Button type="link" onClick={() => setEditing(u)} data-testid={`edit-user-${u.email}`}>
                    {t('edit')}
                  </Button>
                  <Popconfirm
                    title={u.disabled_at ? t('confirmEnable', { email: u.email }) : t('confirmDisable', { email: u.email })}
                    onConfirm={() => setDisabled.mutate({ user: u, disabled: !u.disabled_at })}
                    okText={t('common:confirm')}
                    cancelText={t('common:cancel')}
                  >
                    <Button type="link" danger={!u.disabled_at} disabled={u.id === session?.user.id}>
                      {u.disabled_at ? t('enable') : t('disable')}
                    </Button>
                  </Popconfirm>
                  <Popconfirm
                    title={t('confirmReset', { email: u.email })}
                    onConfirm={() => reset.mutate(u)}
                    okText={t('common:confirm')}
                    cancelText={t('common:cancel')}
                  >
                    <Button type="link">{t('resetPassword')}</Button>
                  </Popconfirm>
                </Space>
              ),
            },
          ]}
        />
        {editing ? (
          <UserForm
            user={editing === 'new' ? undefined : editing}
            everyProgram={everyProgram}
            programOptions={(programs.data?.data ?? [])
              .filter((p) => everyProgram || session?.access.some((a) => a.program_id === p.id && a.permissions.includes('users.manage')))
              .map((p) => ({ value: p.id, label: p.name }))}
            onClose={() => setEditing(undefined)}
            onCreated={(email, password) => setShownPassword({ email, password })}
          />
        ) : null}
        <Modal
          open={shownPassword !== undefined}
          title={t('passwordTitle')}
          onCancel={() => setShownPassword(undefined)}
          footer={
            <Button type="primary" onClick={() => setShownPassword(undefined)}>
              {t('passwordStored')}
            </Button>
          }
        >
          <Space orientation="vertical">
            <Typography.Text>{t('passwordOnce', { email: shownPassword?.email })}</Typography.Text>
            <Typography.Text code copyable={{ text: shownPassword?.password }} data-testid="shown-password" style={{ fontSize: 16 }}>
              {shownPassword?.password}
            </Typography.Text>
          </Space>
        </Modal>
      </Space>
    </ConfigProvider>
  );
}

function UserForm({
  user,
  everyProgram,
  programOptions,
  onClose,
  onCreated,
}: {
  user: ConsoleUser | undefined;
  everyProgram: boolean;
  programOptions: { value: string; label: string }[];
  onClose: () => void;
  onCreated: (email: string, password: string) => void;
}) {
  const { t } = useTranslation('users');
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<UserFields>();
  // one key per submission of this form, kept for its retries
  const [key] = useState(newIdempotencyKey);
  const save = useMutation({
    mutationFn: async (fields: UserFields) => {
      const roles = fields.roles.map((r) => ({ program_id: r.program === ALL ? null : r.program, role: r.role }));
      if (!user) {
        return unwrap(
          api.POST('/v1/console/users', {
            params: { header: { 'idempotency-key': key } },
            body: { email: fields.email.trim(), name: fields.name.trim(), roles },
          }),
        );
      }
      return unwrap(
        api.PATCH('/v1/console/users/{userId}', {
          params: { path: { userId: user.id }, header: { 'idempotency-key': key } },
          body: { name: fields.name.trim(), roles },
        }),
      );
    },
    onSuccess: async (result) => {
      message.success(user ? t('saved') : t('createdDone'));
      const password = (result as { initial_password?: string }).initial_password;
      if (password) onCreated(result.email, password);
      await queryClient.invalidateQueries({ queryKey: USERS_KEY });
      onClose();
    },
  });
  const programSelect = [...(everyProgram ? [{ value: ALL, label: t('allPrograms') }] : []), ...programOptions];
  // a new role starts in a program (the first one), not in all of them
  const firstProgram = programOptions[0]?.value ?? ALL;
  const initial: Partial<UserFields> = user
    ? { email: user.email, name: user.name, roles: user.roles.map((r) => ({ program: r.program_id ?? ALL, role: r.role })) }
    : { roles: [{ program: firstProgram, role: 'viewer' }] };

  return (
    <ConfigProvider theme={DANGER_THEME}>
      <Modal
        open
        title={user ? t('editTitle', { email: user.email }) : t('createTitle')}
        onCancel={onClose}
        onOk={() => form.submit()}
        okText={t('common:save')}
        cancelText={t('common:cancel')}
        confirmLoading={save.isPending}
        width={720}
      >
        {save.error ? <ErrorAlert error={save.error} /> : null}
        <Form<UserFields> form={form} layout="vertical" initialValues={initial} onFinish={(fields) => save.mutate(fields)} data-testid="user-form">
          <Form.Item label={t('email')} name="email" rules={[{ required: true, type: 'email', message: t('emailRule') }]}>
            <Input type="email" disabled={user !== undefined} data-testid="user-email" />
          </Form.Item>
          <Form.Item label={t('name')} name="name" rules={[{ required: true, max: 100, message: t('nameRule') }]}>
            <Input data-testid="user-name" />
          </Form.Item>
          <Typography.Text strong>{t('roles')}</Typography.Text>
          <Typography.Paragraph type="secondary">{t('rolesHelp')}</Typography.Paragraph>
          {user ? null : (
            <Typography.Paragraph type="secondary" data-testid="password-generated-note">
              {t('passwordGenerated')}
            </Typography.Paragraph>
          )}
          <Form.List name="roles">
            {(fields, { add, remove }) => (
              <>
                {fields.map((field) => (
                  <div key={field.key} style={{ display: 'flex', gap: 12, alignItems: 'flex-end', flexWrap: 'wrap' }}>
                    <Form.Item label={t('program')} name={[field.name, 'program']} rules={[{ required: true, message: t('programRule') }]}>
                      <Select style={{ width: 240 }} options={programSelect} aria-label={t('program')} />
                    </Form.Item>
                    <Form.Item label={t('role')} name={[field.name, 'role']} rules={[{ required: true }]}>
                      <Select style={{ width: 160 }} options={ROLES.map((r) => ({ value: r, label: t(`layout:roles.${r}`) }))} aria-label={t('role')} />
                    </Form.Item>
                    <Form.Item>
                      <Button type="link" danger onClick={() => remove(field.name)}>
                        {t('removeRole')}
                      </Button>
                    </Form.Item>
                  </div>
                ))}
                <div>
                  <Button onClick={() => add({ program: firstProgram, role: 'viewer' })}>{t('addRole')}</Button>
                </div>
              </>
            )}
          </Form.List>
          <Typography.Paragraph type="secondary" style={{ marginTop: 12 }}>
            {t('roleSummary')}
          </Typography.Paragraph>
        </Form>
      </Modal>
    </ConfigProvider>
  );
}
