// The frame of every page: a column centred on wide screens (at most 480 px), the page's title
// (with a back button to the route's `handle.back`, else home),
// the page, and the tab bar (links, so a keyboard reaches them too). Without a session it shows the sign-in screen instead.
import { Button, SpinLoading } from 'antd-mobile';
import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Outlet, useMatches, useNavigate } from 'react-router';
import { useSession } from '../session.ts';
import { Icon } from './icons.tsx';

const SignInPage = lazy(() => import('../routes/sign-in/sign-in-page.tsx'));

const TABS = [
  { key: 'home', path: '/', icon: 'home' },
  { key: 'rewards', path: '/rewards', icon: 'gift' },
  { key: 'history', path: '/history', icon: 'history' },
  { key: 'expiry', path: '/expiry', icon: 'calendar' },
  { key: 'me', path: '/me', icon: 'me' },
] as const;

export function Loading() {
  const { t } = useTranslation();
  return (
    <div className="m-center" aria-busy="true">
      <SpinLoading color="primary" aria-label={t('common:loading')} />
    </div>
  );
}

export function Shell() {
  const { token } = useSession();
  const { t } = useTranslation('member');
  const navigate = useNavigate();
  const matches = useMatches();
  const handle = matches.at(-1)?.handle as { tab?: string; back?: string } | undefined;
  const tab = handle?.tab;

  if (!token) {
    return (
      <div className="m-app">
        <main className="m-page">
          <Suspense fallback={<Loading />}>
            <SignInPage />
          </Suspense>
        </main>
      </div>
    );
  }

  const title = tab && tab !== 'home' ? t(`tabs.${tab}`) : null;
  return (
    <div className="m-app">
      {title && (
        <header className="m-navbar">
          <button type="button" className="m-back" onClick={() => navigate(handle?.back ?? '/')}>
            <span aria-hidden="true">‹ </span>
            {t('common:back')}
          </button>
          <h1 className="m-navbar-title">{title}</h1>
        </header>
      )}
      <main className="m-page">
        <Outlet />
      </main>
      <nav className="m-tabbar" aria-label={t('title')}>
        {TABS.map((x) => (
          <Link key={x.key} to={x.path} className={`m-tab${x.key === tab ? ' m-tab-active' : ''}`} aria-current={x.key === tab ? 'page' : undefined}>
            <Icon name={x.icon} />
            <span>{t(`tabs.${x.key}`)}</span>
          </Link>
        ))}
      </nav>
    </div>
  );
}

export function NotFoundPage() {
  const { t } = useTranslation('member');
  const navigate = useNavigate();
  return (
    <div className="m-card m-center-text">
      <h1 className="m-h1">{t('pageNotFound')}</h1>
      <Button color="primary" onClick={() => navigate('/')}>
        {t('backHome')}
      </Button>
    </div>
  );
}
