/**
 * Every error the API can return, with its HTTP status and a human title. Codes are stable: clients
 * branch on them. Adding a code is fine; renaming one is a breaking change.
 */
export const ERRORS = {
  VALIDATION_FAILED: [400, 'The request is not valid'],
  INVALID_JSON: [400, 'The request body is not valid JSON'],
  INVALID_CURSOR: [400, 'The pagination cursor is not valid'],
  INVALID_EXPIRY_POLICY: [400, 'The expiry policy is not valid'],
  IDEMPOTENCY_KEY_REQUIRED: [400, 'This operation needs an Idempotency-Key header'],
  JSON_TOO_DEEP: [400, 'The request body nests objects and arrays too deeply'],
  INVALID_URL: [400, 'The request URL is not valid'],
  BAD_REQUEST: [400, 'The request is not valid HTTP'],
  UNAUTHENTICATED: [401, 'A valid API key (or, on /v1/me, a member token) is required'],
  FORBIDDEN: [403, 'The API key does not have the scope this operation needs'],
  INVALID_CREDENTIALS: [401, 'The email or password is not correct'],
  CSRF_TOKEN_INVALID: [403, 'The X-CSRF-Token header is missing or does not match the console session'],
  CURRENT_PASSWORD_INCORRECT: [403, 'The current password is not correct'],
  NOT_FOUND: [404, 'No such route'],
  PROGRAM_NOT_FOUND: [404, 'No such program'],
  MEMBER_NOT_FOUND: [404, 'No such member'],
  HOLD_NOT_FOUND: [404, 'No such hold'],
  ENTRY_NOT_FOUND: [404, 'No such entry'],
  API_KEY_NOT_FOUND: [404, 'No such API key'],
  RULE_NOT_FOUND: [404, 'No such rule'],
  EVENT_NOT_FOUND: [404, 'No such event'],
  CHANGE_NOT_FOUND: [404, 'No such change in the audit log'],
  CONSOLE_USER_NOT_FOUND: [404, 'No such console user'],
  SEGMENT_NOT_FOUND: [404, 'No such segment'],
  TIER_LADDER_NOT_FOUND: [404, 'The program has no tier ladder'],
  TIER_OVERRIDE_NOT_FOUND: [404, 'The member has no tier override in force'],
  REWARD_NOT_FOUND: [404, 'No such reward (or one of another program)'],
  REDEMPTION_NOT_FOUND: [404, 'No such redemption (or one of another program, or of another member on /v1/me)'],
  PRICE_CHANGE_NOT_FOUND: [404, 'No such price change of the reward'],
  CODE_IMPORT_NOT_FOUND: [404, 'No such code import of the reward'],
  CHECKOUT_DEDUCTION_NOT_FOUND: [404, 'No such checkout deduction (or one of another program)'],
  UNKNOWN_EVENT_TYPE: [400, 'The program has no such event type'],
  IDEMPOTENCY_KEY_REUSED: [409, 'This Idempotency-Key was already used with a different request'],
  IDEMPOTENCY_KEY_IN_PROGRESS: [409, 'A request with this Idempotency-Key is still being processed'],
  HOLD_ALREADY_RESOLVED: [409, 'The hold was already captured or voided'],
  HOLD_EXPIRED: [409, 'The hold has expired and its points were released'],
  CHECKOUT_ORDER_HAS_DEDUCTION: [409, 'The order already has a checkout deduction held or captured'],
  CHECKOUT_POLICY_CHANGED: [409, 'The checkout policy changed while the deduction was checked: quote again'],
  CHECKOUT_ALREADY_REFUNDED: [409, 'The checkout deduction was already refunded'],
  CHECKOUT_NOT_CAPTURED: [409, 'Only a captured checkout deduction can be refunded'],
  ENTRY_ALREADY_REVERSED: [409, 'The credit was already fully reversed'],
  MEMBER_HAS_OPEN_HOLDS: [409, 'The member has open holds; capture or void them first'],
  RULE_ARCHIVED: [409, 'The rule is archived'],
  SEGMENT_ARCHIVED: [409, 'The segment is archived'],
  SEGMENT_BUILT_IN: [409, 'The segment is built in: it can be refreshed, not changed or archived'],
  TIER_IN_USE: [409, 'Members hold a tier the new ladder removes'],
  TIER_MANAGED_BY_LADDER: [409, "The program's tiers follow its ladder: set an override with POST /v1/members/{memberId}/tier-override"],
  EVENT_TYPE_EXISTS: [409, 'The program already has this event type'],
  AUDIENCE_IN_USE: [409, 'Another program already uses this member-token audience'],
  CONSOLE_USER_EXISTS: [409, 'A console user with this email already exists'],
  LAST_OWNER: [409, 'The deployment must keep at least one enabled owner for every program'],
  EVALUATION_STALE: [409, "The member's points changed while the event was evaluated; send it again"],
  REWARD_ARCHIVED: [409, 'The reward is archived'],
  REWARD_NOT_COUPON: [409, 'Only a coupon reward has a pool of codes'],
  PRICE_CHANGED: [409, 'The reward costs another number of points than expected_points: show the member the new price'],
  PRICE_CHANGE_IN_EFFECT: [409, 'The price change has taken effect and can no longer be withdrawn'],
  REDEMPTION_STATUS_CONFLICT: [409, "The redemption's status does not allow this step"],
  REQUEST_TIMEOUT: [408, 'The request was not received in time'],
  PAYLOAD_TOO_LARGE: [413, 'The request body is too large'],
  URI_TOO_LONG: [414, 'A path parameter or the URL is too long'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'Send the body as application/json'],
  RATE_LIMITED: [429, 'Too many requests; retry after the number of seconds in Retry-After'],
  HEADERS_TOO_LARGE: [431, 'The request line and headers are too large'],
  INSUFFICIENT_POINTS: [422, 'The member does not have enough available points'],
  MEMBER_FROZEN: [422, 'The member is frozen and cannot spend, transfer or redeem'],
  MEMBER_CLOSED: [422, 'The member is closed'],
  INVALID_EXPIRY: [422, 'The expiry must be after the points become available'],
  CAPTURE_EXCEEDS_HOLD: [422, 'Cannot capture more than the hold'],
  REVERSAL_EXCEEDS_CREDIT: [422, 'Cannot reverse more than what is left of the credit'],
  ENTRY_NOT_REVERSIBLE: [422, 'Only credits (earn, positive adjustment) can be reversed'],
  TRANSFER_TO_SELF: [422, 'A member cannot transfer points to themselves'],
  TRANSFER_ACROSS_PROGRAMS: [422, 'Both members must belong to the same program'],
  EFFECTIVE_FROM_IN_PAST: [422, 'A rule version cannot take effect in the past'],
  EFFECTIVE_FROM_BEFORE_LATEST: [422, 'A new rule version must take effect at or after the latest one'],
  BACKDATE_LIMIT_EXCEEDED: [422, 'A rule version can be back-dated at most 366 days'],
  CURRENCY_MISMATCH: [422, "The amount is not in the program's currency"],
  ORDER_NOT_FOUND: [422, 'No order.paid event for this order'],
  REFUND_EXCEEDS_ORDER: [422, 'The refund asks more than is left to refund of the order'],
  BALANCE_LIMIT_EXCEEDED: [422, 'The balance would exceed the largest supported number of points'],
  AWARD_LIMIT_EXCEEDED: [422, 'The event would award more points than one operation may move'],
  PROGRAM_TIME_ZONE_UNSUPPORTED: [422, "The program's time zone is not one rules can be evaluated in; update it"],
  REWARD_OUT_OF_STOCK: [422, 'The reward is out of stock'],
  CHECKOUT_NOT_ENABLED: [422, 'The program does not let members use points at checkout'],
  POINTS_EXCEED_QUOTE: [422, 'More points than the checkout policy allows on this order'],
  BELOW_MIN_POINTS: [422, 'Fewer points than the checkout policy allows on an order'],
  LIMIT_REACHED: [422, 'The member has redeemed this reward as many times as its limit allows in this period'],
  TIER_REQUIRED: [422, "The reward needs a higher tier than the member's"],
  SEGMENT_REQUIRED: [422, 'The reward is for members of a segment the member is not in'],
  NOT_AVAILABLE_NOW: [422, 'The reward cannot be redeemed now (not active, or outside its window or sale hours)'],
  DONATION_BELOW_MINIMUM: [422, "The donation is below the reward's minimum points"],
  REWARD_TYPE_UNSUPPORTED: [422, 'This reward is not redeemed this way (a lottery reward is drawn)'],
  NOT_A_LOTTERY: [422, 'The reward is not a lottery: it is redeemed, not drawn'],
  LOTTERY_NO_PRIZES: [422, 'The lottery has no prize in stock to draw'],
  LOTTERY_NO_ACTIVE_SEED: [409, 'The lottery has no active seed: rotate one in first'],
  LOTTERY_PRIZE_NOT_FOUND: [404, 'No such prize in this lottery'],
  LOTTERY_PRIZE_CODE_TAKEN: [409, 'The lottery has a prize with this code already'],
  LOTTERY_DRAW_NOT_FOUND: [404, 'No such lottery draw'],
  INTERNAL: [500, 'Internal error'],
  SERVICE_UNAVAILABLE: [503, 'Service unavailable'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * What a field error says, as a stable name a client can translate (the console does: web/shared/
 * i18n.ts fieldMessage), with its figures in `params`. JSON Schema's own keywords keep their
 * names; the rest are the API's rules. docs/api.md, "Field errors", lists them.
 */
export const FIELD_RULES = {
  // JSON Schema keywords (params as Ajv gives them)
  required: 'the field is missing',
  unknown_field: 'the field is not one the operation knows',
  type: 'the value is of another JSON type (params.type)',
  enum: 'the value is not one of params.values',
  const: 'the value must be params.value',
  minimum: 'the number is below params.limit (params.comparison: >= or >)',
  maximum: 'the number is above params.limit (params.comparison: <= or <)',
  exclusiveMinimum: 'the number must be more than params.limit',
  exclusiveMaximum: 'the number must be less than params.limit',
  multipleOf: 'the number must be a multiple of params.multipleOf',
  minLength: 'the text is shorter than params.limit characters',
  maxLength: 'the text is longer than params.limit characters',
  pattern: 'the text does not match params.pattern',
  format: 'the text is not a valid params.format',
  minItems: 'the list has fewer than params.limit items',
  maxItems: 'the list has more than params.limit items',
  uniqueItems: 'the list repeats an item',
  minProperties: 'the object has fewer than params.limit fields',
  maxProperties: 'the object has more than params.limit fields',
  key_too_long: 'the object has a key longer than params.limit characters',
  key_too_short: 'the object has a key shorter than params.limit characters',
  key_not_allowed: 'the object has a key that is not allowed',
  not_zero: 'the number must not be 0',
  max_bytes: 'the value is params.bytes bytes as JSON, more than params.limit',
  max_depth: 'the value nests deeper than params.limit levels',
  invalid: 'the value is not valid (no more specific rule)',
  // the API's rules
  decimal_digits: 'a number in the query string must be plain decimal digits (at most 15)',
  text_encoding: 'the text contains a NUL character or invalid Unicode',
  required_for: 'the field is needed when params.field is params.value',
  only_for: 'the field is only for params.field params.value',
  after_field: 'the value must be after params.field',
  at_most_field: 'the value must be at most params.field',
  more_than_tier: 'the value must be more than the entry of tier params.tier',
  base_tier_entry: "the first tier's entry must be 0",
  duplicate: 'the value is already used by params.path (or another item of the list)',
  exactly_one_of: 'exactly one of params.fields',
  no_such_day: 'the month params.month has no day params.day',
  needs_window: 'params.value needs a params.windows qualifying window',
  after_today: 'the date must be after today',
  in_future: 'the instant must be in the future',
  at_most_years_ahead: 'the date must be at most params.years years ahead',
  first_ladder_only: "the field is only for the program's first ladder",
  not_a_tier: 'the value is not a tier of the ladder (params.tiers)',
  no_ladder: 'the program has no tier ladder',
  not_in_program: 'the referenced object is not of this program',
  not_for: 'the field is not for params.field params.value',
  at_least_redeemed: 'the stock must be at least params.limit, the units redeemed already',
  not_past: 'the instant must be now or later',
  instant_taken: 'another item (params.id) takes effect at this instant already',
  reserved: 'the value is reserved (params.value)',
  required_with: 'the field is needed together with params.field',
  not_with: 'the field cannot be combined with params.field',
  not_used_for: 'the field is not used when params.field is params.value',
  at_least_field: 'the value must be at least params.field',
  at_least_one_of: 'at least one of params.fields is needed',
  time_zone: 'the text is not a supported IANA time zone name',
  prize_reward_type: 'a params.type reward cannot be a prize (a prize issues a coupon, goods, a service or an experience)',
  archived: 'the referenced object is archived',
  too_many: 'there are params.limit already, the most allowed',
  at_least_given: 'the stock must be at least params.limit, the units given out already',
  variable_name: 'the expression must name a variable as text (params.variables)',
  unknown_variable: 'params.name is not a variable (params.variables)',
  jsonlogic: 'the value is not a valid JSONLogic expression',
  jsonlogic_operator: 'the key is not a known JSONLogic operator',
  code_length: 'params.length random characters are too few for params.codes codes',
  unknown_event_type: 'the event type is neither built in nor declared by the program',
  items_total: 'the items come to more than params.limit minor units together',
  taken: 'the value is used by another one already',
  unknown_reference: 'the referenced object does not exist',
  invalid_cursor: 'the cursor is not one this API returned',
  built_in: 'the value is a built-in one',
  json_schema: 'the value is not a valid JSON Schema',
  at_or_after: 'the instant must be at or after params.limit',
  backdate_limit: 'the instant must be at or after params.limit (params.days days back)',
  points_step: 'the points must be a multiple of params.points (params.points points are worth params.value fen)',
  no_order: 'the order has no order.paid event',
  no_order_of_member: 'the order has no order.paid event of this member',
} as const;

export type FieldRule = keyof typeof FIELD_RULES;

/** A field rule's figures (limit, values, field, …): text or numbers. */
export type FieldParams = Record<string, string | number>;

export interface FieldError {
  /** JSON pointer into the request part, e.g. `/points` or `/expiry_policy/months`. */
  path: string;
  /** Where the field is: body, querystring, params or headers. */
  location: string;
  /** In English, for people reading the answer. */
  message: string;
  /** What the field breaks, for programs and translations (FIELD_RULES). */
  rule?: FieldRule;
  /** The rule's figures. */
  params?: FieldParams;
}

/** An expected failure. Never becomes a 500. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, detail?: string, details: Record<string, unknown> = {}, errors?: FieldError[]) {
    super(detail ?? ERRORS[code][1]);
    this.code = code;
    this.status = ERRORS[code][0];
    this.details = details;
    this.errors = errors;
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

/** A validation failure on one field: its English message, and its rule with the rule's figures. */
export function fieldError(path: string, message: string, rule: FieldRule, params: FieldParams = {}, location = 'body'): DomainError {
  return new DomainError('VALIDATION_FAILED', `${path} ${message}`, {}, [{ path, location, message, rule, params }]);
}

/**
 * The ledger functions raise SQLSTATE P0001 with the API code as message and JSON detail; a few
 * constraint violations are expected outcomes too. Anything else is not ours to explain.
 */
export function fromDatabaseError(err: unknown): DomainError | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: string; message?: string; detail?: string; constraint?: string; constraint_name?: string };
  if (e.code === 'P0001' && e.message && isErrorCode(e.message)) {
    let details: Record<string, unknown> = {};
    try {
      details = e.detail ? JSON.parse(e.detail) : {};
    } catch {
      details = {};
    }
    const field = typeof details.field === 'string' ? details.field : undefined;
    const errors = field ? [{ path: `/${field}`, location: 'body', message: ERRORS[e.message][1] }] : undefined;
    return new DomainError(e.message, undefined, details, errors);
  }
  if (e.code === '23514') {
    // member_account_balance_check, and the *_points_bound constraints (the baseline migration):
    // a stored total would pass 2^53 − 1
    const m =
      /\b(member_account)_(balance)_check\b|\b(member_account|lot|hold_allocation|hold|ledger_entry|rule_award|rule_budget|event)_([a-z_]+?)_points_bound\b/.exec(
        `${e.constraint ?? e.constraint_name ?? ''} ${e.message ?? ''}`,
      );
    if (m) {
      const total = `${m[1] ?? m[3]}.${m[2] ?? m[4]}`;
      return new DomainError(
        'BALANCE_LIMIT_EXCEEDED',
        `The write would take ${total} past ${Number.MAX_SAFE_INTEGER} points (2^53 − 1), the largest total kept exactly; nothing was written`,
        { limit: Number.MAX_SAFE_INTEGER, total },
      );
    }
  }
  return undefined;
}
