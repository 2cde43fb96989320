import type { RouteObject } from 'react-router';

export const auditLogRoutes: RouteObject[] = [{ path: 'audit-log', lazy: async () => ({ Component: (await import('./list-page.tsx')).default }) }];
