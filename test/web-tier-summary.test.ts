import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import i18next from 'i18next';
import { fieldOfPath, fromLadder, type SavedLadder, seedLadderForm, toLadderInput } from '../web/console/routes/tiers/ladder.ts';
import { type LadderLike, ladderSummary } from '../web/console/routes/tiers/summary.ts';
import { dayBefore, percentOf, type TierProgressInput, tierLabel, tierProgress } from '../web/shared/tier-progress.ts';

const WEB = join(import.meta.dirname, '..', 'web');
const json = (...parts: string[]) => JSON.parse(readFileSync(join(WEB, ...parts), 'utf8'));
const LOCALES = ['zh-CN', 'en'] as const;
type Locale = (typeof LOCALES)[number];

const i18n = i18next.createInstance();
await i18n.init({
  lng: 'zh-CN',
  fallbackLng: false,
  initAsync: false,
  interpolation: { escapeValue: false },
  resources: Object.fromEntries(
    LOCALES.map((l) => [l, { tiers: json('console', 'routes', 'tiers', 'locales', `${l}.json`), common: json('shared', 'locales', `${l}.json`) }]),
  ),
});
const missing: string[] = [];
const translator = (locale: Locale, ns: string) => {
  const t = i18n.getFixedT(locale, ns);
  return (key: string, options?: Record<string, unknown>) => {
    if (!i18n.exists(key, { lng: locale, ns, ...options })) missing.push(`${locale}:${ns}:${key}`);
    return String(t(key, (options ?? {}) as never));
  };
};
const summary = (ladder: LadderLike, locale: Locale) =>
  ladderSummary(ladder, { t: translator(locale, 'tiers'), locale, currency: 'CNY', pointName: locale === 'en' ? 'points' : '积分' }).join(
    locale === 'en' ? ' ' : '',
  );

const SEED = toLadderInput(seedLadderForm(), 100);

