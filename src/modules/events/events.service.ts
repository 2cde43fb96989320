import type { Queryable } from '../../db/db.ts';
import { DomainError } from '../../shared/errors.ts';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { type ProgramScope, visible } from '../api-keys/index.ts';
import { findMemberProfiles, getMember } from '../members/index.ts';
import { getProgram } from '../programs/index.ts';
import { compileEventSchema } from './events.payloads.ts';
import * as repo from './events.repository.ts';
import { BUILT_IN_EVENT_TYPES, type EventListItem, type EventOutcome, type EventResultView, type ProgramEventListQuery } from './events.schemas.ts';

export async function getEvent(db: Queryable, id: string, scope: ProgramScope = null) {
  const result = await repo.findEvent(db, id);
  if (!result || !visible(scope, id, result.program_id)) throw new DomainError('EVENT_NOT_FOUND', `No event ${id}`, { event_id: id });
  return result;
}

export async function getEventByExternalId(db: Queryable, programId: string, externalId: string) {
  await getProgram(db, programId);
  const result = await repo.findEventByExternalId(db, programId, externalId);
  if (!result) throw new DomainError('EVENT_NOT_FOUND', `No event ${externalId} in ${programId}`, { event_id: externalId });
  return result;
}

export async function listMemberEvents(
  db: Queryable,
  memberId: string,
  query: { type?: string; limit?: number; cursor?: string },
  scope: ProgramScope = null,
): Promise<Page<EventResultView>> {
  // MEMBER_NOT_FOUND for an unknown member, or one of a program the key does not reach
  await getMember(db, memberId, scope);
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const rows = await repo.listMemberEvents(db, memberId, query.type, limit, before);
  const page = toPage(rows, limit, (r) => [r.at, r.id]);
  return { ...page, data: page.data.map((r) => r.result) };
}

/** What an event's processing came to, from its net points (see EVENT_OUTCOMES). */
export function outcomeOf(points: number): EventOutcome {
  return points > 0 ? 'awarded' : points < 0 ? 'reversed' : 'no_points';
}

/**
 * The program's event log, newest first (occurred_at, then id), with cursor pagination and
 * filters; each event with its outcome and its member's external id. A member_external_id that
 * no member has matches no event (an empty page, not an error: it is a filter).
 */
export async function listProgramEvents(db: Queryable, programId: string, query: ProgramEventListQuery): Promise<Page<EventListItem>> {
  await getProgram(db, programId);
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, ['timestamp', 'id']) as [string, string] | undefined;
  const empty: Page<EventListItem> = { object: 'list', data: [], has_more: false, next_cursor: null };
  let memberId = query.member_id;
  if (query.member_external_id !== undefined) {
    const [member] = await findMemberProfiles(db, programId, [], [query.member_external_id]);
    if (!member || (memberId !== undefined && memberId !== member.id)) return empty;
    memberId = member.id;
  }
  const rows = await repo.listProgramEvents(
    db,
    programId,
    { type: query.type, outcome: query.outcome, memberId, externalId: query.external_id, from: query.from, to: query.to },
    limit,
    before,
  );
  const page = toPage(rows, limit, (r) => [r.at, r.id]);
  const memberIds = [...new Set(page.data.map((r) => r.result.member_id))];
  const externalIds = new Map(
    memberIds.length === 0 ? [] : (await findMemberProfiles(db, programId, memberIds, [])).map((m) => [m.id, m.external_id] as const),
  );
  return {
    ...page,
    data: page.data.map(({ result }) => ({
      ...result,
      status: 'processed' as const,
      outcome: outcomeOf(result.points),
      member_external_id: externalIds.get(result.member_id) ?? null,
    })),
  };
}

export async function listEventTypes(db: Queryable, programId: string) {
  await getProgram(db, programId);
  const builtIn = Object.entries(BUILT_IN_EVENT_TYPES).map(([type, schema]) => ({
    object: 'event_type' as const,
    type,
    built_in: true,
    description: null,
    schema: JSON.parse(JSON.stringify(schema)),
  }));
  const custom = (await repo.customTypes(db, programId)).map((t) => ({
    object: 'event_type' as const,
    type: t.type,
    built_in: false,
    description: t.description,
    schema: t.schema,
  }));
  return { object: 'list' as const, data: [...builtIn, ...custom] };
}

/** Declares a custom event type with the JSON Schema of its payload. Built-in names are taken. */
export async function createEventType(
  db: Queryable,
  programId: string,
  input: { type: string; description?: string; schema: Record<string, unknown> },
  now: Date,
) {
  await getProgram(db, programId);
  if (Object.hasOwn(BUILT_IN_EVENT_TYPES, input.type)) {
    throw new DomainError('EVENT_TYPE_EXISTS', `${input.type} is a built-in event type`, { type: input.type }, [
      { path: '/type', location: 'body', message: 'is a built-in event type', rule: 'built_in' },
    ]);
  }
  if (input.schema.type !== 'object')
    throw new DomainError('VALIDATION_FAILED', '/schema/type must be "object"', {}, [
      { path: '/schema/type', location: 'body', message: 'must be "object": a payload is a JSON object', rule: 'const', params: { value: 'object' } },
    ]);
  try {
    compileEventSchema(input.schema);
  } catch (err) {
    throw new DomainError('VALIDATION_FAILED', `/schema is not a valid JSON Schema: ${(err as Error).message}`, {}, [
      { path: '/schema', location: 'body', message: `is not a valid JSON Schema: ${(err as Error).message}`, rule: 'json_schema' },
    ]);
  }
  const created = await repo.insertEventType(db, programId, { type: input.type, description: input.description ?? null, schema: input.schema }, now);
  if (!created)
    throw new DomainError('EVENT_TYPE_EXISTS', `The program already has ${input.type}`, { type: input.type }, [
      { path: '/type', location: 'body', message: 'already exists', rule: 'taken' },
    ]);
  return { object: 'event_type' as const, type: input.type, built_in: false, description: input.description ?? null, schema: input.schema };
}
