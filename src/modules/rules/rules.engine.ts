import { LogicEngine } from 'json-logic-engine';
import { allocate } from '../../shared/allocation.ts';
import { DomainError, fieldError } from '../../shared/errors.ts';
import { add, cmp, mul, ONE, parseDecimal, type Rational, type Rounding, rat, round, sub, toDecimalString, ZERO } from '../../shared/rational.ts';
import { MAX_POINTS } from '../../shared/schemas.ts';
import { localParts, type Period, periodOf } from '../../shared/time.ts';
import { MAX_AMOUNT, MAX_TOTAL_POINTS, type Multiplier, type RuleDefinition } from './rules.schemas.ts';

/**
 * The rule engine: pure, in process, no I/O. Given the rule versions in force, an event, the member
 * and how much each rule already awarded them, it says who gets how many points and why.
 *
 * Evaluation order, per rule in priority order (higher first, then oldest rule):
 *   trigger → schedule → targeting → minimum order → condition → frequency → base →
 *   multipliers (stacked) → rounding (once) → per-event cap → per-member caps → (budget, in SQL)
 * An exclusive rule that awards points stops rules of lower priority. Item-based bases (basis items,
 * item multipliers) earn on what was paid: a discounted order's amount is allocated over its lines
 * (paidAmounts).
 *
 * Limits (AWARD_LIMIT_EXCEEDED, the event is refused and nothing is written): a rule's award before
 * caps must be at most 2^53 − 1 (every number of an explanation is exact in JSON), and an event's
 * awards after caps at most 10^12 together (MAX_POINTS, what one operation may move). Budgets only
 * lower an award afterwards, so a preview (no budgets) refuses exactly what the event would.
 */

const logic = new LogicEngine();
const OPERATORS = new Set(Object.keys(logic.methods));

/** Checks a JSONLogic expression's shape and operators, naming the path of the first problem. */
export function validateLogic(expr: unknown, path: string): void {
  if (Array.isArray(expr)) {
    expr.forEach((e, i) => {
      validateLogic(e, `${path}/${i}`);
    });
    return;
  }
  if (expr === null || typeof expr !== 'object') return;
  const keys = Object.keys(expr);
  if (keys.length !== 1) throw fieldError(path, 'must be a JSONLogic operation: an object with exactly one operator key', 'jsonlogic');
  const op = keys[0]!;
  if (!OPERATORS.has(op))
    throw fieldError(`${path}/${op.replaceAll('~', '~0').replaceAll('/', '~1')}`, `is not a known JSONLogic operator`, 'jsonlogic_operator');
  validateLogic((expr as Record<string, unknown>)[op], `${path}/${op.replaceAll('~', '~0').replaceAll('/', '~1')}`);
}

export function compileLogic(expr: unknown, path: string): (data: unknown) => unknown {
  validateLogic(expr, path);
  try {
    return logic.build(expr as Parameters<LogicEngine['build']>[0]) as (data: unknown) => unknown;
  } catch (err) {
    throw fieldError(path, `is not a valid JSONLogic expression${(err as Error)?.message ? `: ${(err as Error).message}` : ''}`, 'jsonlogic');
  }
}

export interface RuleVersionInput {
  rule_id: string;
  version: number;
  /** Rules created earlier are evaluated first among equal priorities. */
  created_at: string;
  definition: RuleDefinition;
}

interface CompiledMultiplier {
  def: Multiplier;
  value?: Rational;
  values?: Map<string, Rational>;
  /** The decimal as written ("1.5"), for explanations. */
  texts?: Map<Rational, string>;
  condition?: (data: unknown) => unknown;
  from?: number;
  to?: number;
}

export interface CompiledRule {
  ruleId: string;
  version: number;
  def: RuleDefinition;
  priority: number;
  createdAt: string;
  triggers: Set<string>;
  condition?: (data: unknown) => unknown;
  multipliers: CompiledMultiplier[];
  itemMultipliers: { skus: Set<string>; categories: Set<string>; value: Rational; label: string }[];
  usesItems: boolean;
  hours?: [number, number];
  start?: number;
  end?: number;
  /** points ÷ per_amount of a rate effect, or the fixed points. */
  rate: Rational;
}

