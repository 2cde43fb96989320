import type { Db } from '../db/db.ts';
import { createPrize, draw, type PrizeCreate, rotateSeed } from '../modules/lottery/index.ts';
import {
  createPriceChange,
  createReward,
  deliverRedemption,
  endRedemption,
  generateCodes,
  type RewardCreate,
  redeem,
  shipRedemption,
} from '../modules/rewards/index.ts';
import { DomainError } from '../shared/errors.ts';

/**
 * The demo programs' catalogues (docs/rewards.md): ¥-coupons (满减券) with code pools, limited
 * goods (限量), a service and an experience, a donation project (公益), a lottery with prizes (one
 * of them issues a prize-only reward, a mug to ship), a points+cash item, a tier-only reward, a
 * flash sale (限时秒杀), one not on sale yet and a price rise announced in advance; and the past redemptions of a few members, through the rewards
 * service with the clock of their week: an order delivered, one shipped with its tracking number,
 * one cancelled (points and stock back), orders still to ship, coupons, donations, lottery draws.
 */

const ACTOR = 'demo seed';
const DAY = 86_400_000;
const name = (zh: string, en: string) => ({ 'zh-CN': zh, en });

/** A reward of the demo: what to create, and for a coupon how many codes, for a lottery its prizes. */
interface DemoReward {
  key: string;
  reward: RewardCreate;
  codes?: { count: number; prefix: string };
  /** `reward`: the key of an earlier reward of the catalogue the prize issues (prize_reward_id). */
  prizes?: (PrizeCreate & { reward?: string })[];
}

/** What `now` decides: windows relative to the seed's instant. */
type Catalogue = (now: Date) => DemoReward[];

