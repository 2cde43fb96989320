import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { forEachDatabase } from '../helpers/db.ts';
import { assertProblem, createMember, createProgram, credit, type Json, ok, type Res } from './support.ts';

const LIMITED = { JIFEN_RATE_LIMIT_API_KEY: '3', JIFEN_RATE_LIMIT_MEMBER: '2', JIFEN_RATE_LIMIT_WINDOW_SECONDS: '1' };

function limitHeaders(res: Res) {
  return {
    limit: res.headers['ratelimit-limit'],
    remaining: res.headers['ratelimit-remaining'],
    reset: Number(res.headers['ratelimit-reset']),
  };
}

/** A 429 RATE_LIMITED with Retry-After and the RateLimit headers. */
function assertLimited(res: Res, limit: number): Json {
  const body = assertProblem(res, 429, 'RATE_LIMITED', { extra: { limit, window_seconds: 1 } });
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 1, `Retry-After ${res.headers['retry-after']}`);
  assert.equal(body.retry_after_seconds, retryAfter);
  assert.equal(res.headers['ratelimit-limit'], String(limit));
  assert.equal(res.headers['ratelimit-remaining'], '0');
  assert.ok(Number(res.headers['ratelimit-reset']) <= 1);
  assert.equal(res.headers['x-ratelimit-limit'], undefined, 'the RateLimit-* headers, not X-RateLimit-*');
  return body;
}

/** Until the window that `res` is in has passed (the Reset header, in seconds, rounded up). */
const nextWindow = (res: Res) => sleep(Number(res.headers['ratelimit-reset']) * 1000 + 50);

describe('rate limit configuration', () => {
  it('defaults to 6,000 requests a minute per API key and 300 per member, 0 turning a limit off', () => {
    const config = loadConfig({});
    assert.equal(config.rateLimitApiKey, 6000);
    assert.equal(config.rateLimitMember, 300);
    assert.equal(config.rateLimitWindowSeconds, 60);
    const off = loadConfig({ JIFEN_RATE_LIMIT_API_KEY: '0', JIFEN_RATE_LIMIT_MEMBER: '0', JIFEN_RATE_LIMIT_WINDOW_SECONDS: '5' });
    assert.deepEqual([off.rateLimitApiKey, off.rateLimitMember, off.rateLimitWindowSeconds], [0, 0, 5]);
    const bad: [string, string][] = [
      ['JIFEN_RATE_LIMIT_API_KEY', '-1'],
      ['JIFEN_RATE_LIMIT_MEMBER', 'lots'],
      ['JIFEN_RATE_LIMIT_WINDOW_SECONDS', '0'],
      ['JIFEN_RATE_LIMIT_WINDOW_SECONDS', '3601'],
    ];
    for (const [name, value] of bad) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith(name)),
      );
    }
  });
});

