// The rewards pages' logic, without React: the reward form's values from a reward and the API's body
// from them (yuan typed, fen sent; an update leaves the type and the price out), where an API field
// error goes in the form, the steps an order allows, a lottery prize's chance, a CSV's line count.
// Tested by test/web-rewards.test.ts.
import dayjs, { type Dayjs } from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';
import { type LIMIT_PERIODS, type Prize, type Redemption, type Reward, type RewardType, toMajor, toMinor } from './types.ts';

dayjs.extend(utc);
dayjs.extend(timezone);

/** What the form needs of the program (layout/shell.tsx's Program has it). */
export interface FormProgram {
  currency: string;
  time_zone: string;
}

export interface RewardFormValues {
  type: RewardType;
  name_zh: string;
  name_en: string;
  description_zh?: string;
  description_en?: string;
  image_urls: string[];
  category?: string;
  points_cost?: number;
  cash_yuan?: number | null;
  unlimited: boolean;
  stock?: number | null;
  limited: boolean;
  per_member?: number;
  period?: (typeof LIMIT_PERIODS)[number];
  min_tier?: string | null;
  segment_id?: string | null;
  window?: [Dayjs | null, Dayjs | null] | null;
  scheduled: boolean;
  schedule_days?: number[];
  schedule_from?: string;
  schedule_until?: string;
  donation_project?: string;
  status: 'draft' | 'active';
}

/** An instant shown as the program's wall-clock time (the pickers work in the browser's zone). */
export const wallOf = (iso: string | null, tz: string) => (iso ? dayjs(dayjs(iso).tz(tz).format('YYYY-MM-DDTHH:mm:ss')) : null);
/** The picker's wall-clock time, read in the program's time zone. */
export const instantOf = (value: Dayjs | null | undefined, tz: string) => (value ? dayjs.tz(value.format('YYYY-MM-DDTHH:mm:ss'), tz).toISOString() : null);

export function initialValues(reward: Reward | undefined, program: FormProgram): RewardFormValues {
  if (!reward) return { type: 'physical', name_zh: '', name_en: '', image_urls: [], unlimited: true, limited: false, scheduled: false, status: 'draft' };
  return {
    type: reward.type,
    name_zh: reward.name['zh-CN'],
    name_en: reward.name.en,
    description_zh: reward.description['zh-CN'],
    description_en: reward.description.en,
    image_urls: reward.image_urls,
    category: reward.category ?? undefined,
    points_cost: reward.points_cost,
    cash_yuan: toMajor(reward.cash_part, program.currency),
    unlimited: reward.stock == null,
    stock: reward.stock,
    limited: reward.limit != null,
    per_member: reward.limit?.per_member,
    period: reward.limit?.period,
    min_tier: reward.min_tier,
    segment_id: reward.segment_id,
    window:
      reward.available_from || reward.available_until
        ? [wallOf(reward.available_from, program.time_zone), wallOf(reward.available_until, program.time_zone)]
        : null,
    scheduled: reward.schedule != null,
    schedule_days: reward.schedule?.days,
    schedule_from: reward.schedule?.from,
    schedule_until: reward.schedule?.until,
    donation_project: reward.donation_project ?? undefined,
    status: reward.status === 'active' ? 'active' : 'draft',
  };
}

