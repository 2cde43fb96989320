import type { Db } from '../db/db.ts';
import { ingestEvents } from '../flows/ingest-events/index.ts';
import { holdCheckout, putCheckoutPolicy, resolveCheckout } from '../modules/checkout/index.ts';
import type { EventInput } from '../modules/events/index.ts';
import * as ledger from '../modules/ledger/index.ts';
import { addMembers, type MemberCreate } from '../modules/members/index.ts';
import type { ExpiryPolicy } from '../modules/programs/index.ts';
import { createRule, RuleCache, type RuleDefinition } from '../modules/rules/index.ts';
import { createBuiltInSegments, refreshDueSegments } from '../modules/segments/index.ts';
import { putLadder, runTierJobs, type TierLadderInput } from '../modules/tiers/index.ts';
import { DomainError } from '../shared/errors.ts';
import { beautyLadder, beautyShop, coffeeChain, coffeeCheckin, coffeeLadder } from './programs.ts';
import { announceDemoPrices, createDemoRewards, demoRedemptions } from './rewards.ts';

/** The coffee chain (the README's tour uses it). */
export const DEMO_PROGRAM_ID = 'prg_demo';
/** The beauty shop. */
export const DEMO_BEAUTY_PROGRAM_ID = 'prg_demo_beauty';

const DAY = 86_400_000;
const WEEKS = 52;
const ACTOR = 'demo seed';

/** mulberry32: a small seeded PRNG, so every demo is the same demo. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢';
const GIVEN =
  '伟 芳 娜 敏 静 丽 强 磊 洋 艳 勇 军 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 小雨 子墨 一一 浩然 欣怡 梓涵 宇轩 诗琪 思远 雨桐 晨曦 佳怡 俊杰 雅婷 文博 嘉怡 子轩 梦瑶'.split(
    ' ',
  );
const PHONE_PREFIXES = ['138', '139', '135', '136', '137', '150', '151', '152', '158', '159', '186', '187', '188', '130', '131', '133', '177', '199'];

interface DemoProgram {
  id: string;
  name: string;
  expiry: ExpiryPolicy;
  pendingDays: number;
  rules: RuleDefinition[];
  ladder: TierLadderInput;
}

const PROGRAMS: DemoProgram[] = [
  // 100 points = ¥1; points expire 12 months after earning; order points pending 7 days (the return window)
  {
    id: DEMO_PROGRAM_ID,
    name: '积分咖啡 Jifen Coffee',
    expiry: { type: 'rolling', months: 12 },
    pendingDays: 7,
    rules: [...coffeeChain, coffeeCheckin],
    ladder: coffeeLadder,
  },
  // a year's points expire on 31 December of the next year; order points pending 15 days
  {
    id: DEMO_BEAUTY_PROGRAM_ID,
    name: '积分美妆 Jifen Beauty',
    expiry: { type: 'end_of_period', unit: 'year', offset: 1 },
    pendingDays: 15,
    rules: beautyShop,
    ladder: beautyLadder,
  },
];

const COFFEE_REWARDS = [
  { points: 300, reason: '兑换 美式咖啡' },
  { points: 450, reason: '兑换 中杯拿铁' },
  { points: 600, reason: '兑换 提拉米苏' },
];
const BEAUTY_REWARDS = [
  { points: 500, reason: '兑换 旅行装面膜' },
  { points: 1000, reason: '兑换 ¥10 优惠券' },
  { points: 2000, reason: '兑换 口红小样套装' },
];
const BEAUTY_ITEMS = [
  { sku: 'SERUM-30', name: '精华液 30ml', unit_price: 29_900, category: 'skincare' },
  { sku: 'MASK-10', name: '补水面膜 10 片', unit_price: 9_900, category: 'skincare' },
  { sku: 'LIP-01', name: '丝绒口红', unit_price: 15_900, category: 'makeup' },
  { sku: 'CUSHION-NEW', name: '新品气垫', unit_price: 22_900, category: 'new' },
  { sku: 'TONER-NEW', name: '新品爽肤水', unit_price: 12_900, category: 'new' },
];

/**
 * A living demo on an empty database: the seed articles' coffee chain (`prg_demo`, ~130 members,
 * silver and gold) and beauty shop (`prg_demo_beauty`, ~70 members), with a year of history sent
 * through event ingestion week by week with the clock of that week — orders, some refunds,
 * check-ins and reviews — and spends (ledger debits); then the sweep expires what is due. Points
 * earned about a year ago (coffee) or last year (beauty) expire within 30 days. Both programs have
 * a catalogue of rewards, and a few members redeemed from it in the last weeks (src/demo/rewards.ts:
 * an order delivered, one shipped, one cancelled, orders to ship, coupons, donations, lottery
 * draws). Deterministic (a seeded PRNG; ids and times follow `now`), but for the coupon codes and
 * the lotteries' seeds, which are random as in production. Runs only on a database without
 * programs, so a second start does nothing.
 */
