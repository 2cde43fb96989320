import { Type } from 'typebox';
import { type App, type AppDeps } from '../../shared/http.ts';
import { problems } from '../../shared/schemas.ts';
import { getProgram } from '../programs/index.ts';
import { runAudit } from './audit.service.ts';

export const AuditReport = Type.Object({
  object: Type.Literal('audit'),
  ok: Type.Boolean(),
  program_id: Type.Union([Type.String(), Type.Null()]),
  checked: Type.Object({ members: Type.Integer(), lots: Type.Integer(), entries: Type.Integer(), holds: Type.Integer() }),
  violations: Type.Array(Type.Object({ check: Type.String(), member_id: Type.Union([Type.String(), Type.Null()]), detail: Type.Record(Type.String(), Type.Unknown()) })),
  accounts: Type.Array(Type.Object({ program_id: Type.String(), account: Type.String(), balance: Type.Integer() })),
  as_of: Type.String({ format: 'date-time' }),
});

export async function auditRoutes(app: App, { db, clock }: AppDeps) {
  app.get('/v1/audit', {
    config: { scope: 'admin' },
    schema: {
      tags: ['Operations'], summary: 'Audit the ledger', operationId: 'auditLedger',
      description: 'Checks every invariant of the ledger and lists what is wrong (ok: true when all holds). Also returns each account\'s balance.',
      querystring: Type.Object({ program_id: Type.Optional(Type.String({ pattern: '^prg_[A-Za-z0-9_]{1,64}$' })) }, { additionalProperties: false }),
      response: { 200: AuditReport, ...problems(404) },
    },
  }, async (request) => {
    if (request.query.program_id) await getProgram(db, request.query.program_id);
    return runAudit(db, clock.now(), request.query.program_id ?? null);
  });
}
