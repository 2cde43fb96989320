import { type Static, Type } from 'typebox';
import { CONDITION_LIMITS, jsonLimits, Nullable, NullableString, NullableTimestamp, PageQuery, StringEnum, Timestamp } from '../../shared/schemas.ts';

export const SEGMENT_STATUSES = ['active', 'archived'] as const;
export const BUILT_IN_KEYS = ['at_risk'] as const;
export type BuiltInKey = (typeof BUILT_IN_KEYS)[number];

/**
 * The variables a segment's condition may read (`{"var": "stats.points_expiring_45d"}`), each with
 * what it means. `member.attributes.<key>` reads one of the member's attributes. Computed at each
 * refresh (and preview) for every member of the program, set-based, at the refresh's instant.
 */
export const SEGMENT_VARIABLES: Record<string, string> = {
  'member.tier': "The member's effective tier code (member.tier, kept by the tiers module), or null.",
  'member.tags': 'The member\'s tags (an array: {"in": ["vip", {"var": "member.tags"}]}).',
  'member.attributes': "The member's attributes; member.attributes.<key> reads one (e.g. member.attributes.city).",
  'member.status': 'active or frozen (closed members are in no segment).',
  'member.birthday_month': "1–12, the month of the member's birthday, or null without one.",
  'member.days_since_joined': 'Whole days since the member was created.',
  'stats.points_balance': 'Available points now (spendable: available lots less debt; held points excluded), as GET …/balance says.',
  'stats.points_pending': 'Points earned but not yet available (pending period).',
  'stats.points_expiring_30d': 'Points that expire within 30 days from now unless spent.',
  'stats.points_expiring_45d': 'Points that expire within 45 days from now unless spent.',
  'stats.points_expiring_90d': 'Points that expire within 90 days from now unless spent.',
  'stats.days_since_last_activity':
    "Whole days since the member's last activity (member_account.last_activity_at: earning, spending, recorded activity); null when the member never had any.",
  'stats.days_since_last_order': "Whole days since the member's latest order.paid event; null without one.",
  'stats.orders_90d': 'order.paid events in the last 90 days.',
  'stats.orders_365d': 'order.paid events in the last 365 days.',
  'stats.spend_365d':
    'Minor units: order.paid amounts of the last 365 days less the order.refunded amounts of the same window (a refund without amount or items counts as the whole order); never below 0.',
};

const variableList = Object.keys(SEGMENT_VARIABLES).join(', ');

export const SegmentCondition = Type.Unsafe<unknown>({
  description: `JSONLogic over {member, stats}, validated when saved: an unknown operator or variable is a 400 naming its path. Variables: ${variableList} (docs/segments.md). E.g. {"and": [{">=": [{"var": "stats.days_since_last_activity"}, 90]}, {">": [{"var": "stats.points_expiring_45d"}, 0]}]}; nested up to 32 levels, 65,536 bytes as JSON.`,
  // additionalProperties: the response serialiser drops the members of an object schema without it
  anyOf: [{ type: 'object', additionalProperties: true }, { type: 'boolean' }],
  ...jsonLimits(CONDITION_LIMITS),
});

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
export const SegmentName = Type.Object(
  { 'zh-CN': Text(100), en: Text(100) },
  { additionalProperties: false, description: 'The name in both languages of the console.', examples: [{ 'zh-CN': '高价值会员', en: 'High value' }] },
);
export type SegmentName = Static<typeof SegmentName>;

export const SegmentCreate = Type.Object(
  {
    name: SegmentName,
    description: Type.Optional(Text(500)),
    condition: SegmentCondition,
  },
  { additionalProperties: false },
);
export type SegmentCreate = Static<typeof SegmentCreate>;

export const SegmentUpdate = Type.Object(
  {
    name: Type.Optional(SegmentName),
    description: Type.Optional(Nullable(Text(500))),
    condition: Type.Optional(SegmentCondition),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Send only what changes; null clears the description. A new condition refreshes the memberships at once.',
  },
);
export type SegmentUpdate = Static<typeof SegmentUpdate>;

