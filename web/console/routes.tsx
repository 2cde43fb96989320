// The console's routes, one module per area (routes/<area>/routes.tsx). An area's pages are loaded
// when first visited (code-split by page). Program pages live under /console/<programId>/….
import { Navigate, type RouteObject } from 'react-router';
import { NotFound } from './layout/feedback.tsx';
import { ProgramHome, RequireSession, Shell } from './layout/shell.tsx';
import { accountRoutes } from './routes/account/routes.tsx';
import { apiKeyRoutes } from './routes/api-keys/routes.tsx';
import { auditLogRoutes } from './routes/audit-log/routes.tsx';
import { authRoutes } from './routes/auth/routes.tsx';
import { dashboardRoutes } from './routes/dashboard/routes.tsx';
import { eventRoutes } from './routes/events/routes.tsx';
import { memberRoutes } from './routes/members/routes.tsx';
import { rewardRoutes } from './routes/rewards/routes.tsx';
import { ruleRoutes } from './routes/rules/routes.tsx';
import { segmentRoutes } from './routes/segments/routes.tsx';
import { settingsRoutes } from './routes/settings/routes.tsx';
import { tierRoutes } from './routes/tiers/routes.tsx';
import { userRoutes } from './routes/users/routes.tsx';

export const routes: RouteObject[] = [
  ...authRoutes,
  {
    element: <RequireSession />,
    children: [
      {
        element: <Shell />,
        children: [
          { index: true, element: <ProgramHome /> },
          ...accountRoutes,
          ...userRoutes,
          {
            path: ':programId',
            children: [
              { index: true, element: <Navigate to="dashboard" replace /> },
              ...dashboardRoutes,
              ...memberRoutes,
              ...ruleRoutes,
              ...segmentRoutes,
              ...tierRoutes,
              ...rewardRoutes,
              ...eventRoutes,
              ...apiKeyRoutes,
              ...settingsRoutes,
              ...auditLogRoutes,
            ],
          },
        ],
      },
    ],
  },
  { path: '*', element: <NotFound /> },
];