/** Compiles (and validates) a rule version. Validation errors name the field path. */
export function compileRule(input: RuleVersionInput, path = '/definition'): CompiledRule {
  const def = input.definition;
  const effect = def.effect;
  if (effect.type === 'rate' && effect.per_amount === undefined)
    throw fieldError(`${path}/effect/per_amount`, 'is required for a rate effect', 'required_for', { field: 'type', value: 'rate' });
  if (effect.type === 'fixed' && (effect.per_amount !== undefined || effect.basis !== undefined)) {
    throw fieldError(`${path}/effect/${effect.per_amount !== undefined ? 'per_amount' : 'basis'}`, 'is only for a rate effect', 'only_for', {
      field: 'type',
      value: 'rate',
    });
  }
  if (def.item_multipliers?.length && effect.type !== 'rate')
    throw fieldError(`${path}/item_multipliers`, 'need a rate effect', 'only_for', { field: 'type', value: 'rate' });
  if (effect.basis === 'order' && def.item_multipliers?.length)
    throw fieldError(`${path}/effect/basis`, 'must be items when item_multipliers are set', 'const', { value: 'items' });
  const multipliers = (def.multipliers ?? []).map((m, i) => compileMultiplier(m, `${path}/multipliers/${i}`));
  const itemMultipliers = (def.item_multipliers ?? []).map((m, i) => {
    if (!m.skus?.length && !m.categories?.length)
      throw fieldError(`${path}/item_multipliers/${i}`, 'needs skus or categories', 'at_least_one_of', { fields: 'skus, categories' });
    return { skus: new Set(m.skus ?? []), categories: new Set(m.categories ?? []), value: parseDecimal(m.multiplier), label: m.label ?? `×${m.multiplier}` };
  });
  const s = def.schedule;
  if (s?.start && s.end && Date.parse(s.start) >= Date.parse(s.end))
    throw fieldError(`${path}/schedule/end`, 'must be after start', 'after_field', { field: 'start' });
  const hours = s?.hours ? ([minutes(s.hours.from), minutes(s.hours.to)] as [number, number]) : undefined;
  if (hours && hours[0] >= hours[1]) throw fieldError(`${path}/schedule/hours/to`, 'must be after from', 'after_field', { field: 'from' });
  return {
    ruleId: input.rule_id,
    version: input.version,
    def,
    priority: def.priority ?? 0,
    createdAt: input.created_at,
    triggers: new Set(def.triggers),
    condition: def.condition === undefined ? undefined : compileLogic(def.condition, `${path}/condition`),
    multipliers,
    itemMultipliers,
    usesItems: effect.type === 'rate' && (effect.basis === 'items' || itemMultipliers.length > 0),
    hours,
    rate: effect.type === 'rate' ? rat(effect.points, effect.per_amount!) : rat(effect.points),
    start: s?.start ? Date.parse(s.start) : undefined,
    end: s?.end ? Date.parse(s.end) : undefined,
  };
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

function compileMultiplier(m: Multiplier, path: string): CompiledMultiplier {
  const need = (field: keyof Multiplier) => {
    if (m[field] === undefined)
      throw fieldError(`${path}/${field}`, `is required for a ${m.type} multiplier`, 'required_for', { field: 'type', value: m.type });
  };
  const allowed: Record<Multiplier['type'], (keyof Multiplier)[]> = {
    tier: ['values'],
    channel: ['values'],
    date_window: ['from', 'to', 'multiplier'],
    monthly_day: ['days', 'multiplier'],
    weekday: ['days', 'multiplier'],
    birthday_month: ['multiplier'],
    condition: ['condition', 'multiplier'],
  };
  for (const field of allowed[m.type]) need(field);
  const optional: (keyof Multiplier)[] = m.type === 'tier' || m.type === 'channel' ? ['labels'] : ['label'];
  for (const field of Object.keys(m) as (keyof Multiplier)[]) {
    if (field !== 'type' && !optional.includes(field) && !allowed[m.type].includes(field))
      throw fieldError(`${path}/${field}`, `is not used by a ${m.type} multiplier`, 'not_used_for', { field: 'type', value: m.type });
  }
  if (m.type === 'weekday' && m.days!.some((d) => d > 7))
    throw fieldError(`${path}/days`, 'weekdays are 1 (Monday) to 7 (Sunday)', 'maximum', { comparison: '<=', limit: 7 });
  if (m.type === 'date_window' && Date.parse(m.from!) >= Date.parse(m.to!))
    throw fieldError(`${path}/to`, 'must be after from', 'after_field', { field: 'from' });
  const value = m.multiplier === undefined ? undefined : parseDecimal(m.multiplier);
  const values = m.values ? new Map(Object.entries(m.values).map(([k, v]) => [k, parseDecimal(v)])) : undefined;
  const texts = new Map<Rational, string>();
  if (value) texts.set(value, toDecimalString(value));
  for (const v of values?.values() ?? []) texts.set(v, toDecimalString(v));
  return {
    def: m,
    value,
    values,
    texts,
    condition: m.condition === undefined ? undefined : compileLogic(m.condition, `${path}/condition`),
    from: m.from ? Date.parse(m.from) : undefined,
    to: m.to ? Date.parse(m.to) : undefined,
  };
}

const triggerIndex = new WeakMap<CompiledRule[], Map<string, CompiledRule[]>>();

/** The rules of an ordered list that listen to an event type (indexed once per list). */
function byTrigger(rules: CompiledRule[], type: string): CompiledRule[] {
  let index = triggerIndex.get(rules);
  if (!index) {
    index = new Map();
    for (const rule of rules) for (const t of rule.triggers) index.set(t, [...(index.get(t) ?? []), rule]);
    triggerIndex.set(rules, index);
  }
  return index.get(type) ?? [];
}

/**
 * A rule listening to an event type while none listening to it is in force at an instant: the
 * version of it that takes effect next for the type, or when it last stopped applying to the type
 * (archived, or followed by a version that does not listen to it).
 */
export interface NotInForce {
  ruleId: string;
  next?: { version: number; from: Date };
  until?: Date;
}

const notInForce = new WeakMap<CompiledRule[], (type: string) => readonly NotInForce[]>();

/**
 * Tells `evaluate` which rules exist outside the rules in force that `rules` is (RuleSet.at marks
 * the lists it returns): an event whose type no rule in force listens to, while some rule of the
 * program listens to it at another time, is then skipped with `no_rule_in_force` and that rule,
 * rather than earning nothing without a word (an import of old events, a late POS sync).
 */
export function markNotInForce(rules: CompiledRule[], lookup: (type: string) => readonly NotInForce[]): CompiledRule[] {
  notInForce.set(rules, lookup);
  return rules;
}

function notInForceSkip(ev: EvalEvent, r: NotInForce): Skip {
  const when = r.next
    ? `this rule applies to it from ${r.next.from.toISOString()} (version ${r.next.version})`
    : `this rule stopped applying to it at ${r.until!.toISOString()}`;
  return skipWith(r.ruleId, 'no_rule_in_force', `no rule for ${ev.type} was in force at ${ev.occurred_at.toISOString()}; ${when}`);
}

const tierIndex = new WeakMap<CompiledRule[], ReadonlySet<string>>();

/**
 * The tiers the rules of a list know: the keys of their tier multipliers' `values`, their
 * targeting's `tiers`, and — when a condition reads `member.tier` — the strings it compares with
 * (a condition may name tiers too; counting every string it holds can only silence a warning).
 */
export function knownTiers(rules: CompiledRule[]): ReadonlySet<string> {
  let known = tierIndex.get(rules);
  if (!known) {
    const tiers = new Set<string>();
    const fromCondition = (expr: unknown) => {
      if (expr !== undefined && readsTier(expr)) strings(expr, tiers);
    };
    for (const r of rules) {
      for (const m of r.def.multipliers ?? []) {
        if (m.type === 'tier') for (const t of Object.keys(m.values ?? {})) tiers.add(t);
        fromCondition(m.condition);
      }
      for (const t of r.def.targeting?.tiers ?? []) tiers.add(t);
      fromCondition(r.def.condition);
    }
    tierIndex.set(rules, (known = tiers));
  }
  return known;
}

function readsTier(expr: unknown): boolean {
  if (Array.isArray(expr)) return expr.some(readsTier);
  if (expr === null || typeof expr !== 'object') return false;
  const v = (expr as Record<string, unknown>).var;
  if (v === 'member.tier' || (Array.isArray(v) && v[0] === 'member.tier')) return true;
  return Object.values(expr).some(readsTier);
}

function strings(expr: unknown, into: Set<string>): void {
  if (typeof expr === 'string') into.add(expr);
  else if (Array.isArray(expr)) for (const e of expr) strings(e, into);
  else if (expr !== null && typeof expr === 'object') for (const e of Object.values(expr)) strings(e, into);
}

/**
 * A member's tier that no rule in force knows earns as no tier (1×, and targeting by tier misses):
 * most likely a code the rules do not use (a new tier no rule was given, "golden" for "gold"); the
 * tiers issue replaces the free-text attribute with real tiers. Said once per event, when the
 * rules in force know some tiers (a program whose rules use none gives tiers no meaning here).
 */
function tierWarning(rules: CompiledRule[], tier: string | null): Warning | undefined {
  if (tier === null || tier === '') return undefined;
  const known = knownTiers(rules);
  if (known.size === 0 || known.has(tier)) return undefined;
  const names = [...known].sort();
  const list = names.length > 10 ? `${names.slice(0, 10).join(', ')}, …` : names.join(', ');
  return { code: 'unknown_tier', tier, message: `The member's tier ${JSON.stringify(tier)} is not one the rules in force know (${list}): it earns as no tier` };
}

/** Sorts compiled rules into evaluation order. */
export function orderRules(rules: CompiledRule[]): CompiledRule[] {
  return [...rules].sort(
    (a, b) => b.priority - a.priority || (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0) || (a.ruleId < b.ruleId ? -1 : 1),
  );
}

export interface EventItem {
  sku: string;
  category?: string;
  quantity: number;
  unit_price: number;
}

export interface EvalEvent {
  id: string;
  type: string;
  occurred_at: Date;
  data: Record<string, unknown> & { amount?: number; channel?: string; items?: EventItem[] };
}

export interface EvalMember {
  id: string;
  tier: string | null;
  tags: string[];
  birthday: string | null;
  attributes: Record<string, unknown>;
  /** The segments the member is in (read when a rule in force targets segments). */
  segments?: string[];
}

export interface EvalProgram {
  id: string;
  time_zone: string;
  currency: string;
  pending_days: number;
}

/** How much each rule already awarded this member (and the program, for budgets). */
export interface Usage {
  /** Points this rule awarded the member in [from, to) (whole history when from is undefined). */
  points(ruleId: string, from?: Date, to?: Date): number;
  /** Number of awards of this rule to the member in [from, to). */
  count(ruleId: string, from?: Date, to?: Date): number;
}

export const NO_USAGE: Usage = { points: () => 0, count: () => 0 };

export interface AppliedMultiplier {
  type: string;
  label: string;
  value: string;
}

export interface CapCut {
  cap: string;
  limit: number;
  before: number;
  after: number;
}

export interface Explanation {
  rule_id: string;
  rule_version: number;
  rule_name: string;
  /** `amount`: what the points were earned on; `list_amount` (discounted orders only): the items at their price. */
  base: { kind: 'fixed'; points: number } | { kind: 'rate'; amount: number; list_amount?: number; points: number; per_amount: number; value: string };
  /** Item-level rules: each line's `amount` earned on — its share of the amount paid when the order is discounted, with `list_amount` (quantity × unit_price) beside it. */
  items?: { sku: string; category: string | null; amount: number; list_amount?: number; multiplier: string; label: string | null }[];
  multipliers: AppliedMultiplier[];
  stacking: 'multiply' | 'add' | 'highest';
  combined_multiplier: string;
  exact: string;
  rounding: Rounding;
  rounded: number;
  caps: CapCut[];
  points: number;
  text: string;
}

export interface Award {
  rule_id: string;
  rule_version: number;
  points: number;
  pending_days: number;
  explanation: Explanation;
  /** Budget to apply in the database (program-wide, so it cannot be checked here). */
  budget?: { period: 'day' | 'week' | 'month' | 'total'; points: number; period_start: string | null };
  /** Per-item weights for exact refunds by item: points are reversed in proportion to these. */
  item_weights?: { sku: string; weight: string }[];
}

export interface Skip {
  rule_id: string;
  /**
   * budget: the program budget was used up (applied when the event is written, not by the engine);
   * no_rule_in_force: no rule listening to the event's type was in force at its occurred_at, and this
   * one, listening to it, takes effect later or stopped before (rulesNotInForce)
   */
  reason:
    | 'schedule'
    | 'targeting'
    | 'min_order_amount'
    | 'condition'
    | 'frequency'
    | 'no_amount'
    | 'zero_points'
    | 'capped'
    | 'excluded'
    | 'budget'
    | 'no_rule_in_force';
  detail?: string;
}

/** The earn multiplier of the member's tier in the program's ladder (tiers module), e.g. {value: "1.5", label: "金卡"}. */
export interface TierBenefit {
  value: string;
  label: string;
}

const decimals = new Map<string, Rational>();
function decimal(text: string): Rational {
  let r = decimals.get(text);
  if (!r) {
    r = parseDecimal(text);
    if (decimals.size > 1000) decimals.clear();
    decimals.set(text, r);
  }
  return r;
}

/** Something the sender should know about an event that did not stop it (unknown_tier: see tierWarning). */
export interface Warning {
  code: 'unknown_tier';
  message: string;
  tier: string;
}

export interface Evaluation {
  awards: Award[];
  skipped: Skip[];
  total: number;
  warnings: Warning[];
}

const SYMBOLS: Record<string, string> = { CNY: '¥', USD: '$', EUR: '€', GBP: '£', JPY: '¥', HKD: 'HK$', TWD: 'NT$', SGD: 'S$' };

/** ¥100, ¥99.5, ¥0.01 — an amount in minor units as members read it. */
export function money(minor: number, currency: string): string {
  const symbol = SYMBOLS[currency] ?? `${currency} `;
  if (currency === 'JPY' || currency === 'KRW') return `${symbol}${minor}`;
  const whole = Math.trunc(minor / 100);
  const cents = minor % 100;
  if (cents === 0) return `${symbol}${whole}`;
  return `${symbol}${whole}.${cents % 10 === 0 ? cents / 10 : String(cents).padStart(2, '0')}`;
}

function applies(
  m: CompiledMultiplier,
  ev: EvalEvent,
  member: EvalMember,
  local: ReturnType<typeof localParts>,
  data: () => unknown,
): { value: Rational; label: string } | undefined {
  const d = m.def;
  switch (d.type) {
    case 'tier': {
      const v = member.tier ? m.values!.get(member.tier) : undefined;
      return v ? { value: v, label: d.labels?.[member.tier!] ?? member.tier! } : undefined;
    }
    case 'channel': {
      const channel = typeof ev.data.channel === 'string' ? ev.data.channel : undefined;
      const v = channel ? m.values!.get(channel) : undefined;
      return v ? { value: v, label: d.labels?.[channel!] ?? channel! } : undefined;
    }
    case 'date_window': {
      const t = ev.occurred_at.getTime();
      return t >= m.from! && t < m.to! ? { value: m.value!, label: d.label ?? 'promotion' } : undefined;
    }
    case 'monthly_day':
      return d.days!.includes(local.day) ? { value: m.value!, label: d.label ?? 'member day' } : undefined;
    case 'weekday':
      return d.days!.includes(local.weekday) ? { value: m.value!, label: d.label ?? 'weekday' } : undefined;
    case 'birthday_month': {
      const month = member.birthday ? Number(member.birthday.slice(5, 7)) : 0;
      return month === local.month ? { value: m.value!, label: d.label ?? 'birthday month' } : undefined;
    }
    case 'condition':
      return m.condition!(data()) ? { value: m.value!, label: d.label ?? 'bonus' } : undefined;
  }
}

function stack(values: Rational[], how: 'multiply' | 'add' | 'highest'): Rational {
  if (values.length === 0) return ONE;
  if (how === 'multiply') return values.reduce(mul, ONE);
  if (how === 'add') return values.reduce((acc, v) => add(acc, sub(v, ONE)), ONE);
  return values.reduce((best, v) => (cmp(v, best) > 0 ? v : best));
}

function skipWith(ruleId: string, reason: Skip['reason'], detail: string): Skip {
  return { rule_id: ruleId, reason, detail };
}

const CAP_PERIODS = ['day', 'week', 'month', 'lifetime'] as const;

const MAX_TOTAL_BIG = BigInt(MAX_TOTAL_POINTS);

const CAP_LABELS: Record<string, string> = { per_event: 'per-event cap', day: 'daily cap', week: 'weekly cap', month: 'monthly cap', lifetime: 'lifetime cap' };

/**
 * Evaluates one event. `rules` must be in evaluation order (orderRules) and be the versions in
 * force at the event's occurred_at.
 */
export function evaluate(
  rules: CompiledRule[],
  ev: EvalEvent,
  member: EvalMember,
  program: EvalProgram,
  now: Date,
  usage: Usage = NO_USAGE,
  tierBenefit?: TierBenefit,
): Evaluation {
  const awards: Award[] = [];
  const skipped: Skip[] = [];
  const local = localParts(ev.occurred_at, program.time_zone);
  // the JSONLogic data, built only if a condition needs it
  let logicData: unknown;
  const data = () =>
    (logicData ??= {
      event: { id: ev.id, type: ev.type, occurred_at: ev.occurred_at.toISOString(), data: ev.data },
      member,
      program,
      now: now.toISOString(),
    });
  const periods = new Map<Period, [Date, Date]>();
  const period = (p: Period) => {
    let v = periods.get(p);
    if (!v) periods.set(p, (v = periodOf(ev.occurred_at, program.time_zone, p)));
    return v;
  };
  let excludedBy: string | undefined;
  // the amount and item lines as rules use them: whole minor units from 0 to 10^12 (built-in types
  // are validated so; a program's own types may send anything, and then no rule counts on it)
  const rawAmount = ev.data.amount;
  const amount = isAmount(rawAmount) ? rawAmount : undefined;
  const noAmount = rawAmount === undefined ? 'the event has no amount' : "the event's amount is not a whole number of minor units from 0 to 10^12";
  let lines: EventItem[] | undefined | null = null;
  // a discounted order's lines: the amount paid allocated over them (paidAmounts), once per event
  let paidLines: number[] | undefined | null = null;

  const listening = byTrigger(rules, ev.type);
  if (listening.length === 0) for (const r of notInForce.get(rules)?.(ev.type) ?? []) skipped.push(notInForceSkip(ev, r));

  for (const rule of listening) {
    const def = rule.def;
    if (excludedBy) {
      skipped.push(skipWith(rule.ruleId, 'excluded', `by exclusive rule ${excludedBy}`));
      continue;
    }
    const s = def.schedule;
    if (s) {
      const t = ev.occurred_at.getTime();
      const minute = local.hour * 60 + local.minute;
      if (
        (rule.start !== undefined && t < rule.start) ||
        (rule.end !== undefined && t >= rule.end) ||
        (s.days_of_week && !s.days_of_week.includes(local.weekday)) ||
        (rule.hours && (minute < rule.hours[0] || minute >= rule.hours[1]))
      ) {
        skipped.push({ rule_id: rule.ruleId, reason: 'schedule' });
        continue;
      }
    }
    const tg = def.targeting;
    if (tg) {
      const tags = member.tags;
      if (
        (tg.tiers && !(member.tier && tg.tiers.includes(member.tier))) ||
        (tg.tags_any && !tg.tags_any.some((x) => tags.includes(x))) ||
        (tg.tags_all && !tg.tags_all.every((x) => tags.includes(x))) ||
        tg.exclude_tags?.some((x) => tags.includes(x)) ||
        (tg.segments && !tg.segments.some((x) => member.segments?.includes(x)))
      ) {
        skipped.push({ rule_id: rule.ruleId, reason: 'targeting' });
        continue;
      }
    }
    if (def.min_order_amount !== undefined && (amount === undefined || amount < def.min_order_amount)) {
      skipped.push(skipWith(rule.ruleId, 'min_order_amount', `needs ${money(def.min_order_amount, program.currency)}`));
      continue;
    }
    if (rule.condition && !rule.condition(data())) {
      skipped.push({ rule_id: rule.ruleId, reason: 'condition' });
      continue;
    }
    if (def.frequency) {
      const [from, to] = def.frequency.per === 'lifetime' ? [undefined, undefined] : period(def.frequency.per);
      if (usage.count(rule.ruleId, from, to) >= def.frequency.max) {
        skipped.push(skipWith(rule.ruleId, 'frequency', `at most ${def.frequency.max} per ${def.frequency.per}`));
        continue;
      }
    }

    // Base, exact.
    const effect = def.effect;
    let baseExact: Rational;
    let base: Explanation['base'];
    let items: Explanation['items'];
    let itemWeights: Award['item_weights'];
    if (effect.type === 'fixed') {
      baseExact = rule.rate;
      base = { kind: 'fixed', points: effect.points };
    } else {
      const rate = rule.rate;
      if (rule.usesItems) {
        if (lines === null) lines = orderLines(ev.data.items);
        if (lines === undefined) {
          skipped.push(
            skipWith(rule.ruleId, 'no_amount', "the event's items are not order lines (sku, quantity, unit_price) of at most 10^12 minor units in all"),
          );
          continue;
        }
        if (lines.length === 0) {
          skipped.push(skipWith(rule.ruleId, 'no_amount', 'the event has no items'));
          continue;
        }
        if (paidLines === null) paidLines = paidAmounts(lines, amount);
        let weighted = rat(0);
        let total = 0;
        let listTotal = 0;
        items = [];
        itemWeights = [];
        for (const [n, line] of lines.entries()) {
          const listAmount = line.quantity * line.unit_price;
          const lineAmount = paidLines ? paidLines[n]! : listAmount;
          let best: (typeof rule.itemMultipliers)[number] | undefined;
          for (const im of rule.itemMultipliers) {
            if ((im.skus.has(line.sku) || (line.category !== undefined && im.categories.has(line.category))) && (!best || cmp(im.value, best.value) > 0))
              best = im;
          }
          const m = best?.value ?? ONE;
          const w = mul({ num: BigInt(lineAmount), den: 1n }, m);
          weighted = add(weighted, w);
          total += lineAmount;
          listTotal += listAmount;
          items.push({
            sku: line.sku,
            category: line.category ?? null,
            amount: lineAmount,
            ...(paidLines ? { list_amount: listAmount } : {}),
            multiplier: toDecimalString(m),
            label: best?.label ?? null,
          });
          itemWeights.push({ sku: line.sku, weight: toDecimalString(w) });
        }
        baseExact = mul(weighted, rate);
        base = {
          kind: 'rate',
          amount: total,
          ...(paidLines ? { list_amount: listTotal } : {}),
          points: effect.points,
          per_amount: effect.per_amount!,
          value: toDecimalString(baseExact),
        };
      } else {
        if (amount === undefined) {
          skipped.push(skipWith(rule.ruleId, 'no_amount', noAmount));
          continue;
        }
        baseExact = mul({ num: BigInt(amount), den: 1n }, rate);
        base = { kind: 'rate', amount, points: effect.points, per_amount: effect.per_amount!, value: toDecimalString(baseExact) };
      }
    }

    // Multipliers, stacked, then one rounding.
    const applied: AppliedMultiplier[] = [];
    const values: Rational[] = [];
    for (const m of rule.multipliers) {
      const hit = applies(m, ev, member, local, data);
      if (hit) {
        applied.push({ type: m.def.type, label: hit.label, value: m.texts!.get(hit.value) ?? toDecimalString(hit.value) });
        values.push(hit.value);
      }
    }
    // the earn multiplier of the member's tier (its ladder): on rules that earn per amount, unless
    // the rule multiplies by tier itself or says tier_benefit: false; a 1× multiplier changes nothing
    if (tierBenefit && tierBenefit.value !== '1' && (def.tier_benefit ?? effect.type === 'rate') && !rule.multipliers.some((m) => m.def.type === 'tier')) {
      applied.push({ type: 'tier_benefit', label: tierBenefit.label, value: tierBenefit.value });
      values.push(decimal(tierBenefit.value));
    }
    const stacking = def.stacking ?? 'multiply';
    // add stacking can go below zero (0× and 0.5× together: 1 − 1 − 0.5): it then awards nothing
    let combined = stack(values, stacking);
    if (combined.num < 0n) combined = ZERO;
    const exact = mul(baseExact, combined);
    const rounding = effect.type === 'rate' ? (effect.rounding ?? 'floor') : 'floor';
    const roundedExact = round(exact, rounding);
    if (roundedExact > MAX_TOTAL_BIG) {
      throw awardLimit(
        `Rule ${rule.ruleId} would award ${roundedExact} points for this event before caps; a rule may award at most 2^53 − 1 (${MAX_TOTAL_POINTS}) before caps, and an event at most ${MAX_POINTS}`,
        roundedExact,
        [rule.ruleId],
      );
    }
    const rounded = Number(roundedExact);

    // Caps.
    const caps: CapCut[] = [];
    let points = rounded;
    const cut = (cap: string, limit: number, room: number) => {
      if (points > room) {
        caps.push({ cap, limit, before: points, after: Math.max(room, 0) });
        points = Math.max(room, 0);
      }
    };
    if (def.caps?.per_event !== undefined) cut('per_event', def.caps.per_event, def.caps.per_event);
    const perMember = def.caps?.per_member;
    if (perMember) {
      for (const p of CAP_PERIODS) {
        const limit = perMember[p];
        if (limit === undefined) continue;
        const used = p === 'lifetime' ? usage.points(rule.ruleId) : usage.points(rule.ruleId, period(p)[0], period(p)[1]);
        cut(p, limit, limit - used);
      }
    }
    if (points <= 0) {
      skipped.push(caps.length ? skipWith(rule.ruleId, 'capped', CAP_LABELS[caps[caps.length - 1]!.cap]!) : { rule_id: rule.ruleId, reason: 'zero_points' });
      continue;
    }

    const explanation: Explanation = {
      rule_id: rule.ruleId,
      rule_version: rule.version,
      rule_name: def.name,
      base,
      ...(items ? { items } : {}),
      multipliers: applied,
      stacking,
      combined_multiplier: values.length === 0 ? '1' : values.length === 1 ? applied[0]!.value : toDecimalString(combined),
      exact: values.length === 0 && base.kind === 'rate' ? base.value : toDecimalString(exact),
      rounding,
      rounded,
      caps,
      points,
      text: '',
    };
    explanation.text = explain(explanation, program.currency);
    const budget = def.caps?.budget;
    awards.push({
      rule_id: rule.ruleId,
      rule_version: rule.version,
      points,
      pending_days: def.pending_days ?? (ev.type === 'order.paid' ? program.pending_days : 0),
      explanation,
      // a budget stored before budgets were bounded may be larger than any total: it never binds
      ...(budget
        ? {
            budget: {
              period: budget.period,
              points: Math.min(budget.points, MAX_TOTAL_POINTS),
              period_start: budget.period === 'total' ? null : period(budget.period)[0].toISOString(),
            },
          }
        : {}),
      ...(itemWeights ? { item_weights: itemWeights } : {}),
    });
    if (def.exclusive) excludedBy = rule.ruleId;
  }
  const total = awards.reduce((s, a) => s + a.points, 0);
  if (total > MAX_POINTS) {
    const exact = awards.reduce((s, a) => s + BigInt(a.points), 0n);
    throw awardLimit(
      `The event would award ${exact} points; one event may award at most ${MAX_POINTS}`,
      exact,
      awards.map((a) => a.rule_id),
    );
  }
  const warning = tierWarning(rules, member.tier);
  return { awards, skipped, total, warnings: warning ? [warning] : [] };
}

function awardLimit(detail: string, points: bigint, ruleIds: string[]): DomainError {
  // points as a decimal string: it may be beyond what a JSON number carries exactly
  return new DomainError('AWARD_LIMIT_EXCEEDED', detail, { limit: MAX_POINTS, points: points.toString(), rule_ids: ruleIds });
}

function isAmount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_AMOUNT;
}

