import { type Static, Type } from 'typebox';
import { Nullable, NullableString, PageQuery, StringEnum, Timestamp } from '../../shared/schemas.ts';

export const ACTOR_TYPES = ['api_key', 'console_user', 'member', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

const Id = (prefix: string) => Type.String({ pattern: `^${prefix}_[A-Za-z0-9_]{1,64}$` });

export const Change = Type.Object(
  {
    id: Type.String({ examples: ['chg_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
    object: Type.Literal('change'),
    at: Timestamp,
    program_id: Type.Union([Type.String(), Type.Null()], {
      description: 'The program changed; null for a change to the deployment (an API key for every program, the sweep).',
    }),
    actor: Type.Object({
      type: StringEnum(ACTOR_TYPES, { description: 'Who made the change: an API key, a console user, a member (on /v1/me), or the system.' }),
      id: NullableString,
      name: NullableString,
    }),
    operation: Type.String({ description: 'The operationId of the write, e.g. adjustPoints.', examples: ['adjustPoints'] }),
    resource_type: Type.String({ description: 'What was changed: member, rule, program, api_key, hold, entry, event, …', examples: ['member'] }),
    resource_id: NullableString,
    method: Type.String({ examples: ['POST'] }),
    path: Type.String({ description: 'The route pattern (not the URL as sent).', examples: ['/v1/members/:memberId/adjustments'] }),
    request_id: NullableString,
    status: Type.Integer({ description: 'The HTTP status the write answered.', examples: [201] }),
    before: Nullable(Type.Unknown({ description: 'The resource before the change (for updates), secrets redacted; null when not known.' })),
    after: Nullable(
      Type.Unknown({
        description:
          'What the write answered, secrets redacted. Over 16 KB: {truncated: true, id, object, bytes}; event batches keep their counts, not every event.',
      }),
    ),
    summary: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: 'A few fields that say what was done (points, reason, …).' })),
  },
  { title: 'Change' },
);
export type Change = Static<typeof Change>;

export const ChangeListQuery = Type.Object(
  {
    operation: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{0,63}$', description: 'An operationId, e.g. adjustPoints.' })),
    resource_type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' })),
    resource_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    actor_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    actor_type: Type.Optional(StringEnum(ACTOR_TYPES)),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Changes at or after this instant.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Changes before this instant.' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type ChangeListQuery = Static<typeof ChangeListQuery>;

export const ChangeParams = Type.Object({ changeId: Id('chg') });

/** What the change-log plugin records for one write. */
export interface ChangeRecord {
  at: Date;
  programId: string | null;
  actorType: ActorType;
  actorId: string | null;
  actorName: string | null;
  operation: string;
  resourceType: string;
  resourceId: string | null;
  method: string;
  path: string;
  requestId: string | null;
  status: number;
  /** JSON text (storedJson: redacted and capped), or null. */
  before: string | null;
  after: string | null;
  summary: string | null;
}
