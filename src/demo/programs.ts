import type { RuleDefinition } from '../modules/rules/index.ts';

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
