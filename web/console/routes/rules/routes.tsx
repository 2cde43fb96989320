import type { RouteObject } from 'react-router';

export const ruleRoutes: RouteObject[] = [{ path: 'rules', lazy: async () => ({ Component: (await import('./page.tsx')).default }) }];
