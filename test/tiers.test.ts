/**
 * The tiers API (docs/tiers.md): the ladder (validation at each field's path, TIER_IN_USE, the
 * members counted per tier), what a first ladder does to a program that already has members and
 * events (qualifying activity backfilled from the events, upgrades, the plain tier attribute kept
 * as an override), the plain attribute refused once a ladder exists, overrides (a floor the rule
 * engine sees, with history), a member's status figures (window, next tier, what keeps it), the
 * program's mix and history, scope isolation, /v1/me/tier and console roles; and the SQL date
 * helpers, called directly, across year ends and 29 February.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { addMembers } from '../src/modules/members/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { signInAs } from './helpers/console.ts';
import { forEachDatabase, holdOpen } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { assertProblem } from './http/support.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers
type Json = any;

const name = (zh: string, en: string) => ({ 'zh-CN': zh, en });
/** The seed ladder: 年消费 1,000 / 5,000 元 over the calendar year, kept through the next year. */
const seedLadder = (extra: Record<string, unknown> = {}): Json => ({
  metric: 'spend',
  qualifying_window: { type: 'calendar_year' },
  validity: { type: 'period_and_next' },
  downgrade_policy: 'one_step',
  tiers: [
    { code: 'bronze', name: name('青铜', 'Bronze'), entry: 0 },
    { code: 'silver', name: name('白银', 'Silver'), entry: 100_000, retention: 80_000, multiplier: '1.2' },
    { code: 'gold', name: name('黄金', 'Gold'), entry: 500_000, multiplier: '1.5', welcome_points: 500 },
  ],
  ...extra,
});

