/**
 * API keys limited to programs (issue 8, item 11). Two programs A and B and an admin key limited
 * to A: for every operation of the OpenAPI document, the call on B's resources is answered exactly as
 * the same call on resources that do not exist (same status, code, detail, errors) and changes
 * nothing of B; the same call on A's resources works. A new route without an expectation here fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { DB_KINDS, forEachDatabase } from '../helpers/db.ts';
import { unique } from '../helpers/factories.ts';
import {
  addReward,
  addTierLadder,
  assertProblem,
  createMember,
  createProgram,
  credit,
  type Fixture,
  hold,
  type Json,
  ok,
  type Res,
  type RouteCase,
  send,
  v1Routes,
  worldState,
} from './support.ts';

interface ScopedFixture extends Fixture {
  memberExternalId: string;
  eventExternalId: string;
}

/** What a key limited to A gets on B's resources, by operationId. */
type Expectation = [status: number, code: string] | 'filtered' | 'batch';
const ON_B: Record<string, Expectation> = {
  createProgram: [403, 'FORBIDDEN'],
  listPrograms: 'filtered',
  getProgram: [404, 'PROGRAM_NOT_FOUND'],
  getDashboard: [404, 'PROGRAM_NOT_FOUND'],
  getTopRewards: [404, 'PROGRAM_NOT_FOUND'],
  updateProgram: [404, 'PROGRAM_NOT_FOUND'],
  createMember: [404, 'PROGRAM_NOT_FOUND'],
  listMembers: [404, 'PROGRAM_NOT_FOUND'],
  getMemberByExternalId: [404, 'PROGRAM_NOT_FOUND'],
  getMember: [404, 'MEMBER_NOT_FOUND'],
  updateMember: [404, 'MEMBER_NOT_FOUND'],
  freezeMember: [404, 'MEMBER_NOT_FOUND'],
  unfreezeMember: [404, 'MEMBER_NOT_FOUND'],
  closeMember: [404, 'MEMBER_NOT_FOUND'],
  creditPoints: [404, 'MEMBER_NOT_FOUND'],
  debitPoints: [404, 'MEMBER_NOT_FOUND'],
  createHold: [404, 'MEMBER_NOT_FOUND'],
  captureHold: [404, 'HOLD_NOT_FOUND'],
  voidHold: [404, 'HOLD_NOT_FOUND'],
  getHold: [404, 'HOLD_NOT_FOUND'],
  listHolds: [404, 'MEMBER_NOT_FOUND'],
  reverseCredit: [404, 'ENTRY_NOT_FOUND'],
  getEntry: [404, 'ENTRY_NOT_FOUND'],
  adjustPoints: [404, 'MEMBER_NOT_FOUND'],
  transferPoints: [404, 'MEMBER_NOT_FOUND'],
  recordActivity: [404, 'MEMBER_NOT_FOUND'],
  getBalance: [404, 'MEMBER_NOT_FOUND'],
  listEntries: [404, 'MEMBER_NOT_FOUND'],
  listLots: [404, 'MEMBER_NOT_FOUND'],
  getExpiryForecast: [404, 'MEMBER_NOT_FOUND'],
  runSweep: [403, 'FORBIDDEN'],
  createApiKey: [404, 'PROGRAM_NOT_FOUND'],
  listApiKeys: 'filtered',
  revokeApiKey: [404, 'API_KEY_NOT_FOUND'],
  auditLedger: [404, 'PROGRAM_NOT_FOUND'],
  // the change log (H2)
  listChanges: [404, 'PROGRAM_NOT_FOUND'],
  getChange: [404, 'CHANGE_NOT_FOUND'],
  createRule: [404, 'PROGRAM_NOT_FOUND'],
  listRules: [404, 'PROGRAM_NOT_FOUND'],
  getRule: [404, 'RULE_NOT_FOUND'],
  reviseRule: [404, 'RULE_NOT_FOUND'],
  archiveRule: [404, 'RULE_NOT_FOUND'],
  sendEvent: [404, 'PROGRAM_NOT_FOUND'],
  sendEvents: 'batch',
  previewEvent: [404, 'PROGRAM_NOT_FOUND'],
  getEvent: [404, 'EVENT_NOT_FOUND'],
  getEventByExternalId: [404, 'PROGRAM_NOT_FOUND'],
  listMemberEvents: [404, 'MEMBER_NOT_FOUND'],
  listProgramEvents: [404, 'PROGRAM_NOT_FOUND'],
  listEventTypes: [404, 'PROGRAM_NOT_FOUND'],
  createEventType: [404, 'PROGRAM_NOT_FOUND'],
  // member tokens (H7): the program's settings and secrets
  getMemberTokenSettings: [404, 'PROGRAM_NOT_FOUND'],
  updateMemberTokenSettings: [404, 'PROGRAM_NOT_FOUND'],
  rotateMemberTokenSecret: [404, 'PROGRAM_NOT_FOUND'],
  createMemberToken: [404, 'PROGRAM_NOT_FOUND'],
  // segments
  createSegment: [404, 'PROGRAM_NOT_FOUND'],
  listSegments: [404, 'PROGRAM_NOT_FOUND'],
  previewSegment: [404, 'PROGRAM_NOT_FOUND'],
  getSegment: [404, 'SEGMENT_NOT_FOUND'],
  updateSegment: [404, 'SEGMENT_NOT_FOUND'],
  archiveSegment: [404, 'SEGMENT_NOT_FOUND'],
  refreshSegment: [404, 'SEGMENT_NOT_FOUND'],
  listSegmentMembers: [404, 'SEGMENT_NOT_FOUND'],
  listMemberSegments: [404, 'MEMBER_NOT_FOUND'],
  // tiers
  putTierLadder: [404, 'PROGRAM_NOT_FOUND'],
  getTierLadder: [404, 'PROGRAM_NOT_FOUND'],
  getTierMix: [404, 'PROGRAM_NOT_FOUND'],
  listProgramTierHistory: [404, 'PROGRAM_NOT_FOUND'],
  getTierStatus: [404, 'MEMBER_NOT_FOUND'],
  listTierHistory: [404, 'MEMBER_NOT_FOUND'],
  setTierOverride: [404, 'MEMBER_NOT_FOUND'],
  endTierOverride: [404, 'MEMBER_NOT_FOUND'],
  // rewards
  createReward: [404, 'PROGRAM_NOT_FOUND'],
  listRewards: [404, 'PROGRAM_NOT_FOUND'],
  getReward: [404, 'REWARD_NOT_FOUND'],
  updateReward: [404, 'REWARD_NOT_FOUND'],
  archiveReward: [404, 'REWARD_NOT_FOUND'],
  createPriceChange: [404, 'REWARD_NOT_FOUND'],
  listPriceChanges: [404, 'REWARD_NOT_FOUND'],
  deletePriceChange: [404, 'REWARD_NOT_FOUND'],
  getDonationTotals: [404, 'PROGRAM_NOT_FOUND'],
  redeemReward: [404, 'MEMBER_NOT_FOUND'],
  listMemberRedemptions: [404, 'MEMBER_NOT_FOUND'],
  listRedemptions: [404, 'PROGRAM_NOT_FOUND'],
  getRedemption: [404, 'REDEMPTION_NOT_FOUND'],
  shipRedemption: [404, 'REDEMPTION_NOT_FOUND'],
  deliverRedemption: [404, 'REDEMPTION_NOT_FOUND'],
  cancelRedemption: [404, 'REDEMPTION_NOT_FOUND'],
  rejectRedemption: [404, 'REDEMPTION_NOT_FOUND'],
  createLotteryPrize: [404, 'REWARD_NOT_FOUND'],
  listLotteryPrizes: [404, 'REWARD_NOT_FOUND'],
  updateLotteryPrize: [404, 'REWARD_NOT_FOUND'],
  archiveLotteryPrize: [404, 'REWARD_NOT_FOUND'],
  rotateLotterySeed: [404, 'REWARD_NOT_FOUND'],
  listLotterySeeds: [404, 'REWARD_NOT_FOUND'],
  listLotteryDraws: [404, 'REWARD_NOT_FOUND'],
  importRewardCodes: [404, 'REWARD_NOT_FOUND'],
  listRewardCodeImports: [404, 'REWARD_NOT_FOUND'],
  getRewardCodeImport: [404, 'REWARD_NOT_FOUND'],
  generateRewardCodes: [404, 'REWARD_NOT_FOUND'],
  listRewardCodes: [404, 'REWARD_NOT_FOUND'],
  listRevealedRewardCodes: [404, 'REWARD_NOT_FOUND'],
  // checkout
  getCheckoutPolicy: [404, 'PROGRAM_NOT_FOUND'],
  putCheckoutPolicy: [404, 'PROGRAM_NOT_FOUND'],
  quoteCheckout: [404, 'MEMBER_NOT_FOUND'],
  createCheckoutDeduction: [404, 'MEMBER_NOT_FOUND'],
  listCheckoutDeductions: [404, 'PROGRAM_NOT_FOUND'],
  getCheckoutDeduction: [404, 'CHECKOUT_DEDUCTION_NOT_FOUND'],
  captureCheckoutDeduction: [404, 'CHECKOUT_DEDUCTION_NOT_FOUND'],
  voidCheckoutDeduction: [404, 'CHECKOUT_DEDUCTION_NOT_FOUND'],
  refundCheckoutDeduction: [404, 'CHECKOUT_DEDUCTION_NOT_FOUND'],
};
/** Operations that only a deployment-wide key may call, whatever the program. */
const DEPLOYMENT_ONLY = new Set(['createProgram', 'runSweep']);

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Two members (funded), an open hold, a credit entry, a rule, an event and a spare key, all in one program. */
async function fixtureIn(t: TestApp, programId: string): Promise<ScopedFixture> {
  const a = await createMember(t, programId);
  const b = await createMember(t, programId);
  const c = await credit(t, a.id, 100);
  await credit(t, b.id, 100);
  const h = await hold(t, a.id, 10);
  const key = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'spare', scopes: ['read'], program_ids: [programId] } }), 201);
  const rule = ok(
    await t.call('POST', `/v1/programs/${programId}/rules`, {
      body: { definition: { name: 'fixture rule', triggers: ['checkin'], effect: { type: 'fixed', points: 5 } } },
    }),
    201,
  );
  const segment = ok(await t.call('POST', `/v1/programs/${programId}/segments`, { body: { name: { 'zh-CN': '全部', en: 'Everyone' }, condition: true } }), 201);
  // a fresh ladder for each fixture of the program: PUT replaces it (201 the first time, then 200)
  const tierOverrideUntil = await addTierLadderOnce(t, programId, a.id);
  const eventExternalId = unique('evt');
  const event = ok(await t.call('POST', '/v1/events', { body: { id: eventExternalId, type: 'checkin', program_id: programId, member_id: a.id } }), 201);
  return {
    programId,
    memberId: a.id,
    otherMemberId: b.id,
    holdId: h.hold.id,
    entryId: c.entry.id,
    apiKeyId: key.id,
    ruleId: rule.id,
    eventId: event.id,
    changeId: ok(await t.call('GET', `/v1/programs/${programId}/changes?limit=1`), 200).data[0].id,
    memberExternalId: a.external_id,
    eventExternalId,
    segmentId: segment.id,
    tierOverrideUntil,
    ...(await addReward(t, programId, a.id)),
  };
}

