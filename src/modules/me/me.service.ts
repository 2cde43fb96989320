import type { Queryable } from '../../db/db.ts';
import type { Page } from '../../shared/pagination.ts';
import { localParts } from '../../shared/time.ts';
import { ordersOfHolds } from '../checkout/index.ts';
import { type EntryListQuery, type EntryView, listEntries, listLots } from '../ledger/index.ts';
import { drawPrizeNames } from '../lottery/index.ts';
import type { Member } from '../members/index.ts';
import { getProgram, isIntlTimeZone } from '../programs/index.ts';
import { redemptionRewards } from '../rewards/index.ts';
import type { EntryAbout, ExpiryForecast, MeEntry, MeProfile } from './me.schemas.ts';

/** Lots read for a forecast, at most: enough for any real member (a lot is one credit). */
export const FORECAST_MAX_LOTS = 10_000;

export async function profileOf(db: Queryable, member: Member): Promise<MeProfile> {
  const p = await getProgram(db, member.program_id);
  return {
    object: 'me',
    id: member.id,
    program_id: member.program_id,
    external_id: member.external_id,
    name: member.name,
    phone: member.phone,
    email: member.email,
    birthday: member.birthday,
    tier: member.tier,
    status: member.status,
    created_at: member.created_at,
    program: {
      id: p.id,
      name: p.name,
      point_name: p.point_name,
      point_name_en: p.point_name_en,
      currency: p.currency,
      time_zone: p.time_zone,
      redemption_rate: p.redemption_rate,
    },
  };
}

function entryView(e: EntryView, about: EntryAbout | null = null): MeEntry {
  return {
    id: e.id,
    object: 'entry',
    txn_id: e.txn_id,
    kind: e.kind,
    amount: e.amount,
    delta: e.delta,
    held_delta: e.held_delta,
    lot_id: e.lot_id,
    hold_id: e.hold_id,
    reverses_entry_id: e.reverses_entry_id,
    event_id: e.event_id,
    reason: e.reason,
    reference: e.reference,
    about,
    occurred_at: e.occurred_at,
  };
}

const NO_ABOUT = { reward_name: null, reward_type: null, prize_name: null, order_reference: null };

/**
 * The member's history, each entry with what it was for when Jifen knows (a member reads 兑换「保温杯」,
 * not an internal reason): its hold's redemption or checkout order, or the draw a prize's points came from.
 */
export async function historyOf(db: Queryable, memberId: string, query: EntryListQuery): Promise<Page<MeEntry>> {
  const page = await listEntries(db, memberId, query);
  const holds = [...new Set(page.data.flatMap((e) => (e.hold_id ? [e.hold_id] : [])))];
  const draws = [...new Set(page.data.flatMap((e) => (e.hold_id === null && e.reference?.startsWith('ldr_') ? [e.reference] : [])))];
  const [redeemed, orders, prizes] = await Promise.all([
    redemptionRewards(db, memberId, holds),
    ordersOfHolds(db, memberId, holds),
    drawPrizeNames(db, memberId, draws),
  ]);
  const aboutOf = (e: EntryView): EntryAbout | null => {
    const r = e.hold_id ? redeemed.get(e.hold_id) : undefined;
    if (r) return { ...NO_ABOUT, type: r.type === 'lottery' ? 'lottery_draw' : 'redemption', reward_name: r.name, reward_type: r.type };
    const order = e.hold_id ? orders.get(e.hold_id) : undefined;
    if (order !== undefined) return { ...NO_ABOUT, type: 'checkout', order_reference: order };
    const prize = e.hold_id === null && e.reference ? prizes.get(e.reference) : undefined;
    if (prize) return { ...NO_ABOUT, type: 'lottery_prize', reward_name: prize.lottery, reward_type: 'lottery', prize_name: prize.prize };
    return null;
  };
  return { ...page, data: page.data.map((e) => entryView(e, aboutOf(e))) };
}

/** YYYY-MM-DD of an instant in a time zone (UTC if the zone is unknown to this runtime). */
function localDate(timeZone: string): (at: Date) => string {
  const tz = isIntlTimeZone(timeZone) ? timeZone : 'UTC';
  const two = (n: number) => String(n).padStart(2, '0');
  return (at) => {
    const p = localParts(at, tz);
    return `${String(p.year).padStart(4, '0')}-${two(p.month)}-${two(p.day)}`;
  };
}

/**
 * Points that will expire, by local date and month of the program, from the member's open lots
 * (what is left of each lot, as the balance counts it; held points are not, they may be spent).
 */
export async function expiryForecast(db: Queryable, member: Member, now: Date): Promise<ExpiryForecast> {
  const program = await getProgram(db, member.program_id);
  const { data: lots, has_more: incomplete } = await listLots(db, member.id, { state: 'open', limit: FORECAST_MAX_LOTS }, now);

  const dateOf = localDate(program.time_zone);
  const byDate = new Map<string, number>();
  const byAt = new Map<string, number>();
  let total = 0;
  for (const lot of lots) {
    if (lot.expires_at === null || lot.remaining <= 0 || new Date(lot.expires_at) <= now) continue;
    total += lot.remaining;
    const day = dateOf(new Date(lot.expires_at));
    byDate.set(day, (byDate.get(day) ?? 0) + lot.remaining);
    byAt.set(lot.expires_at, (byAt.get(lot.expires_at) ?? 0) + lot.remaining);
  }
  const dates = [...byDate.keys()].sort();
  const byMonth = new Map<string, number>();
  for (const d of dates) byMonth.set(d.slice(0, 7), (byMonth.get(d.slice(0, 7)) ?? 0) + byDate.get(d)!);
  const nextAt = [...byAt.keys()].sort((a, b) => new Date(a).getTime() - new Date(b).getTime())[0];
  return {
    object: 'expiry_forecast',
    member_id: member.id,
    time_zone: program.time_zone,
    total,
    next_expiry: nextAt === undefined ? null : { at: nextAt, points: byAt.get(nextAt)! },
    by_month: [...byMonth].map(([month, points]) => ({ month, points })),
    by_date: dates.map((date) => ({ date, points: byDate.get(date)! })),
    complete: !incomplete,
    as_of: now.toISOString(),
  };
}
