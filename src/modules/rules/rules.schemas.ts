import { type Static, Type } from 'typebox';
import { CONDITION_LIMITS, jsonLimits, MAX_POINTS, NullableTimestamp, PageQuery, StringEnum, Timestamp } from '../../shared/schemas.ts';

/**
 * The largest total the ledger keeps — a balance, held points, a lifetime total, a rule's budget or
 * per-member cap: 2^53 − 1, the largest integer a JSON number carries exactly. Writes that would
 * pass it are refused (BALANCE_LIMIT_EXCEEDED); one operation moves at most MAX_POINTS (10^12).
 */
export const MAX_TOTAL_POINTS = Number.MAX_SAFE_INTEGER;
/**
 * The largest amount rules count on, in minor units (an order's amount, its item lines together):
 * 10^12, the bound of the built-in event types (a program's own types beyond it earn nothing by amount).
 */
export const MAX_AMOUNT = 1_000_000_000_000;

const Decimal = Type.String({
  pattern: '^\\d{1,4}(\\.\\d{1,4})?$',
  description: 'A decimal multiplier such as "1.5" or "0.8": 0 to 9999.9999, at most 4 decimals.',
  examples: ['1.5'],
});
const Label = Type.String({ minLength: 1, maxLength: 60, description: 'Shown to members in the explanation, e.g. 金卡 or 会员日.' });
/** JSONLogic expression; validated and compiled when the rule is saved. */
const Logic = Type.Unsafe<unknown>({
  description:
    'JSONLogic over {event, member, program, now}, e.g. {">=": [{"var": "event.data.amount"}, 10000]}; nested up to 32 levels, 65,536 bytes as JSON.',
  // additionalProperties: the response serialiser drops the members of an object schema without it
  anyOf: [{ type: 'object', additionalProperties: true }, { type: 'boolean' }],
  ...jsonLimits(CONDITION_LIMITS),
});
const Strings = (max = 100) => Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: max, uniqueItems: true });

export const ROUNDINGS = ['floor', 'half_up', 'ceil'] as const;

export const Effect = Type.Object(
  {
    type: StringEnum(['fixed', 'rate'] as const, {
      description: 'fixed: `points` per event; rate: `points` per `per_amount` minor units of the order amount.',
    }),
    points: Type.Integer({ minimum: 1, maximum: 1_000_000, description: '1 to 10^6.' }),
    per_amount: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000, description: 'Minor units (fen), 1 to 10^8: 100 = per ¥1.' })),
    rounding: Type.Optional(StringEnum(ROUNDINGS, { description: 'Applied once, after every multiplier and before caps. Default floor.' })),
    basis: Type.Optional(
      StringEnum(['order', 'items'] as const, {
        description: 'order: the order amount; items: each item line (so item multipliers apply). Default order, or items when item_multipliers are set.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ItemMultiplier = Type.Object(
  {
    skus: Type.Optional(Strings(500)),
    categories: Type.Optional(Strings()),
    multiplier: Decimal,
    label: Type.Optional(Label),
  },
  { additionalProperties: false, description: 'Items matching a sku or category earn at this multiple (the highest matching applies).' },
);

export const MULTIPLIER_TYPES = ['tier', 'channel', 'date_window', 'monthly_day', 'weekday', 'birthday_month', 'condition'] as const;
export const Multiplier = Type.Object(
  {
    type: StringEnum(MULTIPLIER_TYPES, {
      description:
        'tier: by member tier (values); channel: by event.data.channel (values); date_window: from–to (double-points day, 618, 11.11); ' +
        "monthly_day: local days of the month (member day); weekday: ISO weekdays 1–7; birthday_month: in the member's birthday month; condition: when a JSONLogic condition holds.",
    }),
    values: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Decimal, {
        minProperties: 1,
        maxProperties: 50,
        propertyNames: { minLength: 1, maxLength: 64 },
        description: 'tier or channel (1 to 64 characters) → multiplier, e.g. {"gold": "1.5"}',
      }),
    ),
    labels: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Label, {
        maxProperties: 50,
        propertyNames: { minLength: 1, maxLength: 64 },
        description: 'tier or channel (1 to 64 characters) → name shown to members, e.g. {"gold": "金卡"}',
      }),
    ),
    multiplier: Type.Optional(Decimal),
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    days: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 31 }), { minItems: 1, maxItems: 31, uniqueItems: true })),
    condition: Type.Optional(Logic),
    label: Type.Optional(Label),
  },
  { additionalProperties: false },
);