/** The program's ladder (made by the first fixture of the program) and a tier override for the member. */
async function addTierLadderOnce(t: TestApp, programId: string, memberId: string): Promise<string> {
  if ((await t.call('GET', `/v1/programs/${programId}/tier-ladder`)).statusCode === 404) return addTierLadder(t, programId, memberId);
  const until = new Date(t.clock.now().getTime() + 180 * 86_400_000).toISOString();
  ok(await t.call('POST', `/v1/members/${memberId}/tier-override`, { body: { tier: 'gold', until, reason: 'fixture' } }), 200);
  return until;
}

/** The route table for a fixture, with requests that address exactly its resources. */
function routesOf(f: ScopedFixture, opts: { externalIds?: boolean } = {}): Map<string, RouteCase> {
  const routes = new Map(v1Routes(f).map((r) => [r.op, { ...r }]));
  const patch = (op: string, change: Partial<RouteCase>) => {
    const r = routes.get(op);
    if (r) routes.set(op, { ...r, ...change });
  };
  if (opts.externalIds !== false) {
    patch('getMemberByExternalId', { url: `/v1/programs/${f.programId}/members/by-external-id/${f.memberExternalId}` });
    patch('getEventByExternalId', { url: `/v1/programs/${f.programId}/events/by-external-id/${f.eventExternalId}` });
  }
  patch('createApiKey', { body: { name: 'scope check', scopes: ['integration'], program_ids: [f.programId] } });
  patch('auditLedger', { url: `/v1/audit?program_id=${f.programId}` });
  return routes;
}