forEachDatabase('HTTP rate limits', (getDb) => {
  /** Unlimited: sets things up without spending the limited app's budget. */
  let setup: TestApp;
  let t: TestApp;
  let program: Json;
  before(async () => {
    setup = await createTestApp(getDb());
    t = await createTestApp(getDb(), undefined, LIMITED);
    program = await createProgram(setup);
  });
  after(async () => {
    await t.close();
    await setup.close();
  });

  const mintFor = async (memberId: string): Promise<string> =>
    ok(await setup.call('POST', `/v1/programs/${program.id}/member-tokens`, { key: setup.keys.integration, body: { member_id: memberId } }), 201).token;

  it('limits each API key: RateLimit headers count down, the next request is 429 and changes nothing, then the window passes', async () => {
    const m = await createMember(setup, program.id);
    await credit(setup, m.id, 100);
    const key = t.keys.integration;
    const seen: Json[] = [];
    let last: Res | undefined;
    for (let i = 0; i < 3; i++) {
      last = await t.call('GET', `/v1/members/${m.id}/balance`, { key });
      ok(last, 200);
      seen.push(limitHeaders(last));
    }
    assert.deepEqual(
      seen.map((h) => [h.limit, h.remaining]),
      [
        ['3', '2'],
        ['3', '1'],
        ['3', '0'],
      ],
    );
    for (const h of seen) assert.ok(h.reset >= 0 && h.reset <= 1, `reset ${h.reset}`);
    // a write over the limit is refused before it runs
    assertLimited(await t.call('POST', `/v1/members/${m.id}/debits`, { key, body: { points: 40 }, idem: true }), 3);
    assertLimited(await t.call('GET', `/v1/members/${m.id}/balance`, { key }), 3);
    assert.equal(ok(await setup.call('GET', `/v1/members/${m.id}/balance`), 200).available, 100);
    // another key has its own budget
    const other = await t.call('GET', `/v1/members/${m.id}/balance`, { key: t.keys.read });
    ok(other, 200);
    assert.equal(other.headers['ratelimit-remaining'], '2');

    await nextWindow(last!);
    const again = await t.call('POST', `/v1/members/${m.id}/debits`, { key, body: { points: 40 }, idem: true });
    ok(again, 201);
    assert.equal(again.headers['ratelimit-remaining'], '2');
  });

  it('counts every authenticated request, refused ones too, but not unauthenticated or public ones', async () => {
    const key = t.keys.admin;
    for (let i = 0; i < 5; i++) assertProblem(await t.call('GET', '/v1/programs', { key: null }), 401, 'UNAUTHENTICATED');
    for (let i = 0; i < 10; i++) {
      const res = await t.call('GET', '/healthz', { key: null });
      ok(res, 200);
      assert.equal(res.headers['ratelimit-limit'], undefined);
    }
    for (let i = 0; i < 3; i++) assertProblem(await t.call('POST', '/v1/programs', { key, body: { name: '' } }), 400, 'VALIDATION_FAILED');
    assertLimited(await t.call('GET', '/v1/programs', { key }), 3);
  });

  it('limits each member across their tokens, apart from API keys and other members', async () => {
    const a = await createMember(setup, program.id);
    const b = await createMember(setup, program.id);
    const [ta1, ta2, tb] = [await mintFor(a.id), await mintFor(a.id), await mintFor(b.id)];
    const first = await t.call('GET', '/v1/me', { key: ta1 });
    ok(first, 200);
    assert.deepEqual([first.headers['ratelimit-limit'], first.headers['ratelimit-remaining']], ['2', '1']);
    ok(await t.call('GET', '/v1/me/balance', { key: ta2 }), 200);
    const limited = await t.call('GET', '/v1/me/entries', { key: ta1 });
    assertLimited(limited, 2);
    assertLimited(await t.call('GET', '/v1/me', { key: ta2 }), 2);
    const other = await t.call('GET', '/v1/me', { key: tb });
    ok(other, 200);
    assert.equal(other.headers['ratelimit-remaining'], '1');
    // a refused token is 401 whatever the budget: it is not a member's request
    assertProblem(await t.call('GET', '/v1/me', { key: `${ta1.slice(0, -2)}xx` }), 401, 'UNAUTHENTICATED');

    await nextWindow(limited);
    ok(await t.call('GET', '/v1/me', { key: ta1 }), 200);
  });

  it('sends no RateLimit headers and never 429s when the limits are 0', async () => {
    const off = await createTestApp(getDb(), undefined, { JIFEN_RATE_LIMIT_API_KEY: '0', JIFEN_RATE_LIMIT_MEMBER: '0' });
    try {
      const m = await createMember(off, program.id);
      const token = ok(await off.call('POST', `/v1/programs/${program.id}/member-tokens`, { body: { member_id: m.id } }), 201).token;
      for (let i = 0; i < 8; i++) {
        for (const res of [await off.call('GET', '/v1/programs'), await off.call('GET', '/v1/me', { key: token })]) {
          ok(res, 200);
          assert.equal(res.headers['ratelimit-limit'], undefined);
        }
      }
    } finally {
      await off.close();
    }
  });
});