const coffeeCatalogue: Catalogue = (now) => [
  {
    key: 'coupon10',
    reward: {
      type: 'coupon',
      name: name('满 50 减 10 元券', '¥10 off orders of ¥50'),
      description: {
        'zh-CN': '单笔消费满 50 元可用，门店与外卖通用，领取后 30 天内有效。',
        en: 'On orders of ¥50 or more, in store or delivery; valid 30 days.',
      },
      category: 'coupon',
      points_cost: 1000,
      limit: { per_member: 2, period: 'month' },
      status: 'active',
    },
    codes: { count: 300, prefix: 'KF10-' },
  },
  {
    key: 'americano',
    reward: {
      type: 'coupon',
      name: name('美式咖啡兑换券', 'Americano voucher'),
      description: { 'zh-CN': '任意门店兑换中杯美式咖啡一杯。', en: 'A medium Americano at any store.' },
      category: 'coffee',
      points_cost: 300,
      status: 'active',
    },
    codes: { count: 500, prefix: 'AME-' },
  },
  {
    key: 'tumbler',
    reward: {
      type: 'physical',
      name: name('限量版保温杯', 'Limited-edition tumbler'),
      description: { 'zh-CN': '304 不锈钢，480ml，限量发售。', en: 'Stainless steel, 480 ml, a limited edition.' },
      category: 'merch',
      points_cost: 3000,
      stock: 50,
      limit: { per_member: 1, period: 'ever' },
      status: 'active',
    },
  },
  {
    key: 'beans',
    reward: {
      type: 'physical',
      name: name('精品咖啡豆 250g', 'Speciality beans, 250 g'),
      description: { 'zh-CN': '云南保山小粒咖啡，中度烘焙，积分加现金兑换。', en: 'Yunnan Baoshan, medium roast: points plus cash.' },
      category: 'merch',
      points_cost: 800,
      cash_part: 2990,
      stock: 100,
      status: 'active',
    },
  },
  {
    key: 'class',
    reward: {
      type: 'experience',
      name: name('咖啡师手冲体验课', 'Pour-over class with a barista'),
      description: { 'zh-CN': '周末门店 90 分钟体验课，含两杯手冲咖啡。', en: 'A 90-minute weekend class in store, two cups included.' },
      category: 'experience',
      points_cost: 5000,
      stock: 20,
      status: 'active',
    },
  },
  {
    key: 'teatime',
    reward: {
      type: 'service',
      name: name('金卡专享双人下午茶', 'Afternoon tea for two (Gold)'),
      description: { 'zh-CN': '金卡会员专享，到店出示兑换记录即可。', en: 'For Gold members: show the redemption in store.' },
      category: 'food',
      points_cost: 2000,
      min_tier: 'gold',
      status: 'active',
    },
  },
  {
    key: 'flash',
    reward: {
      type: 'service',
      name: name('周五下午茶秒杀：拿铁', 'Friday flash sale: a latte'),
      description: { 'zh-CN': '每周五下午限时兑换中杯拿铁一杯。', en: 'A medium latte, on Friday afternoons only.' },
      category: 'coffee',
      points_cost: 150,
      limit: { per_member: 1, period: 'week' },
      schedule: { days: [5], from: '14:00', until: '16:00' },
      status: 'active',
    },
  },
  {
    key: 'newyear',
    reward: {
      type: 'physical',
      name: name('新春限定礼盒', 'New Year gift box'),
      description: { 'zh-CN': '挂耳咖啡 10 包与红包套装。', en: 'Ten drip bags and red envelopes.' },
      category: 'merch',
      points_cost: 4000,
      stock: 200,
      available_from: new Date(now.getTime() + 3 * DAY).toISOString(),
      status: 'active',
    },
  },
  {
    key: 'donation',
    reward: {
      type: 'donation',
      name: name('为山区孩子捐一份早餐', 'A breakfast for a child in the mountains'),
      description: { 'zh-CN': '100 积分起捐，积分咖啡按 100 积分 = 1 元配捐。', en: 'From 100 points; we give ¥1 for every 100 points.' },
      category: 'charity',
      points_cost: 100,
      donation_project: '山区儿童早餐计划',
      status: 'active',
    },
  },
  {
    key: 'mug',
    reward: {
      type: 'physical',
      name: name('品牌随行杯（抽奖奖品）', 'Travel mug (a lottery prize)'),
      description: { 'zh-CN': '幸运咖啡抽奖的奖品，中奖后寄到你上次的收货地址。', en: 'A prize of the lucky coffee draw, shipped to your last address.' },
      category: 'merch',
      points_cost: 2000,
      stock: 10,
      status: 'draft',
    },
  },
  {
    key: 'lottery',
    reward: {
      type: 'lottery',
      name: name('幸运咖啡抽奖', 'Lucky coffee draw'),
      description: {
        'zh-CN': '每次 50 积分，最高赢 500 积分，每次抽奖均可公开验证。',
        en: '50 points a draw, up to 500 points to win; every draw can be verified.',
      },
      category: 'lottery',
      points_cost: 50,
      limit: { per_member: 5, period: 'day' },
      status: 'active',
    },
    prizes: [
      { code: 'p500', name: name('500 积分', '500 points'), weight: 2, stock: null, points: 500 },
      { code: 'p100', name: name('100 积分', '100 points'), weight: 10, stock: null, points: 100 },
      { code: 'p20', name: name('20 积分', '20 points'), weight: 38, stock: null, points: 20 },
      { code: 'cup', name: name('品牌随行杯', 'A travel mug'), weight: 3, stock: null, points: null, reward: 'mug' },
      { code: 'thanks', name: name('谢谢参与', 'Better luck next time'), weight: 47, stock: null, points: null },
    ],
  },
];

