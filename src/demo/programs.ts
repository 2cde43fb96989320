import type { RuleDefinition } from '../modules/rules/index.ts';
import type { TierLadderInput } from '../modules/tiers/index.ts';

/**
 * The worked examples of the seed articles (../shared/seeds) the demo is made of, as rule
 * definitions. Tests import them from here (test/fixtures/seed-programs.ts re-exports them).
 */

/** 咖啡连锁: silver 1×, gold 1.5×: ¥100 → 100 or 150 points. */
export const coffeeChain: RuleDefinition[] = [
  {
    name: '消费积分',
    triggers: ['order.paid'],
    effect: { type: 'rate', points: 1, per_amount: 100, rounding: 'floor' },
    multipliers: [{ type: 'tier', values: { silver: '1', gold: '1.5' }, labels: { silver: '银卡', gold: '金卡' } }],
  },
];

/** The coffee chain's daily check-in, which the demo adds to its order rule. */
export const coffeeCheckin: RuleDefinition = {
  name: '每日签到',
  triggers: ['checkin'],
  effect: { type: 'fixed', points: 5 },
  frequency: { max: 1, per: 'day' },
};

/**
 * 美妆电商: ¥1 = 1 point; new-product zone 2×; review 20; photo review 50; share 10; check-in 5;
 * 7-day check-in streak 30; invite a friend 200 (a custom event type).
 */
export const beautyShop: RuleDefinition[] = [
  {
    name: '购物积分',
    triggers: ['order.paid'],
    effect: { type: 'rate', points: 1, per_amount: 100, rounding: 'floor', basis: 'items' },
    item_multipliers: [{ categories: ['new'], multiplier: '2', label: '新品尝鲜' }],
  },
  {
    name: '评价有礼',
    triggers: ['review.posted'],
    condition: { '!': { var: 'event.data.has_photo' } },
    effect: { type: 'fixed', points: 20 },
    frequency: { max: 5, per: 'day' },
  },
  {
    name: '带图评价',
    triggers: ['review.posted'],
    condition: { '==': [{ var: 'event.data.has_photo' }, true] },
    effect: { type: 'fixed', points: 50 },
    frequency: { max: 5, per: 'day' },
  },
  { name: '分享有礼', triggers: ['content.shared'], effect: { type: 'fixed', points: 10 } },
  { name: '每日签到', triggers: ['checkin'], effect: { type: 'fixed', points: 5 }, frequency: { max: 1, per: 'day' } },
  { name: '连续签到7天', triggers: ['checkin'], condition: { '==': [{ var: 'event.data.streak_days' }, 7] }, effect: { type: 'fixed', points: 30 } },
  { name: '邀请好友', triggers: ['referral.completed'], effect: { type: 'fixed', points: 200 } },
];

const name = (zh: string, en: string) => ({ 'zh-CN': zh, en });
const perk = name;

/**
 * 咖啡连锁's ladder: 绿星 / 银星 / 金星 by spend in a rolling 12 months (¥600, ¥1,500), status for
 * 12 months, at most one step down at review after 30 days of grace. Gold earns 1.5×: the order
 * rule multiplies by tier itself, and a rule's own tier multiplier takes the place of the ladder's
 * (never both), so the ladder says what members get. Gold: 100 welcome points, 50 on the birthday,
 * a free-delivery coupon every month.
 */
export const coffeeLadder: TierLadderInput = {
  metric: 'spend',
  qualifying_window: { type: 'rolling_months', months: 12 },
  validity: { type: 'months', months: 12 },
  downgrade_policy: 'one_step',
  grace_days: 30,
  upgrade_event_rate: 'old',
  tiers: [
    { code: 'green', name: name('绿星', 'Green'), entry: 0, perks: [perk('生日当月饮品九折', '10% off drinks in your birthday month')] },
    {
      code: 'silver',
      name: name('银卡', 'Silver'),
      entry: 60_000,
      retention: 50_000,
      birthday_points: 20,
      perks: [perk('每月一次免费升杯', 'A free size upgrade every month')],
    },
    {
      code: 'gold',
      name: name('金卡', 'Gold'),
      entry: 150_000,
      retention: 120_000,
      multiplier: '1.5',
      welcome_points: 100,
      birthday_points: 50,
      grants: [{ key: 'free_delivery', name: name('外送免运费券', 'Free delivery coupon'), every: 'month', coupon_prefix: 'FREEDEL' }],
      perks: [perk('每月外送免运费券', 'A free delivery coupon every month')],
    },
  ],
};

/**
 * 美妆电商's ladder, the seed articles' 青铜 / 白银 / 黄金 / 钻石: 年消费 ¥1,000 / ¥5,000 / ¥20,000,
 * 1× / 1.2× / 1.5× / 2×, kept through the next year, 保级 at 80% of the entry, one step down at most.
 */
export const beautyLadder: TierLadderInput = {
  metric: 'spend',
  qualifying_window: { type: 'calendar_year' },
  validity: { type: 'period_and_next' },
  downgrade_policy: 'one_step',
  grace_days: 0,
  upgrade_event_rate: 'old',
  tiers: [
    { code: 'bronze', name: name('青铜', 'Bronze'), entry: 0, multiplier: '1' },
    {
      code: 'silver',
      name: name('白银', 'Silver'),
      entry: 100_000,
      retention: 80_000,
      multiplier: '1.2',
      welcome_points: 100,
      birthday_points: 50,
      perks: [perk('专属会员价', 'Member prices')],
    },
    {
      code: 'gold',
      name: name('黄金', 'Gold'),
      entry: 500_000,
      retention: 400_000,
      multiplier: '1.5',
      welcome_points: 300,
      birthday_points: 100,
      grants: [{ key: 'free_shipping', name: name('月度包邮券', 'Monthly free shipping'), every: 'month', coupon_prefix: 'FREESHIP' }],
      perks: [perk('每月包邮券', 'Free shipping every month')],
    },
    {
      code: 'diamond',
      name: name('钻石', 'Diamond'),
      entry: 2_000_000,
      retention: 1_600_000,
      multiplier: '2',
      welcome_points: 1000,
      birthday_points: 300,
      grants: [
        { key: 'free_shipping', name: name('月度包邮券', 'Monthly free shipping'), every: 'month', coupon_prefix: 'FREESHIP' },
        { key: 'quarterly_gift', name: name('季度礼遇 200 积分', 'Quarterly 200 points'), every: 'quarter', points: 200 },
      ],
      perks: [perk('专属客服', 'A personal adviser'), perk('新品优先试用', 'First to try new products')],
    },
  ],
};
