// The sign-in screen, shown without a session. Members come from the merchant's app with a link
// that carries their token; a refused token says to reopen it there. On a server running the demo,
// a visitor picks a demo member instead (GET /v1/demo/members, POST /v1/demo/member-token).
import { useMutation, useQuery } from '@tanstack/react-query';
import { Button, ErrorBlock, Toast } from 'antd-mobile';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, unwrap } from '../../../shared/api.ts';
import { formatPoints, pointNameOf } from '../../../shared/format.ts';
import { Choice } from '../../components/choice.tsx';
import { describeError, ErrorView } from '../../components/feedback.tsx';
import { LanguageSwitch } from '../../components/language-switch.tsx';
import { useLocale } from '../../components/queries.ts';
import { publicApi, session, useSession } from '../../session.ts';

export default function SignInPage() {
  const { t } = useTranslation('sign-in');
  const { reason } = useSession();
  return (
    <div data-testid="sign-in">
      <div className="m-lang">
        <LanguageSwitch />
      </div>
      <section className="m-card">
        <h1 className="m-h1">{reason === 'expired' ? t('expiredTitle') : reason === 'signed_out' ? t('signedOutTitle') : t('title')}</h1>
        <p>{reason === 'expired' ? t('expired') : t('fromApp')}</p>
      </section>
      <DemoSignIn />
    </div>
  );
}

function DemoSignIn() {
  const { t } = useTranslation('sign-in');
  const locale = useLocale();
  const [programId, setProgramId] = useState<string | undefined>(undefined);
  const members = useQuery({
    queryKey: ['demo', 'members', programId ?? 'first'],
    queryFn: () => unwrap(publicApi.GET('/v1/demo/members', { params: { query: programId ? { program_id: programId } : {} } })),
    placeholderData: (previous) => previous,
    retry: false,
  });
  const signIn = useMutation({
    mutationFn: (body: { program_id: string; external_id: string }) => unwrap(publicApi.POST('/v1/demo/member-token', { body })),
    onSuccess: (minted) => session.signIn(minted.token),
    onError: (error) => {
      const { message, code } = describeError(error, t);
      Toast.show({
        icon: 'fail',
        content: code ? (
          <>
            {message}
            <br />
            {t('common:errorCode', { code })}
          </>
        ) : (
          message
        ),
      });
    },
  });

  // without the demo the routes do not exist: members come from the merchant's app only
  if (members.error instanceof ApiError && members.error.status === 404 && !programId) {
    return (
      <section className="m-card" data-testid="no-demo">
        <ErrorBlock status="empty" title={t('noDemoTitle')} description={t('noDemo')} />
      </section>
    );
  }
  if (members.error) return <ErrorView error={members.error} onRetry={() => void members.refetch()} />;
  if (!members.data) return <section className="m-card m-muted">{t('common:loading')}</section>;
  const list = members.data;
  return (
    <section className="m-card" data-testid="demo-sign-in" aria-labelledby="demo-title">
      <h2 id="demo-title" className="m-h2">
        {t('demoTitle')}
      </h2>
      <p className="m-muted">{t('demoHint')}</p>
      <Choice
        label={t('programLabel')}
        testId="demo-programs"
        value={list.program.id}
        options={list.programs.map((p) => ({ label: p.name, value: p.id }))}
        onChange={setProgramId}
      />
      <ul className="m-members" aria-busy={members.isFetching}>
        {list.data.map((m) => (
          <li key={m.id}>
            <button
              type="button"
              className="m-member"
              data-testid="demo-member"
              disabled={signIn.isPending}
              onClick={() => signIn.mutate({ program_id: list.program.id, external_id: m.external_id })}
            >
              <span>
                <span className="m-member-name">{m.name ?? m.external_id}</span>
                {m.expires_soon && <span className="m-tag">{t('expiresSoon')}</span>}
                <span className="m-muted" style={{ display: 'block' }}>
                  {[m.phone, m.tier ? t('tier', { tier: m.tier }) : null].filter(Boolean).join(' · ')}
                </span>
              </span>
              <span className="m-member-balance">
                {formatPoints(m.available, locale)}
                <span className="m-muted" style={{ display: 'block' }}>
                  {pointNameOf(list.program, locale)}
                </span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      {signIn.isPending && (
        <Button block loading fill="none">
          {t('signingIn')}
        </Button>
      )}
    </section>
  );
}
