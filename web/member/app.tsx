// The member centre: providers (antd-mobile's locale, TanStack Query) and the routes under /m. The
// home screen is in the entry chunk; the other pages load when first opened.
import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ConfigProvider } from 'antd-mobile';
import enUS from 'antd-mobile/es/locales/en-US';
import zhCN from 'antd-mobile/es/locales/zh-CN';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { createBrowserRouter, type RouteObject, RouterProvider } from 'react-router';
import { ApiError } from '../shared/api.ts';
import { Loading, NotFoundPage, Shell } from './components/shell.tsx';
import HomePage from './routes/home/home-page.tsx';
import { onSessionChange, session } from './session.ts';

export const queryClient = new QueryClient({
  queryCache: new QueryCache({
    // an expired or refused member token ends the session: the sign-in screen says to reopen the link
    onError: (error) => {
      if (error instanceof ApiError && error.status === 401) session.signOut('expired');
    },
  }),
  defaultOptions: {
    queries: {
      // a 4xx will not get better by asking again; a network error may
      retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
      staleTime: 30_000,
    },
  },
});

// another member's data must never show: a new token (a link opened in the same tab, a demo
// sign-in) or none starts from nothing
let sessionToken = session.token;
onSessionChange(() => {
  if (session.token === sessionToken) return;
  sessionToken = session.token;
  // signed out: the pages unmount; another token: the pages on screen load the new member's data
  if (sessionToken === null) queryClient.removeQueries({ queryKey: ['me'] });
  else void queryClient.resetQueries({ queryKey: ['me'] });
});

export const routes: RouteObject[] = [
  {
    path: '/',
    Component: Shell,
    HydrateFallback: Loading,
    children: [
      { index: true, Component: HomePage, handle: { tab: 'home' } },
      { path: 'history', lazy: async () => ({ Component: (await import('./routes/history/history-page.tsx')).default }), handle: { tab: 'history' } },
      { path: 'expiry', lazy: async () => ({ Component: (await import('./routes/expiry/expiry-page.tsx')).default }), handle: { tab: 'expiry' } },
      { path: 'tier', lazy: async () => ({ Component: (await import('./routes/tiers/tier-page.tsx')).default }), handle: { tab: 'tier' } },
      { path: 'rewards', lazy: async () => ({ Component: (await import('./routes/rewards/rewards-page.tsx')).default }), handle: { tab: 'rewards' } },
      {
        path: 'redemptions',
        lazy: async () => ({ Component: (await import('./routes/rewards/redemptions-page.tsx')).default }),
        handle: { tab: 'redemptions', back: '/rewards' },
      },
      {
        path: 'lottery',
        lazy: async () => ({ Component: (await import('./routes/rewards/lottery-page.tsx')).default }),
        handle: { tab: 'lottery', back: '/rewards' },
      },
      {
        path: 'lottery/draws/:drawId',
        lazy: async () => ({ Component: (await import('./routes/rewards/verification-page.tsx')).default }),
        handle: { tab: 'verification', back: '/lottery' },
      },
      { path: 'me', lazy: async () => ({ Component: (await import('./routes/settings/settings-page.tsx')).default }), handle: { tab: 'me' } },
      { path: '*', Component: NotFoundPage },
    ],
  },
];

const router = createBrowserRouter(routes, { basename: '/m' });

export function App() {
  const { t, i18n } = useTranslation('member');
  const title = t('title');
  useEffect(() => {
    document.title = title;
  }, [title]);
  return (
    <ConfigProvider locale={i18n.language === 'en' ? enUS : zhCN}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </ConfigProvider>
  );
}
