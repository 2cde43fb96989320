// The ladder editor's form and the body it PUTs (pure, unit-tested): spend thresholds are entered
// in currency units (¥1,000) and sent as minor units (100000); names and perks in both languages;
// a grant is points or a coupon prefix. The API's field errors (problem+json errors[].path, a JSON
// pointer into the body) map back to the form's fields, so each shows at its input.
import type { LadderLike, LadderTierLike } from './summary.ts';

export type GrantKind = 'points' | 'coupon';

export interface GrantForm {
  key: string;
  name_zh: string;
  name_en: string;
  every: 'month' | 'quarter' | 'year';
  kind: GrantKind;
  points?: number | null;
  coupon_prefix?: string;
}

export interface PerkForm {
  zh: string;
  en: string;
}

export interface TierForm {
  code: string;
  name_zh: string;
  name_en: string;
  /** Currency units for spend, else points or orders. */
  entry: number | null;
  /** Empty: the entry threshold. */
  retention?: number | null;
  multiplier?: string;
  birthday_points?: number | null;
  welcome_points?: number | null;
  grants?: GrantForm[];
  perks?: PerkForm[];
}

export interface LadderForm {
  metric: LadderLike['metric'];
  window_type: LadderLike['qualifying_window']['type'];
  window_months?: number | null;
  validity_type: LadderLike['validity']['type'];
  validity_months?: number | null;
  validity_month?: number | null;
  validity_day?: number | null;
  validity_years?: number | null;
  downgrade_policy: LadderLike['downgrade_policy'];
  grace_days?: number | null;
  upgrade_event_rate: 'old' | 'new';
  tiers: TierForm[];
}

/** What GET tier-ladder answers, as far as the form needs it. */
export type SavedLadder = Omit<LadderLike, 'tiers'> & {
  tiers: (Required<Omit<LadderTierLike, 'grants' | 'perks'>> & Pick<LadderTierLike, 'grants' | 'perks'>)[];
};

const present = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n);

/** A threshold as entered → the API's integer (minor units for spend, rounded to the unit). */
export function toThreshold(value: number, metric: LadderLike['metric'], minorUnits: number): number {
  return metric === 'spend' ? Math.round(value * minorUnits) : Math.round(value);
}

/** The API's threshold → what the form shows. */
export function fromThreshold(value: number, metric: LadderLike['metric'], minorUnits: number): number {
  return metric === 'spend' ? value / minorUnits : value;
}

/** The body of PUT /v1/programs/{programId}/tier-ladder from the form. */
export function toLadderInput(form: LadderForm, minorUnits: number): LadderLike {
  const window: LadderLike['qualifying_window'] =
    form.window_type === 'rolling_months' ? { type: 'rolling_months', months: form.window_months ?? 12 } : { type: form.window_type };
  let validity: LadderLike['validity'];
  if (form.validity_type === 'months') validity = { type: 'months', months: form.validity_months ?? 12 };
  else if (form.validity_type === 'until_date')
    validity = { type: 'until_date', month: form.validity_month ?? 1, day: form.validity_day ?? 31, years: form.validity_years ?? 1 };
  else validity = { type: 'period_and_next' };
  return {
    metric: form.metric,
    qualifying_window: window,
    validity,
    downgrade_policy: form.downgrade_policy,
    grace_days: present(form.grace_days) ? form.grace_days : 0,
    upgrade_event_rate: form.upgrade_event_rate,
    tiers: form.tiers.map((tier) => {
      const out: LadderTierLike = {
        code: tier.code.trim(),
        name: { 'zh-CN': tier.name_zh.trim(), en: tier.name_en.trim() },
        entry: present(tier.entry) ? toThreshold(tier.entry, form.metric, minorUnits) : 0,
      };
      if (present(tier.retention)) out.retention = toThreshold(tier.retention, form.metric, minorUnits);
      out.multiplier = tier.multiplier?.trim() || '1';
      out.birthday_points = present(tier.birthday_points) ? tier.birthday_points : 0;
      out.welcome_points = present(tier.welcome_points) ? tier.welcome_points : 0;
      out.grants = (tier.grants ?? []).map((g) => ({
        key: g.key.trim(),
        name: { 'zh-CN': g.name_zh.trim(), en: g.name_en.trim() },
        every: g.every,
        ...(g.kind === 'points' ? { points: g.points ?? 0 } : { coupon_prefix: (g.coupon_prefix ?? '').trim() }),
      }));
      out.perks = (tier.perks ?? []).map((p) => ({ 'zh-CN': p.zh.trim(), en: p.en.trim() }));
      return out;
    }),
  };
}

