// The rule editor's form values and the API's rule definition, both ways, and where an API field
// error goes in the form. Amounts are shown in currency units (¥) and sent in minor units (fen);
// dates are picked as wall-clock times in the program's time zone.
import dayjs, { type Dayjs } from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';
import { minorUnitsOf } from '../../../shared/format.ts';
import type { Multiplier, RuleDefinition } from './types.ts';

dayjs.extend(utc);
dayjs.extend(timezone);

export type MultiplierType = Multiplier['type'];
export const MULTIPLIER_TYPES: MultiplierType[] = ['tier', 'channel', 'date_window', 'monthly_day', 'weekday', 'birthday_month', 'condition'];
export const PERIODS = ['day', 'week', 'month', 'lifetime'] as const;

export interface FormMultiplier {
  type: MultiplierType;
  /** tier, channel: code → multiplier (and the label members see) */
  entries?: { key?: string; value?: string; label?: string }[];
  multiplier?: string;
  range?: [Dayjs, Dayjs] | null;
  days?: number[];
  /** condition: JSONLogic as text */
  condition_text?: string;
  label?: string;
}

export interface FormValues {
  name: string;
  description?: string;
  triggers: string[];
  effect: {
    type: 'fixed' | 'rate';
    points?: number;
    per_amount_major?: number;
    rounding?: 'floor' | 'half_up' | 'ceil';
    basis?: 'order' | 'items';
  };
  multipliers?: FormMultiplier[];
  item_multipliers?: { skus?: string[]; categories?: string[]; multiplier?: string; label?: string }[];
  stacking?: 'multiply' | 'add' | 'highest';
  priority?: number;
  exclusive?: boolean;
  min_order_amount_major?: number | null;
  caps?: {
    per_event?: number | null;
    per_member?: Partial<Record<(typeof PERIODS)[number], number | null>>;
    budget_period?: 'day' | 'week' | 'month' | 'total';
    budget_points?: number | null;
  };
  frequency_max?: number | null;
  frequency_per?: (typeof PERIODS)[number];
  schedule?: { range?: [Dayjs, Dayjs] | null; days_of_week?: number[]; hours?: [Dayjs, Dayjs] | null };
  targeting?: { tiers?: string[]; tags_any?: string[]; tags_all?: string[]; exclude_tags?: string[] };
  pending_days?: number | null;
}

/** An instant as the wall-clock time of the program's time zone (what the pickers show). */
export function wallClock(iso: string, timeZone: string): Dayjs {
  return dayjs(dayjs(iso).tz(timeZone).format('YYYY-MM-DDTHH:mm:ss'));
}

/** A wall-clock time picked in the program's time zone, as an instant (ISO 8601). */
export function instantOf(wall: Dayjs, timeZone: string): string {
  return dayjs.tz(wall.format('YYYY-MM-DDTHH:mm:ss'), timeZone).toISOString();
}

const present = <T>(v: T | null | undefined | ''): v is T => v !== undefined && v !== null && v !== '';
const nonEmpty = (list: string[] | undefined) => (list && list.length > 0 ? list : undefined);
function compact<T extends Record<string, unknown>>(o: T): T | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return Object.keys(out).length ? out : undefined;
}

/** The form's values for a definition (a new rule starts from `defaults`). */
export function toFormValues(def: RuleDefinition, currency: string, timeZone: string): FormValues {
  const minor = minorUnitsOf(currency);
  const s = def.schedule;
  const hour = (hhmm: string) => dayjs(`2000-01-01T${hhmm === '24:00' ? '23:59' : hhmm}:00`);
  return {
    name: def.name,
    description: def.description,
    triggers: def.triggers,
    effect: {
      type: def.effect.type,
      points: def.effect.points,
      per_amount_major: def.effect.per_amount === undefined ? undefined : def.effect.per_amount / minor,
      rounding: def.effect.rounding ?? 'floor',
      basis: def.effect.basis,
    },
    multipliers: (def.multipliers ?? []).map((m) => ({
      type: m.type,
      entries: m.values ? Object.entries(m.values).map(([key, value]) => ({ key, value, label: m.labels?.[key] })) : undefined,
      multiplier: m.multiplier,
      range: m.from && m.to ? [wallClock(m.from, timeZone), wallClock(m.to, timeZone)] : undefined,
      days: m.days,
      condition_text: m.condition === undefined ? undefined : JSON.stringify(m.condition, null, 2),
      label: m.label,
    })),
    item_multipliers: def.item_multipliers?.map((m) => ({ ...m })),
    stacking: def.stacking ?? 'multiply',
    priority: def.priority ?? 0,
    exclusive: def.exclusive ?? false,
    min_order_amount_major: def.min_order_amount === undefined ? undefined : def.min_order_amount / minor,
    caps: {
      per_event: def.caps?.per_event,
      per_member: { ...def.caps?.per_member },
      budget_period: def.caps?.budget?.period ?? 'month',
      budget_points: def.caps?.budget?.points,
    },
    frequency_max: def.frequency?.max,
    frequency_per: def.frequency?.per ?? 'day',
    schedule: {
      range: s?.start && s.end ? [wallClock(s.start, timeZone), wallClock(s.end, timeZone)] : undefined,
      days_of_week: s?.days_of_week,
      hours: s?.hours ? [hour(s.hours.from), hour(s.hours.to)] : undefined,
    },
    targeting: { ...def.targeting },
    pending_days: def.pending_days,
  };
}