/** A problem (or batch) body with the request's own parts taken out and the ids replaced by their role. */
function normalised(res: Res, ids: Record<string, string>): Json {
  let text = res.body;
  for (const [role, id] of Object.entries(ids)) text = text.replaceAll(id, `<${role}>`);
  return JSON.parse(text, (k, v) => (k === 'request_id' ? '<request>' : v));
}

function rolesOf(f: ScopedFixture): Record<string, string> {
  return {
    program: f.programId,
    member: f.memberId,
    other: f.otherMemberId,
    hold: f.holdId,
    entry: f.entryId,
    key: f.apiKeyId,
    rule: f.ruleId,
    event: f.eventId,
    change: f.changeId!,
    memberExternal: f.memberExternalId,
    eventExternal: f.eventExternalId,
    segment: f.segmentId!,
    reward: f.rewardId!,
    priceChange: f.priceChangeId!,
    redemption: f.redemptionId!,
    lottery: f.lotteryId!,
    prize: f.prizeId!,
    draw: f.drawId!,
    coupon: f.couponId!,
    codeImport: f.codeImportId!,
    deduction: f.deductionId!,
    capturedDeduction: f.capturedDeductionId!,
  };
}

/** Everything of program B an operation could change, as a deployment-wide admin key sees it. */
async function stateOf(t: TestApp, f: ScopedFixture): Promise<Json> {
  const audit = ok(await t.call('GET', `/v1/audit?program_id=${f.programId}`), 200);
  delete audit.as_of;
  return {
    world: await worldState(t, f),
    audit,
    event: ok(await t.call('GET', `/v1/events/${f.eventId}`), 200),
    rule: ok(await t.call('GET', `/v1/rules/${f.ruleId}`), 200),
    byExternalId: ok(await t.call('GET', `/v1/programs/${f.programId}/events/by-external-id/${f.eventExternalId}`), 200),
  };
}

