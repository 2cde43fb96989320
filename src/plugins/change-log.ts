import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/db.ts';
import { type ActorType, ChangeRecorder, storedJson } from '../modules/change-log/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { App } from '../shared/http.ts';

/**
 * How a write route appears in the change log (route config `changeLog`, or the table handed to
 * registerChangeLog by operationId; `false`: not a change, e.g. a preview or minting a token).
 * Every field is optional: without them the resource is named after the route's last id parameter
 * (memberId → member) or what the write answered (its `object` and `id`).
 */
export interface ChangeLogRoute {
  /** resource_type: member, rule, program, api_key, hold, entry, event, … */
  resource?: string;
  /** resource_id, when neither an id parameter nor the answer's id says it. */
  resourceId?: (request: FastifyRequest, after: Json | undefined) => string | null | undefined;
  /** program_id, when neither the programId parameter nor a program_id in the answer or before says it. */
  programId?: (request: FastifyRequest, after: Json | undefined, before: Json | undefined) => string | null | undefined | Promise<string | null | undefined>;
  /** The resource as it was, read before the handler runs (updates). A loader that throws leaves before null. */
  before?: (request: FastifyRequest) => Promise<unknown>;
  /** What to store as `after` instead of the whole answer (event batches: their counts). */
  after?: (request: FastifyRequest, after: Json | undefined) => unknown;
  /** A few fields that say what was done (points, reason, …), from the request and the answer. */
  summary?: (request: FastifyRequest, after: Json | undefined) => Record<string, unknown> | undefined;
  /** Whether this 2xx changed anything (a duplicate event answers 200 and changes nothing). Default: yes. */
  changed?: (request: FastifyRequest, reply: FastifyReply, after: Json | undefined) => boolean;
  /**
   * The handler leaves what the record reads of its answer in request.changeLogAnswer, and the
   * JSON it sends is not parsed again (event batches send their answer as a string, and parsing
   * it again cost the server 7% of a batch's time).
   */
  answerObject?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: the JSON of an answer, read field by field
export type Json = Record<string, any>;

interface Resolved extends ChangeLogRoute {
  operation: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How this write appears in the change log (plugins/change-log.ts); false: it is not recorded. */
    changeLog?: ChangeLogRoute | false;
    /** Set by the change-log plugin from the route's operationId and changeLog. */
    changeLogResolved?: Resolved;
  }
  interface FastifyRequest {
    /** The resource before the write, read by the route's changeLog.before loader. */
    changeLogBefore?: unknown;
    /** What the change log reads of the answer, left by the handler of a route with changeLog.answerObject. */
    changeLogAnswer?: unknown;
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function actorOf(request: FastifyRequest): { type: ActorType; id: string | null; name: string | null } {
  // a console user's request also carries an API-key principal (their programs): the user is the actor
  const user = request.consoleUser;
  if (user) return { type: 'console_user', id: user.id, name: user.name || user.email };
  if (request.apiKey) return { type: 'api_key', id: request.apiKey.id, name: request.apiKey.name };
  const member = request.member?.member;
  if (member) return { type: 'member', id: member.id, name: member.name ?? member.external_id };
  return { type: 'system', id: null, name: null };
}

/** memberId → member, keyId → api_key, ruleId → rule … */
const PARAM_RESOURCES: Record<string, string> = {
  keyId: 'api_key',
  programId: 'program',
};
function paramResource(name: string): string {
  return PARAM_RESOURCES[name] ?? name.replace(/Id$/, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A program_id in the answer: top level, or in the entry, hold or reversal it carries. */
function programIn(body: Json | undefined): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  if (typeof body.program_id === 'string') return body.program_id;
  for (const k of ['entry', 'hold', 'reversal', 'member', 'rule']) if (typeof body[k]?.program_id === 'string') return body[k].program_id;
  if (Array.isArray(body.entries) && typeof body.entries[0]?.program_id === 'string') return body.entries[0].program_id;
  return undefined;
}

/**
 * The change log: after every successful (2xx) POST, PUT, PATCH or DELETE of a /v1 route with an
 * operationId, one change_log row, committed in onSend before the answer goes out, so the row is
 * there when the client reads the log (rows of concurrent writes share one INSERT: ChangeRecorder). Replays of an idempotent write (idempotent-replayed) are not recorded again; failed
 * writes are not recorded. If recording fails, the error is logged and the write still answers
 * its own status: a committed write never answers 5xx.
 */
export function registerChangeLog(app: App, db: Queryable, clock: Clock, routes: Record<string, ChangeLogRoute | false>) {
  const recorder = new ChangeRecorder(db);
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (!route.url.startsWith('/v1/') || !methods.some((m) => WRITES.has(m))) return;
    const operation = (route.schema as { operationId?: string } | undefined)?.operationId;
    if (!operation) return;
    const declared = route.config?.changeLog ?? routes[operation] ?? {};
    if (declared === false) return;
    route.config = { ...route.config, changeLogResolved: { ...declared, operation } };
  });

  app.addHook('preHandler', async (request) => {
    const before = request.routeOptions.config.changeLogResolved?.before;
    if (!before) return;
    try {
      request.changeLogBefore = await before(request);
    } catch {
      // the resource is not there (or not the caller's): the write itself answers that
      request.changeLogBefore = undefined;
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const cfg = request.routeOptions.config.changeLogResolved;
    if (!cfg || reply.statusCode < 200 || reply.statusCode >= 300 || reply.getHeader('idempotent-replayed')) return payload;
    try {
      let answer = cfg.answerObject ? (request.changeLogAnswer as Json | undefined) : undefined;
      if (answer === undefined && typeof payload === 'string' && payload !== '') answer = JSON.parse(payload);
      if (cfg.changed && !cfg.changed(request, reply, answer)) return payload;
      const before = request.changeLogBefore as Json | undefined;
      const params = (request.params ?? {}) as Record<string, string>;
      const idParams = Object.keys(params).filter((k) => k.endsWith('Id'));
      const lastParam = idParams[idParams.length - 1];
      const resourceType = cfg.resource ?? (lastParam ? paramResource(lastParam) : typeof answer?.object === 'string' ? answer.object : 'unknown');
      // a resolver's null means none; undefined, that it does not know
      const declaredId = cfg.resourceId?.(request, answer);
      const resourceId =
        declaredId !== undefined
          ? declaredId
          : ((lastParam && paramResource(lastParam) === resourceType ? params[lastParam] : undefined) ?? (typeof answer?.id === 'string' ? answer.id : null));
      const declaredProgram = params.programId ?? (await cfg.programId?.(request, answer, before));
      const programId =
        declaredProgram !== undefined
          ? declaredProgram
          : (programIn(answer) ?? programIn(before) ?? request.member?.programId ?? (resourceType === 'program' ? resourceId : null));
      const actor = actorOf(request);
      await recorder.record({
        at: clock.now(),
        programId: programId ?? null,
        actorType: actor.type,
        actorId: actor.id,
        actorName: actor.name,
        operation: cfg.operation,
        resourceType,
        resourceId: resourceId ?? null,
        method: request.method,
        path: request.routeOptions.url ?? request.url,
        requestId: request.id,
        status: reply.statusCode,
        before: storedJson(before),
        after: storedJson(cfg.after ? cfg.after(request, answer) : answer),
        summary: storedJson(cfg.summary?.(request, answer)),
      });
    } catch (err) {
      request.log.error({ err, operation: cfg.operation }, 'change log: the change could not be recorded');
    }
    return payload;
  });
}
