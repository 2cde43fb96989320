/**
 * Signing in, for the browser tests: a console user through the sign-in page (as a person does) or
 * through the API into a browser context (its cookie jar: faster, for tests about something else),
 * and a member token for the member centre (minted with the admin key, as a merchant's backend does).
 */
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import type { Harness } from './harness.ts';

/** Signs in on /console/sign-in (the page must be there) and waits to leave it. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  if (!new URL(page.url()).pathname.startsWith('/console/sign-in')) await page.goto('/console/sign-in');
  await page.getByTestId('sign-in-email').fill(email);
  await page.getByTestId('sign-in-password').fill(password);
  await page.getByTestId('sign-in-submit').click();
  await page.waitForURL((url) => !url.pathname.startsWith('/console/sign-in'));
}

/** Signs in through the API with the context's own cookie jar; returns the CSRF token. */
export async function signInContext(context: BrowserContext, email: string, password: string): Promise<string> {
  const response = await context.request.post('/v1/console/session', { data: { email, password } });
  assert.equal(response.status(), 200, await response.text());
  return ((await response.json()) as { csrf_token: string }).csrf_token;
}

/** A member token (an hour) for a member, minted with the admin key. */
export async function memberToken(h: Harness, programId: string, memberId: string): Promise<string> {
  const minted = await h.api('POST', `/v1/programs/${programId}/member-tokens`, { body: { member_id: memberId, expires_in_seconds: 3600 } });
  assert.equal(minted.status, 201, minted.text);
  return minted.json.token as string;
}