/** A malformed JSON text in the form (a condition multiplier's JSONLogic): the field and what is wrong. */
export class FormValueError extends Error {
  readonly field: (string | number)[];
  constructor(field: (string | number)[], message: string) {
    super(message);
    this.field = field;
  }
}

/** The definition the API gets from the form's values and the condition builder's JSONLogic. */
export function fromFormValues(v: FormValues, condition: unknown, currency: string, timeZone: string): RuleDefinition {
  const minor = minorUnitsOf(currency);
  const effect: RuleDefinition['effect'] =
    v.effect.type === 'fixed'
      ? { type: 'fixed', points: v.effect.points ?? 0 }
      : {
          type: 'rate',
          points: v.effect.points ?? 0,
          per_amount: Math.round((v.effect.per_amount_major ?? 0) * minor),
          rounding: v.effect.rounding ?? 'floor',
          ...(v.effect.basis ? { basis: v.effect.basis } : {}),
        };
  const multipliers = (v.multipliers ?? []).map((m, i): Multiplier => {
    const out: Multiplier = { type: m.type };
    if (m.type === 'tier' || m.type === 'channel') {
      const entries = (m.entries ?? []).filter((e) => present(e.key));
      out.values = Object.fromEntries(entries.map((e) => [e.key!, e.value ?? '1']));
      const labels = entries.filter((e) => present(e.label));
      if (labels.length) out.labels = Object.fromEntries(labels.map((e) => [e.key!, e.label!]));
      return out;
    }
    out.multiplier = m.multiplier ?? '1';
    if (m.type === 'date_window' && m.range) {
      out.from = instantOf(m.range[0], timeZone);
      out.to = instantOf(m.range[1], timeZone);
    }
    if ((m.type === 'monthly_day' || m.type === 'weekday') && m.days) out.days = m.days;
    if (m.type === 'condition') {
      try {
        out.condition = JSON.parse(m.condition_text ?? '');
      } catch {
        throw new FormValueError(['multipliers', i, 'condition_text'], 'invalidJson');
      }
    }
    if (present(m.label)) out.label = m.label;
    return out;
  });
  const itemMultipliers = (v.item_multipliers ?? []).map((m) => ({
    ...(nonEmpty(m.skus) ? { skus: m.skus } : {}),
    ...(nonEmpty(m.categories) ? { categories: m.categories } : {}),
    multiplier: m.multiplier ?? '1',
    ...(present(m.label) ? { label: m.label } : {}),
  }));
  const perMember = compact(Object.fromEntries(PERIODS.map((p) => [p, present(v.caps?.per_member?.[p]) ? v.caps!.per_member![p]! : undefined])));
  const caps = compact({
    per_event: present(v.caps?.per_event) ? v.caps!.per_event! : undefined,
    per_member: perMember,
    budget: present(v.caps?.budget_points) ? { period: v.caps!.budget_period ?? 'month', points: v.caps!.budget_points! } : undefined,
  });
  const s = v.schedule;
  const schedule = compact({
    start: s?.range ? instantOf(s.range[0], timeZone) : undefined,
    end: s?.range ? instantOf(s.range[1], timeZone) : undefined,
    days_of_week: s?.days_of_week?.length ? [...s.days_of_week].sort() : undefined,
    hours: s?.hours ? { from: s.hours[0].format('HH:mm'), to: s.hours[1].format('HH:mm') } : undefined,
  });
  const t = v.targeting;
  const targeting = compact({
    tiers: nonEmpty(t?.tiers),
    tags_any: nonEmpty(t?.tags_any),
    tags_all: nonEmpty(t?.tags_all),
    exclude_tags: nonEmpty(t?.exclude_tags),
  });
  const def: RuleDefinition = {
    name: v.name?.trim() ?? '',
    ...(present(v.description?.trim()) ? { description: v.description!.trim() } : {}),
    triggers: v.triggers ?? [],
    ...(condition !== undefined ? { condition: condition as RuleDefinition['condition'] } : {}),
    effect,
    ...(itemMultipliers.length ? { item_multipliers: itemMultipliers } : {}),
    ...(multipliers.length ? { multipliers } : {}),
    ...(v.stacking && v.stacking !== 'multiply' ? { stacking: v.stacking } : {}),
    ...(v.priority ? { priority: v.priority } : {}),
    ...(v.exclusive ? { exclusive: true } : {}),
    ...(present(v.min_order_amount_major) ? { min_order_amount: Math.round(v.min_order_amount_major * minor) } : {}),
    ...(caps ? { caps } : {}),
    ...(present(v.frequency_max) ? { frequency: { max: v.frequency_max, per: v.frequency_per ?? 'day' } } : {}),
    ...(schedule ? { schedule } : {}),
    ...(targeting ? { targeting } : {}),
    ...(present(v.pending_days) ? { pending_days: v.pending_days } : {}),
  };
  return def;
}

