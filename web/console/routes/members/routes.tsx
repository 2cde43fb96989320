import type { RouteObject } from 'react-router';

export const memberRoutes: RouteObject[] = [
  { path: 'members', lazy: async () => ({ Component: (await import('./list-page.tsx')).default }) },
  { path: 'members/:memberId', lazy: async () => ({ Component: (await import('./member-page.tsx')).default }) },
];
