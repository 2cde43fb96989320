/**
 * What people do with the web apps, over HTTP against the real server, in Chromium:
 *
 * - an operator signs in, finds a member, adjusts their points with a reason; the member centre
 *   then shows the new balance and the explanation;
 * - a viewer sees no adjust button, and the API refuses the adjustment anyway (403) when the page
 *   sends it with the viewer's cookie and CSRF token; the balance is unchanged;
 * - a rule edited in the console with the condition builder awards the right points to a new event;
 * - a segment made with the condition builder shows its live count, and its page links to its members.
 *
 * Users are created the way an owner does it (POST /v1/console/users with the owner's session);
 * member tokens and events come from the admin key, as a merchant's backend sends them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import {
  expectCount,
  expectText,
  expectValue,
  type Harness,
  type Locale,
  missingKeys,
  OWNER_EMAIL,
  OWNER_PASSWORD,
  PHONE,
  SKIP,
  SKIP_POSTGRES,
  screenshot,
  settle,
  useHarness,
} from './harness.ts';
import { memberToken, signIn, signInContext } from './session.ts';

const PROGRAM = 'prg_demo';

interface DemoMember {
  id: string;
  external_id: string;
  name: string | null;
}

interface Owner {
  context: BrowserContext;
  csrf: string;
}

/** The owner signed in (through the API, into a context of their own), and the demo's first members. */
async function signInOwner(h: Harness): Promise<{ owner: Owner; members: DemoMember[] }> {
  const context = await h.newContext();
  const owner = { context, csrf: await signInContext(context, OWNER_EMAIL, OWNER_PASSWORD) };
  const list = await h.api('GET', `/v1/programs/${PROGRAM}/members?limit=50`);
  assert.equal(list.status, 200, list.text);
  const members = list.json.data as DemoMember[];
  assert.ok(members.length >= 3, 'the demo has members');
  return { owner, members };
}

/** Creates a console user as the owner does, with one role in the demo program. */
async function createUser(owner: Owner, email: string, role: string, password: string): Promise<void> {
  const response = await owner.context.request.post('/v1/console/users', {
    headers: { 'x-csrf-token': owner.csrf, 'idempotency-key': randomUUID() },
    data: { email, name: `${role} (browser test)`, roles: [{ program_id: PROGRAM, role }], password },
  });
  assert.equal(response.status(), 201, await response.text());
}

async function availableOf(h: Harness, memberId: string): Promise<number> {
  const balance = await h.api('GET', `/v1/members/${memberId}/balance`);
  assert.equal(balance.status, 200, balance.text);
  return balance.json.available as number;
}

/**
 * An operator signs in on the sign-in page, finds the member by their external id, adjusts their
 * points with a note; the console and the API show the new balance, and so does the member
 * centre, with the note as the entry's explanation.
 */
async function operatorAdjusts(h: Harness, owner: Owner, member: DemoMember, locale: Locale) {
  const password = 'operator-password-1';
  await createUser(owner, 'operator@jifen.local', 'operator', password);
  const start = await availableOf(h, member.id);
  const note = `门店补偿：咖啡洒了 ${randomUUID().slice(0, 8)}`;

  const watched = await h.open('/console/', { locale });
  const { page } = watched;
  await page.waitForURL(/\/console\/sign-in/);
  await signIn(page, 'operator@jifen.local', password);

  await page.goto(`/console/${PROGRAM}/members`);
  await page.getByTestId('member-search').locator('input').fill(member.external_id);
  await page.getByTestId('member-search').locator('input').press('Enter');
  const table = page.getByTestId('members-table');
  await expectCount(table.locator('tbody tr:not(.ant-table-measure-row)'), 1);
  await table.getByRole('link').first().click();
  await page.waitForURL(new RegExp(`/console/${PROGRAM}/members/${member.id}$`));
  await settle(page);
  await expectText(page.getByTestId('balance-available'), start.toLocaleString(locale));

  await page.getByTestId('adjust-button').click();
  await page.getByTestId('adjust-points').fill('1234');
  await page.getByTestId('adjust-note').fill(note);
  await page.getByTestId('adjust-submit').click();
  const expected = start + 1234;
  await expectText(page.getByTestId('balance-available'), expected.toLocaleString(locale));
  await screenshot(page, `flow-console-member-adjusted-${h.label}-${locale}`);
  assert.equal(await availableOf(h, member.id), expected);
  assert.deepEqual(watched.errors, []);

  // the member opens the member centre from the merchant's app
  const token = await memberToken(h, PROGRAM, member.id);
  const phone = await h.open(`/m/#token=${token}`, { locale, viewport: PHONE });
  await expectText(phone.page.getByTestId('balance-available'), expected.toLocaleString(locale));
  await phone.page.goto('/m/history');
  const latest = phone.page.getByTestId('history-item').first();
  await expectText(latest, note);
  await expectText(latest, `+${(1234).toLocaleString(locale)}`);
  await screenshot(phone.page, `flow-member-history-adjusted-${h.label}-${locale}`);
  assert.deepEqual(phone.errors, []);
  await watched.context.close();
  await phone.context.close();
}

