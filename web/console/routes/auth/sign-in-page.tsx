// /console/sign-in: email and password, the language, the API's own error (message and code);
// after signing in, back to ?next= (a console path) or the console's home.
import { useQueryClient } from '@tanstack/react-query';
import { Button, Card, Form, Input, Select, Space, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { setCsrfToken, unwrap } from '../../../shared/api.ts';
import type { Locale } from '../../../shared/format.ts';
import { LOCALES, setLocale } from '../../../shared/i18n.ts';
import { ErrorAlert } from '../../layout/feedback.tsx';
import { api, type ConsoleSession, SESSION_KEY } from '../../layout/session.tsx';

/** Only paths inside the console: never another origin (`//evil`, `https:`). */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

interface Fields {
  email: string;
  password: string;
}

export default function SignInPage() {
  const { t, i18n } = useTranslation('auth');
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  // the sign-in page is outside the session guard: a session already known goes straight on
  const session = queryClient.getQueryData<ConsoleSession | null>(SESSION_KEY);
  const [error, setError] = useState<unknown>();
  const [pending, setPending] = useState(false);
  const next = safeNext(params.get('next'));

  if (session) return <Navigate to={next} replace />;

  const submit = async (fields: Fields) => {
    setPending(true);
    setError(undefined);
    try {
      const signedIn = await unwrap(api.POST('/v1/console/session', { body: { email: fields.email.trim(), password: fields.password } }));
      setCsrfToken(signedIn.csrf_token);
      queryClient.setQueryData(SESSION_KEY, signedIn);
      await queryClient.invalidateQueries({ queryKey: SESSION_KEY });
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <main style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', background: '#f0f2f5', padding: 16 }}>
      <Card style={{ width: 400, maxWidth: '100%' }}>
        <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
          <Space style={{ width: '100%', justifyContent: 'space-between' }}>
            <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
              {t('title')}
            </Typography.Title>
            <Select
              aria-label={t('common:language')}
              size="small"
              value={i18n.language as Locale}
              onChange={(locale: Locale) => setLocale(locale)}
              options={LOCALES.map((l) => ({ value: l, label: t(`common:languages.${l}`) }))}
              style={{ width: 110 }}
            />
          </Space>
          <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
            {t('description')}
          </Typography.Paragraph>
          {error ? <ErrorAlert error={error} /> : null}
          <Form<Fields> layout="vertical" onFinish={submit} requiredMark={false} data-testid="sign-in-form">
            <Form.Item label={t('email')} name="email" rules={[{ required: true, message: t('emailRequired') }]}>
              <Input type="email" autoComplete="username" autoFocus data-testid="sign-in-email" />
            </Form.Item>
            <Form.Item label={t('password')} name="password" rules={[{ required: true, message: t('passwordRequired') }]}>
              <Input.Password autoComplete="current-password" data-testid="sign-in-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={pending} data-testid="sign-in-submit">
              {t('submit')}
            </Button>
          </Form>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('firstTime')}
          </Typography.Text>
        </Space>
      </Card>
    </main>
  );
}
