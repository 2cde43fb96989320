/**
 * Shared pieces of the HTTP tests (not a test file itself): problem+json assertions, fixtures made
 * through the API, and snapshots of everything a request could have changed.
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.ts';
import { unique } from '../helpers/factories.ts';

export type Res = LightMyRequestResponse;
// JSON bodies are checked field by field; `any` keeps that readable.
export type Json = any;

/** The body of a 2xx response, failing with the whole response if it is not one. */
export function ok(res: Res, status?: number): Json {
  if (status === undefined) assert.ok(res.statusCode >= 200 && res.statusCode < 300, `expected 2xx, got ${res.statusCode}: ${res.body}`);
  else assert.equal(res.statusCode, status, res.body);
  return res.json();
}

export interface ProblemExpectation {
  /** JSON pointer of the field the problem is about, if it names one. */
  path?: string;
  location?: string;
  /** Extension members that must be present with these values. */
  extra?: Record<string, unknown>;
}

/**
 * Asserts an RFC 9457 problem document: status, content type, the standard members, the stable
 * code, and (when given) the field path in `errors`.
 */
export function assertProblem(res: Res, status: number, code: string, expect: ProblemExpectation = {}): Json {
  assert.equal(res.statusCode, status, `expected ${status} ${code}, got ${res.statusCode}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/, `content-type of ${res.body}`);
  const body = res.json();
  assert.equal(body.code, code, res.body);
  assert.equal(body.status, status);
  assert.equal(body.type, `urn:jifen:problem:${code.toLowerCase().replaceAll('_', '-')}`);
  assert.equal(typeof body.title, 'string');
  assert.ok(body.title.length > 0);
  assert.equal(typeof body.detail, 'string');
  assert.ok(body.detail.length > 0);
  assert.equal(typeof body.instance, 'string');
  assert.ok(body.instance.startsWith('/'), body.instance);
  assert.equal(typeof body.request_id, 'string');
  assert.equal(body.request_id, res.headers['x-request-id']);
  if (body.errors !== undefined) {
    assert.ok(Array.isArray(body.errors) && body.errors.length > 0, res.body);
    for (const e of body.errors) {
      assert.equal(typeof e.path, 'string');
      assert.equal(typeof e.location, 'string');
      assert.equal(typeof e.message, 'string');
    }
  }
  if (expect.path !== undefined) {
    assert.ok(Array.isArray(body.errors), `expected errors[] naming ${expect.path}: ${res.body}`);
    const hit = body.errors.find((e: Json) => e.path === expect.path);
    assert.ok(hit, `expected an error at ${expect.path}: ${res.body}`);
    assert.equal(hit.location, expect.location ?? 'body', res.body);
  }
  for (const [k, v] of Object.entries(expect.extra ?? {})) assert.deepEqual(body[k], v, `${k} in ${res.body}`);
  return body;
}

export async function createProgram(t: TestApp, body: Record<string, unknown> = {}): Promise<Json> {
  return ok(await t.call('POST', '/v1/programs', { body: { name: 'Test program', time_zone: 'UTC', ...body } }), 201);
}

export async function createMember(t: TestApp, programId: string, body: Record<string, unknown> = {}): Promise<Json> {
  return ok(await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id: unique('ext'), ...body } }), 201);
}

export async function credit(t: TestApp, memberId: string, points: number, body: Record<string, unknown> = {}): Promise<Json> {
  return ok(await t.call('POST', `/v1/members/${memberId}/credits`, { body: { points, ...body }, idem: true }), 201);
}

export async function hold(t: TestApp, memberId: string, points: number, body: Record<string, unknown> = {}): Promise<Json> {
  return ok(await t.call('POST', `/v1/members/${memberId}/holds`, { body: { points, ...body }, idem: true }), 201);
}

export async function balance(t: TestApp, memberId: string): Promise<Json> {
  return ok(await t.call('GET', `/v1/members/${memberId}/balance`), 200);
}

/** Everything about a member the API can show: profile, balance, history, lots and holds. */
export async function memberState(t: TestApp, memberId: string): Promise<Json> {
  const get = async (url: string) => ok(await t.call('GET', url), 200);
  return {
    member: await get(`/v1/members/${memberId}`),
    balance: await get(`/v1/members/${memberId}/balance`),
    entries: await get(`/v1/members/${memberId}/entries?limit=100`),
    lots: await get(`/v1/members/${memberId}/lots?state=all&limit=100`),
    holds: await get(`/v1/members/${memberId}/holds?limit=100`),
  };
}

/** Runs `fn` and asserts that none of the members changed in any visible way. */
export async function unchanged<T>(t: TestApp, memberIds: string[], fn: () => Promise<T>): Promise<T> {
  const before = await Promise.all(memberIds.map((id) => memberState(t, id)));
  const result = await fn();
  const after = await Promise.all(memberIds.map((id) => memberState(t, id)));
  assert.deepEqual(after, before, 'the request must not change the members, their points or history');
  return result;
}

/** Base64url JSON, the shape of the API's cursors, to forge cursors with. */
export function forgeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export type Scope = 'admin' | 'integration' | 'read';

/** Ids the route table points at; every request in it is valid for them. */
export interface Fixture {
  programId: string;
  memberId: string;
  otherMemberId: string;
  holdId: string;
  entryId: string;
  apiKeyId: string;
  ruleId: string;
  eventId: string;
  /** A change of the program in the change log (chg_…), for getChange. */
  changeId?: string;
  /** A segment of the program (seg_…). */
  segmentId?: string;
  /** When the tier override the fixture's member has ends (the fixture's program has a tier ladder). */
  tierOverrideUntil?: string;
  /** An active physical reward of the program (rwd_…), its scheduled price change (rpc_…) and a confirmed redemption of it by the member (rdm_…). */
  rewardId?: string;
  priceChangeId?: string;
  redemptionId?: string;
  /** An active lottery reward of the program (rwd_…), its prize (lpz_…) and a draw of it by the member (ldr_…). */
  lotteryId?: string;
  prizeId?: string;
  drawId?: string;
  /** An active coupon reward of the program (rwd_…) with a pool of 3 generated codes, the generation being its import (rci_…). */
  couponId?: string;
  codeImportId?: string;
  /** A checkout deduction held for the member, and one captured (chk_…): the program's checkout policy is on. */
  deductionId?: string;
  capturedDeductionId?: string;
}

export interface RouteCase {
  /** The OpenAPI operationId. */
  op: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
  /** The body's media type when it is not JSON (a code import's text/csv): sent as the raw string body. */
  contentType?: string;
  /** Whether the route requires an Idempotency-Key. */
  idem?: boolean;
  scope: Scope;
}

/**
 * Every /v1 operation with a valid request. system.test.ts checks that this list and the OpenAPI
 * document name the same operations, so a new route cannot be left out of the scope checks.
 */
export function v1Routes(f: Fixture): RouteCase[] {
  const m = f.memberId;
  return [
    { op: 'createProgram', method: 'POST', url: '/v1/programs', body: { name: 'Scope check' }, scope: 'admin' },
    { op: 'listPrograms', method: 'GET', url: '/v1/programs', scope: 'read' },
    { op: 'getProgram', method: 'GET', url: `/v1/programs/${f.programId}`, scope: 'read' },
    { op: 'getDashboard', method: 'GET', url: `/v1/programs/${f.programId}/dashboard`, scope: 'read' },
    { op: 'getTopRewards', method: 'GET', url: `/v1/programs/${f.programId}/dashboard/top-rewards`, scope: 'read' },
    { op: 'updateProgram', method: 'PATCH', url: `/v1/programs/${f.programId}`, body: { name: 'Renamed by scope check' }, scope: 'admin' },
    {
      op: 'createMember',
      method: 'POST',
      url: `/v1/programs/${f.programId}/members`,
      body: { external_id: `scope-${Date.now()}-${Math.random()}` },
      scope: 'integration',
    },
    { op: 'listMembers', method: 'GET', url: `/v1/programs/${f.programId}/members`, scope: 'read' },
    { op: 'getMemberByExternalId', method: 'GET', url: `/v1/programs/${f.programId}/members/by-external-id/nobody`, scope: 'read' },
    { op: 'getMember', method: 'GET', url: `/v1/members/${m}`, scope: 'read' },
    { op: 'updateMember', method: 'PATCH', url: `/v1/members/${m}`, body: { name: 'Renamed by scope check' }, scope: 'integration' },
    { op: 'freezeMember', method: 'POST', url: `/v1/members/${m}/freeze`, body: {}, scope: 'admin' },
    { op: 'unfreezeMember', method: 'POST', url: `/v1/members/${m}/unfreeze`, body: {}, scope: 'admin' },
    { op: 'closeMember', method: 'POST', url: `/v1/members/${f.otherMemberId}/close`, body: {}, scope: 'admin' },
    { op: 'creditPoints', method: 'POST', url: `/v1/members/${m}/credits`, body: { points: 5 }, idem: true, scope: 'integration' },
    { op: 'debitPoints', method: 'POST', url: `/v1/members/${m}/debits`, body: { points: 5 }, idem: true, scope: 'integration' },
    { op: 'createHold', method: 'POST', url: `/v1/members/${m}/holds`, body: { points: 5 }, idem: true, scope: 'integration' },
    { op: 'captureHold', method: 'POST', url: `/v1/holds/${f.holdId}/capture`, body: {}, scope: 'integration' },
    { op: 'voidHold', method: 'POST', url: `/v1/holds/${f.holdId}/void`, body: {}, scope: 'integration' },
    { op: 'getHold', method: 'GET', url: `/v1/holds/${f.holdId}`, scope: 'read' },
    { op: 'listHolds', method: 'GET', url: `/v1/members/${m}/holds`, scope: 'read' },
    { op: 'reverseCredit', method: 'POST', url: `/v1/entries/${f.entryId}/reversals`, body: { points: 1 }, idem: true, scope: 'integration' },
    { op: 'getEntry', method: 'GET', url: `/v1/entries/${f.entryId}`, scope: 'read' },
    { op: 'adjustPoints', method: 'POST', url: `/v1/members/${m}/adjustments`, body: { points: 5, reason_code: 'goodwill' }, idem: true, scope: 'admin' },
    {
      op: 'transferPoints',
      method: 'POST',
      url: '/v1/transfers',
      body: { from_member_id: m, to_member_id: f.otherMemberId, points: 5 },
      idem: true,
      scope: 'integration',
    },
    { op: 'recordActivity', method: 'POST', url: `/v1/members/${m}/activity`, body: {}, scope: 'integration' },
    { op: 'getBalance', method: 'GET', url: `/v1/members/${m}/balance`, scope: 'read' },
    { op: 'listEntries', method: 'GET', url: `/v1/members/${m}/entries`, scope: 'read' },
    { op: 'listLots', method: 'GET', url: `/v1/members/${m}/lots`, scope: 'read' },
    { op: 'getExpiryForecast', method: 'GET', url: `/v1/members/${m}/expiry-forecast`, scope: 'read' },
    { op: 'runSweep', method: 'POST', url: '/v1/jobs/sweep', scope: 'admin' },
    { op: 'createApiKey', method: 'POST', url: '/v1/api-keys', body: { name: 'scope check', scopes: ['admin'] }, scope: 'admin' },
    { op: 'listApiKeys', method: 'GET', url: '/v1/api-keys', scope: 'admin' },
    { op: 'revokeApiKey', method: 'DELETE', url: `/v1/api-keys/${f.apiKeyId}`, scope: 'admin' },
    { op: 'auditLedger', method: 'GET', url: '/v1/audit', scope: 'admin' },
    { op: 'listChanges', method: 'GET', url: `/v1/programs/${f.programId}/changes`, scope: 'read' },
    { op: 'getChange', method: 'GET', url: `/v1/changes/${f.changeId ?? 'chg_none'}`, scope: 'read' },
    {
      op: 'createRule',
      method: 'POST',
      url: `/v1/programs/${f.programId}/rules`,
      body: { definition: { name: 'scope check', triggers: ['checkin'], effect: { type: 'fixed', points: 1 } } },
      scope: 'admin',
    },
    { op: 'listRules', method: 'GET', url: `/v1/programs/${f.programId}/rules`, scope: 'read' },
    { op: 'getRule', method: 'GET', url: `/v1/rules/${f.ruleId}`, scope: 'read' },
    {
      op: 'reviseRule',
      method: 'POST',
      url: `/v1/rules/${f.ruleId}/versions`,
      body: { definition: { name: 'scope check v2', triggers: ['app.opened'], effect: { type: 'fixed', points: 2 } } },
      scope: 'admin',
    },
    { op: 'archiveRule', method: 'POST', url: `/v1/rules/${f.ruleId}/archive`, body: {}, scope: 'admin' },
    {
      op: 'sendEvent',
      method: 'POST',
      url: '/v1/events',
      body: { id: `scope-${Date.now()}-${Math.random()}`, type: 'app.opened', program_id: f.programId, member_id: m },
      scope: 'integration',
    },
    {
      op: 'sendEvents',
      method: 'POST',
      url: '/v1/events/batch',
      body: { program_id: f.programId, events: [{ id: `scope-${Date.now()}-${Math.random()}`, type: 'app.opened', member_id: m }] },
      scope: 'integration',
    },
    {
      op: 'previewEvent',
      method: 'POST',
      url: '/v1/events/preview',
      body: { id: 'preview', type: 'app.opened', program_id: f.programId, member_id: m },
      scope: 'integration',
    },
    { op: 'getEvent', method: 'GET', url: `/v1/events/${f.eventId}`, scope: 'read' },
    { op: 'getEventByExternalId', method: 'GET', url: `/v1/programs/${f.programId}/events/by-external-id/fixture-event`, scope: 'read' },
    { op: 'listMemberEvents', method: 'GET', url: `/v1/members/${m}/events`, scope: 'read' },
    { op: 'listProgramEvents', method: 'GET', url: `/v1/programs/${f.programId}/events`, scope: 'read' },
    { op: 'listEventTypes', method: 'GET', url: `/v1/programs/${f.programId}/event-types`, scope: 'read' },
    {
      op: 'createEventType',
      method: 'POST',
      url: `/v1/programs/${f.programId}/event-types`,
      body: { type: `custom.t${Date.now()}`, schema: { type: 'object' } },
      scope: 'admin',
    },
    { op: 'getMemberTokenSettings', method: 'GET', url: `/v1/programs/${f.programId}/member-token-settings`, scope: 'admin' },
    {
      op: 'updateMemberTokenSettings',
      method: 'PATCH',
      url: `/v1/programs/${f.programId}/member-token-settings`,
      body: { issuer: 'https://scope-check.example' },
      scope: 'admin',
    },
    { op: 'rotateMemberTokenSecret', method: 'POST', url: `/v1/programs/${f.programId}/member-token-secrets`, body: {}, scope: 'admin' },
    { op: 'createMemberToken', method: 'POST', url: `/v1/programs/${f.programId}/member-tokens`, body: { member_id: m }, scope: 'integration' },
    ...segmentRoutes(f),
    ...tierRoutes(f),
    ...rewardRoutes(f),
    ...lotteryRoutes(f),
    ...codePoolRoutes(f),
    ...checkoutRoutes(f),
  ];
}

/** The checkout policy the fixtures switch on: every point usable, no minimum. */
export const FIXTURE_CHECKOUT_POLICY = { enabled: true, max_share_bps: 10_000, min_order_amount: 0, min_points: 0, combinable_with_discounts: true };

function checkoutRoutes(f: Fixture): RouteCase[] {
  const p = f.programId;
  const m = f.memberId;
  const d = f.deductionId ?? 'chk_x';
  return [
    { op: 'getCheckoutPolicy', method: 'GET', url: `/v1/programs/${p}/checkout-policy`, scope: 'read' },
    { op: 'putCheckoutPolicy', method: 'PUT', url: `/v1/programs/${p}/checkout-policy`, body: FIXTURE_CHECKOUT_POLICY, scope: 'admin' },
    { op: 'quoteCheckout', method: 'GET', url: `/v1/members/${m}/checkout-quote?amount=1000`, scope: 'read' },
    {
      op: 'createCheckoutDeduction',
      method: 'POST',
      url: `/v1/members/${m}/checkout-deductions`,
      body: { order_reference: `scope-${Date.now()}-${Math.random()}`, amount: 1000, points: 1 },
      idem: true,
      scope: 'integration',
    },
    { op: 'listCheckoutDeductions', method: 'GET', url: `/v1/programs/${p}/checkout-deductions`, scope: 'read' },
    { op: 'getCheckoutDeduction', method: 'GET', url: `/v1/checkout-deductions/${d}`, scope: 'read' },
    { op: 'captureCheckoutDeduction', method: 'POST', url: `/v1/checkout-deductions/${d}/capture`, body: {}, scope: 'integration' },
    { op: 'voidCheckoutDeduction', method: 'POST', url: `/v1/checkout-deductions/${d}/void`, body: {}, scope: 'integration' },
    {
      op: 'refundCheckoutDeduction',
      method: 'POST',
      url: `/v1/checkout-deductions/${f.capturedDeductionId ?? 'chk_x'}/refund`,
      body: {},
      scope: 'integration',
    },
  ];
}

/** The program's checkout policy switched on, a deduction of 2 points held for the member and one captured. */
export async function addCheckout(t: TestApp, programId: string, memberId: string): Promise<Pick<Fixture, 'deductionId' | 'capturedDeductionId'>> {
  ok(await t.call('PUT', `/v1/programs/${programId}/checkout-policy`, { body: FIXTURE_CHECKOUT_POLICY }), 200);
  const deduct = async () =>
    ok(
      await t.call('POST', `/v1/members/${memberId}/checkout-deductions`, {
        body: { order_reference: `fixture-${Date.now()}-${Math.random()}`, amount: 1000, points: 2 },
        idem: true,
      }),
      201,
    ).id as string;
  const held = await deduct();
  const captured = await deduct();
  ok(await t.call('POST', `/v1/checkout-deductions/${captured}/capture`, { body: {} }), 200);
  return { deductionId: held, capturedDeductionId: captured };
}

function codePoolRoutes(f: Fixture): RouteCase[] {
  const c = f.couponId ?? 'rwd_x';
  return [
    { op: 'importRewardCodes', method: 'POST', url: `/v1/rewards/${c}/codes/imports`, body: 'code\nSCOPE-CHECK-1\n', contentType: 'text/csv', scope: 'admin' },
    { op: 'listRewardCodeImports', method: 'GET', url: `/v1/rewards/${c}/codes/imports`, scope: 'read' },
    { op: 'getRewardCodeImport', method: 'GET', url: `/v1/rewards/${c}/codes/imports/${f.codeImportId ?? 'rci_x'}`, scope: 'read' },
    { op: 'generateRewardCodes', method: 'POST', url: `/v1/rewards/${c}/codes/generate`, body: { count: 2 }, scope: 'admin' },
    { op: 'listRewardCodes', method: 'GET', url: `/v1/rewards/${c}/codes`, scope: 'read' },
    { op: 'listRevealedRewardCodes', method: 'GET', url: `/v1/rewards/${c}/codes/revealed`, scope: 'admin' },
  ];
}

/** A coupon reward of the program with 3 generated codes. */
export async function addCodePool(t: TestApp, programId: string): Promise<Pick<Fixture, 'couponId' | 'codeImportId'>> {
  const coupon = ok(
    await t.call('POST', `/v1/programs/${programId}/rewards`, {
      body: { type: 'coupon', name: { 'zh-CN': '咖啡券', en: 'Coffee coupon' }, points_cost: 5, status: 'active' },
    }),
    201,
  );
  const generated = ok(await t.call('POST', `/v1/rewards/${coupon.id}/codes/generate`, { body: { count: 3 }, idem: true }), 201);
  return { couponId: coupon.id, codeImportId: generated.id };
}

function lotteryRoutes(f: Fixture): RouteCase[] {
  const l = f.lotteryId ?? 'rwd_x';
  const z = f.prizeId ?? 'lpz_x';
  return [
    {
      op: 'createLotteryPrize',
      method: 'POST',
      url: `/v1/rewards/${l}/lottery-prizes`,
      body: { code: 'scope-check', name: { 'zh-CN': '范围检查', en: 'Scope check' }, weight: 1 },
      scope: 'admin',
    },
    { op: 'listLotteryPrizes', method: 'GET', url: `/v1/rewards/${l}/lottery-prizes`, scope: 'read' },
    { op: 'updateLotteryPrize', method: 'PATCH', url: `/v1/rewards/${l}/lottery-prizes/${z}`, body: { weight: 2 }, scope: 'admin' },
    { op: 'archiveLotteryPrize', method: 'DELETE', url: `/v1/rewards/${l}/lottery-prizes/${z}`, scope: 'admin' },
    { op: 'rotateLotterySeed', method: 'POST', url: `/v1/rewards/${l}/lottery-seeds`, body: {}, scope: 'admin' },
    { op: 'listLotterySeeds', method: 'GET', url: `/v1/rewards/${l}/lottery-seeds`, scope: 'read' },
    { op: 'listLotteryDraws', method: 'GET', url: `/v1/rewards/${l}/lottery-draws`, scope: 'read' },
  ];
}

/** A tier ladder for fixtures: bronze, silver at ¥1,000, gold at ¥5,000 of spend in the calendar year. */
export const FIXTURE_TIER_LADDER = {
  metric: 'spend',
  qualifying_window: { type: 'calendar_year' },
  validity: { type: 'period_and_next' },
  downgrade_policy: 'one_step',
  tiers: [
    { code: 'bronze', name: { 'zh-CN': '青铜', en: 'Bronze' }, entry: 0 },
    { code: 'silver', name: { 'zh-CN': '白银', en: 'Silver' }, entry: 100_000 },
    { code: 'gold', name: { 'zh-CN': '黄金', en: 'Gold' }, entry: 500_000 },
  ],
};

/** Gives the program the fixture ladder and the member a tier override (gold, 180 days); returns when it ends. */
export async function addTierLadder(t: TestApp, programId: string, memberId: string): Promise<string> {
  ok(await t.call('PUT', `/v1/programs/${programId}/tier-ladder`, { body: FIXTURE_TIER_LADDER }), 201);
  const until = new Date(t.clock.now().getTime() + 180 * 86_400_000).toISOString();
  ok(await t.call('POST', `/v1/members/${memberId}/tier-override`, { body: { tier: 'gold', until, reason: 'fixture' } }), 200);
  return until;
}

function tierRoutes(f: Fixture): RouteCase[] {
  const p = f.programId;
  const m = f.memberId;
  const until = f.tierOverrideUntil ?? '2027-06-01T00:00:00.000Z';
  return [
    { op: 'putTierLadder', method: 'PUT', url: `/v1/programs/${p}/tier-ladder`, body: FIXTURE_TIER_LADDER, scope: 'admin' },
    { op: 'getTierLadder', method: 'GET', url: `/v1/programs/${p}/tier-ladder`, scope: 'read' },
    { op: 'getTierMix', method: 'GET', url: `/v1/programs/${p}/tier-mix`, scope: 'read' },
    { op: 'listProgramTierHistory', method: 'GET', url: `/v1/programs/${p}/tier-history`, scope: 'read' },
    { op: 'getTierStatus', method: 'GET', url: `/v1/members/${m}/tier`, scope: 'read' },
    { op: 'listTierHistory', method: 'GET', url: `/v1/members/${m}/tier-history`, scope: 'read' },
    { op: 'setTierOverride', method: 'POST', url: `/v1/members/${m}/tier-override`, body: { tier: 'silver', until, reason: 'scope check' }, scope: 'admin' },
    { op: 'endTierOverride', method: 'DELETE', url: `/v1/members/${m}/tier-override`, body: { reason: 'scope check' }, scope: 'admin' },
  ];
}

function segmentRoutes(f: Fixture): RouteCase[] {
  const s = f.segmentId ?? 'seg_x';
  return [
    {
      op: 'createSegment',
      method: 'POST',
      url: `/v1/programs/${f.programId}/segments`,
      body: { name: { 'zh-CN': '范围检查', en: 'Scope check' }, condition: true },
      scope: 'admin',
    },
    { op: 'listSegments', method: 'GET', url: `/v1/programs/${f.programId}/segments`, scope: 'read' },
    { op: 'previewSegment', method: 'POST', url: `/v1/programs/${f.programId}/segments/preview`, body: { condition: true }, scope: 'integration' },
    { op: 'getSegment', method: 'GET', url: `/v1/segments/${s}`, scope: 'read' },
    { op: 'updateSegment', method: 'PATCH', url: `/v1/segments/${s}`, body: { description: 'Changed by scope check' }, scope: 'admin' },
    { op: 'archiveSegment', method: 'POST', url: `/v1/segments/${s}/archive`, body: {}, scope: 'admin' },
    { op: 'refreshSegment', method: 'POST', url: `/v1/segments/${s}/refresh`, body: {}, scope: 'admin' },
    { op: 'listSegmentMembers', method: 'GET', url: `/v1/segments/${s}/members`, scope: 'read' },
    { op: 'listMemberSegments', method: 'GET', url: `/v1/members/${f.memberId}/segments`, scope: 'read' },
  ];
}

function rewardRoutes(f: Fixture): RouteCase[] {
  const p = f.programId;
  const r = f.rewardId ?? 'rwd_x';
  const d = f.redemptionId ?? 'rdm_x';
  return [
    {
      op: 'createReward',
      method: 'POST',
      url: `/v1/programs/${p}/rewards`,
      body: { type: 'physical', name: { 'zh-CN': '范围检查', en: 'Scope check' }, points_cost: 5 },
      scope: 'admin',
    },
    { op: 'listRewards', method: 'GET', url: `/v1/programs/${p}/rewards`, scope: 'read' },
    { op: 'getReward', method: 'GET', url: `/v1/rewards/${r}`, scope: 'read' },
    { op: 'updateReward', method: 'PATCH', url: `/v1/rewards/${r}`, body: { category: 'scope-check' }, scope: 'admin' },
    { op: 'archiveReward', method: 'POST', url: `/v1/rewards/${r}/archive`, body: {}, scope: 'admin' },
    {
      op: 'createPriceChange',
      method: 'POST',
      url: `/v1/rewards/${r}/price-changes`,
      body: { points_cost: 6, effective_at: '2099-01-01T00:00:00.000Z' },
      scope: 'admin',
    },
    { op: 'listPriceChanges', method: 'GET', url: `/v1/rewards/${r}/price-changes`, scope: 'read' },
    { op: 'deletePriceChange', method: 'DELETE', url: `/v1/rewards/${r}/price-changes/${f.priceChangeId ?? 'rpc_x'}`, scope: 'admin' },
    { op: 'getDonationTotals', method: 'GET', url: `/v1/programs/${p}/donations`, scope: 'read' },
    { op: 'redeemReward', method: 'POST', url: `/v1/members/${f.memberId}/redemptions`, body: { reward_id: r }, scope: 'integration' },
    { op: 'listMemberRedemptions', method: 'GET', url: `/v1/members/${f.memberId}/redemptions`, scope: 'read' },
    { op: 'listRedemptions', method: 'GET', url: `/v1/programs/${p}/redemptions`, scope: 'read' },
    { op: 'getRedemption', method: 'GET', url: `/v1/redemptions/${d}`, scope: 'read' },
    { op: 'shipRedemption', method: 'POST', url: `/v1/redemptions/${d}/ship`, body: { carrier: 'SF', tracking_number: 'SC1' }, scope: 'admin' },
    { op: 'deliverRedemption', method: 'POST', url: `/v1/redemptions/${d}/deliver`, body: {}, scope: 'admin' },
    { op: 'cancelRedemption', method: 'POST', url: `/v1/redemptions/${d}/cancel`, body: {}, scope: 'admin' },
    { op: 'rejectRedemption', method: 'POST', url: `/v1/redemptions/${d}/reject`, body: {}, scope: 'admin' },
  ];
}

/** A reward of the program with a scheduled price change, and a redemption of it by the member. */
export async function addReward(t: TestApp, programId: string, memberId: string): Promise<Pick<Fixture, 'rewardId' | 'priceChangeId' | 'redemptionId'>> {
  const reward = ok(
    await t.call('POST', `/v1/programs/${programId}/rewards`, {
      body: { type: 'physical', name: { 'zh-CN': '保温杯', en: 'Thermos' }, points_cost: 5, status: 'active' },
    }),
    201,
  );
  const change = ok(
    await t.call('POST', `/v1/rewards/${reward.id}/price-changes`, { body: { points_cost: 7, effective_at: '2098-01-01T00:00:00.000Z' } }),
    201,
  );
  const redemption = ok(await t.call('POST', `/v1/members/${memberId}/redemptions`, { body: { reward_id: reward.id }, idem: true }), 201);
  return {
    rewardId: reward.id,
    priceChangeId: change.id,
    redemptionId: redemption.id,
    ...(await addLottery(t, programId, memberId)),
    ...(await addCodePool(t, programId)),
    ...(await addCheckout(t, programId, memberId)),
  };
}

/** A lottery of the program (5 points a draw) with one prize and a seed, and a draw of it by the member. */
export async function addLottery(t: TestApp, programId: string, memberId: string): Promise<Pick<Fixture, 'lotteryId' | 'prizeId' | 'drawId'>> {
  const lottery = ok(
    await t.call('POST', `/v1/programs/${programId}/rewards`, {
      body: { type: 'lottery', name: { 'zh-CN': '幸运抽奖', en: 'Lucky draw' }, points_cost: 5, status: 'active' },
    }),
    201,
  );
  const prize = ok(
    await t.call('POST', `/v1/rewards/${lottery.id}/lottery-prizes`, { body: { code: 'thanks', name: { 'zh-CN': '谢谢参与', en: 'Thank you' }, weight: 1 } }),
    201,
  );
  ok(await t.call('POST', `/v1/rewards/${lottery.id}/lottery-seeds`, { body: {} }), 201);
  const token = ok(await t.call('POST', `/v1/programs/${programId}/member-tokens`, { key: t.keys.integration, body: { member_id: memberId } }), 201).token;
  const draw = ok(await t.call('POST', '/v1/me/lottery-draws', { key: token, body: { reward_id: lottery.id }, idem: true }), 201);
  return { lotteryId: lottery.id, prizeId: prize.id, drawId: draw.id };
}

/**
 * The /v1/me operations: they take a member token, never an API key (me.test.ts exercises each
 * with tokens and every rejection); listed here so system.test.ts sees them documented.
 */
export function v1MeRoutes(): { op: string; method: 'GET' | 'POST' | 'PUT'; url: string }[] {
  return [
    { op: 'getMe', method: 'GET', url: '/v1/me' },
    { op: 'getMyBalance', method: 'GET', url: '/v1/me/balance' },
    { op: 'listMyLots', method: 'GET', url: '/v1/me/lots' },
    { op: 'getMyExpiryForecast', method: 'GET', url: '/v1/me/expiry-forecast' },
    { op: 'listMyEntries', method: 'GET', url: '/v1/me/entries' },
    { op: 'getMyTier', method: 'GET', url: '/v1/me/tier' },
    { op: 'listMyTierHistory', method: 'GET', url: '/v1/me/tier-history' },
    { op: 'getMyRewards', method: 'GET', url: '/v1/me/rewards' },
    { op: 'getMyRewardsWithinReach', method: 'GET', url: '/v1/me/rewards/within-reach' },
    { op: 'listMyRedemptions', method: 'GET', url: '/v1/me/redemptions' },
    // GET on its URL lists the member's redemptions (me.test.ts reads every URL here)
    { op: 'redeemMyReward', method: 'POST', url: '/v1/me/redemptions' },
    { op: 'listMyLotteryDraws', method: 'GET', url: '/v1/me/lottery-draws' },
    { op: 'listMyLotteryPrizes', method: 'GET', url: '/v1/me/lottery-prizes' },
    // GET on its URL lists the member's draws
    { op: 'drawMyLottery', method: 'POST', url: '/v1/me/lottery-draws' },
    { op: 'getMyLotteryClientSeed', method: 'GET', url: '/v1/me/lottery-client-seed' },
    // GET on its URL reads the client seed
    { op: 'setMyLotteryClientSeed', method: 'PUT', url: '/v1/me/lottery-client-seed' },
    { op: 'quoteMyCheckout', method: 'GET', url: '/v1/me/checkout-quote?amount=1000' },
  ];
}

/** The public /v1 operations (no key, no token): a lottery draw's verification (lottery.test.ts exercises it). */
export function v1PublicRoutes(): { op: string; method: 'GET'; url: string }[] {
  return [{ op: 'verifyLotteryDraw', method: 'GET', url: '/v1/lottery-draws/ldr_x/verification' }];
}

/** Sends a route case with the given key (an Idempotency-Key is added where the route needs one). */
export function send(t: TestApp, route: RouteCase, key: string | null): Promise<Res> {
  if (route.contentType) {
    const headers: Record<string, string> = { 'content-type': route.contentType };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (route.idem) headers['idempotency-key'] = `raw-${Math.random().toString(36).slice(2)}`;
    return t.app.inject({ method: route.method, url: route.url, headers, payload: String(route.body) });
  }
  return t.call(route.method, route.url, { key, body: route.body, idem: route.idem ? true : undefined });
}

/** Everything a write could change, as the admin key sees it. */
export async function worldState(t: TestApp, f: Fixture): Promise<Json> {
  const get = async (url: string) => ok(await t.call('GET', url), 200);
  return {
    members: await Promise.all([f.memberId, f.otherMemberId].map((id) => memberState(t, id))),
    hold: await get(`/v1/holds/${f.holdId}`),
    entry: await get(`/v1/entries/${f.entryId}`),
    program: await get(`/v1/programs/${f.programId}`),
    programs: await get('/v1/programs?limit=100'),
    memberList: await get(`/v1/programs/${f.programId}/members?limit=100`),
    apiKeys: await get('/v1/api-keys'),
    rules: await get(`/v1/programs/${f.programId}/rules?limit=100`),
    events: await get(`/v1/members/${f.memberId}/events?limit=100`),
    eventTypes: await get(`/v1/programs/${f.programId}/event-types`),
  };
}

/** A program with two funded members, an open hold, a credit entry and a spare API key. */
export async function makeFixture(t: TestApp): Promise<Fixture> {
  const p = await createProgram(t, { name: 'Fixture program' });
  const a = await createMember(t, p.id);
  const b = await createMember(t, p.id);
  const c = await credit(t, a.id, 100);
  await credit(t, b.id, 100);
  const h = await hold(t, a.id, 10);
  const key = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'spare', scopes: ['read'] } }), 201);
  const rule = ok(
    await t.call('POST', `/v1/programs/${p.id}/rules`, {
      body: { definition: { name: 'fixture rule', triggers: ['checkin'], effect: { type: 'fixed', points: 5 } } },
    }),
    201,
  );
  const event = ok(await t.call('POST', '/v1/events', { body: { id: 'fixture-event', type: 'checkin', program_id: p.id, member_id: a.id } }), 201);
  const changeId = ok(await t.call('GET', `/v1/programs/${p.id}/changes?limit=1`), 200).data[0]?.id;
  const segment = ok(await t.call('POST', `/v1/programs/${p.id}/segments`, { body: { name: { 'zh-CN': '全部', en: 'Everyone' }, condition: true } }), 201);
  const tierOverrideUntil = await addTierLadder(t, p.id, a.id);
  const rewards = await addReward(t, p.id, a.id);
  return {
    programId: p.id,
    memberId: a.id,
    otherMemberId: b.id,
    holdId: h.hold.id,
    entryId: c.entry.id,
    apiKeyId: key.id,
    ruleId: rule.id,
    eventId: event.id,
    changeId,
    segmentId: segment.id,
    tierOverrideUntil,
    ...rewards,
  };
}

/**
 * The console's operations (/v1/console/*): they take the session cookie, never an API key (signIn
 * takes nothing); test/http/console-auth.test.ts and test/console-users.test.ts exercise them.
 * Listed here so system.test.ts sees them documented.
 */
export function v1ConsoleRoutes(): { op: string; method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string }[] {
  return [
    { op: 'signIn', method: 'POST', url: '/v1/console/session' },
    { op: 'getSession', method: 'GET', url: '/v1/console/session' },
    { op: 'signOut', method: 'DELETE', url: '/v1/console/session' },
    { op: 'changePassword', method: 'POST', url: '/v1/console/password' },
    { op: 'listConsoleUsers', method: 'GET', url: '/v1/console/users' },
    { op: 'createConsoleUser', method: 'POST', url: '/v1/console/users' },
    { op: 'updateConsoleUser', method: 'PATCH', url: '/v1/console/users/{userId}' },
    { op: 'resetConsolePassword', method: 'POST', url: '/v1/console/users/{userId}/password-reset' },
  ];
}