describe('people using the console and the member centre', { skip: SKIP }, () => {
  const h = useHarness();
  let owner: Owner;
  let members: DemoMember[] = [];

  const available = (memberId: string) => availableOf(h, memberId);

  before(async () => {
    ({ owner, members } = await signInOwner(h));
  });

  test('an operator finds a member and adjusts their points; the member centre shows the new balance and why', async () => {
    await operatorAdjusts(h, owner, members[0]!, 'zh-CN');
  });

  test('a viewer has no adjust button, and the API refuses the adjustment the page sends anyway', async () => {
    const member = members[1]!;
    const password = 'viewer-password-12';
    await createUser(owner, 'viewer@jifen.local', 'viewer', password);
    const start = await available(member.id);

    const watched = await h.open('/console/sign-in', { locale: 'en' });
    const { page } = watched;
    await signIn(page, 'viewer@jifen.local', password);
    await page.goto(`/console/${PROGRAM}/members/${member.id}`);
    await settle(page);
    await expectCount(page.locator('h1:visible'), 1);
    await expectText(page.getByTestId('balance-available'), start.toLocaleString('en'));
    await expectCount(page.getByTestId('adjust-button'), 0);

    // what a viewer could still try: the request the adjust form would send, from the page itself
    watched.allow(/status of 403/);
    const refused = (await page.evaluate(`(async () => {
      const session = await (await fetch('/v1/console/session')).json();
      const response = await fetch('/v1/members/${member.id}/adjustments', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token, 'idempotency-key': crypto.randomUUID() },
        body: JSON.stringify({ points: 500, reason_code: 'goodwill', reason: 'a viewer trying' }),
      });
      return { status: response.status, body: await response.json() };
    })()`)) as { status: number; body: { code: string } };
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(await available(member.id), start);
    assert.deepEqual(watched.errors, []);
    await watched.context.close();
  });

  test('switching the language in the console and in the member centre re-renders in English and is remembered', async () => {
    // the owner's context chose no language: zh-CN, the default
    const page = await owner.context.newPage();
    const watched = h.watch(page);
    await page.goto(`/console/${PROGRAM}/members`);
    await settle(page);
    await expectText(page.locator('h1:visible'), '会员');
    await page.getByRole('combobox', { name: '语言' }).click();
    await page.locator('.ant-select-item-option[title="English"]').click();
    await expectText(page.locator('h1:visible'), 'Members');
    assert.equal(await page.evaluate('document.documentElement.lang'), 'en');
    await page.reload();
    await settle(page);
    await expectText(page.locator('h1:visible'), 'Members');
    await expectText(page.getByRole('navigation'), 'Earning rules');
    assert.deepEqual(await missingKeys(page), []);
    assert.deepEqual(watched.errors, []);
    await page.close();

    const phone = await h.open(`/m/me#token=${await memberToken(h, PROGRAM, members[0]!.id)}`, { viewport: PHONE });
    await settle(phone.page);
    await expectText(phone.page.locator('body'), '首页');
    await phone.page.getByTestId('language-switch').getByRole('button', { name: 'English' }).click();
    await expectText(phone.page.locator('body'), 'Home');
    await phone.page.reload();
    await settle(phone.page);
    await expectText(phone.page.locator('body'), 'Home');
    assert.equal(await phone.page.evaluate('document.documentElement.lang'), 'en');
    assert.deepEqual(await missingKeys(phone.page), []);
    assert.deepEqual(phone.errors, []);
    await phone.context.close();
  });

  test('a rule edited with the condition builder awards the right points to a new event', async () => {
    const created = await h.api('POST', `/v1/programs/${PROGRAM}/rules`, {
      idem: randomUUID(),
      body: { definition: { name: 'Big order bonus (browser test)', triggers: ['order.paid'], effect: { type: 'fixed', points: 10 } } },
    });
    assert.equal(created.status, 201, created.text);
    const ruleId = created.json.id as string;

    const page = await owner.context.newPage();
    const watched = h.watch(page);
    await page.goto(`/console/${PROGRAM}/rules/${ruleId}`);
    await settle(page);
    const builder = page.getByTestId('condition-builder');
    await builder.getByTestId('condition-add').click();
    // a new row reads the order amount, at least …
    await expectValue(builder.getByTestId('condition-field'), 'event.data.amount');
    await builder.getByTestId('condition-value').fill('300');
    await page.locator('#effect_points').fill('30');
    const saved = page.waitForResponse((r) => r.url().endsWith(`/v1/rules/${ruleId}/versions`) && r.request().method() === 'POST');
    await page.getByTestId('rule-save').click();
    const response = await saved;
    assert.equal(response.status(), 201, await response.text());
    await screenshot(page, 'flow-console-rule-edited-zh-CN');

    const rule = await h.api('GET', `/v1/rules/${ruleId}`);
    assert.equal(rule.status, 200, rule.text);
    const definition = rule.json.versions[0].definition;
    assert.equal(definition.effect.points, 30, JSON.stringify(definition));
    const threshold = JSON.stringify(definition.condition).match(/"event\.data\.amount"\}?,(\d+)/)?.[1];
    assert.ok(
      threshold === '300' || threshold === '30000',
      `the condition compares the amount with 300 (or ¥300 in fen): ${JSON.stringify(definition.condition)}`,
    );

    const member = members[2]!;
    const send = async (amount: number) => {
      const result = await h.api('POST', '/v1/events', {
        idem: randomUUID(),
        body: {
          id: `browser-${randomUUID()}`,
          type: 'order.paid',
          program_id: PROGRAM,
          member_id: member.id,
          data: { order_id: randomUUID(), amount, currency: 'CNY' },
        },
      });
      assert.equal(result.status, 201, result.text);
      return (result.json.awards as { rule_id: string; points: number }[]).filter((a) => a.rule_id === ruleId);
    };
    const big = await send(50_000);
    assert.deepEqual(
      big.map((a) => a.points),
      [30],
      'an order of ¥500 meets the condition: 30 points',
    );
    const small = await send(100);
    assert.deepEqual(small, [], 'an order of ¥1 does not');
    assert.deepEqual(watched.errors, []);
    await page.close();
  });

  test('a segment made with the condition builder shows its live count, saves with its members, and links to them', async () => {
    // the builder's first row reads days since last activity (≥): members active at least 0 days ago, i.e. ever
    const condition = { '>=': [{ var: 'stats.days_since_last_activity' }, 0] };
    const expected = await h.api('POST', `/v1/programs/${PROGRAM}/segments/preview`, { body: { condition } });
    assert.equal(expected.status, 200, expected.text);
    const count = expected.json.member_count as number;
    assert.ok(count > 0, expected.text);

    const page = await owner.context.newPage();
    const watched = h.watch(page);
    await page.goto(`/console/${PROGRAM}/segments/new`);
    await settle(page);
    await page.getByTestId('segment-name-zh').fill('活跃会员（浏览器测试）');
    await page.getByTestId('segment-name-en').fill('Active (browser test)');
    const builder = page.getByTestId('condition-builder');
    await builder.getByTestId('condition-add').click();
    await expectValue(builder.getByTestId('condition-field'), 'stats.days_since_last_activity');
    await builder.getByTestId('condition-value').fill('0');
    await expectText(page.getByTestId('segment-preview-count'), String(count), 10_000);
    const saved = page.waitForResponse((r) => r.url().endsWith(`/v1/programs/${PROGRAM}/segments`) && r.request().method() === 'POST');
    await page.getByTestId('segment-save').click();
    const response = await saved;
    assert.equal(response.status(), 201, await response.text());
    const segment = await response.json();
    assert.deepEqual(segment.condition, condition);
    assert.equal(segment.member_count, count);

    // the segment's page: its count, and members linking to their pages
    await page.waitForURL(`**/segments/${segment.id}`);
    await expectText(page.getByTestId('segment-member-count'), count.toLocaleString('zh-CN'));
    const first = page.getByTestId('segment-members-table').locator('tbody a').first();
    await first.click();
    await page.waitForURL(`**/${PROGRAM}/members/mbr_*`);
    // the tag is in the viewer's language, which the language test before may have left in English
    await expectCount(page.getByTestId('member-segments').getByText(/^(活跃会员（浏览器测试）|Active \(browser test\))$/), 1);
    await screenshot(page, 'flow-console-segment-member-zh-CN');
    assert.deepEqual(watched.errors, []);
    await page.close();
  });

  test('points at checkout switched on in the settings: the policy the API then answers, and a quote that uses it', async () => {
    const page = await owner.context.newPage();
    const watched = h.watch(page);
    await page.goto(`/console/${PROGRAM}/settings`);
    const card = page.getByTestId('checkout-policy');
    await card.waitFor();
    await settle(page);
    const enabled = card.getByTestId('checkout-enabled');
    if ((await enabled.getAttribute('aria-checked')) !== 'true') await enabled.click();
    await card.getByLabel(/最多抵扣订单金额的|At most this share of the order/).fill('30');
    await card.getByLabel(/每单最多使用|At most, per order/).fill('2000');
    const saved = page.waitForResponse((r) => r.url().endsWith(`/v1/programs/${PROGRAM}/checkout-policy`) && r.request().method() === 'PUT');
    await card.getByTestId('checkout-save').click();
    const response = await saved;
    assert.equal(response.status(), 200, await response.text());
    // the example says what an order of ¥100 may take at the demo's rate: 30% of ¥100 is ¥30, capped at 2,000 points
    const rate = (await h.api('GET', `/v1/programs/${PROGRAM}`)).json.redemption_rate as number;
    const points = Math.min(2000, Math.floor((3000 * rate) / 100));
    await expectText(card.getByTestId('checkout-example'), points.toLocaleString('zh-CN'));
    const policy = await h.api('GET', `/v1/programs/${PROGRAM}/checkout-policy`);
    assert.deepEqual([policy.json.enabled, policy.json.max_share_bps, policy.json.max_points_per_order], [true, 3000, 2000]);
    const quote = await h.api('GET', `/v1/members/${members[0]!.id}/checkout-quote?amount=10000`);
    assert.equal(quote.status, 200, quote.text);
    assert.equal(quote.json.max_points, Math.min(points, quote.json.available));
    await screenshot(page, 'flow-console-checkout-policy-zh-CN');
    assert.deepEqual(watched.errors, []);
    await page.close();
  });
});

describe('on PostgreSQL: an operator adjusts points and the member centre shows them', { skip: SKIP_POSTGRES }, () => {
  const h = useHarness({ postgres: true });
  let owner: Owner;
  let members: DemoMember[] = [];
  before(async () => {
    ({ owner, members } = await signInOwner(h));
  });

  test('the same flow, in English, on a PostgreSQL server', async () => {
    await operatorAdjusts(h, owner, members[0]!, 'en');
  });
});
