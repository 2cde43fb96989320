import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import { Dashboard, DashboardQuery, getDashboard } from '../modules/ledger/index.ts';
import { getProgram } from '../modules/programs/index.ts';
import { TopRewards, TopRewardsQuery, topRewards } from '../modules/rewards/index.ts';
import type { App } from '../shared/http.ts';
import { IdParam, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

/**
 * GET /v1/programs/{programId}/dashboard: the ledger's figures for a program (module ledger,
 * ledger.dashboard.ts), from its rollups, never a scan of the entries. The route reads the
 * program's time zone, currency and redemption rate through programs and hands them to the ledger.
 * GET …/dashboard/top-rewards: the rewards most redeemed in the same window (module rewards).
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

  app.get(
    '/v1/programs/:programId/dashboard/top-rewards',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['Dashboard'],
        summary: 'The most redeemed rewards',
        operationId: 'getTopRewards',
        description:
          'The rewards most redeemed over the dashboard\'s window (the `days` program-local days ending today), with the points they spent and how many members redeemed them; cancelled and rejected redemptions do not count. Lottery draws count as redemptions of their lottery (docs/rewards.md, "Top rewards").',
        params: IdParam('programId', 'prg'),
        querystring: TopRewardsQuery,
        response: { 200: TopRewards, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return topRewards(db, request.params.programId, request.query, clock.now());
    },
  );
}