/**
 * Item lines as order.paid has them (sku, quantity ≥ 1, unit_price, optional category), together at
 * most 10^12 minor units; undefined when the event's items are anything else.
 */
function orderLines(items: unknown): EventItem[] | undefined {
  if (items === undefined) return [];
  if (!Array.isArray(items)) return undefined;
  let total = 0;
  for (const line of items as unknown[]) {
    if (line === null || typeof line !== 'object') return undefined;
    const l = line as Record<string, unknown>;
    if (typeof l.sku !== 'string' || (l.category !== undefined && typeof l.category !== 'string')) return undefined;
    if (!isAmount(l.quantity) || l.quantity < 1 || !isAmount(l.unit_price)) return undefined;
    total += l.quantity * l.unit_price;
    // each product is below 10^24 and the running total exact until it passes 10^12
    if (total > MAX_AMOUNT) return undefined;
  }
  return items as EventItem[];
}

/**
 * What each line of an order earns on when the order is discounted: an order-level coupon or
 * discount makes the lines (quantity × unit_price) add up to more than the amount paid, and then
 * item-based effects earn on the amount paid, spread over the lines in proportion to their price by
 * largest remainder (shared/allocation.ts: ⌊amount × line ÷ Σ lines⌋ each, the minor units left
 * over one each to the largest remainders, ties to the earlier line), so the lines add up to the
 * amount exactly. Undefined when the lines are earned on at their price: they add up to the amount,
 * or to less (shipping, a fee or a tip is paid beside the items: it is no item's price, and spreading
 * it over the items would earn item multipliers on it), or the event has no valid amount.
 */
