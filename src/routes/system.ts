import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from 'typebox';
import type { App } from '../shared/http.ts';
import { registry } from '../shared/metrics.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Operations'];

export async function systemRoutes(app: App, { db }: AppDeps) {
  const migrationFiles = (await readdir(join(import.meta.dirname, '../db/migrations'))).filter((f) => f.endsWith('.sql')).length;

  app.get('/healthz', {
    schema: { tags, summary: 'Liveness', operationId: 'healthz', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    schema: {
      tags, summary: 'Readiness: the database answers and is migrated', operationId: 'readyz', security: [],
      response: {
        200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }),
        503: Type.Object({ status: Type.Literal('unavailable'), database: Type.String(), reason: Type.String() }),
      },
    },
  }, async (_request, reply) => {
    try {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migration');
      if (row!.n < migrationFiles) return reply.code(503).send({ status: 'unavailable', database: db.kind, reason: 'migrations pending' });
      return { status: 'ready' as const, database: db.kind };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', database: db.kind, reason: (err as Error).message });
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
