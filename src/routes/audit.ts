import { Type } from 'typebox';
import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import { runAudit } from '../modules/audit/index.ts';
import { getProgram } from '../modules/programs/index.ts';
import type { App } from '../shared/http.ts';
import { problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

export const AuditReport = Type.Object({
  object: Type.Literal('audit'),
  ok: Type.Boolean(),
  program_id: Type.Union([Type.String(), Type.Null()]),
  checked: Type.Object({ members: Type.Integer(), lots: Type.Integer(), entries: Type.Integer(), holds: Type.Integer() }),
  violations: Type.Array(
    Type.Object({
      check: Type.String(),
      member_id: Type.Union([Type.String(), Type.Null()]),
      detail: Type.Record(Type.String(), Type.Unknown(), {
        description: 'What disagrees; point totals as for accounts (a number when exact, else a decimal string).',
      }),
    }),
  ),
  accounts: Type.Array(
    Type.Object({
      program_id: Type.String(),
      account: Type.String(),
      balance: Type.Union([Type.Integer(), Type.String({ pattern: '^-?[0-9]+$' })], {
        description:
          'Exact: a JSON number when it is at most 2^53 − 1 in magnitude, otherwise the decimal digits as a string (a sum over a program may pass what a JSON number carries exactly).',
      }),
    }),
  ),
  as_of: Type.String({ format: 'date-time' }),
});

export async function auditRoutes(app: App, { db, clock }: AppDeps) {
  app.get(
    '/v1/audit',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['Operations'],
        summary: 'Audit the ledger',
        operationId: 'auditLedger',
        description:
          "Checks every invariant of the ledger and lists what is wrong (ok: true when all holds). Also returns each account's balance. A key limited to programs audits only its programs.",
        querystring: Type.Object({ program_id: Type.Optional(Type.String({ pattern: '^prg_[A-Za-z0-9_]{1,64}$' })) }, { additionalProperties: false }),
        response: { 200: AuditReport, ...problems(404) },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      if (request.query.program_id) {
        requireProgram(scope, request.query.program_id);
        await getProgram(db, request.query.program_id);
      }
      if (request.query.program_id || scope === null) return runAudit(db, clock.now(), request.query.program_id ?? null);
      // a key limited to programs audits its programs: each one's report, put together
      const now = clock.now();
      const reports = [];
      for (const programId of [...scope].sort()) reports.push(await runAudit(db, now, programId));
      return {
        ...reports[0]!,
        ok: reports.every((r) => r.ok),
        program_id: null,
        checked: {
          members: reports.reduce((s, r) => s + r.checked.members, 0),
          lots: reports.reduce((s, r) => s + r.checked.lots, 0),
          entries: reports.reduce((s, r) => s + r.checked.entries, 0),
          holds: reports.reduce((s, r) => s + r.checked.holds, 0),
        },
        violations: reports.flatMap((r) => r.violations),
        accounts: reports.flatMap((r) => r.accounts),
      };
    },
  );
}
