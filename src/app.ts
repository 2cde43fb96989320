import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions } from 'fastify';
import type { Config } from './config.ts';
import type { Db } from './db/db.ts';
import { DEMO_BEAUTY_PROGRAM_ID, DEMO_PROGRAM_ID } from './demo/seed-demo.ts';
import { ApiKeyVerifier } from './modules/api-keys/index.ts';
import { RuleCache } from './modules/rules/index.ts';
import { registerAuth } from './plugins/auth.ts';
import { registerChangeLog } from './plugins/change-log.ts';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  MAX_PARAM_LENGTH,
  registerErrorHandling,
  registerHostCheck,
  registerQueryChecks,
  registerTextChecks,
} from './plugins/errors.ts';
import { registerJsonBody } from './plugins/json-body.ts';
import { registerMemberAuth } from './plugins/member-auth.ts';
import { registerRateLimit } from './plugins/rate-limit.ts';
import { registerWebApps } from './plugins/web.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { auditRoutes } from './routes/audit.ts';
import { changeLogReadRoutes, changeLogRoutes } from './routes/change-log.ts';
import { checkoutRoutes } from './routes/checkout.ts';
import { consoleRoutes } from './routes/console.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { demoRoutes } from './routes/demo.ts';
import type { AppDeps } from './routes/deps.ts';
import { eventRoutes } from './routes/events.ts';
import { ledgerRoutes } from './routes/ledger.ts';
import { lotteryRoutes } from './routes/lottery.ts';
import { memberTokenRoutes, meRoutes } from './routes/me.ts';
import { memberTokenSettingsRoutes } from './routes/member-token-settings.ts';
import { memberRoutes } from './routes/members.ts';
import { programRoutes } from './routes/programs.ts';
import { rewardCodeRoutes } from './routes/reward-codes.ts';
import { rewardRoutes } from './routes/rewards.ts';
import { ruleRoutes } from './routes/rules.ts';
import { segmentRoutes } from './routes/segments.ts';
import { systemRoutes } from './routes/system.ts';
import { tierRoutes } from './routes/tiers.ts';
import type { Clock } from './shared/clock.ts';
import { type App, emptyBodyIsObject } from './shared/http.ts';
import { createAjv } from './shared/json-schema.ts';
import { httpRequestDuration } from './shared/metrics.ts';
import { declareHttpProblems } from './shared/schemas.ts';

export interface BuildOptions {
  config: Readonly<Config>;
  db: Db;
  clock: Clock;
  logger?: FastifyServerOptions['logger'];
}

