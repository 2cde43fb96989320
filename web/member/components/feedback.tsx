// Loading, errors and emptiness in the member centre: an error shows what it means in the member's
// language (the API's own message too, in English) and its stable code, with a retry; an empty
// state says what to do next.
import { useQueryClient } from '@tanstack/react-query';
import { Button, ErrorBlock, PullToRefresh, Skeleton } from 'antd-mobile';
import i18next, { type TFunction } from 'i18next';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../shared/api.ts';
import { errorHeadline } from '../../shared/i18n.ts';

/**
 * The message and code of an error from the API (or of a network failure). A code with a line in
 * the viewer's language (common:errors.<CODE>, as in the console) shows that line; the API's own
 * English message follows it in English only (a shopper reading Chinese gets the line alone), and
 * is shown by itself for a code without one.
 */
export function describeError(error: unknown, t: TFunction): { message: string; code?: string } {
  if (error instanceof ApiError) {
    if (error.code === 'NETWORK_ERROR') return { message: t('common:networkError'), code: error.code };
    const local = errorHeadline(error.code, t);
    if (!local) return { message: error.message, code: error.code };
    return { message: i18next.language === 'en' && error.message ? `${local}: ${error.message}` : local, code: error.code };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

export function ErrorView({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const { message, code } = describeError(error, t);
  return (
    <div className="m-card" data-testid="api-error" data-code={code} role="alert">
      <ErrorBlock
        status="default"
        title={t('common:errorTitle')}
        description={
          <>
            <div>{message}</div>
            {code && <div className="m-muted">{t('common:errorCode', { code })}</div>}
          </>
        }
      >
        {onRetry && (
          <Button size="small" color="primary" fill="outline" onClick={onRetry}>
            {t('common:retry')}
          </Button>
        )}
      </ErrorBlock>
    </div>
  );
}

export function CardSkeleton({ lines = 3 }: { lines?: number }) {
  const { t } = useTranslation();
  return (
    <div className="m-card" role="status" aria-busy="true" aria-label={t('common:loading')}>
      <Skeleton.Title animated />
      <Skeleton.Paragraph lineCount={lines} animated />
    </div>
  );
}

export function EmptyNote({ children }: { children: ReactNode }) {
  return <p className="m-empty">{children}</p>;
}

/** A page that pulling down reloads: everything of the member's (the queries under ['me']). */
export function Refreshable({ children }: { children: ReactNode }) {
  const { t } = useTranslation('home');
  const queryClient = useQueryClient();
  return (
    <PullToRefresh
      onRefresh={() => queryClient.invalidateQueries({ queryKey: ['me'] })}
      pullingText={t('pull')}
      canReleaseText={t('release')}
      refreshingText={t('refreshing')}
      completeText={t('refreshed')}
    >
      {children}
    </PullToRefresh>
  );
}
