import { type Static, Type } from 'typebox';
import { Metadata, StringEnum, Timestamp } from '../../shared/schemas.ts';
import { TIME_ZONE_PATTERN } from './time-zones.ts';

export const EXPIRY_POLICY_TYPES = ['never', 'rolling', 'end_of_period', 'activity_extended'] as const;

export const ExpiryPolicy = Type.Object(
  {
    type: StringEnum(EXPIRY_POLICY_TYPES, {
      description:
        'never; rolling: each lot expires `months` after it was earned; end_of_period: at the end of the `unit` ' +
        '(month, quarter, year) `offset` periods after the one it was earned in (year + offset 1 = 31 Dec of the next ' +
        'year); activity_extended: `months` after earning, extended by qualifying activity (earning, spending, an event, ' +
        'POST /v1/members/{id}/activity): each activity resets the expiry to `months` after it, or, with `extend_by_months` ' +
        'and `extend_once_per`, the first activity of each period adds `extend_by_months` to the current expiry; never beyond ' +
        '`hard_cap_months` after earning.',
    }),
    months: Type.Optional(Type.Integer({ minimum: 1, maximum: 240 })),
    unit: Type.Optional(StringEnum(['month', 'quarter', 'year'] as const)),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
    hard_cap_months: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
    extend_by_months: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 120,
        description: "activity_extended: months each extension adds to a lot's current expiry (with extend_once_per).",
      }),
    ),
    extend_once_per: Type.Optional(
      StringEnum(['month', 'quarter', 'year'] as const, {
        description: "activity_extended: at most one extension per this period, in the program's time zone (with extend_by_months).",
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      { type: 'rolling', months: 12 },
      { type: 'end_of_period', unit: 'year', offset: 1 },
      { type: 'activity_extended', months: 12, extend_by_months: 3, extend_once_per: 'quarter', hard_cap_months: 36 },
    ],
  },
);
export type ExpiryPolicy = Static<typeof ExpiryPolicy>;

const programFields = {
  name: Type.String({ minLength: 1, maxLength: 200, examples: ['积分咖啡 Jifen Coffee'] }),
  time_zone: Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: TIME_ZONE_PATTERN,
    description:
      'IANA time zone name (Asia/Shanghai, UTC, Europe/Berlin); expiry periods, cap periods and rule schedules are in it. Default Asia/Shanghai. ' +
      'Names both the database and the rule engine know exactly as written; not UTC offsets (+08:00), POSIX TZ strings, posix/…, right/…, localtime or Factory.',
    examples: ['Asia/Shanghai'],
  }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code. Default CNY.' }),
  point_name: Type.String({ minLength: 1, maxLength: 32, description: 'What members see points called (in Chinese). Default 积分.' }),
  point_name_en: Type.String({ minLength: 1, maxLength: 32, description: 'What members see points called in English. Default points.' }),
  expiry_policy: ExpiryPolicy,
  pending_days: Type.Integer({ minimum: 0, maximum: 3650, description: 'Days earned points stay pending (e.g. the return window).' }),
  negative_balance_policy: StringEnum(['write_off', 'allow_negative'] as const, {
    description:
      'When a refund reverses points already spent: write_off takes what the member has and writes off the rest; allow_negative records a debt repaid from future points.',
  }),
  redemption_rate: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Points worth one currency unit (100 = 100 points per ¥1).' }),
  hold_timeout_seconds: Type.Integer({ minimum: 1, maximum: 2_592_000, description: 'Default lifetime of a hold before it is released.' }),
  metadata: Metadata,
};

export const ProgramCreate = Type.Object(
  {
    name: programFields.name,
    time_zone: Type.Optional(programFields.time_zone),
    currency: Type.Optional(programFields.currency),
    point_name: Type.Optional(programFields.point_name),
    point_name_en: Type.Optional(programFields.point_name_en),
    expiry_policy: Type.Optional(programFields.expiry_policy),
    pending_days: Type.Optional(programFields.pending_days),
    negative_balance_policy: Type.Optional(programFields.negative_balance_policy),
    redemption_rate: Type.Optional(programFields.redemption_rate),
    hold_timeout_seconds: Type.Optional(programFields.hold_timeout_seconds),
    metadata: Type.Optional(programFields.metadata),
  },
  { additionalProperties: false },
);
export type ProgramCreate = Static<typeof ProgramCreate>;

export const ProgramUpdate = Type.Partial(ProgramCreate, { additionalProperties: false, minProperties: 1 });
export type ProgramUpdate = Static<typeof ProgramUpdate>;

export const Program = Type.Object({
  id: Type.String({ examples: ['prg_019ab3c4d5e6f7a8b9c0d1e2f3a4'] }),
  object: Type.Literal('program'),
  ...programFields,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Program = Static<typeof Program>;