forEachDatabase('tiers API', (getDb, kind) => {
  let t: TestApp;

  const ok = (res: { statusCode: number; body: string; json: () => Json }, status = 200): Json => {
    assert.equal(res.statusCode, status, res.body);
    return res.json();
  };
  async function program(): Promise<string> {
    const id = ok(await t.call('POST', '/v1/programs', { body: { name: unique('tiers'), pending_days: 0, time_zone: 'Asia/Shanghai' } }), 201).id;
    ok(
      await t.call('POST', `/v1/programs/${id}/rules`, {
        body: { definition: { name: '消费积分', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } } },
      }),
      201,
    );
    return id;
  }
  const member = async (programId: string, body: Json = {}) =>
    ok(await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id: unique('m'), ...body } }), 201);
  const order = (programId: string, memberId: string, orderId: string, amount: number, at = t.clock.now().toISOString()) => ({
    id: unique('evt'),
    type: 'order.paid',
    program_id: programId,
    member_id: memberId,
    occurred_at: at,
    data: { order_id: orderId, amount, currency: 'CNY' },
  });
  const refund = (programId: string, memberId: string, orderId: string, data: Json = {}) => ({
    id: unique('evt'),
    type: 'order.refunded',
    program_id: programId,
    member_id: memberId,
    occurred_at: t.clock.now().toISOString(),
    data: { order_id: orderId, ...data },
  });
  const send = async (body: Json, status = 201) => ok(await t.call('POST', '/v1/events', { key: t.keys.integration, body }), status);
  const put = (programId: string, body: Json, options: { idem?: string } = {}) =>
    t.call('PUT', `/v1/programs/${programId}/tier-ladder`, { body, idem: options.idem });
  const tierOf = async (id: string) => ok(await t.call('GET', `/v1/members/${id}`)).tier;
  const history = async (id: string) =>
    getDb().db.query<Json>('SELECT type, from_tier, to_tier, reason, actor, payload FROM tier_history WHERE member_id = $1 ORDER BY at, id', [id]);
  const activity = async (id: string) =>
    (await getDb().db.query<Json>('SELECT day::text AS day, spend::int, points::int, orders FROM tier_activity WHERE member_id = $1 ORDER BY day', [id])).map(
      (r) => ({ ...r }),
    );

  before(async () => {
    t = await createTestApp(getDb(), '2026-03-01T02:00:00.000Z');
  });

  describe('the ladder', () => {
    const cases: [string, (l: Json) => void, string][] = [
      ['the base tier has an entry', (l) => (l.tiers[0].entry = 10), '/tiers/0/entry'],
      ['entries do not increase', (l) => (l.tiers[2].entry = 100_000), '/tiers/2/entry'],
      ['retention above entry', (l) => (l.tiers[1].retention = 100_001), '/tiers/1/retention'],
      ['a code twice', (l) => (l.tiers[2].code = 'silver'), '/tiers/2/code'],
      ['rolling months without months', (l) => (l.qualifying_window = { type: 'rolling_months' }), '/qualifying_window/months'],
      ['months on a calendar year', (l) => (l.qualifying_window = { type: 'calendar_year', months: 12 }), '/qualifying_window/months'],
      ['validity months without months', (l) => (l.validity = { type: 'months' }), '/validity/months'],
      ['until_date without a day', (l) => (l.validity = { type: 'until_date', month: 1, years: 2 }), '/validity/day'],
      ['31 April', (l) => (l.validity = { type: 'until_date', month: 4, day: 31, years: 1 }), '/validity/day'],
      ['30 February', (l) => (l.validity = { type: 'until_date', month: 2, day: 30, years: 1 }), '/validity/day'],
      ['a field of another validity', (l) => (l.validity = { type: 'period_and_next', months: 12 }), '/validity/months'],
      [
        'period_and_next on a rolling window',
        (l) => {
          l.qualifying_window = { type: 'rolling_months', months: 12 };
        },
        '/validity/type',
      ],
      [
        'until_date on a membership year',
        (l) => {
          l.qualifying_window = { type: 'membership_year' };
          l.validity = { type: 'until_date', month: 1, day: 31, years: 2 };
        },
        '/validity/type',
      ],
      [
        'a grant with points and a coupon',
        (l) => (l.tiers[1].grants = [{ key: 'g', name: name('礼', 'Gift'), every: 'month', points: 5, coupon_prefix: 'X' }]),
        '/tiers/1/grants/0',
      ],
      ['a grant with neither', (l) => (l.tiers[1].grants = [{ key: 'g', name: name('礼', 'Gift'), every: 'month' }]), '/tiers/1/grants/0'],
      [
        'two grants with one key',
        (l) =>
          (l.tiers[1].grants = [
            { key: 'g', name: name('礼', 'Gift'), every: 'month', points: 5 },
            { key: 'g', name: name('礼', 'Gift'), every: 'year', points: 9 },
          ]),
        '/tiers/1/grants/1/key',
      ],
      ['keep_current_tiers_until in the past', (l) => (l.keep_current_tiers_until = '2026-02-01'), '/keep_current_tiers_until'],
      ['an unknown field', (l) => (l.colour = 'gold'), ''],
      ['no tiers', (l) => (l.tiers = []), '/tiers'],
    ];
    for (const [what, change, path] of cases) {
      it(`refuses ${what} with 400 at ${path || 'the body'}`, async () => {
        const p = await program();
        const body = seedLadder();
        change(body);
        const problem = assertProblem(await put(p, body), 400, 'VALIDATION_FAILED');
        assert.ok(
          problem.errors.some((e: Json) => path === '' || e.path === path),
          JSON.stringify(problem.errors),
        );
        assertProblem(await t.call('GET', `/v1/programs/${p}/tier-ladder`), 404, 'TIER_LADDER_NOT_FOUND');
      });
    }

    it('names what each field breaks as a stable rule with its figures, for clients to translate', async () => {
      const p = await program();
      const cases: [(l: Json) => void, Json][] = [
        [(l) => (l.tiers[1].retention = 100_001), { path: '/tiers/1/retention', rule: 'at_most_field', params: { field: 'entry' } }],
        [(l) => (l.tiers[2].entry = 100_000), { path: '/tiers/2/entry', rule: 'more_than_tier', params: { tier: 'silver' } }],
        [(l) => (l.tiers[2].code = 'silver'), { path: '/tiers/2/code', rule: 'duplicate', params: { path: '/tiers/1' } }],
        [
          (l) => (l.validity = { type: 'until_date', month: 4, day: 31, years: 1 }),
          { path: '/validity/day', rule: 'no_such_day', params: { month: 4, day: 31 } },
        ],
        [
          (l) => (l.validity = { type: 'period_and_next', months: 12 }),
          { path: '/validity/months', rule: 'only_for', params: { field: 'type', value: 'months' } },
        ],
        // JSON Schema's own keywords, with Ajv's figures
        [(l) => (l.colour = 'gold'), { path: '/colour', rule: 'unknown_field', params: {} }],
        [(l) => (l.tiers[1].entry = -1), { path: '/tiers/1/entry', rule: 'minimum', params: { comparison: '>=', limit: 0 } }],
        [(l) => (l.metric = 'visits'), { path: '/metric', rule: 'enum', params: { values: 'spend, points, orders' } }],
        [(l) => delete l.tiers, { path: '/tiers', rule: 'required', params: {} }],
      ];
      for (const [change, expected] of cases) {
        const body = seedLadder();
        change(body);
        const problem = assertProblem(await put(p, body), 400, 'VALIDATION_FAILED');
        const found = problem.errors.find((e: Json) => e.path === expected.path);
        assert.deepEqual(found && { path: found.path, rule: found.rule, params: found.params }, expected, JSON.stringify(problem.errors));
        assert.equal(typeof found.message, 'string');
      }
    });

    it('stores the tiers normalized, counts the members per tier, and replaces the whole ladder with the next revision', async () => {
      const p = await program();
      await member(p);
      assertProblem(await t.call('GET', `/v1/programs/${p}/tier-ladder`), 404, 'TIER_LADDER_NOT_FOUND');
      assertProblem(await t.call('GET', `/v1/programs/${p}/tier-mix`), 404, 'TIER_LADDER_NOT_FOUND');
      const created = ok(await put(p, seedLadder()), 201);
      assert.equal(created.revision, 1);
      assert.deepEqual(created.tiers[0], {
        code: 'bronze',
        rank: 0,
        name: name('青铜', 'Bronze'),
        entry: 0,
        retention: 0,
        multiplier: '1',
        birthday_points: 0,
        welcome_points: 0,
        grants: [],
        perks: [],
        members: 1,
      });
      assert.deepEqual(
        created.tiers.map((x: Json) => [x.code, x.retention, x.multiplier, x.members]),
        [
          ['bronze', 0, '1', 1],
          ['silver', 80_000, '1.2', 0],
          ['gold', 500_000, '1.5', 0],
        ],
      );
      assert.deepEqual([created.grace_days, created.upgrade_event_rate], [0, 'old']);
      const changed = seedLadder({ grace_days: 30 });
      changed.tiers.push({ code: 'diamond', name: name('钻石', 'Diamond'), entry: 2_000_000, multiplier: '2' });
      const replaced = ok(await put(p, changed), 200);
      assert.deepEqual([replaced.revision, replaced.grace_days, replaced.tiers.length], [2, 30, 4]);
      assert.deepEqual(
        ok(await t.call('GET', `/v1/programs/${p}/tier-ladder`)).tiers.map((x: Json) => x.code),
        ['bronze', 'silver', 'gold', 'diamond'],
      );
      // keep_current_tiers_until is for the first ladder only
      assertProblem(await put(p, { ...changed, keep_current_tiers_until: '2027-01-01' }), 400, 'VALIDATION_FAILED');
      // removing diamond, which nobody holds, is fine
      ok(await put(p, seedLadder()), 200);
    });

    it('refuses to remove (or rename) a tier members hold with 409 TIER_IN_USE, and changes nothing', async () => {
      const p = await program();
      const m = await member(p);
      ok(await put(p, seedLadder()), 201);
      await send(order(p, m.id, 'o1', 120_000));
      assert.equal(await tierOf(m.id), 'silver');
      const renamed = seedLadder();
      renamed.tiers[1].code = 'argent';
      const problem = assertProblem(await put(p, renamed), 409, 'TIER_IN_USE');
      assert.deepEqual(problem.tiers, [{ code: 'silver', members: 1 }]);
      assert.equal(ok(await t.call('GET', `/v1/programs/${p}/tier-ladder`)).revision, 1);
    });

    it('upgrades members a lowered threshold now qualifies when the ladder changes (ladder changed), and never downgrades', async () => {
      const p = await program();
      const low = await member(p);
      const high = await member(p);
      ok(await put(p, seedLadder()), 201);
      await send(order(p, low.id, 'a', 90_000));
      await send(order(p, high.id, 'b', 120_000));
      const cheaper = seedLadder();
      cheaper.tiers[1].entry = 50_000;
      cheaper.tiers[1].retention = 50_000;
      cheaper.tiers[2].entry = 1_000_000;
      ok(await put(p, cheaper), 200);
      assert.equal(await tierOf(low.id), 'silver');
      assert.equal(await tierOf(high.id), 'silver');
      const [up] = await history(low.id);
      assert.deepEqual(
        [up.type, up.from_tier, up.to_tier, up.reason, up.payload.value, up.payload.threshold],
        ['tier.upgraded', 'bronze', 'silver', 'ladder changed', 90_000, 50_000],
      );
      assert.equal((await history(high.id)).length, 1, 'the member already silver gets no second row');
    });

    it('a viewer cannot change the ladder; an operator can; a support user can set an override but not the ladder', async () => {
      const p = await program();
      const m = await member(p);
      const viewer = await signInAs(t, getDb(), [{ program_id: p, role: 'viewer' }]);
      assertProblem(await viewer.call('PUT', `/v1/programs/${p}/tier-ladder`, { body: seedLadder() }), 403, 'FORBIDDEN');
      const support = await signInAs(t, getDb(), [{ program_id: p, role: 'support' }]);
      assertProblem(await support.call('PUT', `/v1/programs/${p}/tier-ladder`, { body: seedLadder() }), 403, 'FORBIDDEN');
      const operator = await signInAs(t, getDb(), [{ program_id: p, role: 'operator' }]);
      ok(await operator.call('PUT', `/v1/programs/${p}/tier-ladder`, { body: seedLadder() }), 201);
      ok(await viewer.call('GET', `/v1/programs/${p}/tier-ladder`), 200);
      ok(await viewer.call('GET', `/v1/members/${m.id}/tier`), 200);
      const until = new Date(t.clock.now().getTime() + 30 * 86_400_000).toISOString();
      assertProblem(await viewer.call('POST', `/v1/members/${m.id}/tier-override`, { body: { tier: 'gold', until, reason: 'x' } }), 403, 'FORBIDDEN');
      const set = ok(await support.call('POST', `/v1/members/${m.id}/tier-override`, { body: { tier: 'gold', until, reason: 'VIP guest' } }));
      assert.equal(set.override.by, `console_user:${support.email}`);
      // the change log names the ladder edit
      const changes = ok(await t.call('GET', `/v1/programs/${p}/changes`)).data;
      assert.ok(changes.some((c: Json) => c.operation === 'putTierLadder' && c.resource_type === 'tier_ladder' && c.resource_id === p));
      assert.ok(changes.some((c: Json) => c.operation === 'setTierOverride' && c.resource_id === m.id));
    });
  });

  describe('the first ladder of a program with history', () => {
    it('backfills the qualifying activity from the events, upgrades whom it qualifies (ladder created), keeps a higher plain tier as an override, and grants no welcome points', async () => {
      t.clock.set('2026-03-01T02:00:00.000Z');
      const p = await program();
      const spender = await member(p);
      const vip = await member(p, { tier: 'gold' });
      const plain = await member(p, { tier: 'vip' });
      // 2026-03-01 (Shanghai): ¥800 and ¥300 for the spender; ¥200 refunded of the second the next day
      await send(order(p, spender.id, 's1', 80_000));
      await send(order(p, spender.id, 's2', 30_000, '2026-03-01T15:30:00.000Z')); // 23:30 in Shanghai: the same local day
      t.clock.set('2026-03-02T03:00:00.000Z');
      await send(refund(p, spender.id, 's2', { amount: 20_000 }));
      // an order refunded in full counts neither its spend nor the order
      await send(order(p, spender.id, 's3', 5_000));
      await send(refund(p, spender.id, 's3'));
      // the VIP (plain tier gold) spent ¥200
      await send(order(p, vip.id, 'v1', 20_000));
      const spenderBalance = ok(await t.call('GET', `/v1/members/${spender.id}/balance`)).available;

      t.clock.set('2026-03-10T02:00:00.000Z');
      ok(await put(p, seedLadder({ keep_current_tiers_until: '2026-06-30' })), 201);
      // ¥800 + ¥300 − ¥200 on the day of the orders, 1,100 − 200 points; s3 and its full refund come to nothing
      assert.deepEqual(await activity(spender.id), [{ day: '2026-03-01', spend: 90_000, points: 900, orders: 2 }]);
      // ¥900 < ¥1,000: the spender stays bronze
      assert.equal(await tierOf(spender.id), 'bronze');
      assert.equal(await tierOf(plain.id), 'bronze', 'a plain tier the ladder does not have becomes the base tier');
      // the VIP keeps gold as an override until the end of 30 June (Shanghai)
      assert.equal(await tierOf(vip.id), 'gold');
      const vipStatus = ok(await t.call('GET', `/v1/members/${vip.id}/tier`));
      assert.deepEqual(vipStatus.override, {
        tier: 'gold',
        until: '2026-06-30T16:00:00.000Z',
        reason: 'migrated from the tier attribute',
        by: 'migration',
      });
      assert.equal(vipStatus.earned.code, 'bronze');
      const [set] = await history(vip.id);
      assert.deepEqual(
        [set.type, set.from_tier, set.to_tier, set.actor, set.payload.until],
        ['tier.override_set', 'bronze', 'gold', 'migration', '2026-06-30T16:00:00.000Z'],
      );
      // rules see the override: the VIP earns 1.5×
      assert.equal((await send(order(p, vip.id, 'v2', 10_000))).points, 150);
      // ingestion carries on from the backfill: ¥900 + ¥100 = ¥1,000 reaches silver
      const crossing = await send(order(p, spender.id, 's4', 10_000));
      assert.equal(await tierOf(spender.id), 'silver');
      assert.equal(ok(await t.call('GET', `/v1/members/${spender.id}/balance`)).available, spenderBalance + crossing.points);
    });

    it('upgrades members whose past spend reaches a tier, with their validity and the figures in the history', async () => {
      t.clock.set('2026-04-01T02:00:00.000Z');
      const p = await program();
      const m = await member(p);
      await send(order(p, m.id, 'big', 600_000));
      const before = ok(await t.call('GET', `/v1/members/${m.id}/balance`)).available;
      t.clock.set('2026-04-02T02:00:00.000Z');
      ok(await put(p, seedLadder()), 201);
      assert.equal(await tierOf(m.id), 'gold');
      const [up] = await history(m.id);
      assert.deepEqual(
        [up.type, up.from_tier, up.to_tier, up.reason, up.payload.value, up.payload.threshold, up.payload.valid_until],
        ['tier.upgraded', 'bronze', 'gold', 'ladder created', 600_000, 500_000, '2027-12-31T16:00:00.000Z'],
      );
      // no welcome points from a ladder edit
      assert.equal(ok(await t.call('GET', `/v1/members/${m.id}/balance`)).available, before);
      const ladder = ok(await t.call('GET', `/v1/programs/${p}/tier-ladder`));
      assert.deepEqual(
        ladder.tiers.map((x: Json) => x.members),
        [0, 0, 1],
      );
    });
  });

  describe('the backfill and ingestion agree', () => {
    it('computes from the events the same qualifying activity ingestion keeps for a program that had its ladder from the start', async () => {
      t.clock.set('2026-05-01T02:00:00.000Z');
      const [early, late] = [await program(), await program()];
      ok(await put(early, seedLadder()), 201);
      const members = { early: [await member(early), await member(early)], late: [await member(late), await member(late)] };
      const items = [
        { sku: 'latte', quantity: 2, unit_price: 3_000 },
        { sku: 'cake', quantity: 1, unit_price: 4_000 },
      ];
      // the same history in both programs: orders across local midnight, a discounted order with
      // items, refunds by amount, by items and in full, a check-in
      const history: [string, number, (p: string, m: string) => Json][] = [
        ['2026-05-01T02:00:00.000Z', 0, (p, m) => order(p, m, 'a', 50_000)],
        ['2026-05-01T15:59:00.000Z', 0, (p, m) => order(p, m, 'b', 20_000)],
        ['2026-05-01T16:01:00.000Z', 0, (p, m) => ({ ...order(p, m, 'c', 8_000), data: { order_id: 'c', amount: 8_000, currency: 'CNY', items } })],
        ['2026-05-02T03:00:00.000Z', 0, (p, m) => refund(p, m, 'a', { amount: 15_000 })],
        ['2026-05-03T03:00:00.000Z', 0, (p, m) => refund(p, m, 'c', { items: [{ sku: 'latte', quantity: 1 }] })],
        ['2026-05-03T04:00:00.000Z', 0, (p, m) => refund(p, m, 'b')],
        ['2026-05-04T03:00:00.000Z', 0, (p, m) => ({ id: unique('evt'), type: 'checkin', program_id: p, member_id: m, data: {} })],
        ['2026-05-04T05:00:00.000Z', 1, (p, m) => order(p, m, 'd', 30_000)],
        ['2026-05-05T05:00:00.000Z', 1, (p, m) => refund(p, m, 'd', { amount: 30_000 })],
      ];
      for (const [at, who, make] of history) {
        t.clock.set(at);
        for (const side of ['early', 'late'] as const) {
          const p = side === 'early' ? early : late;
          const e = make(p, members[side][who]!.id);
          await send({ ...e, occurred_at: at });
        }
      }
      ok(await put(late, seedLadder()), 201);
      for (const who of [0, 1]) {
        const kept = await activity(members.early[who]!.id);
        assert.ok(kept.length > 0);
        assert.deepEqual(
          await activity(members.late[who]!.id),
          kept.filter((r: Json) => r.spend !== 0 || r.points !== 0 || r.orders !== 0),
          `member ${who}`,
        );
      }
    });
  });

  // PGlite has one connection: nothing races there
  describe('the first ladder while members are being registered', { skip: kind !== 'postgres' }, () => {
    /** Whether p settles within ms (then the caller's lock did not hold it back). */
    const settlesWithin = (p: Promise<unknown>, ms: number) =>
      Promise.race([p.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

    it('a member registered with a plain tier before the ladder commits: the ladder waits for it, and keeps its tier as an override', async () => {
      t.clock.set('2026-05-01T02:00:00.000Z');
      const p = await program();
      const external = unique('racer');
      const registering = await holdOpen(getDb().db, (tx) => addMembers(tx, p, [{ external_id: external, tier: 'gold' }], t.clock.now()));
      const ladder = put(p, seedLadder({ keep_current_tiers_until: '2026-09-30' }));
      assert.equal(await settlesWithin(ladder, 300), false, 'the ladder waits for the registration to commit');
      await registering.release();
      ok(await ladder, 201);
      const m = ok(await t.call('GET', `/v1/programs/${p}/members/by-external-id/${external}`));
      assert.equal(m.tier, 'gold');
      const status = ok(await t.call('GET', `/v1/members/${m.id}/tier`));
      assert.equal(status.override?.tier, 'gold', 'shown as an override, not a silent floor');
      assert.equal(status.earned.code, 'bronze');
    });

    it('a member registered while the ladder is being written waits for it: the base tier, and a plain tier is refused', async () => {
      t.clock.set('2026-05-02T02:00:00.000Z');
      const p = await program();
      const existing = await member(p);
      // hold the rebuild half-way: it has the ladder lock and waits for this account
      const holding = await holdOpen(getDb().db, (tx) => tx.query('SELECT 1 FROM member_account WHERE member_id = $1 FOR UPDATE', [existing.id]));
      const ladder = put(p, seedLadder());
      await new Promise((resolve) => setTimeout(resolve, 200));
      const plain = t.call('POST', `/v1/programs/${p}/members`, { body: { external_id: unique('m'), tier: 'gold' } });
      const bare = t.call('POST', `/v1/programs/${p}/members`, { body: { external_id: unique('m') } });
      assert.equal(await settlesWithin(Promise.all([plain, bare]), 300), false, 'registrations wait for the ladder');
      await holding.release();
      ok(await ladder, 201);
      assertProblem(await plain, 409, 'TIER_MANAGED_BY_LADDER');
      assert.equal(ok(await bare, 201).tier, 'bronze');
    });

    it('members registered at the same time do not wait for each other', async () => {
      const p = await program();
      const registering = await holdOpen(getDb().db, (tx) => addMembers(tx, p, [{ external_id: unique('slow') }], t.clock.now()));
      const other = t.call('POST', `/v1/programs/${p}/members`, { body: { external_id: unique('m') } });
      assert.equal(await settlesWithin(other, 2000), true);
      ok(await other, 201);
      await registering.release();
    });
  });

  describe('the first ladder, by points', () => {
    it('counts the points of qualifying rules only (成长值), less what refunds took back', async () => {
      t.clock.set('2026-04-10T02:00:00.000Z');
      const p = await program();
      ok(
        await t.call('POST', `/v1/programs/${p}/rules`, {
          body: { definition: { name: '签到', triggers: ['checkin'], effect: { type: 'fixed', points: 200 }, qualifying: false } },
        }),
        201,
      );
      const m = await member(p);
      await send(order(p, m.id, 'p1', 40_000));
      await send({ id: unique('evt'), type: 'checkin', program_id: p, member_id: m.id, occurred_at: t.clock.now().toISOString(), data: {} });
      await send(refund(p, m.id, 'p1', { amount: 10_000 }));
      const ladder = seedLadder({ metric: 'points' });
      ladder.tiers[1].entry = 300;
      ladder.tiers[1].retention = 300;
      ladder.tiers[2].entry = 1_000;
      ok(await put(p, ladder), 201);
      // 400 order points less the 100 the refund took back; the check-in's 200 do not qualify
      assert.deepEqual(await activity(m.id), [{ day: '2026-04-10', spend: 30_000, points: 300, orders: 1 }]);
      assert.equal(await tierOf(m.id), 'silver');
    });
  });

  describe('the first ladder, by membership year', () => {
    it("counts each member's own anniversary year: the spend of a past membership year does not upgrade", async () => {
      t.clock.set('2026-03-01T02:00:00.000Z');
      const p = await program();
      const old = await member(p);
      await send(order(p, old.id, 'o1', 120_000));
      t.clock.set('2026-06-01T02:00:00.000Z');
      const newer = await member(p);
      await send(order(p, newer.id, 'n1', 120_000));
      t.clock.set('2027-03-05T02:00:00.000Z');
      await send(order(p, old.id, 'o2', 50_000));
      ok(await put(p, seedLadder({ qualifying_window: { type: 'membership_year' } })), 201);
      // old's year since 1 March 2027 holds ¥500; newer's since 1 June 2026 holds ¥1,200
      assert.equal(await tierOf(old.id), 'bronze');
      assert.equal(await tierOf(newer.id), 'silver');
      const s = ok(await t.call('GET', `/v1/members/${newer.id}/tier`));
      assert.deepEqual(s.window, { start: '2026-06-01', end: '2027-06-01', value: 120_000 });
      // period_and_next of a membership year: this year and the next, to 1 June 2028 (Shanghai)
      assert.equal(s.earned.valid_until, '2028-05-31T16:00:00.000Z');
      assert.deepEqual(ok(await t.call('GET', `/v1/members/${old.id}/tier`)).window, { start: '2027-03-01', end: '2028-03-01', value: 50_000 });
    });
  });

  describe('the plain tier attribute', () => {
    it('is refused with 409 TIER_MANAGED_BY_LADDER once the program has a ladder, and works as before without one', async () => {
      const p = await program();
      const m = await member(p, { tier: 'gold' });
      ok(await t.call('PATCH', `/v1/members/${m.id}`, { body: { tier: 'silver' } }));
      ok(await put(p, seedLadder()), 201);
      const externalId = unique('m');
      assertProblem(await t.call('POST', `/v1/programs/${p}/members`, { body: { external_id: externalId, tier: 'gold' } }), 409, 'TIER_MANAGED_BY_LADDER', {
        path: '/tier',
      });
      assertProblem(await t.call('PATCH', `/v1/members/${m.id}`, { body: { tier: 'gold', name: '韩梅梅' } }), 409, 'TIER_MANAGED_BY_LADDER', { path: '/tier' });
      assertProblem(await t.call('PATCH', `/v1/members/${m.id}`, { body: { tier: null } }), 409, 'TIER_MANAGED_BY_LADDER');
      // refused in the members' own statements: nothing was written
      const rows = await getDb().db.query<Json>('SELECT count(*)::int AS n FROM member WHERE program_id = $1 AND external_id = $2', [p, externalId]);
      assert.equal(rows[0].n, 0);
      assertProblem(await t.call('PATCH', '/v1/members/mbr_doesnotexist', { body: { tier: 'gold' } }), 404, 'MEMBER_NOT_FOUND');
      // the rest of a profile still changes, and the tier stays readable
      const renamed = ok(await t.call('PATCH', `/v1/members/${m.id}`, { body: { name: '李雷' } }));
      assert.deepEqual([renamed.name, renamed.tier], ['李雷', 'bronze']);
    });
  });

  describe('overrides', () => {
    it('sets a floor with its history, answers the status, replays with the same Idempotency-Key, and ends it with a reason', async () => {
      t.clock.set('2026-05-01T02:00:00.000Z');
      const p = await program();
      const m = await member(p);
      ok(await put(p, seedLadder()), 201);
      await send(order(p, m.id, 'o1', 120_000));
      const until = '2026-08-01T00:00:00.000Z';
      const key = unique('idem');
      const first = await t.call('POST', `/v1/members/${m.id}/tier-override`, { body: { tier: 'gold', until, reason: '客诉补偿' }, idem: key });
      const status = ok(first);
      assert.deepEqual([status.tier.code, status.earned.code, status.override.tier, status.override.until], ['gold', 'silver', 'gold', until]);
      assert.equal(status.override.by, `api_key:${ok(await t.call('GET', '/v1/api-keys')).data.find((k: Json) => k.name === 'test admin').id}`);
      const again = await t.call('POST', `/v1/members/${m.id}/tier-override`, { body: { tier: 'gold', until, reason: '客诉补偿' }, idem: key });
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal((await history(m.id)).filter((h: Json) => h.type === 'tier.override_set').length, 1);
      // rules see it: 1.5×
      assert.equal((await send(order(p, m.id, 'o2', 10_000))).points, 150);
      // a floor, not a cap: an override below the earned tier leaves the member at the earned one
      const low = ok(await t.call('POST', `/v1/members/${m.id}/tier-override`, { body: { tier: 'bronze', until, reason: 'floor only' } }));
      assert.equal(low.tier.code, 'silver');
      ok(await t.call('POST', `/v1/members/${m.id}/tier-override`, { body: { tier: 'gold', until, reason: '客诉补偿' } }));

      const ended = ok(await t.call('DELETE', `/v1/members/${m.id}/tier-override`, { body: { reason: 'resolved' } }));
      assert.deepEqual([ended.tier.code, ended.override], ['silver', null]);
      assert.equal(await tierOf(m.id), 'silver');
      assert.equal((await send(order(p, m.id, 'o3', 10_000))).points, 120);
      const last = (await history(m.id)).at(-1);
      assert.deepEqual(
        [last.type, last.from_tier, last.to_tier, last.reason, last.payload.reason],
        ['tier.override_ended', 'gold', 'silver', 'resolved', '客诉补偿'],
      );
      assertProblem(await t.call('DELETE', `/v1/members/${m.id}/tier-override`, { body: { reason: 'again' } }), 404, 'TIER_OVERRIDE_NOT_FOUND');
    });

    it('refuses an unknown tier, an end in the past or more than 5 years ahead, and a program without a ladder', async () => {
      const p = await program();
      const m = await member(p);
      const later = new Date(t.clock.now().getTime() + 86_400_000).toISOString();
      assertProblem(
        await t.call('POST', `/v1/members/${m.id}/tier-override`, { body: { tier: 'gold', until: later, reason: 'x' } }),
        404,
        'TIER_LADDER_NOT_FOUND',
      );
      ok(await put(p, seedLadder()), 201);
      const bad = async (body: Json, path: string) => {
        const problem = assertProblem(await t.call('POST', `/v1/members/${m.id}/tier-override`, { body }), 400, 'VALIDATION_FAILED');
        assert.equal(problem.errors[0].path, path);
      };
      await bad({ tier: 'platinum', until: later, reason: 'x' }, '/tier');
      await bad({ tier: 'gold', until: '2020-01-01T00:00:00Z', reason: 'x' }, '/until');
      await bad({ tier: 'gold', until: '2040-01-01T00:00:00Z', reason: 'x' }, '/until');
      await bad({ tier: 'gold', until: later }, '/reason');
      assertProblem(await t.call('GET', '/v1/members/mbr_nobody/tier'), 404, 'MEMBER_NOT_FOUND');
    });
  });

  describe('status, mix and history', () => {
    it('says the window, what the next tier needs and by when, and what keeps the tier at review, at risk within 30 days of it', async () => {
      t.clock.set('2026-06-15T02:00:00.000Z');
      const p = await program();
      const m = await member(p);
      ok(await put(p, seedLadder()), 201);
      let s = ok(await t.call('GET', `/v1/members/${m.id}/tier`));
      assert.deepEqual([s.tier.code, s.earned.code, s.earned.valid_until, s.keep, s.override], ['bronze', 'bronze', null, null, null]);
      assert.deepEqual(s.window, { start: '2026-01-01', end: '2027-01-01', value: 0 });
      assert.deepEqual([s.next.tier.code, s.next.threshold, s.next.needed, s.next.by], ['silver', 100_000, 100_000, '2026-12-31']);
      assert.deepEqual(
        s.ladder.map((x: Json) => [x.code, x.rank]),
        [
          ['bronze', 0],
          ['silver', 1],
          ['gold', 2],
        ],
      );
      await send(order(p, m.id, 'a', 150_000));
      s = ok(await t.call('GET', `/v1/members/${m.id}/tier`));
      assert.deepEqual([s.tier.code, s.tier.multiplier, s.currency, s.metric], ['silver', '1.2', 'CNY', 'spend']);
      assert.deepEqual([s.window.value, s.next.tier.code, s.next.needed], [150_000, 'gold', 350_000]);
      // silver until the end of 2027: the review counts 2027 against retention ¥800
      assert.deepEqual([s.earned.valid_until, s.earned.review_at, s.earned.in_grace], ['2027-12-31T16:00:00.000Z', '2027-12-31T16:00:00.000Z', false]);
      assert.deepEqual(s.keep, {
        threshold: 80_000,
        window: { start: '2027-01-01', end: '2028-01-01', value: 0 },
        needed: 80_000,
        review_at: '2027-12-31T16:00:00.000Z',
        at_risk: false,
      });
      t.clock.set('2027-03-01T02:00:00.000Z');
      await send(order(p, m.id, 'b', 30_000));
      t.clock.set('2027-12-10T02:00:00.000Z');
      s = ok(await t.call('GET', `/v1/members/${m.id}/tier`));
      assert.deepEqual([s.keep.window.value, s.keep.needed, s.keep.at_risk], [30_000, 50_000, true]);
      assert.deepEqual(s.window, { start: '2027-01-01', end: '2028-01-01', value: 30_000 });
      const mix = ok(await t.call('GET', `/v1/programs/${p}/tier-mix`));
      assert.deepEqual(
        mix.tiers.map((x: Json) => [x.code, x.members, x.overrides]),
        [
          ['bronze', 0, 0],
          ['silver', 1, 0],
          ['gold', 0, 0],
        ],
      );
      assert.deepEqual([mix.upgrades_30d, mix.downgrades_30d, mix.at_risk], [0, 0, 1]);
    });

    it('a rolling window has no deadline (next.by null), and grants are listed', async () => {
      t.clock.set('2026-03-10T02:00:00.000Z');
      const p = await program();
      const m = await member(p);
      ok(await put(p, seedLadder({ qualifying_window: { type: 'rolling_months', months: 12 }, validity: { type: 'months', months: 12 } })), 201);
      await send(order(p, m.id, 'r', 600_000));
      const s = ok(await t.call('GET', `/v1/members/${m.id}/tier`));
      assert.deepEqual(s.window, { start: '2025-03-11', end: '2026-03-11', value: 600_000 });
      assert.equal(s.next, null, 'gold is the top');
      assert.deepEqual(
        s.grants.map((g: Json) => [g.kind, g.key, g.points]),
        [['welcome', 'welcome:gold', 500]],
      );
      const other = await member(p);
      assert.equal(ok(await t.call('GET', `/v1/members/${other.id}/tier`)).next.by, null);
    });

    it("pages a member's history newest first and filters it by type; the program's feed has every member's changes", async () => {
      t.clock.set('2026-07-01T02:00:00.000Z');
      const p = await program();
      const a = await member(p);
      const b = await member(p);
      ok(await put(p, seedLadder()), 201);
      t.clock.set('2026-07-01T03:00:00.000Z');
      await send(order(p, a.id, 'a1', 120_000));
      t.clock.set('2026-07-01T04:00:00.000Z');
      await send(order(p, a.id, 'a2', 400_000));
      t.clock.set('2026-07-01T05:00:00.000Z');
      const until = '2026-09-01T00:00:00.000Z';
      ok(await t.call('POST', `/v1/members/${b.id}/tier-override`, { body: { tier: 'silver', until, reason: 'x' } }));
      const page1 = ok(await t.call('GET', `/v1/members/${a.id}/tier-history?limit=1`));
      assert.equal(page1.data[0].to_tier, 'gold');
      assert.equal(page1.has_more, true);
      const page2 = ok(await t.call('GET', `/v1/members/${a.id}/tier-history?limit=1&cursor=${page1.next_cursor}`));
      assert.deepEqual([page2.data[0].to_tier, page2.has_more], ['silver', false]);
      assert.equal(ok(await t.call('GET', `/v1/members/${a.id}/tier-history?type=tier.override_set`)).data.length, 0);
      const feed = ok(await t.call('GET', `/v1/programs/${p}/tier-history`));
      assert.deepEqual(
        feed.data.map((h: Json) => [h.member_id, h.type]),
        [
          [b.id, 'tier.override_set'],
          [a.id, 'tier.upgraded'],
          [a.id, 'tier.upgraded'],
        ],
      );
      assert.equal(feed.data[0].object, 'tier_change');
      const onlyOverrides = ok(await t.call('GET', `/v1/programs/${p}/tier-history?type=tier.override_set`));
      assert.deepEqual(
        onlyOverrides.data.map((h: Json) => h.member_id),
        [b.id],
      );
      assertProblem(await t.call('GET', `/v1/members/${a.id}/tier-history?cursor=nonsense`), 400, 'INVALID_CURSOR');
      const mix = ok(await t.call('GET', `/v1/programs/${p}/tier-mix`));
      assert.deepEqual(
        mix.tiers.map((x: Json) => [x.code, x.members, x.overrides]),
        [
          ['bronze', 0, 0],
          ['silver', 1, 1],
          ['gold', 1, 0],
        ],
      );
      assert.equal(mix.upgrades_30d, 2);
    });
  });

  describe('scopes and the member token', () => {
    it("gives a key of another program 404 on the program's ladder, mix, feed and its members' tier routes", async () => {
      const a = await program();
      const b = await program();
      const mb = await member(b);
      ok(await put(b, seedLadder()), 201);
      const keyA = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'a only', scopes: ['admin'], program_ids: [a] } }), 201).secret;
      const as = (method: string, url: string, body?: unknown) => t.call(method, url, { key: keyA, body });
      const until = new Date(t.clock.now().getTime() + 86_400_000).toISOString();
      assertProblem(await as('GET', `/v1/programs/${b}/tier-ladder`), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await as('PUT', `/v1/programs/${b}/tier-ladder`, seedLadder()), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await as('GET', `/v1/programs/${b}/tier-mix`), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await as('GET', `/v1/programs/${b}/tier-history`), 404, 'PROGRAM_NOT_FOUND');
      assertProblem(await as('GET', `/v1/members/${mb.id}/tier`), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await as('GET', `/v1/members/${mb.id}/tier-history`), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await as('POST', `/v1/members/${mb.id}/tier-override`, { tier: 'gold', until, reason: 'x' }), 404, 'MEMBER_NOT_FOUND');
      assertProblem(await as('DELETE', `/v1/members/${mb.id}/tier-override`, { reason: 'x' }), 404, 'MEMBER_NOT_FOUND');
      assert.equal(await tierOf(mb.id), 'bronze');
      // read and integration keys read; only an admin key writes
      ok(await t.call('GET', `/v1/members/${mb.id}/tier`, { key: t.keys.read }));
      assertProblem(await t.call('PUT', `/v1/programs/${b}/tier-ladder`, { key: t.keys.integration, body: seedLadder() }), 403, 'FORBIDDEN');
    });

    it('/v1/me/tier and /v1/me/tier-history answer for the token member', async () => {
      t.clock.set('2026-08-01T02:00:00.000Z');
      const p = await program();
      const m = await member(p);
      ok(await put(p, seedLadder()), 201);
      await send(order(p, m.id, 'x', 100_000));
      const token = ok(await t.call('POST', `/v1/programs/${p}/member-tokens`, { key: t.keys.integration, body: { member_id: m.id } }), 201).token;
      const me = ok(await t.call('GET', '/v1/me/tier', { key: token }));
      assert.deepEqual([me.member_id, me.tier.code, me.tier.name.en, me.next.needed], [m.id, 'silver', 'Silver', 400_000]);
      const mine = ok(await t.call('GET', '/v1/me/tier-history', { key: token }));
      assert.deepEqual(
        mine.data.map((h: Json) => h.type),
        ['tier.upgraded'],
      );
      assertProblem(await t.call('GET', '/v1/me/tier', { key: t.keys.admin }), 401, 'UNAUTHENTICATED');
      const q = await program();
      const n = await member(q);
      const other = ok(await t.call('POST', `/v1/programs/${q}/member-tokens`, { key: t.keys.integration, body: { member_id: n.id } }), 201).token;
      assertProblem(await t.call('GET', '/v1/me/tier', { key: other }), 404, 'TIER_LADDER_NOT_FOUND');
    });
  });

  describe('the SQL date helpers', () => {
    const one = async (sql: string, params: unknown[] = []) => (await getDb().db.query<Json>(`SELECT (${sql})::text AS v`, params))[0].v;
    const win = (w: Json, anchor: string, day: string) => one('jf_tier_window($1::text::jsonb, $2::date, $3::date)', [JSON.stringify(w), anchor, day]);
    const until = (v: Json, w: Json, anchor: string, day: string) =>
      one(`jf_tier_valid_until($1::text::jsonb, $2::text::jsonb, $3::date, $4::date, 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'`, [
        JSON.stringify(v),
        JSON.stringify(w),
        anchor,
        day,
      ]);
    const review = (w: Json, anchor: string, vu: string, rv: string) =>
      one('jf_tier_review_window($1::text::jsonb, $2::date, $3::date, $4::date)', [JSON.stringify(w), anchor, vu, rv]);

    it('calendar, rolling and membership years, with 29 February anchors and days', async () => {
      const cal = { type: 'calendar_year' };
      assert.equal(await win(cal, '2020-01-01', '2026-12-31'), '[2026-01-01,2027-01-01)');
      assert.equal(await win(cal, '2020-01-01', '2027-01-01'), '[2027-01-01,2028-01-01)');
      const rolling = { type: 'rolling_months', months: 12 };
      assert.equal(await win(rolling, '2020-01-01', '2026-03-10'), '[2025-03-11,2026-03-11)');
      assert.equal(await win(rolling, '2020-01-01', '2028-02-29'), '[2027-03-01,2028-03-01)');
      const member = { type: 'membership_year' };
      assert.equal(await win(member, '2024-02-29', '2025-02-27'), '[2024-02-29,2025-02-28)');
      assert.equal(await win(member, '2024-02-29', '2025-02-28'), '[2025-02-28,2026-02-28)');
      assert.equal(await win(member, '2024-02-29', '2028-02-29'), '[2028-02-29,2029-02-28)');
      assert.equal(await win(member, '2023-06-15', '2026-06-14'), '[2025-06-15,2026-06-15)');
    });

    it('validity: months, period_and_next (Sephora) and until_date (Delta: 31 January of the year after next; 29 February in other years)', async () => {
      const cal = { type: 'calendar_year' };
      assert.equal(await until({ type: 'months', months: 12 }, { type: 'rolling_months', months: 12 }, '2020-01-01', '2026-03-10'), '2027-03-10 00:00:00');
      assert.equal(await until({ type: 'months', months: 12 }, { type: 'rolling_months', months: 12 }, '2020-01-01', '2028-02-29'), '2029-02-28 00:00:00');
      assert.equal(await until({ type: 'period_and_next' }, cal, '2020-01-01', '2026-12-31'), '2028-01-01 00:00:00');
      assert.equal(await until({ type: 'period_and_next' }, { type: 'membership_year' }, '2024-02-29', '2024-06-01'), '2026-02-28 00:00:00');
      assert.equal(await until({ type: 'until_date', month: 1, day: 31, years: 2 }, cal, '2020-01-01', '2026-07-04'), '2028-02-01 00:00:00');
      assert.equal(await until({ type: 'until_date', month: 2, day: 29, years: 1 }, cal, '2020-01-01', '2026-07-04'), '2027-03-01 00:00:00');
      assert.equal(await until({ type: 'until_date', month: 2, day: 29, years: 2 }, cal, '2020-01-01', '2026-07-04'), '2028-03-01 00:00:00');
    });

    it('review windows: the last whole calendar window before the status ends, or the rolling months up to the review', async () => {
      assert.equal(await review({ type: 'calendar_year' }, '2020-01-01', '2028-01-01', '2028-01-31'), '[2027-01-01,2028-01-01)');
      // Delta-style: valid until 1 February 2028: the last whole year is 2027
      assert.equal(await review({ type: 'calendar_year' }, '2020-01-01', '2028-02-01', '2028-02-01'), '[2027-01-01,2028-01-01)');
      assert.equal(await review({ type: 'rolling_months', months: 12 }, '2020-01-01', '2027-03-10', '2027-03-10'), '[2026-03-11,2027-03-11)');
    });
  });
});
