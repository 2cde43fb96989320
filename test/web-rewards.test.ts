/**
 * The console's rewards pages' logic, without a browser (web/console/routes/rewards/model.ts):
 * the reward form's body (yuan typed, fen sent; the window read in the program's time zone;
 * switches that clear what they hide; an update leaves the type and the price out), the form's
 * values from a saved reward and back, where the API's field errors go, the steps an order allows,
 * a prize's chance and a CSV's line count.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import dayjs from 'dayjs';
import {
  actionsOf,
  bodyOf,
  chanceOf,
  type FormProgram,
  fieldOfPath,
  initialValues,
  lineCount,
  type RewardFormValues,
  wallOf,
} from '../web/console/routes/rewards/model.ts';
import type { Prize, Reward } from '../web/console/routes/rewards/types.ts';

const PROGRAM: FormProgram = { currency: 'CNY', time_zone: 'Asia/Shanghai' };

const form = (changes: Partial<RewardFormValues> = {}): RewardFormValues => ({
  type: 'physical',
  name_zh: ' 保温杯 ',
  name_en: 'Thermos',
  image_urls: ['https://img.example.com/a.png', ' '],
  unlimited: true,
  limited: false,
  scheduled: false,
  status: 'draft',
  points_cost: 800,
  ...changes,
});

describe('the reward form', () => {
  test('sends the cash part typed in yuan as fen, rounded to the fen, and none for 0 or empty', () => {
    assert.equal((bodyOf(form({ cash_yuan: 12.5 }), PROGRAM, true) as { cash_part: number }).cash_part, 1250);
    assert.equal((bodyOf(form({ cash_yuan: 19.99 }), PROGRAM, true) as { cash_part: number }).cash_part, 1999);
    assert.equal((bodyOf(form({ cash_yuan: 0 }), PROGRAM, true) as { cash_part: number | null }).cash_part, null);
    assert.equal((bodyOf(form({ cash_yuan: null }), PROGRAM, true) as { cash_part: number | null }).cash_part, null);
    const yen = { ...PROGRAM, currency: 'JPY' };
    assert.equal((bodyOf(form({ cash_yuan: 300 }), yen, true) as { cash_part: number }).cash_part, 300, 'a currency without minor units');
  });

  test('trims names, drops empty image URLs and descriptions, and clears what a switch hides', () => {
    const body = bodyOf(
      form({ unlimited: true, stock: 5, limited: false, per_member: 2, period: 'month', scheduled: false, schedule_days: [1], description_en: '  ' }),
      PROGRAM,
      true,
    );
    assert.deepEqual(body.name, { 'zh-CN': '保温杯', en: 'Thermos' });
    assert.deepEqual(body.image_urls, ['https://img.example.com/a.png']);
    assert.deepEqual(body.description, {});
    assert.equal(body.stock, null);
    assert.equal(body.limit, null);
    assert.equal(body.schedule, null);
    const on = bodyOf(
      form({
        unlimited: false,
        stock: 5,
        limited: true,
        per_member: 2,
        period: 'month',
        scheduled: true,
        schedule_days: [5, 1],
        schedule_from: '10:00',
        schedule_until: '24:00',
      }),
      PROGRAM,
      true,
    );
    assert.deepEqual([on.stock, on.limit, on.schedule], [5, { per_member: 2, period: 'month' }, { days: [5, 1], from: '10:00', until: '24:00' }]);
    assert.equal(bodyOf(form({ type: 'coupon', donation_project: 'school' }), PROGRAM, true).donation_project, null, 'a project only for donations');
    assert.equal(bodyOf(form({ type: 'donation', donation_project: ' school ' }), PROGRAM, true).donation_project, 'school');
  });

  test("reads the window's wall-clock times in the program's time zone, whatever the browser's", () => {
    const body = bodyOf(form({ window: [dayjs('2026-12-24T10:00:00'), null] }), PROGRAM, true);
    assert.equal(body.available_from, '2026-12-24T02:00:00.000Z');
    assert.equal(body.available_until, null);
    assert.equal(wallOf('2026-12-24T02:00:00.000Z', 'Asia/Shanghai')!.format('YYYY-MM-DD HH:mm'), '2026-12-24 10:00');
  });

  test('an update sends neither the type nor the price (a price change does that)', () => {
    const body = bodyOf(form({ cash_yuan: 5 }), PROGRAM, false);
    assert.ok(!('type' in body) && !('points_cost' in body) && !('cash_part' in body), JSON.stringify(body));
    assert.equal(body.status, 'draft');
  });

  test("a saved reward's values give back its own body", () => {
    const reward = {
      type: 'coupon',
      name: { 'zh-CN': '10元券', en: '¥10 coupon' },
      description: { en: 'Ten off' },
      image_urls: ['https://img.example.com/c.png'],
      category: 'coffee',
      points_cost: 1000,
      cash_part: 990,
      stock: 50,
      stock_left: 48,
      limit: { per_member: 1, period: 'day' },
      min_tier: 'gold',
      segment_id: 'seg_x',
      available_from: '2026-12-01T00:00:00.000Z',
      available_until: '2027-01-01T00:00:00.000Z',
      schedule: { days: [6, 7], from: '14:00', until: '16:00' },
      donation_project: null,
      status: 'active',
    } as unknown as Reward;
    const values = initialValues(reward, PROGRAM);
    assert.equal(values.cash_yuan, 9.9);
    const body = bodyOf(values, PROGRAM, true);
    for (const field of [
      'name',
      'description',
      'image_urls',
      'category',
      'stock',
      'limit',
      'min_tier',
      'segment_id',
      'schedule',
      'points_cost',
      'cash_part',
    ] as const) {
      assert.deepEqual(body[field as keyof typeof body], reward[field as keyof Reward], field);
    }
    assert.equal(body.available_from, reward.available_from);
    assert.equal(body.available_until, reward.available_until);
    assert.equal(initialValues(undefined, PROGRAM).status, 'draft', 'a new reward starts as a draft');
  });

  test("puts the API's field errors at their fields", () => {
    assert.equal(fieldOfPath('/name/en'), 'name_en');
    assert.equal(fieldOfPath('/cash_part'), 'cash_yuan');
    assert.equal(fieldOfPath('/limit/period'), 'period');
    assert.equal(fieldOfPath('/limit/per_member'), 'per_member');
    assert.equal(fieldOfPath('/schedule/from'), 'schedule_from');
    assert.equal(fieldOfPath('/image_urls/3'), 'image_urls');
    assert.equal(fieldOfPath('/available_until'), 'window');
    assert.equal(fieldOfPath('/metadata'), undefined);
  });
});

describe('orders, prizes and files', () => {
  test('an order offers the steps its type and status allow', () => {
    assert.deepEqual(actionsOf({ reward_type: 'physical', status: 'confirmed' }), ['ship', 'deliver', 'cancel', 'reject']);
    assert.deepEqual(actionsOf({ reward_type: 'physical', status: 'shipped' }), ['deliver', 'reject']);
    assert.deepEqual(actionsOf({ reward_type: 'service', status: 'confirmed' }), ['deliver', 'cancel', 'reject']);
    assert.deepEqual(actionsOf({ reward_type: 'coupon', status: 'confirmed' }), ['cancel', 'reject']);
    assert.deepEqual(actionsOf({ reward_type: 'physical', status: 'delivered' }), []);
    assert.deepEqual(actionsOf({ reward_type: 'physical', status: 'cancelled' }), []);
    assert.deepEqual(actionsOf({ reward_type: 'lottery', status: 'delivered' }), [], 'a draw cannot be undone');
  });

  test("a prize's chance is its weight among the prizes in stock", () => {
    const prize = (weight: number, stock_left: number | null) => ({ weight, stock_left }) as Prize;
    const [a, b, soldOut] = [prize(30, null), prize(10, 2), prize(60, 0)];
    const table = [a, b, soldOut];
    assert.equal(chanceOf(a, table), 0.75);
    assert.equal(chanceOf(b, table), 0.25);
    assert.equal(chanceOf(soldOut, table), 0);
  });

  test("counts a CSV's lines with LF or CRLF, a last line with or without its newline", () => {
    assert.equal(lineCount(''), 0);
    assert.equal(lineCount('code\nA\nB'), 3);
    assert.equal(lineCount('code\r\nA\r\nB\r\n'), 3);
    assert.equal(lineCount('A\n\nB\n'), 3, 'an empty line in the middle is a line (the import reports it)');
  });
});