describe('ladder summary', () => {
  test('the seed ladder reads as the issue says it, in both languages', () => {
    const zh = summary({ ...SEED, tiers: SEED.tiers.map((t) => (t.code === 'silver' ? { ...t, retention: 80000 } : t)) }, 'zh-CN');
    assert.match(zh, /^会员按自然年消费金额评级：满 ¥1,000 升为白银，满 ¥5,000 升为黄金，满 ¥20,000 升为钻石；新会员为青铜。/);
    assert.match(zh, /升级立即生效，本次订单按原等级计分，之后按新等级计分。/);
    assert.match(zh, /等级有效期至次年年底/);
    assert.match(zh, /到期时未达保级标准者降一级（白银 ¥800，黄金 ¥5,000，钻石 ¥20,000）。/);
    assert.match(zh, /白银：积分 1.2 倍。黄金：积分 1.5 倍。钻石：积分 2 倍。$/);
    assert.doesNotMatch(zh, /青铜：/, 'the base tier at 1× with no benefit gets no benefits sentence');
    const en = summary(SEED, 'en');
    assert.match(
      en,
      /^Members are ranked by spend in the calendar year: ¥1,000 reaches Silver, ¥5,000 reaches Gold, ¥20,000 reaches Diamond; new members start at Bronze\./,
    );
    assert.match(en, /the order that crosses the threshold earns at the old tier's rate/);
    assert.match(en, /A tier lasts the rest of the year and all of the next\./);
    assert.match(en, /below the tier's entry threshold goes down one tier/);
    assert.match(en, /Diamond: earns 2×\.$/);
    assert.deepEqual(missing, []);
  });

  test('one upper tier with a lower retention names it; grace days, the new rate', () => {
    const ladder: LadderLike = {
      ...SEED,
      upgrade_event_rate: 'new',
      grace_days: 30,
      tiers: [SEED.tiers[0]!, { ...SEED.tiers[1]!, retention: 80000 }],
    };
    assert.match(summary(ladder, 'zh-CN'), /到期时未达保级标准 ¥800 者降一级。到期后有 30 天宽限期/);
    assert.match(summary(ladder, 'zh-CN'), /本次订单即按新等级计分/);
    assert.match(summary(ladder, 'en'), /below the retention threshold of ¥800 goes down one tier\. After it ends, 30 grace days count/);
  });

  test('Starbucks-style: points in a rolling 12 months, 12 months of status, re-rank at the end', () => {
    const ladder: LadderLike = {
      metric: 'points',
      qualifying_window: { type: 'rolling_months', months: 12 },
      validity: { type: 'months', months: 12 },
      downgrade_policy: 'requalify',
      tiers: [
        { code: 'green', name: { 'zh-CN': '绿星', en: 'Green' }, entry: 0 },
        { code: 'gold', name: { 'zh-CN': '金星', en: 'Gold' }, entry: 500, multiplier: '1.2' },
        { code: 'reserve', name: { 'zh-CN': '臻选', en: 'Reserve' }, entry: 2500, multiplier: '1.7' },
      ],
    };
    const zh = summary(ladder, 'zh-CN');
    assert.match(zh, /会员按近 12 个月成长值评级：满 500 成长值 升为金星，满 2,500 成长值 升为臻选/);
    assert.match(zh, /本次事件按原等级计分/);
    assert.match(zh, /等级自达标起有效 12 个月/);
    assert.match(zh, /到期时按成长值重新评级（保级标准：金星 500 成长值，臻选 2,500 成长值）/);
    const en = summary(ladder, 'en');
    assert.match(en, /ranked by tier points in the last 12 months: 500 tier points reaches Gold/);
    assert.match(en, /A tier lasts 12 months from qualifying/);
  });

  test('Delta-style: until 31 January of the year after next; orders; never lowered', () => {
    const ladder: LadderLike = {
      metric: 'orders',
      qualifying_window: { type: 'calendar_year' },
      validity: { type: 'until_date', month: 1, day: 31, years: 2 },
      downgrade_policy: 'never',
      grace_days: 10,
      tiers: [
        { code: 'member', name: { 'zh-CN': '会员', en: 'Member' }, entry: 0 },
        { code: 'silver', name: { 'zh-CN': '银卡', en: 'Silver' }, entry: 1, welcome_points: 500, birthday_points: 100 },
      ],
    };
    const zh = summary(ladder, 'zh-CN');
    assert.match(zh, /满 1 单 升为银卡/);
    assert.match(zh, /等级有效期至达标后年1月31日。等级不会下降。/);
    assert.doesNotMatch(zh, /宽限/, 'grace days mean nothing when tiers are never lowered');
    assert.match(zh, /银卡：升级礼 500 积分，生日礼 100 积分。/);
    const en = summary(ladder, 'en');
    assert.match(en, /1 order reaches Silver/);
    assert.match(en, /until January 31 of the year after next\. Tiers are never lowered\./);
    assert.match(en, /Silver: 500 points on reaching it, 100 points on the birthday\./);
  });

  test('grants and perks in words; a one-tier ladder', () => {
    const ladder: LadderLike = {
      ...SEED,
      tiers: [
        {
          ...SEED.tiers[0]!,
          grants: [
            { key: 'ship', name: { 'zh-CN': '免运费', en: 'free shipping' }, every: 'month', coupon_prefix: 'SHIP' },
            { key: 'bonus', name: { 'zh-CN': '季度礼', en: 'quarterly' }, every: 'quarter', points: 50 },
          ],
          perks: [{ 'zh-CN': '优先客服', en: 'priority service' }],
        },
      ],
    };
    assert.equal(summary(ladder, 'zh-CN'), '所有会员均为青铜。青铜：每月赠送「免运费」券，每季度赠送 50 积分，优先客服。');
    assert.equal(summary(ladder, 'en'), 'Every member is Bronze. Bronze: a free shipping coupon every month, 50 points every quarter, priority service.');
    assert.deepEqual(missing, []);
  });
});

describe('ladder form', () => {
  test('spend is entered in currency units and sent in minor units; back again', () => {
    const form = seedLadderForm();
    form.tiers[1]!.retention = 800.5;
    const input = toLadderInput(form, 100);
    assert.deepEqual(
      input.tiers.map((t) => [t.code, t.entry, t.retention, t.multiplier]),
      [
        ['bronze', 0, undefined, '1'],
        ['silver', 100000, 80050, '1.2'],
        ['gold', 500000, undefined, '1.5'],
        ['diamond', 2000000, undefined, '2'],
      ],
    );
    assert.deepEqual(input.qualifying_window, { type: 'calendar_year' });
    assert.deepEqual(input.validity, { type: 'period_and_next' });
    // a yen ladder has no minor unit
    assert.equal(toLadderInput(form, 1).tiers[1]!.entry, 1000);
    // orders are counts whatever the currency
    assert.equal(toLadderInput({ ...form, metric: 'orders', tiers: [form.tiers[0]!, { ...form.tiers[1]!, entry: 5 }] }, 100).tiers[1]!.entry, 5);

    const saved = {
      ...input,
      tiers: input.tiers.map((t) => ({ ...t, retention: t.retention ?? t.entry, birthday_points: 0, welcome_points: 0, multiplier: t.multiplier ?? '1' })),
    } as SavedLadder;
    const again = fromLadder(saved, 100);
    assert.equal(again.tiers[1]!.entry, 1000);
    assert.equal(again.tiers[1]!.retention, 800.5);
    assert.equal(again.tiers[2]!.retention, null, 'a retention equal to the entry is shown empty');
    assert.deepEqual(toLadderInput(again, 100), input);
  });

  test('grants are points or a coupon, never both; windows and validity take their own fields only', () => {
    const form = seedLadderForm();
    form.window_type = 'rolling_months';
    form.window_months = 6;
    form.validity_type = 'until_date';
    form.validity_month = 2;
    form.validity_day = 29;
    form.validity_years = 1;
    form.validity_months = 12;
    form.tiers[0]!.grants = [
      { key: 'a', name_zh: '甲', name_en: 'A', every: 'month', kind: 'coupon', coupon_prefix: ' FREE ', points: 10 },
      { key: 'b', name_zh: '乙', name_en: 'B', every: 'year', kind: 'points', points: 10, coupon_prefix: 'X' },
    ];
    const input = toLadderInput(form, 100);
    assert.deepEqual(input.qualifying_window, { type: 'rolling_months', months: 6 });
    assert.deepEqual(input.validity, { type: 'until_date', month: 2, day: 29, years: 1 });
    assert.deepEqual(input.tiers[0]!.grants, [
      { key: 'a', name: { 'zh-CN': '甲', en: 'A' }, every: 'month', coupon_prefix: 'FREE' },
      { key: 'b', name: { 'zh-CN': '乙', en: 'B' }, every: 'year', points: 10 },
    ]);
  });

  test("the API's error paths land on the form's fields", () => {
    assert.deepEqual(fieldOfPath('/tiers/2/entry'), ['tiers', 2, 'entry']);
    assert.deepEqual(fieldOfPath('/tiers/0/name/en'), ['tiers', 0, 'name_en']);
    assert.deepEqual(fieldOfPath('/tiers/1/grants/0/coupon_prefix'), ['tiers', 1, 'grants', 0, 'coupon_prefix']);
    assert.deepEqual(fieldOfPath('/tiers/1/grants/0/name/zh-CN'), ['tiers', 1, 'grants', 0, 'name_zh']);
    assert.deepEqual(fieldOfPath('/tiers/1/perks/3/en'), ['tiers', 1, 'perks', 3, 'en']);
    assert.deepEqual(fieldOfPath('/validity/day'), ['validity_day']);
    assert.deepEqual(fieldOfPath('/qualifying_window/months'), ['window_months']);
    assert.deepEqual(fieldOfPath('/tiers/1'), undefined);
    assert.equal(fieldOfPath(''), undefined);
    assert.equal(fieldOfPath('/keep_current_tiers_until'), undefined);
  });
});

const name = (zh: string, en: string) => ({ 'zh-CN': zh, en });
const STATUS: TierProgressInput = {
  metric: 'spend',
  currency: 'CNY',
  tier: { code: 'silver', name: name('白银', 'Silver') },
  earned: { code: 'silver' },
  window: { value: 450000 },
  next: { tier: { name: name('黄金', 'Gold') }, threshold: 500000, needed: 50000, by: '2026-12-31' },
  keep: { threshold: 80000, needed: 30000, review_at: '2027-12-31T16:00:00Z', at_risk: false },
  ladder: [
    { code: 'bronze', name: name('青铜', 'Bronze') },
    { code: 'silver', name: name('白银', 'Silver') },
    { code: 'gold', name: name('黄金', 'Gold') },
  ],
};
const progress = (status: TierProgressInput, locale: Locale) =>
  tierProgress(status, { t: translator(locale, 'common'), locale, timeZone: 'Asia/Shanghai', pointName: '积分' });

describe('tier progress', () => {
  test('"再消费 ¥500 即可升级黄金" by the window\'s last day, and the keep-tier line up to the day before the review', () => {
    const zh = progress(STATUS, 'zh-CN');
    assert.equal(zh.percent, 90);
    assert.equal(zh.nextLine, '2026年12月31日前再消费 ¥500 即可升级黄金');
    // the review is at local midnight of 1 January 2028: what counts ends on 31 December 2027
    assert.equal(zh.keepLine, '2027年12月31日前再消费 ¥300 即可保级白银');
    const en = progress(STATUS, 'en');
    assert.equal(en.nextLine, 'Spend ¥500 more by Dec 31, 2026 to reach Gold');
    assert.equal(en.keepLine, 'Spend ¥300 more by Dec 31, 2027 to keep Silver');
    assert.deepEqual(missing, []);
  });

  test('a rolling window has no deadline; points and orders are counted, not money', () => {
    const rolling = { ...STATUS, metric: 'points' as const, next: { ...STATUS.next!, needed: 1, by: null } };
    assert.equal(progress(rolling, 'zh-CN').nextLine, '再获得 1 成长值即可升级黄金');
    assert.equal(progress(rolling, 'en').nextLine, 'Earn 1 more tier point to reach Gold');
    const orders = { ...STATUS, metric: 'orders' as const, next: { ...STATUS.next!, needed: 3, by: null }, keep: { ...STATUS.keep!, needed: 2 } };
    assert.equal(progress(orders, 'en').nextLine, 'Place 3 more orders to reach Gold');
    assert.equal(progress(orders, 'zh-CN').keepLine, '2027年12月31日前再下 2 单即可保级白银');
  });

  test('kept already, at the top, the base tier; an override shows the earned tier in the keep line', () => {
    const kept = progress({ ...STATUS, keep: { ...STATUS.keep!, needed: 0 } }, 'zh-CN');
    assert.equal(kept.keepLine, '已达到保级白银的标准（统计至2027年12月31日）');
    const top = progress({ ...STATUS, tier: { code: 'gold', name: name('黄金', 'Gold') }, earned: { code: 'gold' }, next: null }, 'en');
    assert.equal(top.percent, 100);
    assert.equal(top.nextLine, 'Gold, the highest tier');
    assert.equal(progress({ ...STATUS, keep: null }, 'en').keepLine, null);
    // overridden to gold, earned silver: the keep line is about silver
    const overridden = progress({ ...STATUS, tier: { code: 'gold', name: name('黄金', 'Gold') } }, 'en');
    assert.match(overridden.keepLine!, /to keep Silver$/);
    assert.equal(progress({ ...STATUS, keep: { ...STATUS.keep!, at_risk: true } }, 'en').atRisk, true);
  });

  test('the bar: whole percent, 100 only when reached, never negative', () => {
    assert.equal(percentOf(0, 100000), 0);
    assert.equal(percentOf(-500, 100000), 0);
    assert.equal(percentOf(99999, 100000), 99);
    assert.equal(percentOf(100000, 100000), 100);
    assert.equal(percentOf(1, 3), 33);
    assert.equal(percentOf(5, 0), 100);
  });

  test("the day before a review, in the program's time zone", () => {
    assert.equal(dayBefore('2027-12-31T16:00:00Z', 'Asia/Shanghai'), '2027-12-31');
    assert.equal(dayBefore('2028-03-01T05:00:00Z', 'America/New_York'), '2028-02-29');
    assert.equal(dayBefore('2027-01-01T00:00:00Z', 'UTC'), '2026-12-31');
  });
});

describe('tierLabel (the members list and the member header)', () => {
  const tiers = [
    { code: 'green', name: { 'zh-CN': '绿星', en: 'Green' } },
    { code: 'gold', name: { 'zh-CN': '金星', en: 'Gold' } },
  ];
  test('names a tier of the ladder in the viewer language', () => {
    assert.equal(tierLabel('gold', tiers, 'zh-CN'), '金星');
    assert.equal(tierLabel('gold', tiers, 'en'), 'Gold');
  });
  test('falls back to the code without a ladder, or for a code the ladder no longer has', () => {
    assert.equal(tierLabel('gold', undefined, 'en'), 'gold');
    assert.equal(tierLabel('platinum', tiers, 'zh-CN'), 'platinum');
  });
});