/** The API's body from the form: on an update, the type and the price are left out (a price change sets the price). */
export function bodyOf(v: RewardFormValues, program: FormProgram, creating: boolean) {
  const description: { 'zh-CN'?: string; en?: string } = {};
  if (v.description_zh?.trim()) description['zh-CN'] = v.description_zh.trim();
  if (v.description_en?.trim()) description.en = v.description_en.trim();
  const fields = {
    name: { 'zh-CN': v.name_zh.trim(), en: v.name_en.trim() },
    description,
    image_urls: v.image_urls.map((u) => u.trim()).filter(Boolean),
    category: v.category?.trim() || null,
    stock: v.unlimited ? null : (v.stock ?? 0),
    limit: v.limited && v.per_member && v.period ? { per_member: v.per_member, period: v.period } : null,
    min_tier: v.min_tier || null,
    segment_id: v.segment_id || null,
    available_from: instantOf(v.window?.[0], program.time_zone),
    available_until: instantOf(v.window?.[1], program.time_zone),
    schedule: v.scheduled ? { days: v.schedule_days ?? [], from: v.schedule_from ?? '', until: v.schedule_until ?? '' } : null,
    donation_project: v.type === 'donation' ? v.donation_project?.trim() || null : null,
    status: v.status,
  };
  if (!creating) return fields;
  return { ...fields, type: v.type, points_cost: v.points_cost ?? 0, cash_part: toMinor(v.cash_yuan, program.currency) || null };
}

/** Where an API field error goes: its JSON pointer → the form's field. */
const FIELD_OF: [RegExp, keyof RewardFormValues][] = [
  [/^\/name\/zh-CN/, 'name_zh'],
  [/^\/name\/en/, 'name_en'],
  [/^\/name$/, 'name_zh'],
  [/^\/description\/zh-CN/, 'description_zh'],
  [/^\/description\/en/, 'description_en'],
  [/^\/image_urls/, 'image_urls'],
  [/^\/category/, 'category'],
  [/^\/points_cost/, 'points_cost'],
  [/^\/cash_part/, 'cash_yuan'],
  [/^\/stock/, 'stock'],
  [/^\/limit\/period/, 'period'],
  [/^\/limit/, 'per_member'],
  [/^\/min_tier/, 'min_tier'],
  [/^\/segment_id/, 'segment_id'],
  [/^\/available_(from|until)/, 'window'],
  [/^\/schedule\/days/, 'schedule_days'],
  [/^\/schedule\/from/, 'schedule_from'],
  [/^\/schedule\/until/, 'schedule_until'],
  [/^\/schedule/, 'schedule_days'],
  [/^\/donation_project/, 'donation_project'],
  [/^\/type/, 'type'],
  [/^\/status/, 'status'],
];

export function fieldOfPath(path: string): keyof RewardFormValues | undefined {
  return FIELD_OF.find(([pattern]) => pattern.test(path))?.[1];
}

type Action = 'ship' | 'deliver' | 'cancel' | 'reject';
export type OrderAction = Action;

/** The steps the order's status and type allow (docs/rewards.md, "Order lifecycle"); a lottery draw has none. */
export function actionsOf(r: Pick<Redemption, 'status' | 'reward_type'>): Action[] {
  if (r.reward_type === 'lottery') return [];
  const actions: Action[] = [];
  if (r.reward_type === 'physical' && r.status === 'confirmed') actions.push('ship');
  if (
    (r.reward_type === 'physical' && (r.status === 'confirmed' || r.status === 'shipped')) ||
    ((r.reward_type === 'service' || r.reward_type === 'experience') && r.status === 'confirmed')
  ) {
    actions.push('deliver');
  }
  if (r.status === 'confirmed') actions.push('cancel');
  if (r.status === 'confirmed' || r.status === 'shipped') actions.push('reject');
  return actions;
}

/** The prize's chance now: its weight among the prizes in stock (a prize at 0 is left out of the draws). */
export function chanceOf(prize: Prize, prizes: readonly Prize[]): number {
  const inStock = (p: Prize) => p.stock_left == null || p.stock_left > 0;
  if (!inStock(prize)) return 0;
  const total = prizes.filter(inStock).reduce((sum, p) => sum + p.weight, 0);
  return total === 0 ? 0 : prize.weight / total;
}

/** Lines of a CSV file (the last line without a newline counts; a trailing newline does not). */
export function lineCount(text: string): number {
  if (text === '') return 0;
  const lines = text.split(/\r?\n/);
  return lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
}