const beautyCatalogue: Catalogue = (now) => [
  {
    key: 'coupon20',
    reward: {
      type: 'coupon',
      name: name('满 199 减 20 元券', '¥20 off orders of ¥199'),
      description: { 'zh-CN': '全场通用，单笔满 199 元可用。', en: 'On any order of ¥199 or more.' },
      category: 'coupon',
      points_cost: 2000,
      limit: { per_member: 3, period: 'month' },
      status: 'active',
    },
    codes: { count: 300, prefix: 'MZ20-' },
  },
  {
    key: 'shipping',
    reward: {
      type: 'coupon',
      name: name('包邮券', 'Free shipping coupon'),
      description: { 'zh-CN': '任意订单免运费一次。', en: 'Free shipping on one order.' },
      category: 'coupon',
      points_cost: 500,
      status: 'active',
    },
    codes: { count: 300, prefix: 'SHIP-' },
  },
  {
    key: 'masks',
    reward: {
      type: 'physical',
      name: name('补水面膜旅行装 5 片', 'Hydrating masks, travel pack of 5'),
      category: 'skincare',
      points_cost: 1500,
      stock: 100,
      status: 'active',
    },
  },
  {
    key: 'lipstick',
    reward: {
      type: 'physical',
      name: name('限量丝绒口红礼盒', 'Limited velvet lipstick set'),
      description: { 'zh-CN': '三支装限定色，限量 10 套。', en: 'Three limited shades; 10 sets.' },
      category: 'makeup',
      points_cost: 8000,
      stock: 10,
      limit: { per_member: 1, period: 'ever' },
      status: 'active',
    },
  },
  {
    key: 'serum',
    reward: {
      type: 'physical',
      name: name('精华液 30ml（积分 + 现金）', 'Serum 30 ml (points + cash)'),
      category: 'skincare',
      points_cost: 5000,
      cash_part: 9900,
      stock: 50,
      status: 'active',
    },
  },
  {
    key: 'skincheck',
    reward: {
      type: 'service',
      name: name('专柜肌肤检测', 'A skin analysis at the counter'),
      description: { 'zh-CN': '专业仪器检测与护肤建议，约 30 分钟。', en: 'Measured by a consultant, with advice; about 30 minutes.' },
      category: 'service',
      points_cost: 1000,
      status: 'active',
    },
  },
  {
    key: 'trial',
    reward: {
      type: 'physical',
      name: name('黄金会员新品试用装', 'New-product samples (Gold)'),
      category: 'new',
      points_cost: 1200,
      min_tier: 'gold',
      stock: 100,
      status: 'active',
    },
  },
  {
    key: 'flash',
    reward: {
      type: 'coupon',
      name: name('周三晚 8 点秒杀：满 99 减 30', 'Wednesday 8 pm flash sale: ¥30 off ¥99'),
      category: 'coupon',
      points_cost: 900,
      limit: { per_member: 1, period: 'week' },
      schedule: { days: [3], from: '20:00', until: '22:00' },
      status: 'active',
    },
    codes: { count: 100, prefix: 'FLASH-' },
  },
  {
    key: 'donation',
    reward: {
      type: 'donation',
      name: name('守护蓝色海洋', 'Protect the blue ocean'),
      description: { 'zh-CN': '100 积分起捐，用于海洋垃圾清理公益项目。', en: 'From 100 points, for ocean clean-up projects.' },
      category: 'charity',
      points_cost: 100,
      donation_project: '海洋保护公益基金',
      status: 'active',
    },
  },
  {
    key: 'lottery',
    reward: {
      type: 'lottery',
      name: name('美妆盲盒抽奖', 'Beauty mystery box draw'),
      description: { 'zh-CN': '每次 200 积分，正装口红、面膜或积分等你拿。', en: '200 points a draw: a lipstick, masks or points.' },
      category: 'lottery',
      points_cost: 200,
      available_until: new Date(now.getTime() + 60 * DAY).toISOString(),
      status: 'active',
    },
    prizes: [
      { code: 'lipstick', name: name('正装口红', 'A full-size lipstick'), weight: 2, stock: 5, points: null },
      { code: 'masks', name: name('面膜 2 片', 'Two sheet masks'), weight: 18, stock: 100, points: null },
      { code: 'p300', name: name('300 积分', '300 points'), weight: 20, stock: null, points: 300 },
      { code: 'p50', name: name('50 积分', '50 points'), weight: 30, stock: null, points: 50 },
      { code: 'thanks', name: name('谢谢参与', 'Better luck next time'), weight: 30, stock: null, points: null },
    ],
  },
];

/** The demo rewards' ids by program and key. */
export type DemoRewardIds = Map<string, Map<string, { id: string; points: number; physical: boolean }>>;

