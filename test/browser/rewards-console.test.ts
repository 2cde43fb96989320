/**
 * The console's rewards pages, over HTTP against the real server, in Chromium (what the member
 * helper's flow in rewards.test.ts — a member redeems, the console ships, the member sees it
 * shipped — does not cover):
 *
 * - an owner creates a physical reward in the editor: a cash part typed in yuan is saved in fen,
 *   and a flash-sale hour the API refuses shows the API's message at that field;
 * - a coupon's CSV import shows a progress bar from the import's own counts while the file goes up
 *   (the upload throttled so the server reads it in several chunks), then what came in, the
 *   duplicates (in the file, in the pool) and the invalid lines;
 * - a lottery's prize added in the prize editor changes the chances; its first seed is published,
 *   then rotated: the old seed is revealed and its SHA-256 is the hash published before; a member's
 *   draw links to the public verification;
 * - an order is cancelled after a confirmation that says the points come back, and they do; the
 *   orders filtered by its reward from a link name the reward, and the filter searches every
 *   reward on the server; a viewer sees the order without any action button.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { REPO_ROOT } from '../helpers/server-process.ts';
import { eventually, expectText, type Harness, missingKeys, OWNER_EMAIL, OWNER_PASSWORD, SKIP, screenshot, useHarness } from './harness.ts';
import { memberToken, signInContext } from './session.ts';

const PROGRAM = 'prg_demo';
const EN = JSON.parse(readFileSync(join(REPO_ROOT, 'web', 'console', 'routes', 'rewards', 'locales', 'en.json'), 'utf8'));
const COMMON_EN = JSON.parse(readFileSync(join(REPO_ROOT, 'web', 'shared', 'locales', 'en.json'), 'utf8'));

async function ok(call: ReturnType<Harness['api']>, status = 201) {
  const res = await call;
  assert.equal(res.status, status, res.text);
  return res.json;
}

async function reward(h: Harness, body: Record<string, unknown>) {
  return ok(
    h.api('POST', `/v1/programs/${PROGRAM}/rewards`, {
      idem: randomUUID(),
      body: { name: { 'zh-CN': `测试${randomUUID().slice(0, 6)}`, en: `Test ${randomUUID().slice(0, 6)}` }, status: 'active', points_cost: 10, ...body },
    }),
  );
}

async function fundedMember(h: Harness, points: number): Promise<string> {
  const member = await ok(h.api('POST', `/v1/programs/${PROGRAM}/members`, { idem: randomUUID(), body: { external_id: `rewards-console-${randomUUID()}` } }));
  await ok(h.api('POST', `/v1/members/${member.id}/credits`, { idem: randomUUID(), body: { points, pending_days: 0 } }));
  return member.id as string;
}

const available = async (h: Harness, memberId: string) => (await ok(h.api('GET', `/v1/members/${memberId}/balance`), 200)).available as number;

describe('the console rewards pages', { skip: SKIP }, () => {
  const h = useHarness();

  test('editor, code import with progress, lottery seeds, cancelling an order; a viewer has no actions', async () => {
    const context: BrowserContext = await h.newContext({ locale: 'en' });
    const csrf = await signInContext(context, OWNER_EMAIL, OWNER_PASSWORD);
    const watched = await h.open(`/console/${PROGRAM}/rewards/new`, { context, locale: 'en' });
    const { page } = watched;

    // ── the editor: yuan in, fen out; the API's field error at its field ──
    const name = `Thermos ${randomUUID().slice(0, 6)}`;
    await page.getByTestId('reward-name-zh').fill(`保温杯${name.slice(-6)}`);
    await page.getByTestId('reward-name-en').fill(name);
    await page.getByTestId('reward-points').fill('800');
    await page.getByLabel(EN.fields.cashPart).fill('12.5');
    await page.getByRole('switch', { name: EN.editor.unlimited }).click();
    await page.getByTestId('reward-stock').fill('5');
    await page.getByRole('switch', { name: EN.fields.schedule }).click();
    await page.getByLabel(EN.weekdays['1']).check();
    await page.getByLabel(EN.fields.from).fill('25:00');
    await page.getByLabel(EN.fields.until).fill('23:00');
    // the refusal this provokes on purpose
    watched.allow(/status of 400 .*\/v1\/programs\/prg_demo\/rewards\)$/);
    await page.getByTestId('reward-save').click();
    const fromItem = page.locator('.ant-form-item').filter({ has: page.getByLabel(EN.fields.from) });
    // the API's rule (pattern) in the viewer's words, not the API's English with its regular expression
    await expectText(fromItem.locator('.ant-form-item-explain'), COMMON_EN.fieldRules.pattern);
    assert.ok(page.url().endsWith('/rewards/new'), 'nothing was created');
    await page.getByLabel(EN.fields.from).fill('10:00');
    await page.getByTestId('reward-save').click();
    await page.waitForURL(/\/rewards\/rwd_/);
    const rewardId = new URL(page.url()).pathname.split('/').pop()!;
    const saved = await ok(h.api('GET', `/v1/rewards/${rewardId}`), 200);
    assert.deepEqual([saved.cash_part, saved.stock, saved.points_cost, saved.status], [1250, 5, 800, 'draft']);
    assert.deepEqual(saved.schedule, { days: [1], from: '10:00', until: '23:00' });
    await expectText(page.locator('h1'), name);

    // ── a coupon's CSV import: the progress bar, then duplicates and invalid lines ──
    const coupon = await reward(h, { type: 'coupon' });
    await ok(h.api('POST', `/v1/rewards/${coupon.id}/codes/generate`, { idem: randomUUID(), body: { count: 5, prefix: 'POOL-' } }));
    const pooled = (await ok(h.api('GET', `/v1/rewards/${coupon.id}/codes`), 200)).data.map((c: { code: string }) => c.code) as string[];
    const fresh = Array.from({ length: 6000 }, (_, i) => `BROWSER-${String(i).padStart(5, '0')}-${'X'.repeat(20)}`);
    const lines = ['code', ...fresh, ...fresh.slice(0, 50), ...pooled, 'not a code!', 'also bad?'];
    await page.goto(`/console/${PROGRAM}/rewards/${coupon.id}?tab=codes`);
    await page.getByTestId('import-codes').waitFor();
    // slow the upload (about 40 KB/s) so the server reads and commits it 1,000 lines at a time while the page polls
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 40_000 });
    await page.locator('input[type=file]').setInputFiles({ name: 'codes.csv', mimeType: 'text/csv', buffer: Buffer.from(`${lines.join('\r\n')}\r\n`) });
    const progress = page.getByTestId('import-progress');
    await progress.waitFor();
    // the bar moves from the import's own counts before the upload ends
    await eventually(async () => {
      const value = Number(await progress.locator('[role=progressbar]').getAttribute('aria-valuenow'));
      assert.ok(value > 0 && value < 100, `progress ${value}`);
    }, 30_000);
    await screenshot(page, 'console-rewards-import-progress-en');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await expectText(page.getByTestId('import-result'), '6,000 codes added; 50 repeated in the file, 5 already in the pool; 2 invalid lines.', 60_000);
    await expectText(page.getByTestId('import-duplicates'), fresh[0]!);
    await expectText(page.getByTestId('pool-free'), '6,005');
    assert.deepEqual(await missingKeys(page), []);

    // ── a lottery: publish a seed, a member draws, rotate: the old seed is revealed ──
    const lottery = await reward(h, { type: 'lottery' });
    await ok(
      h.api('POST', `/v1/rewards/${lottery.id}/lottery-prizes`, {
        idem: randomUUID(),
        body: { code: 'p5', name: { 'zh-CN': '5积分', en: '5 points' }, weight: 1, points: 5 },
      }),
    );
    await page.goto(`/console/${PROGRAM}/rewards/${lottery.id}?tab=lottery`);
    await expectText(page.getByTestId('prizes-table'), '100%');
    // a second prize through the editor: the chances follow the weights
    await page.getByTestId('prize-add').click();
    const prizeModal = page.locator('.ant-modal');
    await prizeModal.getByLabel(EN.lottery.prizeCode).fill('thanks');
    await prizeModal.getByLabel(EN.fields.nameZh).fill('谢谢参与');
    await prizeModal.getByLabel(EN.fields.nameEn).fill('Thank you');
    await prizeModal.getByLabel(EN.lottery.weight).fill('3');
    await prizeModal.getByRole('button', { name: 'Save' }).click();
    await expectText(page.getByTestId('prizes-table'), 'Thank you');
    await expectText(page.getByTestId('prizes-table'), '25%');
    await expectText(page.getByTestId('prizes-table'), '75%');
    await page.getByTestId('seed-rotate').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'OK' }).click();
    await expectText(page.getByTestId('seeds-table'), EN.lottery.seedActive);
    const published = (await ok(h.api('GET', `/v1/rewards/${lottery.id}/lottery-seeds`), 200)).data[0].seed_hash as string;
    await expectText(page.getByTestId('seeds-table'), published);
    const drawer = await fundedMember(h, 100);
    const draw = await ok(
      h.api('POST', '/v1/me/lottery-draws', {
        key: null,
        headers: { authorization: `Bearer ${await memberToken(h, PROGRAM, drawer)}` },
        idem: randomUUID(),
        body: { reward_id: lottery.id },
      }),
    );
    await page.getByTestId('seed-rotate').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'OK' }).click();
    const revealed = (await page.getByTestId('seed-revealed').first().textContent())!.trim();
    assert.equal(createHash('sha256').update(revealed).digest('hex'), published, 'the revealed seed hashes to the hash published before');
    await expectText(page.getByTestId('draws-table'), draw.prize.name.en);
    // who drew, by the external id (an operator reads a person, not a member id)
    await expectText(page.getByTestId('draws-table'), 'rewards-console-');
    assert.equal(await page.getByTestId('draw-verify').first().getAttribute('href'), draw.verify_path);
    await screenshot(page, 'console-rewards-lottery-en');
    assert.deepEqual(await missingKeys(page), []);

    // ── an order: cancelled after the confirmation; the points come back ──
    const mug = await reward(h, { type: 'physical', points_cost: 300, stock: 3 });
    const member = await fundedMember(h, 1000);
    const order = await ok(h.api('POST', `/v1/members/${member}/redemptions`, { idem: randomUUID(), body: { reward_id: mug.id } }));
    assert.equal(await available(h, member), 700);
    await page.goto(`/console/${PROGRAM}/redemptions/${order.id}`);
    const orderDrawer = page.getByTestId('order-drawer');
    await expectText(orderDrawer.getByTestId('order-status'), EN.orderStatus.toShip);
    await expectText(orderDrawer.getByTestId('order-member'), 'rewards-console-');
    await orderDrawer.getByTestId('cancel-order').click();
    await expectText(page.locator('.ant-modal'), 'gets 300 points back');
    await page.getByTestId('cancel-submit').click();
    await expectText(orderDrawer.getByTestId('order-status'), EN.orderStatus.cancelled);
    await expectText(orderDrawer.getByTestId('order-history'), EN.historyTypes['redemption.cancelled']);
    await screenshot(page, 'console-rewards-order-cancelled-en');
    assert.equal(await available(h, member), 1000);
    assert.equal((await ok(h.api('GET', `/v1/rewards/${mug.id}`), 200)).stock_left, 3);
    assert.deepEqual(await missingKeys(page), []);

    // ── the orders filtered by that reward from a link: the filter names it (fetched by id), and typing searches every reward on the server ──
    await page.goto(`/console/${PROGRAM}/redemptions?reward=${mug.id}`);
    const rewardFilter = page.getByTestId('order-reward-filter');
    await expectText(rewardFilter, mug.name.en);
    await expectText(page.getByTestId('orders-table'), EN.orderStatus.cancelled);
    const other = await reward(h, { type: 'physical', points_cost: 20 });
    await rewardFilter.click();
    await page.keyboard.type(other.name.en.slice('Test '.length));
    const dropdown = page.locator('.ant-select-dropdown:visible');
    await expectText(dropdown, other.name.en);
    // the chosen reward stays first; the rest are the rewards whose name matches, not the first page of the catalogue
    await eventually(async () => assert.deepEqual(await dropdown.locator('.ant-select-item-option').allTextContents(), [mug.name.en, other.name.en]));
    await dropdown.locator('.ant-select-item-option').nth(1).click();
    await eventually(async () => assert.equal(new URL(page.url()).searchParams.get('reward'), other.id));
    await expectText(page.getByTestId('orders-table'), EN.orders.emptyFiltered);
    assert.deepEqual(watched.errors, []);

    // ── a viewer: the order, no action ──
    const confirmed = await ok(h.api('POST', `/v1/members/${member}/redemptions`, { idem: randomUUID(), body: { reward_id: mug.id } }));
    const created = await context.request.post('/v1/console/users', {
      headers: { 'x-csrf-token': csrf, 'idempotency-key': randomUUID() },
      data: {
        email: 'rewards-viewer@jifen.local',
        name: 'viewer (rewards test)',
        roles: [{ program_id: PROGRAM, role: 'viewer' }],
        password: 'viewer-password-1',
      },
    });
    assert.equal(created.status(), 201, await created.text());
    const viewerContext = await h.newContext({ locale: 'en' });
    await signInContext(viewerContext, 'rewards-viewer@jifen.local', 'viewer-password-1');
    const viewer = await h.open(`/console/${PROGRAM}/redemptions/${confirmed.id}`, { context: viewerContext, locale: 'en' });
    await expectText(viewer.page.getByTestId('order-drawer').getByTestId('order-status'), EN.orderStatus.toShip);
    for (const action of ['ship-order', 'deliver-order', 'cancel-order', 'reject-order']) {
      assert.equal(await viewer.page.getByTestId(action).count(), 0, `a viewer sees no ${action}`);
    }
    await viewer.page.goto(`/console/${PROGRAM}/rewards/${mug.id}`);
    await expectText(viewer.page.locator('h1'), mug.name.en);
    assert.equal(await viewer.page.getByTestId('reward-save').count(), 0);
    assert.equal(await viewer.page.getByTestId('reward-archive').count(), 0);
    assert.deepEqual(viewer.errors, []);
    await viewerContext.close();
    await context.close();
  });
});
