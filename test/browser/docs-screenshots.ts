/**
 * Regenerates the screenshots docs/console.md shows, from the demo on a fresh server, in zh-CN (the
 * apps' default language):
 *
 *   node test/browser/docs-screenshots.ts
 *
 * docs/images/console-dashboard, console-member, console-rule-editor, console-tiers (1280×800) and
 * member-home, member-tier, member-rewards (375×812, at 2× for a sharp phone picture, as JPEG quality 80: a PNG of
 * it is over 150 KB).
 * Each should stay under 150 KB: the script says so when one does not.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/server-process.ts';
import { createHarness, OWNER_EMAIL, OWNER_PASSWORD, PHONE, settle } from './harness.ts';
import { memberToken, signInContext } from './session.ts';

const IMAGES = join(REPO_ROOT, 'docs', 'images');
const PROGRAM = 'prg_demo';
const LIMIT = 150 * 1024;

async function save(page: Page, file: string): Promise<string> {
  await settle(page);
  // let charts finish their entry animation
  await page.waitForTimeout(1200);
  const path = join(IMAGES, file);
  await page.screenshot({ path, animations: 'disabled', ...(file.endsWith('.jpg') ? { type: 'jpeg', quality: 80 } : {}) });
  if (statSync(path).size > LIMIT) console.warn(`${file} is ${(statSync(path).size / 1024).toFixed(0)} KB, over 150 KB`);
  return path;
}

async function main() {
  const { harness: h, start, stop } = createHarness();
  await start();
  try {
    const members = await h.api('GET', `/v1/programs/${PROGRAM}/members?limit=50`);
    assert.equal(members.status, 200, members.text);
    // a member with some history: the one with the largest balance among the first page
    const balances = await Promise.all(
      (members.json.data as { id: string }[]).map(async (m) => ({
        id: m.id,
        available: (await h.api('GET', `/v1/members/${m.id}/balance`)).json.available as number,
      })),
    );
    const member = balances.sort((a, b) => b.available - a.available)[0]!;
    const rules = await h.api('GET', `/v1/programs/${PROGRAM}/rules`);
    const rule = (rules.json.data as { id: string; name: string }[])[0]!;

    const context = await h.newContext({ locale: 'zh-CN' });
    await signInContext(context, OWNER_EMAIL, OWNER_PASSWORD);
    const page = await context.newPage();
    const shots: string[] = [];
    await page.goto(`/console/${PROGRAM}/dashboard`);
    shots.push(await save(page, 'console-dashboard.png'));
    await page.goto(`/console/${PROGRAM}/members/${member.id}`);
    shots.push(await save(page, 'console-member.png'));
    await page.goto(`/console/${PROGRAM}/rules/${rule.id}`);
    shots.push(await save(page, 'console-rule-editor.png'));
    await page.goto(`/console/${PROGRAM}/tiers`);
    await page.getByTestId('ladder-summary').waitFor();
    shots.push(await save(page, 'console-tiers.png'));
    await context.close();

    const phone = await h.browser.newContext({ baseURL: h.url, viewport: PHONE, deviceScaleFactor: 2, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    await phone.addInitScript(`window.localStorage.setItem('jifen.locale', 'zh-CN');`);
    const phonePage = await phone.newPage();
    await phonePage.goto(`/m/#token=${await memberToken(h, PROGRAM, member.id)}`);
    await phonePage.getByTestId('balance-available').waitFor();
    shots.push(await save(phonePage, 'member-home.jpg'));
    await phonePage.goto('/m/tier');
    await phonePage.getByTestId('member-tier-card').waitFor();
    shots.push(await save(phonePage, 'member-tier.jpg'));
    await phonePage.goto('/m/rewards');
    await phonePage.getByTestId('reward-card').first().waitFor();
    shots.push(await save(phonePage, 'member-rewards.jpg'));
    await phone.close();

    for (const shot of shots) console.log(`${shot.slice(REPO_ROOT.length)}  ${(statSync(shot).size / 1024).toFixed(0)} KB`);
  } finally {
    await stop();
  }
}

await main();