/** Creates both programs' catalogues (after their ladders: tier-only rewards name a tier), codes, prizes and the lotteries' first seeds. */
export async function createDemoRewards(db: Db, programIds: { coffee: string; beauty: string }, opened: Date, now: Date): Promise<DemoRewardIds> {
  const ids: DemoRewardIds = new Map();
  const ctx = { now: opened, actor: ACTOR };
  for (const [programId, catalogue] of [
    [programIds.coffee, coffeeCatalogue],
    [programIds.beauty, beautyCatalogue],
  ] as const) {
    const byKey = new Map<string, { id: string; points: number; physical: boolean }>();
    for (const item of catalogue(now)) {
      const reward = (await createReward(db, programId, item.reward, ctx)).body;
      byKey.set(item.key, { id: reward.id, points: reward.points_cost, physical: reward.type === 'physical' });
      if (item.codes) await generateCodes(db, reward.id, { count: item.codes.count, prefix: item.codes.prefix, length: 8 }, ctx);
      if (item.prizes) {
        for (const { reward: issues, ...prize } of item.prizes)
          await createPrize(db, reward.id, { ...prize, ...(issues ? { prize_reward_id: byKey.get(issues)!.id } : {}) }, ctx);
        await rotateSeed(db, reward.id, ctx);
      }
    }
    ids.set(programId, byKey);
  }
  return ids;
}

/** Price rises announced today for next month (动态调整): members see them coming in the catalogue. */
export async function announceDemoPrices(db: Db, ids: DemoRewardIds, programIds: { coffee: string; beauty: string }, now: Date): Promise<void> {
  const effective = new Date(now.getTime() + 14 * DAY).toISOString();
  const ctx = { now, actor: ACTOR };
  await createPriceChange(db, ids.get(programIds.coffee)!.get('americano')!.id, { points_cost: 350, effective_at: effective }, ctx);
  await createPriceChange(db, ids.get(programIds.beauty)!.get('masks')!.id, { points_cost: 1800, effective_at: effective }, ctx);
}

const ADDRESSES = [
  { address: '上海市静安区南京西路 1266 号 恒隆广场 2 座 1801 室', postal_code: '200040' },
  { address: '北京市朝阳区建国路 87 号 华贸中心 3 号楼 1205 室', postal_code: '100025' },
  { address: '广州市天河区珠江新城花城大道 85 号 2306 室', postal_code: '510623' },
  { address: '杭州市西湖区文三路 90 号 东部软件园 5 号楼 602 室', postal_code: '310012' },
];
const CARRIERS = ['顺丰速运', '京东物流', '中通快递'];

/** Members of the program with at least `points` (pending ones included: a redemption may still refuse), the richest first. */
async function candidates(db: Db, programId: string, points: number): Promise<{ id: string; name: string | null; phone: string | null }[]> {
  return db.query(
    `SELECT m.id, m.name, m.phone FROM member m JOIN member_account a ON a.member_id = m.id
      WHERE m.program_id = $1 AND m.status = 'active' AND a.balance >= $2
      ORDER BY a.balance DESC, m.id LIMIT 20`,
    [programId, points],
  );
}

/**
 * The demo's redemptions in the last weeks of its year, each with the clock of its week: call the
 * result once a week with `weeksLeft`, how many weeks of the year are still to come after this one
 * (0: the last week).
 */
