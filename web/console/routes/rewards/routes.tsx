import type { RouteObject } from 'react-router';

const redemptions = async () => ({ Component: (await import('./redemptions-page.tsx')).default });
const editor = async () => ({ Component: (await import('./editor-page.tsx')).default });

export const rewardRoutes: RouteObject[] = [
  { path: 'rewards', lazy: async () => ({ Component: (await import('./list-page.tsx')).default }) },
  { path: 'rewards/new', lazy: editor },
  { path: 'rewards/donations', lazy: async () => ({ Component: (await import('./donations-page.tsx')).default }) },
  { path: 'rewards/:rewardId', lazy: editor },
  { path: 'redemptions', lazy: redemptions },
  { path: 'redemptions/:redemptionId', lazy: redemptions },
];
