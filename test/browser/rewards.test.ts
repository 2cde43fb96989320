/**
 * Rewards in the web apps, over HTTP against the real server (PGlite), in Chromium:
 *
 * - a member redeems a physical reward (积分+现金) in two taps — one opens the confirm sheet, one
 *   confirms — and the balance drops by its points; a double tap on a coupon's confirm gives one
 *   redemption, and the done screen shows its code;
 * - the console ships the order (its order drawer: carrier and tracking number);
 * - the member's "my redemptions" shows it shipped, with the tracking number;
 * - a lottery draw shows its prize and links to its verification, which verifies once the seed is revealed.
 *
 * The rewards and the member are made for the test through the API (the admin key), as a
 * merchant's backend would, so the demo's own redemptions do not matter.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Locator } from 'playwright-core';
import { expectCount, expectText, type Harness, missingKeys, OWNER_EMAIL, OWNER_PASSWORD, PHONE, SKIP, screenshot, useHarness } from './harness.ts';
import { memberToken, signInContext } from './session.ts';

const PROGRAM = 'prg_demo';

async function created(h: Harness, path: string, body: unknown): Promise<{ id: string } & Record<string, unknown>> {
  const res = await h.api('POST', path, { idem: randomUUID(), body });
  assert.equal(res.status, 201, res.text);
  return res.json as { id: string };
}

async function availableOf(h: Harness, memberId: string): Promise<number> {
  const balance = await h.api('GET', `/v1/members/${memberId}/balance`);
  assert.equal(balance.status, 200, balance.text);
  return balance.json.available as number;
}

async function redemptionsOf(h: Harness, memberId: string): Promise<{ id: string; reward_id: string; status: string; codes: string[] }[]> {
  const list = await h.api('GET', `/v1/members/${memberId}/redemptions`);
  assert.equal(list.status, 200, list.text);
  return list.json.data;
}

describe('rewards in the member centre and the console', { skip: SKIP }, () => {
  const h = useHarness();

  test('a member redeems in two taps, the console ships the order, and the member sees it shipped with its tracking number', async () => {
    const tag = randomUUID().slice(0, 8);
    const member = await created(h, `/v1/programs/${PROGRAM}/members`, { external_id: `rewards-browser-${tag}`, name: '兑换测试', phone: '+8613800138000' });
    await created(h, `/v1/members/${member.id}/credits`, { points: 5000, reason: 'browser test', pending_days: 0 });
    const physical = await created(h, `/v1/programs/${PROGRAM}/rewards`, {
      type: 'physical',
      name: { 'zh-CN': `测试保温杯 ${tag}`, en: `Test tumbler ${tag}` },
      points_cost: 500,
      cash_part: 990,
      stock: 5,
      status: 'active',
    });
    const coupon = await created(h, `/v1/programs/${PROGRAM}/rewards`, {
      type: 'coupon',
      name: { 'zh-CN': `测试满减券 ${tag}`, en: `Test coupon ${tag}` },
      points_cost: 300,
      status: 'active',
    });
    await created(h, `/v1/rewards/${coupon.id}/codes/generate`, { count: 3, prefix: 'BT-', length: 8 });
    const before = await availableOf(h, member.id);
    assert.equal(before, 5000);

    const token = await memberToken(h, PROGRAM, member.id);

    // the lottery before the member has any address: it says what to do before the draw button
    // works, and the client seed, empty until the first draw, is not shown as a mistake
    const first = await h.open(`/m/lottery#token=${token}`, { locale: 'zh-CN', viewport: PHONE });
    const firstLottery = first.page.getByTestId('lottery').first();
    await expectText(firstLottery.getByTestId('lottery-state'), '填写收货地址后即可抽奖');
    assert.equal(await firstLottery.getByTestId('lottery-draw').isDisabled(), true);
    for (const [field, value] of [
      ['name', '测试会员'],
      ['phone', '+8613800000000'],
      ['address', '上海市静安区南京西路 1266 号'],
    ])
      await firstLottery.getByTestId(`lottery-shipping-${field}`).locator('input').fill(value!);
    await expectText(firstLottery.getByTestId('lottery-state'), '可兑换');
    assert.equal(await firstLottery.getByTestId('lottery-draw').isDisabled(), false);
    const seedForm = first.page.locator('form.m-seed');
    await expectText(seedForm, '修改后对之后的抽奖生效');
    assert.equal(await first.page.getByTestId('client-seed').locator('input').getAttribute('placeholder'), '首次抽奖时随机生成');
    await screenshot(first.page, 'rewards-member-lottery-address-zh-CN');
    assert.deepEqual(first.errors, []);
    await first.page.context().close();

    const phone = await h.open(`/m/rewards#token=${token}`, { locale: 'zh-CN', viewport: PHONE });
    const { page } = phone;
    let taps = 0;
    const tap = async (locator: Locator) => {
      taps++;
      await locator.click();
    };

    // the catalogue: the reward with its state and its points+cash price
    const card = page.locator(`[data-testid="reward-card"][data-reward-id="${physical.id}"]`);
    await expectText(card.getByTestId('reward-state'), '可兑换');
    await expectText(card.getByTestId('reward-price'), '500 积分 + ¥9.90');
    await expectText(page.getByTestId('rewards-available'), '5,000');

    // tap 1: the confirm sheet, with the price and the balance after it; the address is typed, not tapped
    await tap(card.getByTestId('reward-redeem'));
    const sheet = page.getByTestId('redeem-sheet');
    await expectText(sheet.getByTestId('redeem-sheet-price'), '500 积分 + ¥9.90');
    await expectText(sheet.getByTestId('redeem-sheet-after'), '4,500');
    await sheet.getByTestId('shipping-address').locator('input').fill('上海市静安区南京西路 1266 号');
    // tap 2: confirm
    await tap(sheet.getByTestId('redeem-confirm'));
    const done = page.getByTestId('redeem-done');
    await expectText(done, '兑换成功');
    await expectText(done.getByTestId('redeem-balance'), '4,500');
    assert.equal(taps, 2, 'two taps: open, confirm');
    assert.equal(await availableOf(h, member.id), before - 500);
    const order = (await redemptionsOf(h, member.id)).find((r) => r.reward_id === physical.id);
    assert.ok(order, 'the order exists');
    assert.equal(order.status, 'confirmed');
    await expectText(done.getByTestId('redeem-order'), order.id);
    await page.getByTestId('redeem-close').click();

    // a coupon, confirmed with a double tap: one redemption, its code on the done screen
    await page.locator(`[data-testid="reward-card"][data-reward-id="${coupon.id}"]`).getByTestId('reward-redeem').click();
    await page.getByTestId('redeem-sheet').getByTestId('redeem-confirm').dblclick();
    const code = page.getByTestId('redeem-done').getByTestId('redeem-code');
    await expectText(code, 'BT-');
    const coupons = (await redemptionsOf(h, member.id)).filter((r) => r.reward_id === coupon.id);
    assert.equal(coupons.length, 1, 'a double tap is one redemption');
    assert.equal(await code.textContent(), coupons[0]!.codes[0]);
    assert.equal(await availableOf(h, member.id), before - 800);
    await screenshot(page, 'rewards-member-coupon-done-zh-CN');

    // my redemptions: the order waits to be shipped
    await page.getByTestId('redeem-done').getByRole('button', { name: '查看我的兑换' }).click();
    await page.waitForURL(/\/m\/redemptions$/);
    const item = page.locator(`[data-testid="redemption-item"][data-redemption-id="${order.id}"]`);
    await expectText(item.getByTestId('redemption-status'), '待发货');
    await expectText(page.locator(`[data-testid="redemption-item"][data-redemption-id="${coupons[0]!.id}"]`), coupons[0]!.codes[0]!);

    // the console ships it from the order's drawer
    const context = await h.newContext();
    await signInContext(context, OWNER_EMAIL, OWNER_PASSWORD);
    const consolePage = await h.open(`/console/${PROGRAM}/redemptions/${order.id}`, { context });
    const tracking = `SF${Date.now()}`;
    await consolePage.page.getByTestId('ship-order').click();
    await consolePage.page.getByTestId('carrier').fill('顺丰速运');
    await consolePage.page.getByTestId('tracking-number').fill(tracking);
    await consolePage.page.getByTestId('ship-submit').click();
    await expectText(consolePage.page.getByTestId('order-drawer'), tracking);
    const shipped = await h.api('GET', `/v1/redemptions/${order.id}`);
    assert.equal(shipped.json.status, 'shipped', shipped.text);
    assert.deepEqual(consolePage.errors, []);
    await context.close();

    // the member's list, reloaded: shipped, with the carrier and the tracking number
    await page.reload();
    await expectText(item.getByTestId('redemption-status'), '已发货');
    await expectText(item.getByTestId('redemption-tracking'), tracking);
    await expectText(item.getByTestId('redemption-carrier'), '顺丰速运');
    await screenshot(page, 'rewards-member-shipped-zh-CN');

    // the lottery (the demo's): a draw costs its points, shows the prize and links to its verification,
    // which waits for the seed until a rotation reveals it, and then verifies
    await page.getByRole('link', { name: '兑换', exact: true }).click();
    await page.getByTestId('to-lottery').click();
    const lottery = page.getByTestId('lottery').first();
    const lotteryId = await lottery.getAttribute('data-reward-id');
    const price = (await h.api('GET', `/v1/rewards/${lotteryId}`)).json.points_cost as number;
    // the prize table with the odds the draw uses, as the API gives them
    const table = await h.api('GET', `/v1/rewards/${lotteryId}/lottery-prizes`);
    assert.equal(table.status, 200, table.text);
    await lottery.getByTestId('lottery-prizes').locator('summary').click();
    await expectCount(lottery.getByTestId('lottery-prize-row'), (table.json.data as unknown[]).length);
    await lottery.getByTestId('lottery-draw').click();
    await lottery.getByTestId('lottery-prize').waitFor();
    const draws = await h.api('GET', `/v1/rewards/${lotteryId}/lottery-draws`);
    const drawn = (draws.json.data as { member_id: string; prize: { name: { 'zh-CN': string }; points: number | null } }[]).filter(
      (d) => d.member_id === member.id,
    );
    assert.equal(drawn.length, 1, draws.text);
    await expectText(lottery.getByTestId('lottery-prize'), drawn[0]!.prize.name['zh-CN']);
    await screenshot(page, 'rewards-member-lottery-zh-CN');
    assert.equal(
      await availableOf(h, member.id),
      before - 800 - price + (drawn[0]!.prize.points ?? 0),
      'the draw cost its price (a points prize gives some back)',
    );
    await lottery.getByTestId('lottery-verify-link').click();
    await page.waitForURL(/\/m\/lottery\/draws\/ldr_/);
    const verdict = page.getByTestId('verification');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-verdict'), 'pending');
    const rotated = await h.api('POST', `/v1/rewards/${lotteryId}/lottery-seeds`, { idem: randomUUID(), body: {} });
    assert.equal(rotated.status, 201, rotated.text);
    await page.reload();
    await expectText(page.getByTestId('verification'), '验证通过');
    assert.equal(await page.getByTestId('verification').getAttribute('data-verdict'), 'ok');

    assert.deepEqual(await missingKeys(page), []);
    assert.deepEqual(phone.errors, []);
  });
});
