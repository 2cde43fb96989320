import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import { Dashboard, DashboardQuery, getDashboard } from '../modules/ledger/index.ts';
import { getProgram } from '../modules/programs/index.ts';
import type { App } from '../shared/http.ts';
import { IdParam, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

/**
 * GET /v1/programs/{programId}/dashboard: the ledger's figures for a program (module ledger,
 * ledger.dashboard.ts), from its rollups, never a scan of the entries. The route reads the
 * program's time zone, currency and redemption rate through programs and hands them to the ledger.
 */
export async function dashboardRoutes(app: App, { db, clock }: AppDeps) {
  app.get(
    '/v1/programs/:programId/dashboard',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['Dashboard'],
        summary: "A program's dashboard",
        operationId: 'getDashboard',
        description:
          'Points issued, redeemed, expired and adjusted (all time and over the window), what is outstanding now (available + pending + held) and its value at the redemption rate, members active and earning in the last 30 days, the daily series of the window (program-local days, zeros filled) and what expires in the next 30/60/90 days. From rollups kept as the ledger is written (docs/ledger.md, "Dashboard rollups"); docs/console.md says what each figure means.',
        params: IdParam('programId', 'prg'),
        querystring: DashboardQuery,
        response: { 200: Dashboard, ...problems(404) },
      },
    },
    async (request) => {
      const { programId } = request.params;
      requireProgram(scopeOf(request), programId);
      const program = await getProgram(db, programId);
      return getDashboard(db, program, clock.now(), request.query.days ?? 90);
    },
  );
}
