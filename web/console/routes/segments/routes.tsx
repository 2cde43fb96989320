import type { RouteObject } from 'react-router';

export const segmentRoutes: RouteObject[] = [
  { path: 'segments', lazy: async () => ({ Component: (await import('./list-page.tsx')).default }) },
  { path: 'segments/new', lazy: async () => ({ Component: (await import('./editor-page.tsx')).default }) },
  { path: 'segments/:segmentId', lazy: async () => ({ Component: (await import('./segment-page.tsx')).default }) },
  { path: 'segments/:segmentId/edit', lazy: async () => ({ Component: (await import('./editor-page.tsx')).default }) },
];
