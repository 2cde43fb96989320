import type { RouteObject } from 'react-router';

export const ruleRoutes: RouteObject[] = [
  { path: 'rules', lazy: async () => ({ Component: (await import('./list-page.tsx')).default }) },
  { path: 'rules/new', lazy: async () => ({ Component: (await import('./editor-page.tsx')).default }) },
  { path: 'rules/:ruleId', lazy: async () => ({ Component: (await import('./editor-page.tsx')).default }) },
];
