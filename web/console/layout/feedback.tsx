// How every page shows loading, errors and emptiness: an error shows the API's own message and
// its stable code; an empty state says what to do next.
import { Alert, Button, Empty, Result, Spin } from 'antd';
import type { TFunction } from 'i18next';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError } from '../../shared/api.ts';
import { errorHeadline, fieldMessage } from '../../shared/i18n.ts';

/**
 * The message and code of an error from the API (or of a network failure): the code's line in the
 * viewer's language (errorHeadline), then the field errors (their paths tell an operator what to
 * fix, fieldMessage says what is wrong in the viewer's language), or else the API's message.
 */
export function describeError(error: unknown, t: TFunction): { message: string; code?: string } {
  if (error instanceof ApiError) {
    if (error.code === 'NETWORK_ERROR') return { message: t('common:networkError'), code: error.code };
    const local = errorHeadline(error.code, t);
    const fields = error.problem.errors?.map((e) => `${e.path || e.location || ''} ${fieldMessage(e, t)}`.trim()).join(t('common:errorsSeparator'));
    // field errors say it all, in the viewer's language; the API's own sentence is their English
    if (fields) return { message: t('common:errorWithDetail', { headline: local ?? error.message, detail: fields }), code: error.code };
    return { message: local ? t('common:errorWithDetail', { headline: local, detail: error.message }) : error.message, code: error.code };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

export function ErrorAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const { message, code } = describeError(error, t);
  return (
    <Alert
      type="error"
      showIcon
      title={message}
      description={code ? t('common:errorCode', { code }) : undefined}
      action={
        onRetry ? (
          <Button size="small" onClick={onRetry}>
            {t('common:retry')}
          </Button>
        ) : undefined
      }
      data-testid="api-error"
      data-code={code}
    />
  );
}

export function PageLoading() {
  const { t } = useTranslation();
  return (
    <div style={{ padding: 48, textAlign: 'center' }}>
      <Spin description={t('common:loading')} />
    </div>
  );
}

/** An empty state that says what to do next, with an optional action. */
export function EmptyState({ description, action }: { description: ReactNode; action?: ReactNode }) {
  return (
    <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={description}>
      {action}
    </Empty>
  );
}

export function NotFound() {
  const { t } = useTranslation();
  return (
    <Result
      status="404"
      title="404"
      subTitle={t('common:notFound')}
      extra={
        <Link to="/">
          <Button type="primary">{t('common:back')}</Button>
        </Link>
      }
    />
  );
}
