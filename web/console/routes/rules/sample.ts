// What the rule editor derives from an event type's payload schema: a sample payload for the
// preview, and the fields a condition can read (event.data.*), beside what the engine always
// exposes about the member and the event.
import type { FieldType } from './condition-builder/logic.ts';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  examples?: unknown[];
  minimum?: number;
  enum?: unknown[];
  description?: string;
}

function typeOf(s: JsonSchema): string | undefined {
  return Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
}

/**
 * A payload that passes the schema: the required fields, and the optional numbers, booleans and
 * strings with an example (the channel), with plausible values (an amount of 100 in the currency).
 */
export function samplePayload(schema: unknown, currency: string, minorUnits: number): Record<string, unknown> {
  const s = (schema ?? {}) as JsonSchema;
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const required = s.required?.includes(name) ?? false;
    const type = typeOf(prop);
    const example = prop.examples?.[0] ?? prop.enum?.[0];
    if (name === 'currency' && type === 'string') out[name] = currency;
    else if (name === 'amount' && (type === 'integer' || type === 'number')) out[name] = 100 * minorUnits;
    else if (example !== undefined && (required || type !== 'object')) out[name] = example;
    else if (type === 'integer' || type === 'number') out[name] = prop.minimum ?? 1;
    else if (type === 'boolean') out[name] = false;
    else if (required && type === 'string') out[name] = name.endsWith('_id') ? `preview-${name.replace(/_id$/, '')}` : 'preview';
    else if (required && type === 'array') out[name] = [];
    else if (required && type === 'object') out[name] = {};
  }
  return out;
}

export interface DataField {
  path: string;
  name: string;
  type: FieldType;
  description?: string;
}

/** The payload's top-level fields as condition variables: event.data.amount (number), event.data.channel (string)… */
export function dataFields(schema: unknown): DataField[] {
  const s = (schema ?? {}) as JsonSchema;
  return Object.entries(s.properties ?? {}).map(([name, prop]) => {
    const type = typeOf(prop);
    const fieldType: FieldType =
      type === 'integer' || type === 'number'
        ? 'number'
        : type === 'boolean'
          ? 'boolean'
          : type === 'array'
            ? 'array'
            : type === 'string'
              ? 'string'
              : 'unknown';
    return { path: `event.data.${name}`, name, type: fieldType, description: prop.description };
  });
}
