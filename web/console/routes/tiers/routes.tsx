import type { RouteObject } from 'react-router';

export const tierRoutes: RouteObject[] = [
  { path: 'tiers', lazy: async () => ({ Component: (await import('./ladder-page.tsx')).default }) },
  { path: 'tiers/history', lazy: async () => ({ Component: (await import('./history-page.tsx')).default }) },
];