export function demoRedemptions(db: Db, ids: DemoRewardIds, programIds: { coffee: string; beauty: string }) {
  const used = new Set<string>();
  let seq = 0;
  /** Orders to move on later: what to do, and in which week. */
  const later: { id: string; step: 'ship' | 'deliver' | 'cancel'; when: number }[] = [];

  /** Redeems `key` for the first member of the program who can; null when none could (too few points, a limit). */
  const redeemFor = async (programId: string, key: string, clock: Date, extra: { points?: number } = {}): Promise<string | null> => {
    const reward = ids.get(programId)!.get(key)!;
    for (const m of await candidates(db, programId, extra.points ?? reward.points)) {
      if (used.has(`${m.id}:${key}`)) continue;
      const address = ADDRESSES[seq % ADDRESSES.length]!;
      try {
        const result = await redeem(
          db,
          m.id,
          {
            reward_id: reward.id,
            ...extra,
            ...(reward.physical ? { shipping: { name: m.name ?? '会员', phone: m.phone ?? '+8613800000000', ...address } } : {}),
          },
          { now: clock, actor: ACTOR },
        );
        used.add(`${m.id}:${key}`);
        seq++;
        return result.body.id;
      } catch (err) {
        if (!(err instanceof DomainError) || !['INSUFFICIENT_POINTS', 'LIMIT_REACHED', 'TIER_REQUIRED'].includes(err.code)) throw err;
      }
    }
    return null;
  };

  const drawFor = async (programId: string, clock: Date, count: number): Promise<void> => {
    const lottery = ids.get(programId)!.get('lottery')!;
    for (const m of (await candidates(db, programId, lottery.points)).slice(0, count)) {
      try {
        await draw(db, m.id, { reward_id: lottery.id }, { now: clock, actor: ACTOR });
      } catch (err) {
        if (!(err instanceof DomainError) || !['INSUFFICIENT_POINTS', 'LIMIT_REACHED'].includes(err.code)) throw err;
      }
    }
  };

  const plan = (id: string | null, steps: [step: 'ship' | 'deliver' | 'cancel', when: number][]) => {
    if (id) for (const [step, when] of steps) later.push({ id, step, when });
  };

  const { coffee, beauty } = programIds;
  return async function week(weeksLeft: number, clock: Date): Promise<void> {
    if (weeksLeft === 6) {
      // delivered by the end
      plan(await redeemFor(coffee, 'tumbler', clock), [
        ['ship', 5],
        ['deliver', 4],
      ]);
      plan(await redeemFor(beauty, 'masks', clock), [
        ['ship', 5],
        ['deliver', 4],
      ]);
      await redeemFor(coffee, 'coupon10', clock);
      await redeemFor(beauty, 'coupon20', clock);
      await redeemFor(coffee, 'class', clock);
    }
    if (weeksLeft === 3) {
      // shipped, on their way; cancelled
      plan(await redeemFor(coffee, 'beans', clock), [['ship', 2]]);
      plan(await redeemFor(beauty, 'serum', clock), [['ship', 2]]);
      plan(await redeemFor(coffee, 'tumbler', clock), [['cancel', 2]]);
      plan(await redeemFor(beauty, 'masks', clock), [['cancel', 2]]);
      await redeemFor(coffee, 'americano', clock);
      await redeemFor(beauty, 'shipping', clock);
      await redeemFor(coffee, 'donation', clock, { points: 500 });
      await redeemFor(beauty, 'donation', clock, { points: 300 });
      await drawFor(coffee, clock, 6);
      await drawFor(beauty, clock, 4);
    }
    if (weeksLeft === 1) {
      // orders the console still has to ship
      await redeemFor(coffee, 'tumbler', clock);
      await redeemFor(beauty, 'lipstick', clock);
      await redeemFor(beauty, 'masks', clock);
      await redeemFor(coffee, 'americano', clock);
      await redeemFor(coffee, 'coupon10', clock);
      await redeemFor(beauty, 'coupon20', clock);
      await redeemFor(coffee, 'donation', clock, { points: 200 });
      await drawFor(coffee, clock, 4);
    }
    const ctx = { now: clock, actor: ACTOR };
    for (const step of later.filter((s) => s.when === weeksLeft)) {
      if (step.step === 'ship') {
        const carrier = CARRIERS[seq % CARRIERS.length]!;
        const prefix = carrier === '顺丰速运' ? 'SF' : carrier === '京东物流' ? 'JDX' : 'ZTO';
        seq++;
        await shipRedemption(db, step.id, { carrier, tracking_number: `${prefix}${1_400_000_000 + seq * 7_919}` }, ctx);
      } else if (step.step === 'deliver') await deliverRedemption(db, step.id, ctx);
      else await endRedemption(db, step.id, 'cancel', { reason: '会员申请取消' }, ctx);
    }
  };
}