export const CAP_PERIODS = ['day', 'week', 'month', 'lifetime'] as const;
const CapPoints = Type.Integer({ minimum: 1, maximum: MAX_TOTAL_POINTS, description: '1 to 2^53 − 1 points.' });
export const RuleDefinition = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120, examples: ['消费积分 Purchase points'] }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    triggers: Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$', maxLength: 64 }), {
      minItems: 1,
      maxItems: 20,
      uniqueItems: true,
      examples: [['order.paid']],
    }),
    condition: Type.Optional(Logic),
    effect: Effect,
    item_multipliers: Type.Optional(Type.Array(ItemMultiplier, { maxItems: 50 })),
    multipliers: Type.Optional(Type.Array(Multiplier, { maxItems: 20 })),
    stacking: Type.Optional(
      StringEnum(['multiply', 'add', 'highest'] as const, {
        description: 'How applicable multipliers combine: multiply (1.5 × 2 = 3), add (1 + 0.5 + 1 = 2.5) or highest (2). Default multiply.',
      }),
    ),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000, description: 'Higher is evaluated first. Default 0.' })),
    exclusive: Type.Optional(Type.Boolean({ description: 'When this rule awards points, rules of lower priority are skipped.' })),
    min_order_amount: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: 'Minor units, 0 to 10^12; events without an amount never qualify.' }),
    ),
    caps: Type.Optional(
      Type.Object(
        {
          per_event: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_POINTS, description: 'Points one event may earn from this rule, 1 to 10^12.' })),
          per_member: Type.Optional(
            Type.Object(
              { day: Type.Optional(CapPoints), week: Type.Optional(CapPoints), month: Type.Optional(CapPoints), lifetime: Type.Optional(CapPoints) },
              {
                additionalProperties: false,
                minProperties: 1,
                description: 'Points one member may earn from this rule per local day, ISO week, month or ever; each 1 to 2^53 − 1.',
              },
            ),
          ),
          budget: Type.Optional(
            Type.Object(
              { period: StringEnum(['day', 'week', 'month', 'total'] as const), points: CapPoints },
              { additionalProperties: false, description: 'Points this rule may award across the whole program per period.' },
            ),
          ),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
    frequency: Type.Optional(
      Type.Object(
        { max: Type.Integer({ minimum: 1, maximum: 10_000 }), per: StringEnum(CAP_PERIODS) },
        { additionalProperties: false, description: 'At most `max` awards of this rule per member per period, e.g. review points 5 a day.' },
      ),
    ),
    schedule: Type.Optional(
      Type.Object(
        {
          start: Type.Optional(Timestamp),
          end: Type.Optional(Timestamp),
          days_of_week: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, uniqueItems: true })),
          hours: Type.Optional(
            Type.Object(
              { from: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }), to: Type.String({ pattern: '^([01]\\d|2[0-4]):[0-5]\\d$' }) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false, description: "When the rule applies, in the program's time zone, by the event's occurred_at." },
      ),
    ),
    targeting: Type.Optional(
      Type.Object(
        {
          tiers: Type.Optional(Strings()),
          tags_any: Type.Optional(Strings()),
          tags_all: Type.Optional(Strings()),
          exclude_tags: Type.Optional(Strings()),
          segments: Type.Optional(
            Type.Array(Type.String({ pattern: '^seg_[0-9a-f]{28}$' }), {
              minItems: 1,
              maxItems: 20,
              uniqueItems: true,
              description: "Segment ids (docs/segments.md): the member must be in at least one, as of the segment's last refresh.",
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    pending_days: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 3650, description: "Default: the program's pending period for order.paid, 0 for other events." }),
    ),
    tier_benefit: Type.Optional(
      Type.Boolean({
        description:
          "Whether the earn multiplier of the member's tier (the program's tier ladder) applies. Default: true for rate effects (points per amount), false for fixed ones. A rule with its own tier multiplier uses that instead.",
      }),
    ),
    qualifying: Type.Optional(
      Type.Boolean({
        description: "Whether this rule's points count toward tier qualification when the ladder's metric is points (成长值). Default true.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type RuleDefinition = Static<typeof RuleDefinition>;
export type Multiplier = Static<typeof Multiplier>;

export const RuleVersion = Type.Object({
  version: Type.Integer(),
  effective_from: Timestamp,
  effective_until: NullableTimestamp,
  definition: RuleDefinition,
  created_at: Timestamp,
  created_by: Type.Union([Type.String(), Type.Null()]),
  backdated: Type.Boolean({
    description:
      'Published with backdate: true, taking effect before it was created (effective_from more than a minute before created_at). Events processed before created_at were evaluated without it and stay so.',
  }),
});

export const Rule = Type.Object({
  id: Type.String(),
  object: Type.Literal('rule'),
  program_id: Type.String(),
  status: StringEnum(['active', 'archived'] as const),
  /** The version in force now (null: not yet in force, or archived). */
  current: Type.Union([RuleVersion, Type.Null()]),
  versions: Type.Array(RuleVersion, { description: 'All versions, newest first, including ones announced for the future.' }),
  created_at: Timestamp,
});

/** How far back `backdate: true` may set effective_from (BACKDATE_LIMIT_EXCEEDED beyond). */
export const MAX_BACKDATE_DAYS = 366;

export const RuleCreate = Type.Object(
  {
    definition: RuleDefinition,
    effective_from: Type.Optional(Timestamp),
    backdate: Type.Optional(
      Type.Boolean({
        description: `Allows an effective_from in the past, at most ${MAX_BACKDATE_DAYS} days back (imports, late POS syncs): events sent from now on with an earlier occurred_at are evaluated by this version. Events already processed are never evaluated again. Without it a past effective_from is EFFECTIVE_FROM_IN_PAST.`,
      }),
    ),
  },
  { additionalProperties: false, description: 'effective_from defaults to now; a future date announces the rule in advance; a past one needs backdate: true.' },
);
export const RuleRevise = RuleCreate;
export const RuleListQuery = Type.Object(
  { status: Type.Optional(StringEnum(['active', 'archived'] as const)), trigger: Type.Optional(Type.String({ maxLength: 64 })), ...PageQuery },
  { additionalProperties: false },
);
