/**
 * Tiers in the web apps, over HTTP against the real server, in Chromium:
 *
 * - a member's order sent through the API crosses the next tier's threshold: the member centre's
 *   tier card, which said how much more to spend, now shows the new tier, and so does the console's
 *   member page (the tier card, with its history row of the upgrade);
 * - an owner overrides a member's tier from the member page (shown as an override, with its
 *   reason) and ends it; a viewer sees the tier card but no override action;
 * - a program without a ladder: the ladder page explains it and creates the sample ladder
 *   (青铜/白银/黄金/钻石, typed in yuan, saved in fen);
 * - the ladder page shows the program's ladder in plain language, in both languages; saving it
 *   unchanged keeps it; a field the API refuses shows its message at that field.
 *
 * The demo program gets its ladder from the demo seed; when it has none (an older seed), the test
 * creates one through PUT tier-ladder.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { expectText, type Harness, LOCALES, missingKeys, OWNER_EMAIL, OWNER_PASSWORD, PHONE, SKIP, screenshot, settle, useHarness } from './harness.ts';
import { memberToken, signInContext } from './session.ts';

const PROGRAM = 'prg_demo';

interface Status {
  tier: { code: string; name: { 'zh-CN': string; en: string } };
  next: { tier: { code: string; name: { 'zh-CN': string; en: string } }; threshold: number; needed: number } | null;
}

const FALLBACK_LADDER = {
  metric: 'spend',
  qualifying_window: { type: 'calendar_year' },
  validity: { type: 'period_and_next' },
  downgrade_policy: 'one_step',
  tiers: [
    { code: 'green', name: { 'zh-CN': '绿星', en: 'Green' }, entry: 0 },
    { code: 'silver', name: { 'zh-CN': '银卡', en: 'Silver' }, entry: 60_000, multiplier: '1.2' },
    { code: 'gold', name: { 'zh-CN': '金卡', en: 'Gold' }, entry: 150_000, multiplier: '1.5' },
  ],
};

async function ensureLadder(h: Harness): Promise<void> {
  const ladder = await h.api('GET', `/v1/programs/${PROGRAM}/tier-ladder`);
  if (ladder.status === 200) return;
  assert.equal(ladder.status, 404, ladder.text);
  const put = await h.api('PUT', `/v1/programs/${PROGRAM}/tier-ladder`, { idem: randomUUID(), body: FALLBACK_LADDER });
  assert.equal(put.status, 201, put.text);
}

async function newMember(h: Harness): Promise<string> {
  const created = await h.api('POST', `/v1/programs/${PROGRAM}/members`, {
    idem: randomUUID(),
    body: { external_id: `tier-browser-${randomUUID()}`, name: '等级测试' },
  });
  assert.equal(created.status, 201, created.text);
  return created.json.id as string;
}

async function statusOf(h: Harness, memberId: string): Promise<Status> {
  const status = await h.api('GET', `/v1/members/${memberId}/tier`);
  assert.equal(status.status, 200, status.text);
  return status.json as Status;
}

async function pay(h: Harness, memberId: string, amount: number): Promise<void> {
  const result = await h.api('POST', '/v1/events', {
    idem: randomUUID(),
    body: {
      id: `tier-browser-${randomUUID()}`,
      type: 'order.paid',
      program_id: PROGRAM,
      member_id: memberId,
      data: { order_id: randomUUID(), amount, currency: 'CNY' },
    },
  });
  assert.equal(result.status, 201, result.text);
}

const yuan = (minor: number, locale: string) =>
  new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: 'CNY',
    currencyDisplay: 'narrowSymbol',
    minimumFractionDigits: 0,
    maximumFractionDigits: 2,
  }).format(minor / 100);

describe('tiers in the console and the member centre', { skip: SKIP }, () => {
  const h = useHarness();
  before(async () => ensureLadder(h));

  for (const locale of LOCALES) {
    test(`an order that crosses the threshold shows the new tier in the member centre and on the console's member page (${locale})`, async () => {
      const memberId = await newMember(h);
      const before = await statusOf(h, memberId);
      assert.ok(before.next, 'a new member is below the top tier');
      const nextName = before.next.tier.name[locale];

      // the member centre: the base tier and how much more to spend
      const token = await memberToken(h, PROGRAM, memberId);
      const phone = await h.open(`/m/#token=${token}`, { locale, viewport: PHONE });
      const card = phone.page.getByTestId('member-tier-card');
      await expectText(card.getByTestId('member-tier-name'), before.tier.name[locale]);
      await expectText(card.getByTestId('member-tier-next'), yuan(before.next.needed, locale));
      await expectText(card.getByTestId('member-tier-next'), nextName);

      // an order of exactly what is needed
      await pay(h, memberId, before.next.needed);
      const after = await statusOf(h, memberId);
      assert.equal(after.tier.code, before.next.tier.code, 'the order upgraded the member at once');

      await phone.page.reload();
      await expectText(phone.page.getByTestId('member-tier-card').getByTestId('member-tier-name'), nextName);
      await screenshot(phone.page, `tiers-member-upgraded-${locale}`);
      // the tier page: the ladder with the current tier, and the upgrade in the history
      await phone.page.getByTestId('member-tier-card').click();
      await phone.page.waitForURL(/\/m\/tier$/);
      await expectText(phone.page.locator('[aria-current="true"]'), nextName);
      await expectText(phone.page.getByTestId('member-tier-history'), nextName);
      await settle(phone.page);
      await screenshot(phone.page, `tiers-member-tier-page-${locale}`);
      assert.deepEqual(await missingKeys(phone.page), []);
      assert.deepEqual(phone.errors, []);

      // the console's member page
      const context = await h.newContext({ locale });
      await signInContext(context, OWNER_EMAIL, OWNER_PASSWORD);
      const desk = await h.open(`/console/${PROGRAM}/members/${memberId}`, { context, locale });
      const tierCard = desk.page.getByTestId('member-tier-card');
      await expectText(tierCard.getByTestId('member-tier-name'), nextName);
      // the header's tag names the tier too (not its code)
      await expectText(desk.page.getByTestId('member-tier-tag'), nextName);
      await expectText(tierCard.getByTestId('member-tier-progress'), after.next ? after.next.tier.name[locale] : nextName);
      await settle(desk.page);
      await screenshot(desk.page, `tiers-console-member-${locale}`);
      assert.deepEqual(await missingKeys(desk.page), []);
      assert.deepEqual(desk.errors, []);
      await context.close();
    });
  }

  test("an owner overrides a member's tier and ends it; a viewer has no override action", async () => {
    const memberId = await newMember(h);
    const before = await statusOf(h, memberId);
    assert.ok(before.next);
    const context = await h.newContext({ locale: 'en' });
    const csrf = await signInContext(context, OWNER_EMAIL, OWNER_PASSWORD);
    const watched = await h.open(`/console/${PROGRAM}/members/${memberId}`, { context, locale: 'en' });
    const { page } = watched;
    const card = page.getByTestId('member-tier-card');
    await expectText(card.getByTestId('member-tier-name'), before.tier.name.en);

    const reason = `key account ${randomUUID().slice(0, 8)}`;
    await card.getByTestId('tier-override-button').click();
    await page.getByTestId('tier-override-reason').fill(reason);
    await page.getByTestId('tier-override-submit').click();
    await expectText(card.getByTestId('member-tier-name'), before.next.tier.name.en);
    await expectText(card.getByTestId('member-tier-override'), reason);
    const overridden = (await statusOf(h, memberId)) as Status & { override: { tier: string; reason: string } | null };
    assert.equal(overridden.tier.code, before.next.tier.code);
    assert.equal(overridden.override?.reason, reason);
    await screenshot(page, 'tiers-console-override-en');

    await card.getByTestId('tier-override-end').click();
    await page.getByTestId('tier-override-end-reason').fill('ended by the browser test');
    await page.getByTestId('tier-override-end-submit').click();
    await expectText(card.getByTestId('member-tier-name'), before.tier.name.en);
    assert.equal(await card.getByTestId('member-tier-override').count(), 0);
    const ended = (await statusOf(h, memberId)) as Status & { override: unknown };
    assert.equal(ended.override, null);
    assert.equal(ended.tier.code, before.tier.code);
    assert.deepEqual(await missingKeys(page), []);
    assert.deepEqual(watched.errors, []);

    // a viewer: the card, no override action
    const created = await context.request.post('/v1/console/users', {
      headers: { 'x-csrf-token': csrf, 'idempotency-key': randomUUID() },
      data: { email: 'tier-viewer@jifen.local', name: 'viewer (tiers test)', roles: [{ program_id: PROGRAM, role: 'viewer' }], password: 'viewer-password-1' },
    });
    assert.equal(created.status(), 201, await created.text());
    const viewerContext = await h.newContext({ locale: 'en' });
    await signInContext(viewerContext, 'tier-viewer@jifen.local', 'viewer-password-1');
    const viewer = await h.open(`/console/${PROGRAM}/members/${memberId}`, { context: viewerContext, locale: 'en' });
    await expectText(viewer.page.getByTestId('member-tier-card').getByTestId('member-tier-name'), before.tier.name.en);
    assert.equal(await viewer.page.getByTestId('tier-override-button').count(), 0);
    assert.deepEqual(viewer.errors, []);
    await viewerContext.close();
    await context.close();
  });

  test('a program without a ladder: the page explains it, and the sample ladder is created in yuan and saved in fen', async () => {
    const program = await h.api('POST', '/v1/programs', { idem: randomUUID(), body: { name: '等级空白测试', time_zone: 'Asia/Shanghai', currency: 'CNY' } });
    assert.equal(program.status, 201, program.text);
    const programId = program.json.id as string;
    const context = await h.newContext({ locale: 'zh-CN' });
    await signInContext(context, OWNER_EMAIL, OWNER_PASSWORD);
    const watched = await h.open(`/console/${programId}/tiers`, { context, locale: 'zh-CN' });
    const { page } = watched;
    // the page asks for the ladder and is told there is none (expected)
    watched.allow(/status of 404 .*\/tier-ladder\)$/);
    await expectText(page.getByTestId('ladder-from-seed'), '青铜/白银/黄金/钻石');
    await screenshot(page, 'tiers-ladder-empty-zh-CN');
    await page.getByTestId('ladder-from-seed').click();
    const summary = page.getByTestId('ladder-summary');
    await expectText(summary, '会员按自然年消费金额评级：满 ¥1,000 升为白银，满 ¥5,000 升为黄金，满 ¥20,000 升为钻石；新会员为青铜。');
    await expectText(summary, '钻石：积分 2 倍。');
    assert.equal(await page.getByTestId('tier-entry-1').inputValue(), '1000');
    await page.getByTestId('ladder-save').click();
    await expectText(page.locator('.ant-message'), '等级体系已创建');
    const saved = await h.api('GET', `/v1/programs/${programId}/tier-ladder`);
    assert.equal(saved.status, 200, saved.text);
    const tiers = saved.json.tiers as { code: string; entry: number; multiplier: string }[];
    assert.deepEqual(
      tiers.map((t) => [t.code, t.entry, t.multiplier]),
      [
        ['bronze', 0, '1'],
        ['silver', 100_000, '1.2'],
        ['gold', 500_000, '1.5'],
        ['diamond', 2_000_000, '2'],
      ],
    );
    assert.deepEqual(await missingKeys(page), []);
    assert.deepEqual(watched.errors, []);
    await context.close();
  });

  test('the ladder page says the ladder in words, saves it unchanged, and shows a refused field at its input', async () => {
    const context = await h.newContext({ locale: 'zh-CN' });
    await signInContext(context, OWNER_EMAIL, OWNER_PASSWORD);
    const watched = await h.open(`/console/${PROGRAM}/tiers`, { context, locale: 'zh-CN' });
    const { page } = watched;
    await expectText(page.getByTestId('ladder-summary'), '会员按');
    await expectText(page.getByTestId('ladder-summary'), '升级立即生效');
    const ladder = (await h.api('GET', `/v1/programs/${PROGRAM}/tier-ladder`)).json as { revision: number };

    await page.getByTestId('ladder-save').click();
    await expectText(page.locator('.ant-message'), '等级体系已保存');
    const saved = (await h.api('GET', `/v1/programs/${PROGRAM}/tier-ladder`)).json as { revision: number; tiers: unknown[] };
    assert.ok(saved.revision >= ladder.revision, 'saved');

    // the second tier's entry below the first's: the API refuses it at /tiers/1/entry (or /tiers)
    watched.allow(/status of 400/);
    await page.getByTestId('tier-entry-1').fill('0');
    await page.getByTestId('ladder-save').click();
    await expectText(page.getByTestId('api-error'), 'VALIDATION_FAILED');
    const fieldError = page.getByTestId('tier-card-1').locator('.ant-form-item-explain-error');
    assert.ok((await fieldError.count()) + (await page.getByTestId('ladder-form').locator('.ant-form-item-explain-error').count()) > 0, 'an error at a field');
    // in the viewer's language: the error's rule (more_than_tier) and its figures, not the API's English
    const said = page.getByTestId('ladder-form').locator('.ant-form-item-explain-error').filter({ hasText: '须高于' });
    await expectText(said.first(), '的门槛');
    assert.equal(await page.getByTestId('ladder-form').locator('.ant-form-item-explain-error').filter({ hasText: 'must be' }).count(), 0);
    await screenshot(page, 'tiers-ladder-refused-zh-CN');
    const unchanged = (await h.api('GET', `/v1/programs/${PROGRAM}/tier-ladder`)).json as { revision: number };
    assert.equal(unchanged.revision, saved.revision, 'a refused ladder changes nothing');
    assert.deepEqual(await missingKeys(page), []);
    assert.deepEqual(watched.errors, []);
    await context.close();
  });
});