/** The form for a saved ladder (retention shown only where it differs from entry). */
export function fromLadder(ladder: SavedLadder, minorUnits: number): LadderForm {
  const { metric } = ladder;
  return {
    metric,
    window_type: ladder.qualifying_window.type,
    window_months: ladder.qualifying_window.months ?? null,
    validity_type: ladder.validity.type,
    validity_months: ladder.validity.months ?? null,
    validity_month: ladder.validity.month ?? null,
    validity_day: ladder.validity.day ?? null,
    validity_years: ladder.validity.years ?? null,
    downgrade_policy: ladder.downgrade_policy,
    grace_days: ladder.grace_days ?? 0,
    upgrade_event_rate: ladder.upgrade_event_rate ?? 'old',
    tiers: ladder.tiers.map((tier) => ({
      code: tier.code,
      name_zh: tier.name['zh-CN'],
      name_en: tier.name.en,
      entry: fromThreshold(tier.entry, metric, minorUnits),
      retention: tier.retention !== tier.entry ? fromThreshold(tier.retention, metric, minorUnits) : null,
      multiplier: tier.multiplier,
      birthday_points: tier.birthday_points,
      welcome_points: tier.welcome_points,
      grants: (tier.grants ?? []).map((g) => ({
        key: g.key,
        name_zh: g.name['zh-CN'],
        name_en: g.name.en,
        every: g.every,
        kind: g.coupon_prefix ? 'coupon' : 'points',
        points: g.points ?? null,
        coupon_prefix: g.coupon_prefix ?? '',
      })),
      perks: (tier.perks ?? []).map((p) => ({ zh: p['zh-CN'], en: p.en })),
    })),
  };
}

/**
 * The seed ladder of the issue: 青铜/白银/黄金/钻石 at 0 / 1,000 / 5,000 / 20,000 of spend in the
 * calendar year, 1× / 1.2× / 1.5× / 2×, kept through the next year, one step down at most.
 */
export function seedLadderForm(): LadderForm {
  const tier = (code: string, zh: string, en: string, entry: number, multiplier: string): TierForm => ({
    code,
    name_zh: zh,
    name_en: en,
    entry,
    retention: null,
    multiplier,
    birthday_points: 0,
    welcome_points: 0,
    grants: [],
    perks: [],
  });
  return {
    metric: 'spend',
    window_type: 'calendar_year',
    window_months: null,
    validity_type: 'period_and_next',
    validity_months: null,
    validity_month: null,
    validity_day: null,
    validity_years: null,
    downgrade_policy: 'one_step',
    grace_days: 0,
    upgrade_event_rate: 'old',
    tiers: [
      tier('bronze', '青铜', 'Bronze', 0, '1'),
      tier('silver', '白银', 'Silver', 1000, '1.2'),
      tier('gold', '黄金', 'Gold', 5000, '1.5'),
      tier('diamond', '钻石', 'Diamond', 20000, '2'),
    ],
  };
}

type NamePath = (string | number)[];

const TOP_FIELDS: Record<string, NamePath> = {
  '/metric': ['metric'],
  '/qualifying_window': ['window_type'],
  '/qualifying_window/type': ['window_type'],
  '/qualifying_window/months': ['window_months'],
  '/validity': ['validity_type'],
  '/validity/type': ['validity_type'],
  '/validity/months': ['validity_months'],
  '/validity/month': ['validity_month'],
  '/validity/day': ['validity_day'],
  '/validity/years': ['validity_years'],
  '/downgrade_policy': ['downgrade_policy'],
  '/grace_days': ['grace_days'],
  '/upgrade_event_rate': ['upgrade_event_rate'],
  '/tiers': ['tiers'],
};

const NAME_FIELDS: Record<string, string> = { 'zh-CN': 'name_zh', en: 'name_en' };

/**
 * The form field of an API error's path (`/tiers/2/entry` → ['tiers', 2, 'entry']), or undefined
 * when the error belongs to no single field (it then shows above the form).
 */
export function fieldOfPath(path: string): NamePath | undefined {
  const top = TOP_FIELDS[path];
  if (top) return top;
  const parts = path.split('/').slice(1);
  if (parts[0] !== 'tiers' || parts.length < 3 || !/^\d+$/.test(parts[1]!)) return undefined;
  const index = Number(parts[1]);
  const field = parts[2]!;
  if (field === 'name') return ['tiers', index, NAME_FIELDS[parts[3] ?? 'zh-CN'] ?? 'name_zh'];
  if (field === 'grants' && parts[3] !== undefined && /^\d+$/.test(parts[3])) {
    const grant = Number(parts[3]);
    const sub = parts[4] ?? 'key';
    if (sub === 'name') return ['tiers', index, 'grants', grant, NAME_FIELDS[parts[5] ?? 'zh-CN'] ?? 'name_zh'];
    return ['tiers', index, 'grants', grant, sub];
  }
  if (field === 'perks' && parts[3] !== undefined && /^\d+$/.test(parts[3])) {
    return ['tiers', index, 'perks', Number(parts[3]), parts[4] === 'en' ? 'en' : 'zh'];
  }
  if (['code', 'entry', 'retention', 'multiplier', 'birthday_points', 'welcome_points'].includes(field)) return ['tiers', index, field];
  return ['tiers', index, 'code'];
}
