import { Type } from 'typebox';
import { readSchemaFiles, schemaStatus } from '../db/migrate.ts';
import type { App } from '../shared/http.ts';
import { registry } from '../shared/metrics.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Operations'];

export async function systemRoutes(app: App, { db }: AppDeps) {
  // this version's SQL, read once: the files do not change under a running server
  const schemaFiles = await readSchemaFiles();

  app.get(
    '/healthz',
    {
      schema: { tags, summary: 'Liveness', operationId: 'healthz', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags,
        summary: 'Readiness: the database answers and is migrated',
        operationId: 'readyz',
        security: [],
        response: {
          200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }),
          503: Type.Object({ status: Type.Literal('unavailable'), database: Type.String(), reason: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        const schema = await schemaStatus(db, schemaFiles);
        if (schema.pending.length > 0) return reply.code(503).send({ status: 'unavailable', database: db.kind, reason: 'migrations pending' });
        if (schema.functionsStale) return reply.code(503).send({ status: 'unavailable', database: db.kind, reason: 'SQL functions out of date' });
        return { status: 'ready' as const, database: db.kind };
      } catch (err) {
        return reply.code(503).send({ status: 'unavailable', database: db.kind, reason: (err as Error).message });
      }
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