forEachDatabase('program-scoped API keys', (getDb, kind) => {
  let t: TestApp;
  let A: ScopedFixture;
  let B: ScopedFixture;
  /** Ids of the same kinds as B's that exist nowhere (in the same order as B's members). */
  let ghost: ScopedFixture;
  let aKey: Json;
  let spec: Json;
  before(async () => {
    t = await createTestApp(getDb());
    const pa = await createProgram(t, { name: 'Brand A' });
    const pb = await createProgram(t, { name: 'Brand B' });
    A = await fixtureIn(t, pa.id);
    B = await fixtureIn(t, pb.id);
    const [m1, m2] = B.memberId < B.otherMemberId ? ['mbr_ghost1', 'mbr_ghost2'] : ['mbr_ghost2', 'mbr_ghost1'];
    ghost = {
      programId: 'prg_ghost',
      memberId: m1,
      otherMemberId: m2,
      holdId: 'hld_ghost',
      entryId: 'ent_ghost',
      apiKeyId: 'key_ghost',
      ruleId: 'rul_ghost',
      eventId: 'evt_ghost',
      changeId: 'chg_ghost',
      memberExternalId: 'ghost-member',
      eventExternalId: 'ghost-event',
      segmentId: 'seg_ghost',
      rewardId: 'rwd_ghost',
      priceChangeId: 'rpc_ghost',
      redemptionId: 'rdm_ghost',
      lotteryId: 'rwd_phantom',
      prizeId: 'lpz_ghost',
      drawId: 'ldr_ghost',
      couponId: 'rwd_couponghost',
      codeImportId: 'rci_ghost',
      deductionId: 'chk_ghost',
      capturedDeductionId: 'chk_phantom',
    };
    aKey = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'brand A admin', scopes: ['admin'], program_ids: [A.programId] } }), 201);
    spec = t.app.swagger();
  });
  after(() => t.close());

  const operations = (): [string, string, Json][] =>
    Object.entries(spec.paths as Record<string, Json>)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m): [string, string, Json] => [m, path, item[m]]))
      // operations authenticated by something else than an API key (member tokens) are not about keys
      .filter(([, , op]) => (op.security ?? spec.security).some((req: Json) => Object.hasOwn(req, 'apiKey')));

  it('has an expectation and a request for every API-key operation of the OpenAPI document', () => {
    const ops = operations();
    assert.ok(ops.length >= 45, `only ${ops.length} operations`);
    const routes = routesOf(B);
    for (const [method, path, op] of ops) {
      assert.ok(ON_B[op.operationId], `${method.toUpperCase()} ${path} (${op.operationId}): say here what a key of another program gets`);
      assert.ok(routes.has(op.operationId), `${op.operationId}: no request for it in v1Routes (test/http/support.ts)`);
    }
  });

  describe("on program B's resources, the key limited to A", () => {
    // Every operation of the document, in the order of the document. Each checks that B is unchanged.
    it('gets what an unknown resource gets, for every operation, and changes nothing of B', async () => {
      const routes = routesOf(B);
      // nothing may change, so one baseline serves every operation
      const baseline = await stateOf(t, B);
      // the same request with every id of B replaced by one that exists nowhere
      const asGhost = (r: RouteCase): RouteCase => {
        let text = JSON.stringify(r);
        for (const [role, id] of Object.entries(rolesOf(B))) text = text.replaceAll(id, rolesOf(ghost)[role]!);
        return JSON.parse(text);
      };
      for (const [, , op] of operations()) {
        const id: string = op.operationId;
        const expectation = ON_B[id];
        const r = routes.get(id);
        if (!expectation || !r) continue; // reported by the test above
        const res = await send(t, r, aKey.secret);
        if (expectation === 'filtered') {
          const body = ok(res, 200);
          const text = JSON.stringify(body);
          assert.ok(!text.includes(B.programId) && !text.includes(B.apiKeyId), `${id} shows B: ${text}`);
          assert.ok(text.includes(A.programId), `${id} shows A: ${text}`);
        } else if (expectation === 'batch') {
          const body = ok(res, 200);
          assert.equal(body.rejected, 1, res.body);
          assert.equal(body.results[0].status, 404, res.body);
          assert.equal(body.results[0].error.code, 'PROGRAM_NOT_FOUND', res.body);
          assert.equal(body.results[0].error.status, 404, res.body);
        } else {
          assertProblem(res, expectation[0], expectation[1]);
        }
        if (expectation !== 'filtered' && !DEPLOYMENT_ONLY.has(id)) {
          // indistinguishable from resources that do not exist, with this key and with a deployment-wide one
          const g = asGhost(r);
          const mine = normalised(res, rolesOf(B));
          const unknown = normalised(await send(t, g, aKey.secret), rolesOf(ghost));
          assert.deepEqual(mine, unknown, `${id}: B's resource answers differently from an unknown one`);
          const ghostRes = await send(t, g, t.keys.admin);
          assert.equal(ghostRes.statusCode, res.statusCode, `${id} as an unknown resource with a deployment-wide key: ${ghostRes.body}`);
          assert.deepEqual(mine, normalised(ghostRes, rolesOf(ghost)), `${id}: differs from a deployment-wide key's not-found`);
        }
        // reads are checked together at the end
        if (r.method !== 'GET') assert.deepEqual(await stateOf(t, B), baseline, `${id} changed program B`);
      }
      assert.deepEqual(await stateOf(t, B), baseline, 'the reads changed program B');
    });

    it("cannot move points between A and B, either way, and the answer names B's member as unknown", async () => {
      const baseline = await stateOf(t, B);
      const before = await stateOf(t, A);
      for (const [from, to, missing] of [
        [A.memberId, B.memberId, B.memberId],
        [B.memberId, A.memberId, B.memberId],
      ] as const) {
        const res = await t.call('POST', '/v1/transfers', { key: aKey.secret, body: { from_member_id: from, to_member_id: to, points: 5 }, idem: true });
        assertProblem(res, 404, 'MEMBER_NOT_FOUND', { extra: { member_id: missing } });
        const ghostRes = await t.call('POST', '/v1/transfers', {
          body: { from_member_id: from, to_member_id: to.replace(B.memberId, 'mbr_ghost'), points: 5 },
          idem: true,
        });
        if (from === A.memberId) assertProblem(ghostRes, 404, 'MEMBER_NOT_FOUND', { extra: { member_id: 'mbr_ghost' } });
      }
      // a member of B in an event of A: not a member of A
      const res = await t.call('POST', '/v1/events', {
        key: aKey.secret,
        body: { id: unique('evt'), type: 'checkin', program_id: A.programId, member_id: B.memberId },
      });
      assertProblem(res, 404, 'MEMBER_NOT_FOUND');
      assert.deepEqual(await stateOf(t, B), baseline);
      const afterA = await stateOf(t, A);
      assert.deepEqual(afterA.world.members, before.world.members);
    });

    it("gets a per-event 404 for B's events in a batch, as for an unknown program, while A's are processed", async () => {
      const baseline = await stateOf(t, B);
      const events = [
        { id: unique('evt'), type: 'checkin', program_id: A.programId, member_id: A.memberId },
        { id: unique('evt'), type: 'checkin', program_id: B.programId, member_id: B.memberId },
        { id: unique('evt'), type: 'checkin', program_id: 'prg_ghost', member_id: B.memberId },
      ];
      const body = ok(await t.call('POST', '/v1/events/batch', { key: aKey.secret, body: { events } }), 200);
      assert.deepEqual(
        body.results.map((r: Json) => r.status),
        [201, 404, 404],
      );
      assert.equal(body.processed, 1);
      const [b, g] = body.results.slice(1).map((r: Json) =>
        JSON.stringify(r.error)
          .replaceAll(B.programId, '<p>')
          .replaceAll('prg_ghost', '<p>')
          .replace(/#\/events\/\d/, ''),
      );
      assert.equal(b, g);
      assert.equal(body.results[1].error.code, 'PROGRAM_NOT_FOUND');
      assert.deepEqual(await stateOf(t, B), baseline);
    });

    it("gets the same 409 for a reused Idempotency-Key on B's member as on an unknown member (no existence oracle)", async () => {
      const idem = unique('idem');
      ok(await t.call('POST', `/v1/members/${A.memberId}/credits`, { key: aKey.secret, body: { points: 1 }, idem }), 201);
      const baseline = await stateOf(t, B);
      const onB = await t.call('POST', `/v1/members/${B.memberId}/credits`, { key: aKey.secret, body: { points: 1 }, idem });
      const onGhost = await t.call('POST', '/v1/members/mbr_ghost/credits', { key: aKey.secret, body: { points: 1 }, idem });
      assertProblem(onB, 409, 'IDEMPOTENCY_KEY_REUSED');
      assert.deepEqual(normalised(onB, { member: B.memberId }), normalised(onGhost, { member: 'mbr_ghost' }));
      // without the reuse, a fresh key: 404 either way
      assertProblem(await t.call('POST', `/v1/members/${B.memberId}/credits`, { key: aKey.secret, body: { points: 1 }, idem: true }), 404, 'MEMBER_NOT_FOUND', {
        extra: { member_id: B.memberId },
      });
      assert.deepEqual(await stateOf(t, B), baseline);
    });

    it('audits only its programs when it names none', async () => {
      const report = ok(await t.call('GET', '/v1/audit', { key: aKey.secret }), 200);
      assert.equal(report.ok, true);
      assert.equal(report.program_id, null);
      assert.ok(report.accounts.length > 0);
      assert.ok(
        report.accounts.every((a: Json) => a.program_id === A.programId),
        JSON.stringify(report.accounts),
      );
      const ofA = ok(await t.call('GET', `/v1/audit?program_id=${A.programId}`), 200);
      assert.deepEqual(report.checked, ofA.checked);
      assert.deepEqual(report.accounts, ofA.accounts);
      const all = ok(await t.call('GET', '/v1/audit'), 200);
      assert.ok(
        all.accounts.some((a: Json) => a.program_id === B.programId),
        'a deployment-wide key audits everything',
      );
    });
  });

  describe("on program A's resources, the key limited to A", () => {
    // a fixture per write is most of this file's time: on one database (PostgreSQL, the production
    // path, when the suite has it); the scope checks themselves are the same code on both
    const everyOperationHere = kind === 'postgres' || !DB_KINDS.includes('postgres');
    it("can do every operation (a fresh set of A's resources for each write)", { skip: !everyOperationHere && 'run on PostgreSQL' }, async () => {
      for (const [, , op] of operations()) {
        const id: string = op.operationId;
        if (!ON_B[id] || !routesOf(A).has(id)) continue; // reported by the first test
        const f = routesOf(A).get(id)!.method === 'GET' ? A : await fixtureIn(t, A.programId);
        const r = routesOf(f).get(id)!;
        const res = await send(t, r, aKey.secret);
        if (DEPLOYMENT_ONLY.has(id)) {
          assertProblem(res, 403, 'FORBIDDEN', { extra: { required_access: 'deployment' } });
          continue;
        }
        assert.ok(res.statusCode >= 200 && res.statusCode < 300, `${id}: ${res.statusCode} ${res.body}`);
        if (id === 'sendEvents') assert.equal(res.json().rejected, 0, res.body);
      }
    });

    it("lists only A's programs, page by page", async () => {
      const page = ok(await t.call('GET', '/v1/programs?limit=1', { key: aKey.secret }), 200);
      assert.deepEqual(
        page.data.map((p: Json) => p.id),
        [A.programId],
      );
      assert.equal(page.has_more, false);
      const all = ok(await t.call('GET', '/v1/programs?limit=100'), 200);
      assert.ok(
        all.data.some((p: Json) => p.id === B.programId),
        'a deployment-wide key lists every program',
      );
    });
  });

  describe('creating and listing keys', () => {
    it('creates a key for some programs, shows program_ids when listed, and old keys are deployment-wide', async () => {
      const key = ok(
        await t.call('POST', '/v1/api-keys', { body: { name: 'two brands', scopes: ['integration'], program_ids: [B.programId, A.programId] } }),
        201,
      );
      assert.deepEqual(key.program_ids, [B.programId, A.programId]);
      const listed = ok(await t.call('GET', '/v1/api-keys'), 200).data;
      assert.deepEqual(listed.find((k: Json) => k.id === key.id).program_ids, [B.programId, A.programId]);
      assert.equal(listed.find((k: Json) => k.name === 'test admin').program_ids, null);
      // it works on both programs, and not on a third
      ok(await t.call('GET', `/v1/members/${A.memberId}/balance`, { key: key.secret }), 200);
      ok(await t.call('POST', `/v1/members/${B.memberId}/credits`, { key: key.secret, body: { points: 1 }, idem: true }), 201);
      const other = await createProgram(t, { name: 'Brand C' });
      const m = await createMember(t, other.id);
      assertProblem(await t.call('GET', `/v1/members/${m.id}/balance`, { key: key.secret }), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await t.call('GET', `/v1/programs/${other.id}`, { key: key.secret }), 404, 'PROGRAM_NOT_FOUND');
      // scopes stay what they were: an integration key cannot adjust, in its programs or not
      assertProblem(
        await t.call('POST', `/v1/members/${A.memberId}/adjustments`, { key: key.secret, body: { points: 1, reason_code: 'x' }, idem: true }),
        403,
        'FORBIDDEN',
      );
    });

    it('without program_ids (or null), a key is deployment-wide and sees everything', async () => {
      for (const body of [
        { name: 'everything', scopes: ['read'] },
        { name: 'everything too', scopes: ['read'], program_ids: null },
      ]) {
        const key = ok(await t.call('POST', '/v1/api-keys', { body }), 201);
        assert.equal(key.program_ids, null);
        ok(await t.call('GET', `/v1/members/${A.memberId}`, { key: key.secret }), 200);
        ok(await t.call('GET', `/v1/members/${B.memberId}`, { key: key.secret }), 200);
        const programs = ok(await t.call('GET', '/v1/programs?limit=100', { key: key.secret }), 200).data.map((p: Json) => p.id);
        assert.ok(programs.includes(A.programId) && programs.includes(B.programId));
      }
    });

    it('refuses unknown programs (404 at the field) and malformed program_ids (400), creating no key', async () => {
      const before = ok(await t.call('GET', '/v1/api-keys'), 200);
      assertProblem(
        await t.call('POST', '/v1/api-keys', { body: { name: 'x', scopes: ['read'], program_ids: [A.programId, 'prg_doesnotexist'] } }),
        404,
        'PROGRAM_NOT_FOUND',
        {
          path: '/program_ids/1',
          extra: { program_id: 'prg_doesnotexist' },
        },
      );
      const cases: [unknown, string][] = [
        [[], '/program_ids'],
        [[A.programId, A.programId], '/program_ids'],
        [['mbr_notaprogram'], '/program_ids/0'],
        [A.programId, '/program_ids'],
        [Array.from({ length: 101 }, (_, i) => `prg_${i}`), '/program_ids'],
      ];
      for (const [program_ids, path] of cases) {
        const res = await t.call('POST', '/v1/api-keys', { body: { name: 'x', scopes: ['read'], program_ids } });
        assertProblem(res, 400, 'VALIDATION_FAILED');
        assert.ok(
          res.json().errors.some((e: Json) => e.path.startsWith(path)),
          `${path}: ${res.body}`,
        );
      }
      assert.deepEqual(ok(await t.call('GET', '/v1/api-keys'), 200), before);
    });

    it('lets an admin key limited to A make keys only for A: never deployment-wide, never for B', async () => {
      const before = ok(await t.call('GET', '/v1/api-keys'), 200);
      assertProblem(await t.call('POST', '/v1/api-keys', { key: aKey.secret, body: { name: 'x', scopes: ['read'] } }), 403, 'FORBIDDEN', {
        extra: { required_access: 'deployment' },
      });
      assertProblem(await t.call('POST', '/v1/api-keys', { key: aKey.secret, body: { name: 'x', scopes: ['read'], program_ids: null } }), 403, 'FORBIDDEN');
      const forB = await t.call('POST', '/v1/api-keys', { key: aKey.secret, body: { name: 'x', scopes: ['read'], program_ids: [A.programId, B.programId] } });
      const forGhost = await t.call('POST', '/v1/api-keys', {
        key: aKey.secret,
        body: { name: 'x', scopes: ['read'], program_ids: [A.programId, 'prg_ghost'] },
      });
      assertProblem(forB, 404, 'PROGRAM_NOT_FOUND', { path: '/program_ids/1' });
      assert.deepEqual(normalised(forB, { p: B.programId }), normalised(forGhost, { p: 'prg_ghost' }));
      assert.deepEqual(ok(await t.call('GET', '/v1/api-keys'), 200), before);

      const made = ok(
        await t.call('POST', '/v1/api-keys', { key: aKey.secret, body: { name: 'A checkout', scopes: ['integration'], program_ids: [A.programId] } }),
        201,
      );
      assert.deepEqual(made.program_ids, [A.programId]);
      ok(await t.call('POST', `/v1/members/${A.memberId}/credits`, { key: made.secret, body: { points: 1 }, idem: true }), 201);
      assertProblem(await t.call('POST', `/v1/members/${B.memberId}/credits`, { key: made.secret, body: { points: 1 }, idem: true }), 404, 'MEMBER_NOT_FOUND');
    });

    it('shows and revokes, with a key limited to A, only the keys limited to A', async () => {
      const listed = ok(await t.call('GET', '/v1/api-keys', { key: aKey.secret }), 200).data;
      assert.ok(listed.length > 0);
      for (const k of listed)
        assert.ok(
          k.program_ids?.every((p: string) => p === A.programId),
          JSON.stringify(k),
        );
      assert.ok(
        listed.some((k: Json) => k.id === aKey.id),
        'it sees itself',
      );
      const deploymentKey = ok(await t.call('GET', '/v1/api-keys'), 200).data.find((k: Json) => k.name === 'test admin');
      const both = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'A and B', scopes: ['read'], program_ids: [A.programId, B.programId] } }), 201);
      for (const id of [deploymentKey.id, both.id, B.apiKeyId]) {
        assertProblem(await t.call('DELETE', `/v1/api-keys/${id}`, { key: aKey.secret }), 404, 'API_KEY_NOT_FOUND', { extra: { api_key_id: id } });
      }
      ok(await t.call('GET', '/v1/programs', { key: both.secret }), 200);
      const spare = ok(
        await t.call('POST', '/v1/api-keys', { key: aKey.secret, body: { name: 'A spare', scopes: ['read'], program_ids: [A.programId] } }),
        201,
      );
      ok(await t.call('DELETE', `/v1/api-keys/${spare.id}`, { key: aKey.secret }), 200);
      assertProblem(await t.call('GET', '/v1/programs', { key: spare.secret }), 401, 'UNAUTHENTICATED');
    });
  });
});
