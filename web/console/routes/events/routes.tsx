import type { RouteObject } from 'react-router';

export const eventRoutes: RouteObject[] = [{ path: 'events', lazy: async () => ({ Component: (await import('./list-page.tsx')).default }) }];
