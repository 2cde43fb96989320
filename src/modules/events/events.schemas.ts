import { type Static, type TSchema, Type } from 'typebox';
import { EVENT_DATA_LIMITS, EVENT_SCHEMA_LIMITS, jsonLimits, Metadata, PageQuery, StringEnum, Timestamp } from '../../shared/schemas.ts';

/**
 * Built-in event types and their payloads (`data`). Amounts are integer minor units (fen) in the
 * program's currency. Programs may declare more types with their own JSON Schema.
 */
const Sku = Type.String({ minLength: 1, maxLength: 64 });
const Minor = (description: string) => Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description });
const Channel = Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$', description: 'Where it happened: online, store, mini_program, app, …', examples: ['store'] });

export const OrderItem = Type.Object(
  {
    sku: Sku,
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    unit_price: Minor('Price of one unit, minor units.'),
  },
  { additionalProperties: false },
);

export const BUILT_IN_EVENT_TYPES: Record<string, TSchema> = {
  'order.paid': Type.Object(
    {
      order_id: Type.String({ minLength: 1, maxLength: 128 }),
      amount: Minor('Amount paid, minor units (fen): ¥100 = 10000.'),
      currency: Type.String({ pattern: '^[A-Z]{3}$', description: "Must be the program's currency." }),
      items: Type.Optional(
        Type.Array(OrderItem, {
          maxItems: 500,
          description:
            'The lines together (quantity × unit_price) come to at most 10^12 minor units. When they come to more than amount (an order discount), item-based rules earn on amount, allocated over the lines in proportion to their price (largest remainder).',
        }),
      ),
      channel: Type.Optional(Channel),
      store_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    { additionalProperties: false },
  ),
  'order.refunded': Type.Object(
    {
      order_id: Type.String({ minLength: 1, maxLength: 128 }),
      refund_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      amount: Type.Optional(Minor('Refunded amount, minor units. Omit amount and items for a full refund.')),
      items: Type.Optional(
        Type.Array(Type.Object({ sku: Sku, quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }, { additionalProperties: false }), {
          minItems: 1,
          maxItems: 500,
        }),
      ),
    },
    { additionalProperties: false },
  ),
  'member.registered': Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 \\-]{4,19}$' })),
      email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
      birthday: Type.Optional(Type.String({ format: 'date', pattern: '^(1[89]|2\\d)\\d\\d-' })),
      channel: Type.Optional(Channel),
      referrer_member_id: Type.Optional(Type.String({ pattern: '^mbr_[A-Za-z0-9_]{1,64}$' })),
    },
    { additionalProperties: false },
  ),
  'member.profile_completed': Type.Object({}, { additionalProperties: false }),
  'member.birthday': Type.Object({ year: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2200 })) }, { additionalProperties: false }),
  checkin: Type.Object(
    {
      streak_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Consecutive days including today.' })),
      channel: Type.Optional(Channel),
    },
    { additionalProperties: false },
  ),
  'review.posted': Type.Object(
    {
      review_id: Type.String({ minLength: 1, maxLength: 128 }),
      order_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      sku: Type.Optional(Sku),
      has_photo: Type.Boolean(),
      rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
      length: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Characters of text.' })),
    },
    { additionalProperties: false },
  ),
  'content.shared': Type.Object(
    {
      content_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      platform: Type.Optional(Type.String({ minLength: 1, maxLength: 32, examples: ['wechat', 'xiaohongshu', 'weibo'] })),
    },
    { additionalProperties: false },
  ),
  'app.opened': Type.Object({ channel: Type.Optional(Channel) }, { additionalProperties: false }),
};

export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$';

export const EventInput = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'Your id for the event, unique in the program: sending it again returns the first result.',
      examples: ['order-10086-paid'],
    }),
    type: Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 64, examples: ['order.paid'] }),
    program_id: Type.Optional(Type.String({ pattern: '^prg_[A-Za-z0-9_]{1,64}$', description: 'Required unless the batch gives it.' })),
    member_id: Type.Optional(Type.String({ pattern: '^mbr_[A-Za-z0-9_]{1,64}$' })),
    external_member_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Your id for the member, instead of member_id.' })),
    occurred_at: Type.Optional(Type.String({ format: 'date-time', description: 'When it happened; chooses the rule versions in force. Default: now.' })),
    data: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        ...jsonLimits(EVENT_DATA_LIMITS),
        description: 'The payload of the type (see the event types); nested up to 32 levels.',
      }),
    ),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type EventInput = Static<typeof EventInput>;

export const EventBatch = Type.Object(
  {
    program_id: Type.Optional(Type.String({ pattern: '^prg_[A-Za-z0-9_]{1,64}$', description: 'Default program of the events.' })),
    events: Type.Array(EventInput, { minItems: 1, maxItems: 1000 }),
  },
  { additionalProperties: false },
);

const Explanation = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      "The breakdown behind the award's text: rule_name, base, items (item-level rules; on a discounted order each with the amount it earned on beside its list_amount), multipliers, stacking, combined_multiplier, exact, rounding, rounded, and the caps that cut it.",
  },
);

export const AwardView = Type.Object({
  rule_id: Type.String(),
  rule_version: Type.Integer(),
  points: Type.Integer(),
  entry_id: Type.Union([Type.String(), Type.Null()]),
  lot_id: Type.Union([Type.String(), Type.Null()]),
  available_at: Type.Union([Timestamp, Type.Null()]),
  text: Type.String({ examples: ['150 = ¥100 × 1 pt/¥ × 1.5 (金卡)'] }),
  explanation: Explanation,
});