export function paidAmounts(lines: readonly EventItem[], amount: number | undefined): number[] | undefined {
  if (amount === undefined) return undefined;
  const list = lines.map((l) => l.quantity * l.unit_price);
  return list.reduce((s, a) => s + a, 0) > amount ? allocate(amount, list) : undefined;
}

const rateTexts = new Map<string, string>();

/** "1 pt/¥" for 1 point per ¥1, "3 pt/¥5" for 3 points per ¥5. */
function rateText(points: number, perAmount: number, currency: string): string {
  const key = `${points}/${perAmount}/${currency}`;
  let text = rateTexts.get(key);
  if (!text) {
    text = `${points} pt/${perAmount === 100 ? money(100, currency).replace(/1$/, '') : money(perAmount, currency)}`;
    if (rateTexts.size > 1000) rateTexts.clear();
    rateTexts.set(key, text);
  }
  return text;
}

/**
 * The member-facing sentence, e.g. "150 = ¥100 × 1 pt/¥ × 1.5 (金卡)". Multipliers are shown as
 * they combine; caps that cut the award are named at the end.
 */
export function explain(e: Explanation, currency: string): string {
  let text: string;
  if (e.base.kind === 'fixed') {
    // "20 (评价有礼)" when nothing else applies
    text = e.multipliers.length === 0 && e.caps.length === 0 ? `${e.points} (${e.rule_name})` : `${e.rounded} = ${e.base.points} (${e.rule_name})`;
    if (e.multipliers.length === 0) return e.caps.length === 0 ? text : withCaps(text, e.caps);
  } else {
    const rate = rateText(e.base.points, e.base.per_amount, currency);
    if (e.items?.some((i) => i.multiplier !== '1')) {
      let lines = '';
      for (const i of e.items) {
        if (lines) lines += ' + ';
        lines += i.multiplier === '1' ? money(i.amount, currency) : `${money(i.amount, currency)} × ${i.multiplier}${i.label ? ` (${i.label})` : ''}`;
      }
      text = `${e.rounded} = (${lines}) × ${rate}`;
    } else {
      text = `${e.rounded} = ${money(e.base.amount, currency)} × ${rate}`;
    }
  }
  if (e.multipliers.length > 0) {
    if (e.stacking === 'multiply') {
      // a 1× multiplier changes nothing: it stays in the breakdown, not in the sentence
      for (const m of e.multipliers) if (m.value !== '1') text += ` × ${m.value} (${m.label})`;
    } else {
      const label = e.multipliers.map((m) => `${m.label} ${m.value}`).join(e.stacking === 'add' ? ' + ' : ', ');
      text += ` × ${e.combined_multiplier} (${e.stacking === 'add' ? label : `highest of ${label}`})`;
    }
  }
  if (e.caps.length > 0) text = withCaps(text, e.caps);
  // a discounted order: the amounts above are the amount paid, allocated over the lines
  return e.base.kind === 'fixed' || e.base.list_amount === undefined
    ? text
    : `${text} (paid ${money(e.base.amount, currency)} of ${money(e.base.list_amount, currency)})`;
}

function withCaps(text: string, caps: CapCut[]): string {
  for (const c of caps) text += ` → ${c.after} (${CAP_LABELS[c.cap] ?? c.cap} ${c.limit})`;
  return text;
}
