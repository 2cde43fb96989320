import { type Static, Type } from 'typebox';
import { Metadata, Nullable, NullableString, PageQuery, StringEnum, Timestamp } from '../../shared/schemas.ts';

export const MEMBER_STATUSES = ['active', 'frozen', 'closed'] as const;

const Phone = Type.String({ pattern: '^\\+?[0-9][0-9 \\-]{4,19}$', description: 'Digits, optional leading +.', examples: ['+8613800138000'] });
const Email = Type.String({ format: 'email', maxLength: 254 });
const Birthday = Type.String({ format: 'date', pattern: '^(1[89]|2\\d)\\d\\d-', description: 'YYYY-MM-DD, year 1800 or later', examples: ['1990-05-20'] });
const Tier = Type.String({
  pattern: '^[a-z][a-z0-9_]{0,31}$',
  description:
    'Deprecated: the plain tier attribute, for programs without a tier ladder (rules can multiply by tier). Once the program has a ladder (docs/tiers.md) the tier follows it and setting it here is 409 TIER_MANAGED_BY_LADDER: use POST /v1/members/{memberId}/tier-override.',
  examples: ['gold'],
});
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50, uniqueItems: true, examples: [['vip', 'coffee-lover']] });

export const MemberCreate = Type.Object(
  {
    external_id: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'Your own id for this member; creating the same external_id again returns the existing member.',
      examples: ['user_10086'],
    }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    phone: Type.Optional(Phone),
    email: Type.Optional(Email),
    birthday: Type.Optional(Birthday),
    tier: Type.Optional(Tier),
    tags: Type.Optional(Tags),
    attributes: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type MemberCreate = Static<typeof MemberCreate>;

export const MemberUpdate = Type.Object(
  {
    name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    phone: Type.Optional(Nullable(Phone)),
    email: Type.Optional(Nullable(Email)),
    birthday: Type.Optional(Nullable(Birthday)),
    tier: Type.Optional(Nullable(Tier)),
    tags: Type.Optional(Tags),
    attributes: Type.Optional(Metadata),
  },
  { additionalProperties: false, minProperties: 1, description: 'Send only what changes; null clears a field.' },
);
export type MemberUpdate = Static<typeof MemberUpdate>;

export const StatusChange = Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false });

export const Member = Type.Object({
  id: Type.String({ examples: ['mbr_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
  object: Type.Literal('member'),
  program_id: Type.String(),
  external_id: Type.String(),
  name: NullableString,
  phone: NullableString,
  email: NullableString,
  birthday: NullableString,
  tier: NullableString,
  tags: Type.Array(Type.String()),
  attributes: Metadata,
  status: StringEnum(MEMBER_STATUSES),
  status_reason: NullableString,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Member = Static<typeof Member>;

export const MemberListQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 254,
        description: 'Matches external_id, phone or email exactly, or part of the name (up to 254 characters: the longest email).',
      }),
    ),
    status: Type.Optional(StringEnum(MEMBER_STATUSES)),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type MemberListQuery = Static<typeof MemberListQuery>;
