import { type EventInput, type EventTypeRow, payloadValidator } from '../../modules/events/index.ts';
import { MAX_AMOUNT } from '../../modules/rules/index.ts';
import { DomainError } from '../../shared/errors.ts';
import { fieldErrors } from '../../shared/json-schema.ts';
import { fieldProblem, type IngestItem, type ItemOutcome, type Prepared, refuse } from './context.ts';

/**
 * Step 1: each event against its type — the payload against the type's JSON Schema (built-in, or
 * the program's own), then what a schema cannot say (one member reference, the program's
 * currency, an order's total). Refused events get their outcome; the others go on.
 */
export function validateAll(items: IngestItem[], currency: string, customTypes: EventTypeRow[], now: Date, outcomes: Map<number, ItemOutcome>): Prepared[] {
  const custom = new Map(customTypes.map((t) => [t.type, t]));
  const valid: Prepared[] = [];
  for (const item of items) {
    const error = validateEvent(item.input, currency, custom, item.prefix);
    if (error) refuse(outcomes, item, error);
    else valid.push({ ...item, occurredAt: item.input.occurred_at ? new Date(item.input.occurred_at) : now, data: item.input.data ?? {} });
  }
  return valid;
}

/** Why the event cannot be processed, if it cannot; `prefix` is where it sits in the request. */
export function validateEvent(input: EventInput, currency: string, custom: ReadonlyMap<string, EventTypeRow>, prefix: string): DomainError | undefined {
  const validate = payloadValidator(input.type, custom);
  if (!validate)
    return fieldProblem(`${prefix}/type`, `is not a built-in event type or one declared by the program`, 'unknown_event_type', {}, 'UNKNOWN_EVENT_TYPE');
  if (!input.member_id && !input.external_member_id)
    return fieldProblem(`${prefix}/member_id`, 'is required (or external_member_id)', 'exactly_one_of', { fields: 'member_id, external_member_id' });
  if (input.member_id && input.external_member_id)
    return fieldProblem(`${prefix}/external_member_id`, 'cannot be combined with member_id', 'exactly_one_of', {
      fields: 'member_id, external_member_id',
    });
  const data = input.data ?? {};
  if (!validate(data)) {
    const errors = fieldErrors(validate.errors ?? [], 'body', `${prefix}/data`);
    return new DomainError('VALIDATION_FAILED', `${errors[0]?.path} ${errors[0]?.message}`, {}, errors);
  }
  if (input.type === 'order.paid' && data.currency !== currency) {
    return new DomainError('CURRENCY_MISMATCH', `The program counts in ${currency}`, { expected: currency }, [
      { path: `${prefix}/data/currency`, location: 'body', message: `must be ${currency}`, rule: 'const', params: { value: currency } },
    ]);
  }
  if (input.type === 'order.refunded' && data.amount !== undefined && data.items !== undefined)
    return fieldProblem(`${prefix}/data/items`, 'cannot be combined with amount', 'not_with', { field: 'amount' });
  if (input.type === 'order.paid' && Array.isArray(data.items)) {
    const lines = data.items as { quantity: number; unit_price: number }[];
    if (lines.reduce((s, l) => s + l.quantity * l.unit_price, 0) > MAX_AMOUNT)
      return fieldProblem(`${prefix}/data/items`, `must come to at most ${MAX_AMOUNT} minor units together (quantity × unit_price)`, 'items_total', {
        limit: MAX_AMOUNT,
      });
  }
  return undefined;
}