export const SegmentRefreshFigures = Type.Object({
  evaluated: Type.Integer({ description: "Members evaluated (the program's members, closed ones excepted)." }),
  added: Type.Integer({ description: 'Members who joined the segment.' }),
  removed: Type.Integer({ description: 'Members who left it.' }),
  duration_ms: Type.Integer({ description: 'How long the refresh took.' }),
});
export type SegmentRefreshFigures = Static<typeof SegmentRefreshFigures>;

export const Segment = Type.Object({
  id: Type.String({ examples: ['seg_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
  object: Type.Literal('segment'),
  program_id: Type.String(),
  name: SegmentName,
  description: NullableString,
  condition: SegmentCondition,
  status: StringEnum(SEGMENT_STATUSES),
  built_in: Type.Boolean({ description: 'A segment every program has (at risk): it can be refreshed, not edited or archived (409 SEGMENT_BUILT_IN).' }),
  built_in_key: Type.Unsafe<BuiltInKey | null>({ type: ['string', 'null'], enum: [...BUILT_IN_KEYS, null], description: 'Which built-in (at_risk), or null.' }),
  member_count: Type.Integer({ description: 'Members as of the last refresh.' }),
  refreshed_at: NullableTimestamp,
  last_refresh: Type.Unsafe<SegmentRefreshFigures | null>({ anyOf: [SegmentRefreshFigures, { type: 'null' }] }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Segment = Static<typeof Segment>;

export const SegmentListQuery = Type.Object(
  { status: Type.Optional(StringEnum(SEGMENT_STATUSES, { description: 'Only active or only archived segments (default: both).' })), ...PageQuery },
  { additionalProperties: false },
);
export type SegmentListQuery = Static<typeof SegmentListQuery>;

export const SegmentMember = Type.Object({
  object: Type.Literal('segment_member'),
  member_id: Type.String(),
  external_id: Type.String(),
  name: NullableString,
  tier: NullableString,
  status: Type.String(),
  points_balance: Type.Integer({ description: 'Available points now.' }),
  since: Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time', description: 'In the segment since (null in a preview).' }),
});
export type SegmentMember = Static<typeof SegmentMember>;

export const SegmentMemberQuery = Type.Object(PageQuery, { additionalProperties: false });
export type SegmentMemberQuery = Static<typeof SegmentMemberQuery>;

export const SegmentRefresh = Type.Object({
  object: Type.Literal('segment_refresh'),
  segment: Segment,
  member_count: Type.Integer(),
  ...SegmentRefreshFigures.properties,
});
export type SegmentRefresh = Static<typeof SegmentRefresh>;

export const SegmentPreviewInput = Type.Object({ condition: SegmentCondition }, { additionalProperties: false });
export type SegmentPreviewInput = Static<typeof SegmentPreviewInput>;

export const SegmentPreview = Type.Object({
  object: Type.Literal('segment_preview'),
  member_count: Type.Integer({ description: 'Members the condition holds for now.' }),
  evaluated: Type.Integer(),
  sample: Type.Array(SegmentMember, { description: 'Up to 20 of them, newest members first.' }),
  duration_ms: Type.Integer(),
});
export type SegmentPreview = Static<typeof SegmentPreview>;

export const MemberSegment = Type.Object({
  object: Type.Literal('member_segment'),
  segment_id: Type.String(),
  name: SegmentName,
  built_in: Type.Boolean(),
  since: Timestamp,
});
export type MemberSegment = Static<typeof MemberSegment>;

export const MemberSegmentList = Type.Object({ object: Type.Literal('list'), data: Type.Array(MemberSegment) }, { title: 'MemberSegmentList' });
export type MemberSegmentList = Static<typeof MemberSegmentList>;