export async function seedDemo(db: Db, now: Date): Promise<boolean> {
  const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM program')) as [{ n: number }];
  if (n > 0) return false;
  const random = prng(20261202);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const start = new Date(now.getTime() - WEEKS * 7 * DAY);
  const opened = new Date(start.getTime() - DAY);

  for (const p of PROGRAMS) {
    await db.query(
      `INSERT INTO program (id, name, time_zone, currency, point_name, point_name_en, expiry_policy, pending_days, negative_balance_policy,
                            redemption_rate, hold_timeout_seconds, metadata, created_at, updated_at)
       VALUES ($1, $2, 'Asia/Shanghai', 'CNY', '积分', 'points', $3::text::jsonb, $4, 'write_off', 100, 900, '{"demo": true}', $5, $5)`,
      [p.id, p.name, JSON.stringify(p.expiry), p.pendingDays, opened.toISOString()],
    );
    for (const definition of p.rules) await createRule(db, p.id, { definition }, opened, ACTOR);
    // the tier ladder from the start: members climb it as their year of orders comes in
    await putLadder(db, p.id, p.ladder, opened, ACTOR);
  }
  // points at checkout (积分抵扣): the coffee chain takes up to half of an order of ¥10 or more; the
  // beauty shop up to 30% of an order of ¥100 or more, at most 20,000 points, not with coupons
  await putCheckoutPolicy(
    db,
    DEMO_PROGRAM_ID,
    { enabled: true, max_share_bps: 5000, min_order_amount: 1000, min_points: 100, combinable_with_discounts: true },
    opened,
    ACTOR,
  );
  await putCheckoutPolicy(
    db,
    DEMO_BEAUTY_PROGRAM_ID,
    { enabled: true, max_share_bps: 3000, min_order_amount: 10_000, min_points: 100, max_points_per_order: 20_000, combinable_with_discounts: false },
    opened,
    ACTOR,
  );
  // the catalogues (after the ladders: tier-only rewards name a tier), redeemed from in the last weeks
  const demoPrograms = { coffee: DEMO_PROGRAM_ID, beauty: DEMO_BEAUTY_PROGRAM_ID };
  const rewardIds = await createDemoRewards(db, demoPrograms, opened, now);
  const redemptionsOf = demoRedemptions(db, rewardIds, demoPrograms);

  const people = (prefix: string, count: number): MemberCreate[] =>
    Array.from({ length: count }, (_, i) => {
      const person: MemberCreate = {
        external_id: `${prefix}-${String(i + 1).padStart(4, '0')}`,
        name: pick([...SURNAMES]) + pick(GIVEN),
        phone: `+86${pick(PHONE_PREFIXES)}${String(Math.floor(random() * 100_000_000)).padStart(8, '0')}`,
        tags: random() < 0.3 ? ['demo', 'regular'] : ['demo'],
      };
      return person;
    });
  const coffee = await db.transaction((tx) => addMembers(tx, DEMO_PROGRAM_ID, people('coffee', 130), opened));
  const beauty = await db.transaction((tx) => addMembers(tx, DEMO_BEAUTY_PROGRAM_ID, people('beauty', 70), opened));

  // Each member's habits: how often they buy, how often they redeem.
  const habits = (ids: string[]) => ids.map((id) => ({ id, buys: 0.15 + random() * 0.85, redeems: random() < 0.6 ? 0.05 + random() * 0.2 : 0 }));
  const coffeeMembers = habits(coffee.map((m) => m.id));
  const beautyMembers = habits(beauty.map((m) => m.id));

  const deps = { db, rules: new RuleCache() };
  let seq = 0;
  const at = (from: Date, spanMs: number) => new Date(from.getTime() + Math.floor(random() * spanMs)).toISOString();
  const send = async (programId: string, events: EventInput[], clock: Date) => {
    if (events.length === 0) return;
    events.sort((a, b) => (a.occurred_at! < b.occurred_at! ? -1 : a.occurred_at! > b.occurred_at! ? 1 : 0));
    for (let i = 0; i < events.length; i += 500) {
      const batch = events.slice(i, i + 500).map((input, index) => ({ index, input, prefix: `/events/${index}` }));
      const outcomes = await ingestEvents(deps, programId, batch, clock);
      const failed = outcomes.find((o) => o.status >= 400);
      if (failed) throw new Error(`demo seed: event ${failed.event_id} refused: ${failed.error?.message}`);
    }
  };
  // an app order paid partly with points: held at checkout, captured on payment (now and then the
  // shopper gives up and the points come back)
  const payWithPoints = async (memberId: string, amount: number, points: number, clock: Date) => {
    const ctx = { now: clock, actor: ACTOR, idempotency: undefined };
    try {
      const held = await holdCheckout(db, memberId, { order_reference: `demo-app-${++seq}`, amount, points }, ctx);
      await resolveCheckout(db, held.body.id, random() < 0.9 ? 'capture' : 'void', {}, ctx);
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'INSUFFICIENT_POINTS')) throw err;
    }
  };
  const spend = async (memberId: string, reward: { points: number; reason: string }, clock: Date) => {
    try {
      await ledger.debit(db, memberId, { ...reward, reference: `demo-redeem-${++seq}` }, { now: clock, actor: ACTOR });
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'INSUFFICIENT_POINTS')) throw err;
    }
  };

  // refunds come in the week after their order's
  let coffeeRefunds: EventInput[] = [];
  let beautyRefunds: EventInput[] = [];
  for (let week = 0; week < WEEKS; week++) {
    const from = new Date(start.getTime() + week * 7 * DAY);
    const clock = new Date(Math.min(from.getTime() + 7 * DAY, now.getTime()));
    const span = clock.getTime() - from.getTime();

    const coffeeEvents: EventInput[] = [...coffeeRefunds];
    coffeeRefunds = [];
    for (const m of coffeeMembers) {
      const orders = random() < m.buys ? (random() < 0.3 ? 2 : 1) : 0;
      for (let k = 0; k < orders; k++) {
        const order = `demo-c${++seq}`;
        const amount = 1_800 + Math.floor(random() * 50) * 100;
        const occurred = at(from, span);
        coffeeEvents.push({
          id: `${order}-paid`,
          type: 'order.paid',
          program_id: DEMO_PROGRAM_ID,
          member_id: m.id,
          occurred_at: occurred,
          data: { order_id: order, amount, currency: 'CNY', channel: random() < 0.7 ? 'store' : 'app', store_id: pick(['SH-001', 'SH-002', 'BJ-001']) },
        });
        if (random() < 0.04 && week < WEEKS - 1)
          coffeeRefunds.push({
            id: `${order}-refunded`,
            type: 'order.refunded',
            program_id: DEMO_PROGRAM_ID,
            member_id: m.id,
            occurred_at: new Date(clock.getTime() + Math.floor(random() * 3 * DAY)).toISOString(),
            data: random() < 0.5 ? { order_id: order } : { order_id: order, refund_id: `${order}-r1`, amount: Math.floor(amount / 2) },
          });
      }
      if (random() < m.buys * 0.5)
        coffeeEvents.push({
          id: `demo-c${++seq}-checkin`,
          type: 'checkin',
          program_id: DEMO_PROGRAM_ID,
          member_id: m.id,
          occurred_at: at(from, span),
          data: {},
        });
    }
    await send(DEMO_PROGRAM_ID, coffeeEvents, clock);

    const beautyEvents: EventInput[] = [...beautyRefunds];
    beautyRefunds = [];
    for (const m of beautyMembers) {
      if (random() < m.buys * 0.45) {
        const order = `demo-b${++seq}`;
        const lines = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(BEAUTY_ITEMS));
        const items = [...new Map(lines.map((l) => [l.sku, { ...l, quantity: 1 + Math.floor(random() * 2) }])).values()];
        const amount = items.reduce((sum, l) => sum + l.quantity * l.unit_price, 0);
        const occurred = at(from, span);
        beautyEvents.push({
          id: `${order}-paid`,
          type: 'order.paid',
          program_id: DEMO_BEAUTY_PROGRAM_ID,
          member_id: m.id,
          occurred_at: occurred,
          data: { order_id: order, amount, currency: 'CNY', channel: 'app', items },
        });
        if (random() < 0.06 && week < WEEKS - 1)
          beautyRefunds.push({
            id: `${order}-refunded`,
            type: 'order.refunded',
            program_id: DEMO_BEAUTY_PROGRAM_ID,
            member_id: m.id,
            occurred_at: new Date(clock.getTime() + Math.floor(random() * 3 * DAY)).toISOString(),
            data: { order_id: order, refund_id: `${order}-r1`, items: [{ sku: items[0]!.sku, quantity: 1 }] },
          });
        else if (random() < 0.5)
          beautyEvents.push({
            id: `${order}-review`,
            type: 'review.posted',
            program_id: DEMO_BEAUTY_PROGRAM_ID,
            member_id: m.id,
            occurred_at: new Date(Math.min(Date.parse(occurred) + DAY, clock.getTime())).toISOString(),
            data: { review_id: `${order}-rv`, order_id: order, sku: items[0]!.sku, has_photo: random() < 0.4, rating: 3 + Math.floor(random() * 3) },
          });
      }
      // a run of daily check-ins (a full week earns the streak bonus)
      if (random() < m.buys * 0.4) {
        const days = 1 + Math.floor(random() * 7);
        for (let d = 0; d < days; d++) {
          const day = from.getTime() + d * DAY + 2 * 3_600_000 + Math.floor(random() * 10 * 3_600_000);
          if (day >= clock.getTime()) break;
          beautyEvents.push({
            id: `demo-b${++seq}-checkin`,
            type: 'checkin',
            program_id: DEMO_BEAUTY_PROGRAM_ID,
            member_id: m.id,
            occurred_at: new Date(day).toISOString(),
            data: { streak_days: d + 1 },
          });
        }
      }
      if (random() < 0.05)
        beautyEvents.push({
          id: `demo-b${++seq}-share`,
          type: 'content.shared',
          program_id: DEMO_BEAUTY_PROGRAM_ID,
          member_id: m.id,
          occurred_at: at(from, span),
          data: { platform: pick(['wechat', 'xiaohongshu', 'weibo']) },
        });
    }
    await send(DEMO_BEAUTY_PROGRAM_ID, beautyEvents, clock);

    // spends at the end of the week; a member without enough points simply does not redeem
    for (const m of coffeeMembers) if (random() < m.redeems) await spend(m.id, pick(COFFEE_REWARDS), clock);
    for (const m of beautyMembers) if (random() < m.redeems * 0.6) await spend(m.id, pick(BEAUTY_REWARDS), clock);
    // the last weeks: some app orders use points at checkout
    if (week >= WEEKS - 4) for (const m of coffeeMembers) if (random() < 0.06) await payWithPoints(m.id, 3_800, 500 + 100 * Math.floor(random() * 10), clock);
    // orders, coupons, donations and draws from the catalogues, and the orders' later steps
    await redemptionsOf(WEEKS - 1 - week, clock);
    // what fell due this week expires with this week's clock; the tier jobs of the week (reviews,
    // at-risk warnings, monthly grants)
    await ledger.sweep(db, clock);
    await runTierJobs(db, clock);
  }
  await ledger.sweep(db, now);
  await runTierJobs(db, now);
  await announceDemoPrices(db, rewardIds, demoPrograms, now);
  // the programs were inserted here, not by createProgram: their built-in segments (at risk), with their members now
  await db.transaction(async (tx) => {
    for (const p of PROGRAMS) await createBuiltInSegments(tx, p.id, now);
  });
  await refreshDueSegments(db, now, now);
  return true;
}
