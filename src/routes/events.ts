import { Type } from 'typebox';
import { type IngestDeps, ingestEvents, previewEvent } from '../flows/ingest-events/index.ts';
import { inScope, programNotFound, requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import * as events from '../modules/events/index.ts';
import {
  BatchResult,
  EventBatch,
  EventInput,
  EventListItem,
  EventResult,
  EventTypeCreate,
  EventTypeView,
  PreviewResult,
  ProgramEventListQuery,
} from '../modules/events/index.ts';
import { RuleDefinition } from '../modules/rules/index.ts';
import { problemOf } from '../plugins/errors.ts';
import { DomainError } from '../shared/errors.ts';
import type { App } from '../shared/http.ts';
import { IdParam, PageOf, PageQuery, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Events'];

/** A preview's body: an event, and optionally a rule not saved yet to evaluate it with (the console's rule editor). */
const PreviewInput = Type.Object(
  {
    ...EventInput.properties,
    draft_rule: Type.Optional(
      Type.Object(
        {
          rule_id: Type.Optional(
            Type.String({ pattern: '^rul_[A-Za-z0-9_]{1,64}$', description: 'The saved rule this draft edits: the draft replaces it in the preview.' }),
          ),
          definition: RuleDefinition,
        },
        {
          additionalProperties: false,
          description:
            'A rule definition not saved yet, evaluated as if in force at occurred_at beside the rules in force (in place of rule_id, when it edits one). ' +
            'It is validated as when saved (a 400 at /draft_rule/definition/…). Its awards and skips carry rule_id (or `draft` for a new rule) and rule_version 0. Nothing is written.',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

function programOf(input: { program_id?: string }, fallback: string | undefined, path: string): string {
  const id = input.program_id ?? fallback;
  if (!id)
    throw new DomainError('VALIDATION_FAILED', `${path}/program_id is required`, {}, [
      { path: `${path}/program_id`, location: 'body', message: 'is required', rule: 'required' },
    ]);
  return id;
}

export async function eventRoutes(app: App, { db, clock }: AppDeps, ingest: IngestDeps) {
  app.post(
    '/v1/events',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: 'Send an event',
        operationId: 'sendEvent',
        description:
          "Evaluates the program's rules for the event and credits (or, for order.refunded, reverses) the points. The event id is unique per " +
          'program: sending it again returns the first result (200) and changes nothing. Every award carries its explanation.',
        body: EventInput,
        response: { 200: EventResult, 201: EventResult, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => {
      const programId = programOf(request.body, undefined, '');
      requireProgram(scopeOf(request), programId);
      const [outcome] = await ingestEvents(ingest, programId, [{ index: 0, input: request.body, prefix: '' }], clock.now());
      if (outcome!.error) throw outcome!.error;
      return reply.code(outcome!.status as 200 | 201).send(outcome!.result!);
    },
  );

  app.post(
    '/v1/events/batch',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: 'Send up to 1,000 events',
        operationId: 'sendEvents',
        description: 'Each event gets its own result and status: one bad event does not fail the others. Events are processed in order.',
        body: EventBatch,
        response: { 200: BatchResult, ...problems(404, 409, 422) },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const groups = new Map<string, { index: number; input: (typeof request.body.events)[number]; prefix: string }[]>();
      const outcomes: Awaited<ReturnType<typeof ingestEvents>> = [];
      const scope = scopeOf(request);
      request.body.events.forEach((input, index) => {
        const prefix = `/events/${index}`;
        try {
          const programId = programOf(input, request.body.program_id, prefix);
          const group = groups.get(programId);
          if (group) group.push({ index, input, prefix });
          else groups.set(programId, [{ index, input, prefix }]);
        } catch (err) {
          outcomes.push({ index, event_id: input.id, status: 400, error: err as DomainError });
        }
      });
      for (const [programId, items] of groups) {
        // another program than the key's: what ingestEvents answers for an unknown one
        if (!inScope(scope, programId)) {
          const error = programNotFound(programId);
          outcomes.push(...items.map(({ index, input }) => ({ index, event_id: input.id, status: 404, error })));
        } else {
          try {
            outcomes.push(...(await ingestEvents(ingest, programId, items, now)));
          } catch (err) {
            // Programs are written one after the other. Once one has committed, the answer must
            // report it: a later program that could not be written (overload) fails its own events
            // (503, safe to send again), not the whole request.
            if (!(err instanceof DomainError && err.status === 503) || !outcomes.some((o) => o.status === 201)) throw err;
            outcomes.push(...items.map(({ index, input }) => ({ index, event_id: input.id, status: 503, error: err })));
          }
        }
      }
      outcomes.sort((a, b) => a.index - b.index);
      const instance = request.url;
      // Serialized here: each new event's result is JSON already (it was stored as such), and a
      // batch of 1,000 results is worth not serializing twice. The shape is BatchResult's.
      // Put together as UTF-8 bytes, item by item: a batch's answer is some 600 KB of JSON (twice that
      // as a JavaScript string, which is two bytes a character once a rule's name is Chinese), and
      // one string of it was copied whole three times (joined, flattened for its byte length,
      // encoded for the socket), each copy on fresh pages: 16% of the server's CPU went to page
      // faults in bench/events. Each item's bytes come from the small-buffer pool; one copy joins them.
      const items = outcomes.map((o, i) => {
        const result = o.json ?? (o.result ? JSON.stringify(o.result) : undefined);
        const error = o.error ? JSON.stringify(problemOf(o.error, `${instance}#/events/${o.index}`, String(request.id))) : undefined;
        return Buffer.from(
          `${i > 0 ? ',' : ''}{"index":${o.index},"event_id":${JSON.stringify(o.event_id)},"status":${o.status}${result ? `,"result":${result}` : ''}${error ? `,"error":${error}` : ''}}`,
        );
      });
      const processed = outcomes.filter((o) => o.status === 201).length;
      const duplicates = outcomes.filter((o) => o.status === 200).length;
      const rejected = outcomes.filter((o) => o.status >= 400).length;
      const points = outcomes.reduce((s, o) => s + (o.status === 201 ? Number(o.result!.points) : 0), 0);
      // what the change log records of it (its counts and the program of the events written), without parsing it again
      request.changeLogAnswer = {
        processed,
        duplicates,
        rejected,
        points,
        program_id: outcomes.find((o) => o.status === 201)?.result?.program_id ?? null,
      };
      const head = Buffer.from(`{"object":"batch","processed":${processed},"duplicates":${duplicates},"rejected":${rejected},"points":${points},"results":[`);
      // bytes with a JSON content type are sent as they are (the type provider only knows objects)
      return reply.type('application/json; charset=utf-8').send(Buffer.concat([head, ...items, Buffer.from(']}')]) as never);
    },
  );

  app.post(
    '/v1/events/preview',
    {
      config: { scope: 'integration' },
      schema: {
        tags,
        summary: 'Preview the points of an event',
        operationId: 'previewEvent',
        description:
          '"You will earn N points for this basket": evaluates the event without writing anything. member_id is optional. ' +
          'With draft_rule, a rule not saved yet is evaluated with the rules in force: what it would earn before it is saved.',
        body: PreviewInput,
        response: { 200: PreviewResult, ...problems(404, 422) },
      },
    },
    async (request) => {
      const { draft_rule: draft, ...input } = request.body;
      const programId = programOf(input, undefined, '');
      requireProgram(scopeOf(request), programId);
      return previewEvent(ingest, programId, input, clock.now(), draft);
    },
  );

  app.get(
    '/v1/events/:eventId',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'Get a processed event',
        operationId: 'getEvent',
        params: IdParam('eventId', 'evt'),
        response: { 200: EventResult, ...problems(404) },
      },
    },
    async (request) => events.getEvent(db, request.params.eventId, scopeOf(request)),
  );

  app.get(
    '/v1/programs/:programId/events/by-external-id/:externalId',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'Get a processed event by your id',
        operationId: 'getEventByExternalId',
        params: Type.Object({ ...IdParam('programId', 'prg').properties, externalId: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: EventResult, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return events.getEventByExternalId(db, request.params.programId, request.params.externalId);
    },
  );

  app.get(
    '/v1/programs/:programId/events',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "List a program's events with their outcomes",
        operationId: 'listProgramEvents',
        description:
          'The event log: processed events newest first (occurred_at), with cursor pagination, each with its outcome (awarded, reversed, ' +
          'no_points), its points, awards with their explanations and the rules that skipped. Rejected events are not stored, so not listed.',
        params: IdParam('programId', 'prg'),
        querystring: ProgramEventListQuery,
        response: { 200: PageOf(EventListItem, 'ProgramEvent'), ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return events.listProgramEvents(db, request.params.programId, request.query);
    },
  );

  app.get(
    '/v1/members/:memberId/events',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: "List a member's events with their points",
        operationId: 'listMemberEvents',
        params: IdParam('memberId', 'mbr'),
        querystring: Type.Object({ type: Type.Optional(Type.String({ maxLength: 64 })), ...PageQuery }, { additionalProperties: false }),
        response: { 200: PageOf(EventResult, 'Event'), ...problems(404) },
      },
    },
    async (request) => events.listMemberEvents(db, request.params.memberId, request.query, scopeOf(request)),
  );

  app.get(
    '/v1/programs/:programId/event-types',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List event types',
        operationId: 'listEventTypes',
        description: "Built-in types and the program's own, with the JSON Schema of each payload.",
        params: IdParam('programId', 'prg'),
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(EventTypeView) }), ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return events.listEventTypes(db, request.params.programId);
    },
  );

  app.post(
    '/v1/programs/:programId/event-types',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Declare a custom event type',
        operationId: 'createEventType',
        params: IdParam('programId', 'prg'),
        body: EventTypeCreate,
        response: { 201: EventTypeView, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      requireProgram(scopeOf(request), request.params.programId);
      return reply.code(201).send(await events.createEventType(db, request.params.programId, request.body, clock.now()));
    },
  );
}
