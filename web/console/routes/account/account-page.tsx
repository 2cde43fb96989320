// /console/account: who is signed in, their roles (per program or every program), and the password
// form; changing the password signs out every other session of the user.
import { Alert, App, Button, Card, Descriptions, Form, Input, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { unwrap } from '../../../shared/api.ts';
import { describeError, ErrorAlert } from '../../layout/feedback.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { usePrograms } from '../../layout/shell.tsx';
import { TAG_COLORS } from './tag-colors.ts';

interface PasswordFields {
  current_password: string;
  new_password: string;
  repeat: string;
}

export default function AccountPage() {
  const { t } = useTranslation('account');
  const { session } = useSession();
  const programs = usePrograms();
  const { message } = App.useApp();
  const [form] = Form.useForm<PasswordFields>();
  const [error, setError] = useState<unknown>();
  const [pending, setPending] = useState(false);
  if (!session) return null;
  const programName = (id: string | null) => (id === null ? t('allPrograms') : (programs.data?.data.find((p) => p.id === id)?.name ?? id));

  const submit = async (fields: PasswordFields) => {
    setPending(true);
    setError(undefined);
    try {
      await unwrap(api.POST('/v1/console/password', { body: { current_password: fields.current_password, new_password: fields.new_password } }));
      form.resetFields();
      message.success(t('changed'));
    } catch (err) {
      setError(err);
      message.error(describeError(err, t).message);
    } finally {
      setPending(false);
    }
  };

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%', maxWidth: 720 }}>
      <div>
        <Typography.Title level={1} style={{ fontSize: 24 }}>
          {t('title')}
        </Typography.Title>
        <Typography.Paragraph type="secondary">{t('description')}</Typography.Paragraph>
      </div>
      <Card
        title={
          <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
            {t('profile')}
          </Typography.Title>
        }
      >
        <Descriptions column={1} data-testid="account-profile">
          <Descriptions.Item label={t('name')}>{session.user.name}</Descriptions.Item>
          <Descriptions.Item label={t('email')}>{session.user.email}</Descriptions.Item>
          <Descriptions.Item label={t('roles')}>
            <Space wrap>
              {session.access.map((a) => (
                <Tag key={a.program_id ?? '*'} color={a.program_id === null ? TAG_COLORS.orange : TAG_COLORS.blue} variant="solid">
                  {programName(a.program_id)} · {t(`layout:roles.${a.role}`)}
                </Tag>
              ))}
            </Space>
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card
        title={
          <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
            {t('changePassword')}
          </Typography.Title>
        }
      >
        <Space orientation="vertical" style={{ width: '100%' }}>
          <Alert type="info" showIcon title={t('othersSignedOut')} />
          {error ? <ErrorAlert error={error} /> : null}
          <Form<PasswordFields> form={form} layout="vertical" onFinish={submit} style={{ maxWidth: 400 }} data-testid="password-form">
            <Form.Item label={t('currentPassword')} name="current_password" rules={[{ required: true, message: t('required') }]}>
              <Input.Password autoComplete="current-password" data-testid="current-password" />
            </Form.Item>
            <Form.Item
              label={t('newPassword')}
              name="new_password"
              extra={t('passwordRule')}
              rules={[
                { required: true, message: t('required') },
                { min: 10, max: 256, message: t('passwordRule') },
              ]}
            >
              <Input.Password autoComplete="new-password" data-testid="new-password" />
            </Form.Item>
            <Form.Item
              label={t('repeatPassword')}
              name="repeat"
              dependencies={['new_password']}
              rules={[
                { required: true, message: t('required') },
                ({ getFieldValue }) => ({
                  validator: (_, value) => (!value || value === getFieldValue('new_password') ? Promise.resolve() : Promise.reject(new Error(t('mismatch')))),
                }),
              ]}
            >
              <Input.Password autoComplete="new-password" data-testid="repeat-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" loading={pending} data-testid="change-password-submit">
              {t('submit')}
            </Button>
          </Form>
        </Space>
      </Card>
    </Space>
  );
}