export type FieldTarget = { kind: 'form'; name: (string | number)[] } | { kind: 'condition' } | { kind: 'none' };

const MULTIPLIER_FIELDS: Record<string, string> = {
  values: 'entries',
  labels: 'entries',
  from: 'range',
  to: 'range',
  condition: 'condition_text',
};

/**
 * Where an API field error (a JSON pointer into the body: /definition/effect/per_amount, or
 * /draft_rule/definition/… from a preview) belongs in the editor.
 */
export function fieldOf(path: string): FieldTarget {
  const parts = path
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (parts[0] === 'effective_from' || parts[0] === 'backdate') return { kind: 'form', name: ['effective_from'] };
  if (parts[0] === 'draft_rule') parts.shift();
  if (parts[0] !== 'definition') return { kind: 'none' };
  const [field, a, b] = parts.slice(1);
  switch (field) {
    case undefined:
      return { kind: 'none' };
    case 'name':
    case 'description':
    case 'triggers':
    case 'stacking':
    case 'priority':
    case 'exclusive':
    case 'pending_days':
      return { kind: 'form', name: [field] };
    case 'condition':
      return { kind: 'condition' };
    case 'effect':
      return { kind: 'form', name: ['effect', a === 'per_amount' ? 'per_amount_major' : (a ?? 'type')] };
    case 'min_order_amount':
      return { kind: 'form', name: ['min_order_amount_major'] };
    case 'multipliers':
      if (a === undefined) return { kind: 'none' };
      return { kind: 'form', name: ['multipliers', Number(a), MULTIPLIER_FIELDS[b ?? ''] ?? b ?? 'type'] };
    case 'item_multipliers':
      if (a === undefined) return { kind: 'none' };
      return { kind: 'form', name: ['item_multipliers', Number(a), b ?? 'multiplier'] };
    case 'caps':
      if (a === 'per_member') return { kind: 'form', name: ['caps', 'per_member', b ?? 'day'] };
      if (a === 'budget') return { kind: 'form', name: ['caps', 'budget_points'] };
      return { kind: 'form', name: ['caps', 'per_event'] };
    case 'frequency':
      return { kind: 'form', name: [b === undefined && a === 'per' ? 'frequency_per' : 'frequency_max'] };
    case 'schedule':
      if (a === 'start' || a === 'end') return { kind: 'form', name: ['schedule', 'range'] };
      return { kind: 'form', name: ['schedule', a === 'hours' ? 'hours' : 'days_of_week'] };
    case 'targeting':
      return { kind: 'form', name: ['targeting', a ?? 'tiers'] };
    default:
      return { kind: 'none' };
  }
}

/** A new rule's starting point: ¥1 = 1 point on paid orders. */
export function defaultDefinition(): RuleDefinition {
  return { name: '', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100, rounding: 'floor' } };
}