export const ReversedAwardView = Type.Object({
  rule_id: Type.String(),
  rule_version: Type.Union([Type.Integer(), Type.Null()]),
  rule_name: Type.Union([Type.String(), Type.Null()], { description: "The rule's name when it awarded." }),
  points: Type.Integer({ description: "Of the reversal's points, those of this award." }),
});

export const ReversalView = Type.Object({
  entry_id: Type.String({ description: 'The credit that was reversed.' }),
  rule_id: Type.Union([Type.String(), Type.Null()], { description: 'The rule whose points these are, when the credit holds one award (else see awards).' }),
  rule_name: Type.Union([Type.String(), Type.Null()]),
  points: Type.Integer({ description: 'Points reversed of the credit: taken_back + expired + on_hold + written_off.' }),
  awards: Type.Array(ReversedAwardView, { description: 'Whose points these are, award by award of the credit; they add up to points.' }),
  taken_back: Type.Integer({
    description: "Taken from the member: the balance went down by it (from the credit, from the member's other points, or as debt under allow_negative).",
  }),
  expired: Type.Integer({ description: 'Had expired already: the member loses nothing twice.' }),
  on_hold: Type.Integer({ description: 'In an open hold (write_off policy): taken back when the hold releases them, written off if it captures them.' }),
  written_off: Type.Integer({ description: 'Spent already and not recoverable (write_off policy): written off, not taken back.' }),
  reversal_entry_ids: Type.Array(Type.String()),
});

export const SkipView = Type.Object({ rule_id: Type.String(), reason: Type.String(), detail: Type.Optional(Type.String()) });

export const WarningView = Type.Object({
  code: Type.String({
    description:
      "unknown_tier: the member's tier is one no rule in force knows (no tier multiplier value, targeting tier or condition names it), so it earned as no tier.",
    examples: ['unknown_tier'],
  }),
  message: Type.String(),
  tier: Type.Optional(Type.String({ description: "unknown_tier: the member's tier." })),
});
const Warnings = Type.Array(WarningView, { description: 'What the sender should know that did not stop the event (empty when nothing).' });

export const EventResult = Type.Object({
  object: Type.Literal('event'),
  id: Type.String({ description: "Jifen's id (evt_…)." }),
  event_id: Type.String({ description: 'Your id.' }),
  program_id: Type.String(),
  type: Type.String(),
  member_id: Type.String(),
  occurred_at: Timestamp,
  processed_at: Timestamp,
  points: Type.Integer({
    description:
      "The member's net change from this event: its awards less what its reversals took back (negative for refunds; points written off are not taken back).",
  }),
  awards: Type.Array(AwardView),
  reversals: Type.Array(ReversalView),
  skipped: Type.Array(SkipView, { description: 'Rules that were considered and did not award, with why.' }),
  warnings: Warnings,
  data: Type.Record(Type.String(), Type.Unknown()),
});

export type EventResultView = Static<typeof EventResult>;

export const BatchItem = Type.Object({
  index: Type.Integer(),
  event_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.Integer({ description: '201 processed, 200 already processed (first result), 4xx rejected.' }),
  result: Type.Optional(EventResult),
  error: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Problem details, as for a single event.' })),
});

export const BatchResult = Type.Object({
  object: Type.Literal('batch'),
  processed: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Integer(),
  points: Type.Integer(),
  results: Type.Array(BatchItem),
});

export const PreviewResult = Type.Object({
  object: Type.Literal('preview'),
  points: Type.Integer(),
  awards: Type.Array(Type.Omit(AwardView, ['entry_id', 'lot_id'])),
  skipped: Type.Array(SkipView),
  warnings: Warnings,
});

export const EventTypeCreate = Type.Object(
  {
    type: Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 64, examples: ['referral.completed'] }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    schema: Type.Record(Type.String(), Type.Unknown(), {
      ...jsonLimits(EVENT_SCHEMA_LIMITS),
      description: 'JSON Schema of the payload (`data`); nested up to 32 levels, 65,536 bytes as JSON.',
      examples: [{ type: 'object', properties: { referee_member_id: { type: 'string' } }, required: ['referee_member_id'], additionalProperties: false }],
    }),
  },
  { additionalProperties: false },
);

export const EventTypeView = Type.Object({
  object: Type.Literal('event_type'),
  type: Type.String(),
  built_in: Type.Boolean(),
  description: Type.Union([Type.String(), Type.Null()]),
  schema: Type.Record(Type.String(), Type.Unknown()),
});

export const EVENT_STATUS = StringEnum(['processed'] as const);

/**
 * What an event's processing came to, from its points: awarded (the member gained points),
 * reversed (a refund took points back) or no_points (every rule skipped, or none applied). Only
 * processed events are stored: a rejected event (4xx) was never written, and sending an event
 * again answers its first result without a second row.
 */
export const EVENT_OUTCOMES = ['awarded', 'reversed', 'no_points'] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

export const ProgramEventListQuery = Type.Object(
  {
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only events of this type.' })),
    outcome: Type.Optional(StringEnum(EVENT_OUTCOMES, { description: 'awarded (points > 0), reversed (points < 0) or no_points (0).' })),
    member_id: Type.Optional(Type.String({ pattern: '^mbr_[A-Za-z0-9_]{1,64}$', description: "Only this member's events." })),
    member_external_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'Only the events of the member with this external_id (your id).' }),
    ),
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "The event's own id (your id, event_id): at most one event." })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'occurred_at at or after this instant.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'occurred_at before this instant.' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type ProgramEventListQuery = Static<typeof ProgramEventListQuery>;

export const EventListItem = Type.Object({
  ...EventResult.properties,
  status: EVENT_STATUS,
  outcome: StringEnum(EVENT_OUTCOMES),
  member_external_id: Type.Union([Type.String(), Type.Null()], { description: "The member's external_id (your id)." }),
});
export type EventListItem = Static<typeof EventListItem>;
