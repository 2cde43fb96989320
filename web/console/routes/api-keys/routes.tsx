import type { RouteObject } from 'react-router';

export const apiKeyRoutes: RouteObject[] = [{ path: 'api-keys', lazy: async () => ({ Component: (await import('./list-page.tsx')).default }) }];