/** Builds the whole API as a Fastify instance, without listening (server.ts listens; tests inject). */
export async function buildApp(options: BuildOptions): Promise<App> {
  const { config, db, clock } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w\-.]{1,128}$/.test(given) ? given : `req_${randomBytes(8).toString('hex')}`;
    },
    requestIdHeader: false,
    // JIFEN_TRUST_PROXY: request.ip and request.protocol from X-Forwarded-For / X-Forwarded-Proto
    trustProxy: config.trustProxy,
    bodyLimit: 1_048_576,
    // Path parameters are checked by their schemas (ids, external ids of up to 128 characters);
    // the router only bounds them, above any schema's limit. Longer: 414 URI_TOO_LONG.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // What the router and Node's HTTP parser refuse is problem+json too.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // a request without Host is refused by registerHostCheck, as problem+json, not by Node with a bare 400
    http: { requireHostHeader: false },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // bodies strictly (no coercion, unknown fields refused); query strings, params and headers are
  // text, so they coerce (shared/json-schema.ts)
  const body = createAjv('body');
  const text = createAjv('text');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema));

  // JSON only: a text/plain body is 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  registerJsonBody(app);
  registerErrorHandling(app);
  registerHostCheck(app);
  registerTextChecks(app);
  registerQueryChecks(app);
  // Every /v1 operation declares what the HTTP layer may answer (before swagger reads the routes),
  // and a body that may be left out (emptyBodyIsObject) is not declared required.
  const optionalBodies = new Set<string>();
  app.addHook('onRoute', (route) => {
    declareHttpProblems(route);
    const hooks = [route.preValidation].flat();
    const operationId = (route.schema as { operationId?: string } | undefined)?.operationId;
    if (operationId && hooks.includes(emptyBodyIsObject)) optionalBodies.add(operationId);
  });
  const verifier = new ApiKeyVerifier(db);
  registerAuth(app, verifier, { db, clock });
  registerMemberAuth(app, db, clock);
  // the audit log of changes: one row per successful write, before the answer is sent
  registerChangeLog(app, db, clock, changeLogRoutes({ db, clock }));

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    httpRequestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unknown', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Jifen API',
        version: '1',
        description:
          'Jifen (积分) is a loyalty points engine. Every write is idempotent (send an Idempotency-Key), points are whole ' +
          'numbers, and errors are RFC 9457 problem+json with a stable `code`. Authenticate with `Authorization: Bearer <API key>`.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (jf_…) with the scope the operation needs.' },
          memberToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              'A member token (JWT) for /v1/me: minted with POST /v1/programs/{programId}/member-tokens, or signed by your backend (HS256 with the program secret, or your JWKS).',
          },
          consoleSession: {
            type: 'apiKey',
            in: 'cookie',
            name: 'jifen_session',
            description:
              "The web console's session cookie, set by POST /v1/console/session. Any operation accepts it instead of an API key (the user's roles decide); writes also need X-CSRF-Token.",
          },
        },
      },
      security: [{ apiKey: [] }],
      tags: [
        { name: 'Programs', description: "A brand's points program and its policies." },
        { name: 'Members', description: 'Members, their profile and status.' },
        { name: 'Ledger', description: 'Balances, credits, debits, holds, reversals, adjustments, transfers, history.' },
        { name: 'Rules', description: 'Earning rules: conditions, effects, multipliers, caps, schedules, versions.' },
        { name: 'Events', description: 'Events in, explainable points out; previews; custom event types.' },
        { name: 'API keys', description: 'Scoped keys for integrations.' },
        { name: 'Operations', description: 'Health, audit and jobs.' },
        { name: 'Audit log', description: 'Every change made through the API or the console: who, when, what, before and after.' },
        { name: 'Console', description: "The web console's sign-in, sessions and users with their roles per program." },
        { name: 'Rewards', description: 'The catalogue of rewards, scheduled prices, redemptions and their orders, the member catalogue.' },
        {
          name: 'Lottery',
          description: 'Lottery rewards: prize tables, seeds published as hashes and revealed on rotation, verifiable draws and their public verification.',
        },
        { name: 'Dashboard', description: "A program's figures: points issued, redeemed, expired, outstanding; members; daily series; expiry ahead." },
        ...(config.demo ? [{ name: 'Demo', description: 'The demo sign-in of the member centre, only on a server running the demo (JIFEN_DEMO).' }] : []),
      ],
    },
    transformObject: (doc) => {
      if (!('openapiObject' in doc)) return doc.swaggerObject;
      const { openapiObject } = doc;
      for (const item of Object.values(openapiObject.paths ?? {})) {
        for (const op of Object.values(item ?? {}) as { operationId?: string; requestBody?: { required?: boolean } }[]) {
          if (op?.operationId && op.requestBody && optionalBodies.has(op.operationId)) op.requestBody.required = false;
        }
      }
      return openapiObject;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const deps: AppDeps = { db, clock, config };
  await registerRateLimit(app, config);
  await systemRoutes(app, deps);
  await programRoutes(app, deps);
  await memberRoutes(app, deps);
  await ledgerRoutes(app, deps);
  await apiKeyRoutes(app, deps, verifier);
  await auditRoutes(app, deps);
  await changeLogReadRoutes(app, deps);
  await dashboardRoutes(app, deps);
  await ruleRoutes(app, deps);
  await segmentRoutes(app, deps);
  await tierRoutes(app, deps);
  await rewardRoutes(app, deps);
  await rewardCodeRoutes(app, deps);
  await lotteryRoutes(app, deps);
  await checkoutRoutes(app, deps);
  await eventRoutes(app, deps, { db, rules: new RuleCache() });
  await memberTokenSettingsRoutes(app, deps);
  await memberTokenRoutes(app, deps);
  await meRoutes(app, deps);
  await consoleRoutes(app, deps);
  // the member centre's demo sign-in exists only beside the demo programs
  if (config.demo) await demoRoutes(app, deps, { programIds: [DEMO_PROGRAM_ID, DEMO_BEAUTY_PROGRAM_ID] });
  await registerWebApps(app, config.webDir);
  return app;
}
