/**
 * Issue 8, item 8: every configured number is bounded, an event awards at most what one operation
 * may move (10^12), every stored total stays at most 2^53 − 1 (exact as a JSON number), and the
 * audit is exact for any value the database can hold. Each reproduction of the issue gets a clear
 * 4xx and changes nothing; the edges just inside each bound work.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { compileRule, type EvalEvent, evaluate, orderRules, type RuleDefinition, RuleDefinition as RuleDefinitionSchema } from '../src/modules/rules/index.ts';
import { DomainError } from '../src/shared/errors.ts';
import { MAX_POINTS } from '../src/shared/schemas.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { assertProblem, createMember, createProgram, type Json, ok, type Res, unchanged } from './http/support.ts';

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 − 1
const TWO_53 = 2 ** 53;
const allDays = { type: 'weekday', days: [1, 2, 3, 4, 5, 6, 7] };

/** Every number anywhere in a JSON value, with its path. */
function numbers(value: unknown, path = ''): [string, number][] {
  if (typeof value === 'number') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbers(v, `${path}/${i}`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbers(v, `${path}/${k}`));
  return [];
}
function assertSafe(value: unknown, label: string) {
  for (const [path, n] of numbers(value)) assert.ok(Number.isSafeInteger(n), `${label}: ${path} = ${n} is not a safe integer`);
}

forEachDatabase('bounded numbers, exact totals', (getDb, kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), '2026-06-10T06:00:00.000Z');
  });
  after(() => t.close());

  const sql = <T = Json>(text: string, params: unknown[] = []) => getDb().db.query<T>(text, params);
  const send = (body: Record<string, unknown>) => t.call('POST', '/v1/events', { body, key: t.keys.integration });
  const preview = (body: Record<string, unknown>) => t.call('POST', '/v1/events/preview', { body, key: t.keys.integration });
  const orderBody = (programId: string, memberId: string, amount: number, extra: Record<string, unknown> = {}) => ({
    id: unique('ord'),
    type: 'order.paid',
    program_id: programId,
    member_id: memberId,
    data: { order_id: unique('o'), amount, currency: 'CNY', ...extra },
  });
  const addRule = async (programId: string, definition: Record<string, unknown>) =>
    ok(await t.call('POST', `/v1/programs/${programId}/rules`, { body: { definition } }), 201);
  async function programWith(rules: Record<string, unknown>[], settings: Record<string, unknown> = {}) {
    const program = await createProgram(t, { pending_days: 0, ...settings });
    for (const r of rules) await addRule(program.id, r);
    return program.id as string;
  }
  /** The audit of a program and of the whole deployment, without the clock. */
  async function audits(programId: string) {
    const strip = (res: Res) => {
      const { as_of: _, ...rest } = ok(res, 200);
      return rest;
    };
    return { program: strip(await t.call('GET', `/v1/audit?program_id=${programId}`)), all: strip(await t.call('GET', '/v1/audit')) };
  }
  /** Runs fn, asserting neither the members nor the audit changed. */
  async function nothingChanges<T>(programId: string, memberIds: string[], fn: () => Promise<T>): Promise<T> {
    const before = await audits(programId);
    const result = await unchanged(t, memberIds, fn);
    assert.deepEqual(await audits(programId), before, 'the audit must not change');
    return result;
  }
  /** Points credited through the ledger's tables directly (a credit moves at most 10^12): one entry, one lot. */
  async function grant(programId: string, memberId: string, points: bigint) {
    const id = unique('g').replace(/[^A-Za-z0-9]/g, '');
    const at = t.clock.now().toISOString();
    await sql(
      `INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount, lot_id, occurred_at)
               VALUES ($1, $2, $3, $4, 'earn', 'issued', 'member', $5::text::bigint, $6, $7)`,
      [`ent_${id}`, programId, memberId, `txn_${id}`, points.toString(), `lot_${id}`, at],
    );
    await sql(
      `INSERT INTO lot (id, program_id, member_id, entry_id, amount, remaining, earned_at, available_at)
               VALUES ($1, $2, $3, $4, $5::text::bigint, $5::text::bigint, $6, $6)`,
      [`lot_${id}`, programId, memberId, `ent_${id}`, points.toString(), at],
    );
    // the dashboard rollups, as jf_post appends them
    await sql(
      `INSERT INTO ledger_daily_delta (program_id, day, issued) SELECT id, ($2::timestamptz AT TIME ZONE time_zone)::date, $3::text::bigint FROM program WHERE id = $1`,
      [programId, at, points.toString()],
    );
    await sql(`UPDATE member_account SET balance = balance + $2::text::bigint, lifetime_earned = lifetime_earned + $2::text::bigint WHERE member_id = $1`, [
      memberId,
      points.toString(),
    ]);
  }

  describe('configured numbers', () => {
    const base = { name: 'r', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } };
    // [path, definition with the value just outside, the same just inside]
    const cases: [string, (v: number) => Record<string, unknown>, number[], number][] = [
      ['/definition/caps/budget/points', (v) => ({ ...base, caps: { budget: { period: 'total', points: v } } }), [1e19, 1e308, TWO_53], MAX],
      ['/definition/caps/per_event', (v) => ({ ...base, caps: { per_event: v } }), [MAX_POINTS + 1, 1e19], MAX_POINTS],
      ['/definition/caps/per_member/day', (v) => ({ ...base, caps: { per_member: { day: v } } }), [TWO_53, 1e300], MAX],
      ['/definition/caps/per_member/week', (v) => ({ ...base, caps: { per_member: { week: v } } }), [TWO_53], MAX],
      ['/definition/caps/per_member/month', (v) => ({ ...base, caps: { per_member: { month: v } } }), [TWO_53], MAX],
      ['/definition/caps/per_member/lifetime', (v) => ({ ...base, caps: { per_member: { lifetime: v } } }), [TWO_53], MAX],
      ['/definition/min_order_amount', (v) => ({ ...base, min_order_amount: v }), [1e12 + 1, 1e308], 1e12],
      ['/definition/frequency/max', (v) => ({ ...base, frequency: { max: v, per: 'day' } }), [10_001], 10_000],
      ['/definition/effect/points', (v) => ({ ...base, effect: { type: 'fixed', points: v } }), [1_000_001, 1e19], 1_000_000],
      ['/definition/effect/per_amount', (v) => ({ ...base, effect: { type: 'rate', points: 1, per_amount: v } }), [100_000_001], 100_000_000],
      ['/definition/priority', (v) => ({ ...base, priority: v }), [1001, -1001], -1000],
      ['/definition/pending_days', (v) => ({ ...base, pending_days: v }), [3651], 3650],
    ];

    it('refuses every rule number outside its range at its path, and accepts the edge', async () => {
      const programId = await programWith([]);
      for (const [path, def, outside, inside] of cases) {
        for (const v of outside)
          assertProblem(await t.call('POST', `/v1/programs/${programId}/rules`, { body: { definition: def(v) } }), 400, 'VALIDATION_FAILED', { path });
        await addRule(programId, def(inside));
      }
      // a new version is held to the same ranges
      const rule = await addRule(programId, base);
      assertProblem(await t.call('POST', `/v1/rules/${rule.id}/versions`, { body: { definition: cases[0]![1](1e19) }, idem: true }), 400, 'VALIDATION_FAILED', {
        path: cases[0]![0],
      });
      // multipliers: at most 9999.9999
      assertProblem(
        await t.call('POST', `/v1/programs/${programId}/rules`, { body: { definition: { ...base, multipliers: [{ ...allDays, multiplier: '10000' }] } } }),
        400,
        'VALIDATION_FAILED',
        { path: '/definition/multipliers/0/multiplier' },
      );
      await addRule(programId, { ...base, multipliers: [{ ...allDays, multiplier: '9999.9999' }] });
    });

    it('refuses program numbers outside their ranges at their paths, and accepts the edges', async () => {
      const programCases: [string, Record<string, unknown>, Record<string, unknown>][] = [
        ['/pending_days', { pending_days: 3651 }, { pending_days: 3650 }],
        ['/redemption_rate', { redemption_rate: 1_000_001 }, { redemption_rate: 1_000_000 }],
        ['/redemption_rate', { redemption_rate: 0 }, { redemption_rate: 1 }],
        ['/hold_timeout_seconds', { hold_timeout_seconds: 2_592_001 }, { hold_timeout_seconds: 2_592_000 }],
        ['/expiry_policy/months', { expiry_policy: { type: 'rolling', months: 241 } }, { expiry_policy: { type: 'rolling', months: 240 } }],
        [
          '/expiry_policy/offset',
          { expiry_policy: { type: 'end_of_period', unit: 'year', offset: 21 } },
          { expiry_policy: { type: 'end_of_period', unit: 'year', offset: 20 } },
        ],
        [
          '/expiry_policy/hard_cap_months',
          { expiry_policy: { type: 'activity_extended', months: 12, hard_cap_months: 601 } },
          { expiry_policy: { type: 'activity_extended', months: 12, hard_cap_months: 600 } },
        ],
      ];
      for (const [path, outside, inside] of programCases) {
        assertProblem(await t.call('POST', '/v1/programs', { body: { name: 'P', ...outside } }), 400, 'VALIDATION_FAILED', { path });
        await createProgram(t, inside);
      }
    });

    it('refuses event payload numbers outside their ranges, and order lines over 10^12 minor units together', async () => {
      const programId = await programWith([base]);
      const m = await createMember(t, programId);
      await nothingChanges(programId, [m.id], async () => {
        assertProblem(await send(orderBody(programId, m.id, 1e12 + 1)), 400, 'VALIDATION_FAILED', { path: '/data/amount' });
        assertProblem(await send(orderBody(programId, m.id, 0, { items: [{ sku: 'a', quantity: 2, unit_price: 6e11 }] })), 400, 'VALIDATION_FAILED', {
          path: '/data/items',
        });
        assertProblem(
          await preview(orderBody(programId, m.id, 0, { items: [{ sku: 'a', quantity: 1_000_000, unit_price: 1e12 }] })),
          400,
          'VALIDATION_FAILED',
          { path: '/data/items' },
        );
        assertProblem(
          await send({
            id: unique('rv'),
            type: 'review.posted',
            program_id: programId,
            member_id: m.id,
            data: { review_id: 'r', has_photo: false, length: 1e300 },
          }),
          400,
          'VALIDATION_FAILED',
          { path: '/data/length' },
        );
      });
      const edge = ok(
        await send(
          orderBody(programId, m.id, 1e12, {
            items: [
              { sku: 'a', quantity: 1, unit_price: 5e11 },
              { sku: 'b', quantity: 5, unit_price: 1e11 },
            ],
          }),
        ),
        201,
      );
      assert.equal(edge.points, 1e10);
    });

    it('evaluates a rule stored with a budget beyond any total (before budgets were bounded): events and previews agree', async () => {
      const programId = await programWith([]);
      const rule = await addRule(programId, { ...base, caps: { budget: { period: 'total', points: 1000 } } });
      for (const huge of ['1e19', '1e308']) {
        await sql(`UPDATE rule_version SET definition = jsonb_set(definition, '{caps,budget,points}', $2::text::jsonb) WHERE rule_id = $1`, [rule.id, huge]);
        await sql('UPDATE program SET rules_revision = rules_revision + 1 WHERE id = $1', [programId]);
        const m = await createMember(t, programId);
        const body = orderBody(programId, m.id, 10_000);
        assert.equal(ok(await preview(body), 200).points, 100);
        assert.equal(ok(await send(body), 201).points, 100);
      }
      assert.equal(ok(await t.call('GET', '/v1/audit')).ok, true);
    });
  });

  describe('the award limit: at most 10^12 points per event', () => {
    const perFen = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      triggers: ['order.paid'],
      effect: { type: 'rate', points: 1_000_000, per_amount: 1 },
      ...extra,
    });

    it('credits exactly 10^12 for an event, and refuses 10^12 + 10^6 (event and preview alike), writing nothing', async () => {
      const programId = await programWith([perFen('a'), { name: 'b', triggers: ['order.paid'], effect: { type: 'fixed', points: 1_000_000 } }]);
      const m = await createMember(t, programId);
      const inside = orderBody(programId, m.id, 999_999);
      assert.equal(ok(await preview(inside), 200).points, MAX_POINTS);
      assert.equal(ok(await send(inside), 201).points, MAX_POINTS);
      assert.equal(ok(await t.call('GET', `/v1/members/${m.id}/balance`)).available, MAX_POINTS);
      const outside = orderBody(programId, m.id, 1_000_000);
      await nothingChanges(programId, [m.id], async () => {
        const problem = assertProblem(await send(outside), 422, 'AWARD_LIMIT_EXCEEDED', { extra: { limit: MAX_POINTS, points: '1000001000000' } });
        assert.equal(problem.rule_ids.length, 2);
        assertProblem(await preview(outside), 422, 'AWARD_LIMIT_EXCEEDED', { extra: { points: '1000001000000' } });
      });
      // the refused event was not stored: it can be sent again (and is refused again)
      assertProblem(await t.call('GET', `/v1/programs/${programId}/events/by-external-id/${outside.id}`), 404, 'EVENT_NOT_FOUND');
      assertProblem(await send(outside), 422, 'AWARD_LIMIT_EXCEEDED');
    });

    it("refuses the issue's 5 × 10^12 from five rules, and an award past 2^63, in events, previews and batches", async () => {
      const five = await programWith(['a', 'b', 'c', 'd', 'e'].map((n) => perFen(n)));
      const huge = await programWith([perFen('x', { multipliers: [{ ...allDays, multiplier: '9999' }], caps: { per_event: 10 } })]);
      const m5 = await createMember(t, five);
      const mh = await createMember(t, huge);
      await nothingChanges(five, [m5.id], async () => {
        assertProblem(await send(orderBody(five, m5.id, 1_000_000)), 422, 'AWARD_LIMIT_EXCEEDED', { extra: { points: '5000000000000' } });
        assertProblem(await preview(orderBody(five, m5.id, 1_000_000)), 422, 'AWARD_LIMIT_EXCEEDED');
      });
      await nothingChanges(huge, [mh.id], async () => {
        // 10^12 fen × 10^6 pt/fen × 9999 ≈ 10^22 before the per-event cap: no explanation could say it exactly
        const body = orderBody(huge, mh.id, 1e12);
        assertProblem(await send(body), 422, 'AWARD_LIMIT_EXCEEDED', { extra: { points: '9999000000000000000000' } });
        assertProblem(await preview(body), 422, 'AWARD_LIMIT_EXCEEDED', { extra: { points: '9999000000000000000000' } });
      });
      // in a batch, only that event is refused
      const batch = ok(
        await t.call('POST', '/v1/events/batch', {
          body: { program_id: five, events: [orderBody(five, m5.id, 1_000_000), orderBody(five, m5.id, 100)] },
          key: t.keys.integration,
        }),
        200,
      );
      assert.deepEqual(
        batch.results.map((r: Json) => r.status),
        [422, 201],
      );
      assert.equal(batch.results[0].error.code, 'AWARD_LIMIT_EXCEEDED');
      assert.equal(batch.points, 5 * 100 * 1_000_000);
      assert.equal(ok(await t.call('GET', `/v1/members/${m5.id}/balance`)).available, 5 * 100 * 1_000_000);
    });

    it('lets a cap bring a large award within the limit, every number of the explanation exact', async () => {
      // 10^9 fen × 10^6 pt/fen = 10^15 before caps (a safe integer), capped at 10^12
      const programId = await programWith([perFen('big', { caps: { per_event: MAX_POINTS } })]);
      const m = await createMember(t, programId);
      const body = orderBody(programId, m.id, 1e9);
      const p = ok(await preview(body), 200);
      const e = ok(await send(body), 201);
      assertSafe(p, 'preview');
      assertSafe(e, 'event');
      assert.equal(p.points, MAX_POINTS);
      assert.equal(e.points, MAX_POINTS);
      assert.deepEqual(e.awards[0].explanation.caps, [{ cap: 'per_event', limit: MAX_POINTS, before: 1e15, after: MAX_POINTS }]);
      assert.deepEqual(p.awards[0].explanation, e.awards[0].explanation);
    });

    it("does not fail on amounts and items of a program's own event type that rules cannot count: it skips them", async () => {
      const programId = await programWith([]);
      ok(await t.call('POST', `/v1/programs/${programId}/event-types`, { body: { type: 'purchase.custom', schema: { type: 'object' } } }), 201);
      await addRule(programId, { name: 'amount', triggers: ['purchase.custom'], effect: { type: 'rate', points: 1, per_amount: 100 } });
      await addRule(programId, { name: 'items', triggers: ['purchase.custom'], effect: { type: 'rate', points: 1, per_amount: 100, basis: 'items' } });
      await addRule(programId, { name: 'min', triggers: ['purchase.custom'], min_order_amount: 100, effect: { type: 'fixed', points: 1 } });
      const m = await createMember(t, programId);
      const custom = (data: Record<string, unknown>) => ({ id: unique('c'), type: 'purchase.custom', program_id: programId, member_id: m.id, data });
      const weird: Record<string, unknown>[] = [
        { amount: 1.5 },
        { amount: -5 },
        { amount: 1e300 },
        { amount: TWO_53 },
        { amount: '10000' },
        { items: 'x' },
        { items: [1] },
        { items: [{ sku: 1, quantity: 1, unit_price: 1 }] },
        { items: [{ sku: 'a', quantity: 1.5, unit_price: 100 }] },
        { items: [{ sku: 'a', quantity: 0, unit_price: 100 }] },
        { items: [{ sku: 'a', quantity: 1_000_000, unit_price: 1e12 }] },
        { items: [{ sku: 'a', quantity: 1, unit_price: -1 }] },
      ];
      for (const data of weird) {
        const p = ok(await preview(custom(data)), 200);
        const e = ok(await send(custom(data)), 201);
        assert.equal(e.points, 0, JSON.stringify(data));
        assert.equal(p.points, 0, JSON.stringify(data));
        assert.ok(
          e.skipped.some((s: Json) => s.reason === 'no_amount' || s.reason === 'min_order_amount'),
          JSON.stringify(e.skipped),
        );
      }
      // what they can count, they count
      assert.equal(ok(await send(custom({ amount: 1e12, items: [{ sku: 'a', quantity: 2, unit_price: 5e11 }] })), 201).points, 1e10 + 1e10 + 1);
    });
  });

  describe('stored totals at most 2^53 − 1', () => {
    it("refuses a credit past 2^53 − 1 lifetime earned (the issue's 9,007 credits of 10^12), writing nothing", async () => {
      const programId = await programWith([{ name: 'chk', triggers: ['checkin'], effect: { type: 'fixed', points: 1 } }]);
      const m = await createMember(t, programId);
      // as after 9,006 credits of 10^12 spent as they came
      await sql('UPDATE member_account SET lifetime_earned = $2::text::bigint, lifetime_spent = $2::text::bigint WHERE member_id = $1', [
        m.id,
        String(9006n * 10n ** 12n),
      ]);
      ok(await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: MAX_POINTS }, idem: true }), 201);
      await nothingChanges(programId, [m.id], async () => {
        const problem = assertProblem(
          await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: MAX_POINTS }, idem: true }),
          422,
          'BALANCE_LIMIT_EXCEEDED',
        );
        assert.equal(problem.total, 'member_account.lifetime_earned');
        assert.equal(problem.limit, MAX);
      });
      // the edge: exactly 2^53 − 1
      const room = MAX - 9007 * MAX_POINTS;
      ok(await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: room }, idem: true }), 201);
      assert.equal(ok(await t.call('GET', `/v1/members/${m.id}/balance`)).lifetime_earned, MAX);
      await nothingChanges(programId, [m.id], async () => {
        assertProblem(await t.call('POST', `/v1/members/${m.id}/credits`, { body: { points: 1 }, idem: true }), 422, 'BALANCE_LIMIT_EXCEEDED');
        // through an event (events_commit) too: refused, not stored
        const id = unique('chk');
        assertProblem(await send({ id, type: 'checkin', program_id: programId, member_id: m.id }), 422, 'BALANCE_LIMIT_EXCEEDED');
        assertProblem(await t.call('GET', `/v1/programs/${programId}/events/by-external-id/${id}`), 404, 'EVENT_NOT_FOUND');
      });
      // in a batch, only that member's event is refused; the others are processed, in order
      const other = await createMember(t, programId);
      const again = unique('n1');
      const events = [again, unique('m'), unique('n2'), again].map((id, i) => ({ id, type: 'checkin', member_id: i === 1 ? m.id : other.id }));
      const batch = await unchanged(t, [m.id], async () =>
        ok(await t.call('POST', '/v1/events/batch', { body: { program_id: programId, events }, key: t.keys.integration }), 200),
      );
      assert.deepEqual(
        batch.results.map((r: Json) => r.status),
        [201, 422, 201, 200],
      );
      assert.equal(batch.results[1].error.code, 'BALANCE_LIMIT_EXCEEDED');
      assert.deepEqual(batch.results[3].result, batch.results[0].result);
      assert.deepEqual([batch.processed, batch.rejected, batch.duplicates, batch.points], [2, 1, 1, 2]);
      assert.equal(ok(await t.call('GET', `/v1/members/${other.id}/balance`)).available, 2);
      assert.equal(ok(await t.call('GET', '/v1/audit')).ok, true);
    });

    it('refuses a debit past 2^53 − 1 lifetime spent, and a credit past a balance of 2^53 − 1', async () => {
      const programId = await programWith([]);
      const spender = await createMember(t, programId);
      ok(await t.call('POST', `/v1/members/${spender.id}/credits`, { body: { points: 10 }, idem: true }), 201);
      await sql('UPDATE member_account SET lifetime_spent = $2::text::bigint WHERE member_id = $1', [spender.id, String(MAX - 5)]);
      ok(await t.call('POST', `/v1/members/${spender.id}/debits`, { body: { points: 5 }, idem: true }), 201);
      await nothingChanges(programId, [spender.id], async () => {
        assertProblem(await t.call('POST', `/v1/members/${spender.id}/debits`, { body: { points: 1 }, idem: true }), 422, 'BALANCE_LIMIT_EXCEEDED', {
          extra: { total: 'member_account.lifetime_spent' },
        });
      });

      const rich = await createMember(t, programId);
      await grant(programId, rich.id, BigInt(MAX - 3));
      ok(await t.call('POST', `/v1/members/${rich.id}/credits`, { body: { points: 3 }, idem: true }), 201);
      assert.equal(ok(await t.call('GET', `/v1/members/${rich.id}/balance`)).available, MAX);
      await nothingChanges(programId, [rich.id], async () => {
        assertProblem(await t.call('POST', `/v1/members/${rich.id}/credits`, { body: { points: 1 }, idem: true }), 422, 'BALANCE_LIMIT_EXCEEDED', {
          extra: { total: 'member_account.balance_and_held' },
        });
        assertProblem(
          await t.call('POST', `/v1/members/${rich.id}/adjustments`, { body: { points: 1, reason_code: 'goodwill' }, idem: true }),
          422,
          'BALANCE_LIMIT_EXCEEDED',
        );
      });
      assert.equal(ok(await t.call('GET', `/v1/audit?program_id=${programId}`)).ok, true);
    });

    it('bounds balance + held together, so a hold released by the timed job never passes 2^53 − 1', async () => {
      const programId = await programWith([]);
      const holder = await createMember(t, programId);
      await grant(programId, holder.id, BigInt(MAX - 10));
      const h = ok(await t.call('POST', `/v1/members/${holder.id}/holds`, { body: { points: 5, expires_in_seconds: 60 }, idem: true }), 201);
      ok(await t.call('POST', `/v1/members/${holder.id}/credits`, { body: { points: 10 }, idem: true }), 201);
      const b = ok(await t.call('GET', `/v1/members/${holder.id}/balance`));
      assert.deepEqual([b.available, b.held], [MAX - 5, 5]);
      await nothingChanges(programId, [holder.id], async () => {
        assertProblem(await t.call('POST', `/v1/members/${holder.id}/credits`, { body: { points: 1 }, idem: true }), 422, 'BALANCE_LIMIT_EXCEEDED', {
          extra: { total: 'member_account.balance_and_held' },
        });
      });
      t.clock.advance(61_000);
      assert.ok(ok(await t.call('POST', '/v1/jobs/sweep', { body: {} }), 200).holds_released >= 1);
      assert.equal(ok(await t.call('GET', `/v1/holds/${h.hold.id}`)).status, 'expired');
      const after = ok(await t.call('GET', `/v1/members/${holder.id}/balance`));
      assert.deepEqual([after.available, after.held], [MAX, 0]);
      assert.equal(ok(await t.call('GET', `/v1/audit?program_id=${programId}`)).ok, true);
    });
  });

  describe('the audit, exact beyond 2^53', () => {
    it('sums accounts past 2^53 exactly (strings beyond it), over the program and the deployment', async () => {
      const programId = await programWith([]);
      const members = [await createMember(t, programId), await createMember(t, programId), await createMember(t, programId)];
      for (const m of members) await grant(programId, m.id, 4_000_000_000_000_000n);
      const report = ok(await t.call('GET', `/v1/audit?program_id=${programId}`), 200);
      assert.equal(report.ok, true, JSON.stringify(report.violations));
      assert.deepEqual(report.accounts, [
        { program_id: programId, account: 'issued', balance: '-12000000000000000' },
        { program_id: programId, account: 'member', balance: '12000000000000000' },
      ]);
      // the whole deployment (this answered 500 on PGlite: BigInt mixed with numbers)
      const all = ok(await t.call('GET', '/v1/audit'), 200);
      assert.equal(all.ok, true, JSON.stringify(all.violations));
      assert.ok(all.accounts.some((a: Json) => a.program_id === programId && a.balance === '12000000000000000'));
      for (const a of all.accounts)
        assert.ok(Number.isSafeInteger(a.balance) || (typeof a.balance === 'string' && Math.abs(Number(a.balance)) > MAX), JSON.stringify(a));

      // one point too many in one stored balance: found, and the program's totals differ by exactly 1
      await sql('UPDATE member_account SET balance = balance + 1 WHERE member_id = $1', [members[0]!.id]);
      try {
        const bad = ok(await t.call('GET', `/v1/audit?program_id=${programId}`), 200);
        assert.equal(bad.ok, false);
        const byCheck = (check: string) => bad.violations.filter((v: Json) => v.check === check);
        assert.deepEqual(
          byCheck('balance_equals_entries').map((v: Json) => v.detail),
          [{ stored: 4_000_000_000_000_001, entries: 4_000_000_000_000_000 }],
        );
        assert.deepEqual(
          byCheck('stored_balances_equal_member_accounts').map((v: Json) => v.detail),
          [
            {
              program_id: programId,
              stored_balance: '12000000000000001',
              member_account: '12000000000000000',
              stored_held: 0,
              member_held_account: 0,
            },
          ],
        );
      } finally {
        await sql('UPDATE member_account SET balance = balance - 1 WHERE member_id = $1', [members[0]!.id]);
      }
      assert.equal(ok(await t.call('GET', '/v1/audit')).ok, true);
    });
  });

  it('previews answer what the event would, for random rules near the limits (property)', async () => {
    const decimal = fc.oneof(
      fc.constantFrom('1', '1.5', '2', '9999', '9999.9999', '0.0001', '0'),
      fc.integer({ min: 0, max: 99_999_999 }).map((n) => (n / 10_000).toFixed(4)),
    );
    const rule = fc.record({
      points: fc.oneof(fc.constant(1_000_000), fc.integer({ min: 1, max: 1_000_000 })),
      per_amount: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 100_000_000 })),
      multiplier: fc.option(decimal, { nil: undefined }),
      per_event: fc.option(fc.oneof(fc.constant(MAX_POINTS), fc.integer({ min: 1, max: MAX_POINTS })), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(rule, { minLength: 1, maxLength: 3 }),
        fc.oneof(fc.constant(1e12), fc.integer({ min: 0, max: 1e12 })),
        async (rules, amount) => {
          const programId = await programWith(
            rules.map((r, i) => ({
              name: `r${i}`,
              triggers: ['order.paid'],
              effect: { type: 'rate', points: r.points, per_amount: r.per_amount },
              ...(r.multiplier ? { multipliers: [{ ...allDays, multiplier: r.multiplier }] } : {}),
              ...(r.per_event ? { caps: { per_event: r.per_event } } : {}),
            })),
          );
          const m = await createMember(t, programId);
          const body = orderBody(programId, m.id, amount);
          const p = await preview(body);
          const before = await audits(programId);
          const e = await send(body);
          if (p.statusCode === 422) {
            assertProblem(e, 422, 'AWARD_LIMIT_EXCEEDED');
            assert.deepEqual(await audits(programId), before);
          } else {
            const pv = ok(p, 200);
            const ev = ok(e, 201);
            assert.equal(ev.points, pv.points);
            assert.ok(ev.points <= MAX_POINTS);
            assertSafe(pv, 'preview');
            assertSafe(ev, 'event');
          }
        },
      ),
      { numRuns: kind === 'pglite' ? 12 : 12, seed: 8_2026 },
    );
  });
});

describe('rule engine limits (property)', () => {
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  const validDefinition = addFormats(new Ajv({ strict: false })).compile(RuleDefinitionSchema);
  const decimal = fc.oneof(
    fc.constantFrom('1', '1.5', '9999.9999', '0.5'),
    fc.integer({ min: 0, max: 99_999_999 }).map((n) => (n / 10_000).toString()),
  );
  const capPoints = fc.oneof(fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(1), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
  const definition: fc.Arbitrary<RuleDefinition> = fc
    .record({
      fixed: fc.boolean(),
      points: fc.oneof(fc.constant(1_000_000), fc.integer({ min: 1, max: 1_000_000 })),
      per_amount: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 100_000_000 })),
      items: fc.boolean(),
      rounding: fc.constantFrom('floor', 'half_up', 'ceil'),
      stacking: fc.constantFrom('multiply', 'add', 'highest'),
      multipliers: fc.array(decimal, { maxLength: 20 }),
      item_multiplier: fc.option(decimal, { nil: undefined }),
      per_event: fc.option(fc.oneof(fc.constant(MAX_POINTS), fc.integer({ min: 1, max: MAX_POINTS })), { nil: undefined }),
      day: fc.option(capPoints, { nil: undefined }),
      lifetime: fc.option(capPoints, { nil: undefined }),
    })
    .map(
      (r) =>
        ({
          name: 'r',
          triggers: ['order.paid'],
          effect: r.fixed
            ? { type: 'fixed', points: r.points }
            : { type: 'rate', points: r.points, per_amount: r.per_amount, rounding: r.rounding, ...(r.items ? { basis: 'items' } : {}) },
          ...(!r.fixed && r.items && r.item_multiplier ? { item_multipliers: [{ categories: ['c'], multiplier: r.item_multiplier }] } : {}),
          ...(r.multipliers.length ? { multipliers: r.multipliers.map((multiplier) => ({ ...allDays, multiplier })), stacking: r.stacking } : {}),
          ...(r.per_event || r.day || r.lifetime
            ? {
                caps: {
                  ...(r.per_event ? { per_event: r.per_event } : {}),
                  ...(r.day || r.lifetime ? { per_member: { ...(r.day ? { day: r.day } : {}), ...(r.lifetime ? { lifetime: r.lifetime } : {}) } } : {}),
                },
              }
            : {}),
        }) as RuleDefinition,
    );
  const line = fc.record({
    sku: fc.constantFrom('a', 'b'),
    category: fc.constantFrom('c', 'd'),
    quantity: fc.integer({ min: 1, max: 1_000_000 }),
    unit_price: fc.integer({ min: 0, max: 1e12 }),
  });
  const event = fc
    .record({ amount: fc.oneof(fc.constant(1e12), fc.integer({ min: 0, max: 1e12 })), items: fc.array(line, { maxLength: 5 }) })
    .filter((d) => d.items.reduce((s, l) => s + l.quantity * l.unit_price, 0) <= 1e12);

  it("random rules within the schema's bounds give safe integers and at most 10^12 per event, or refuse with AWARD_LIMIT_EXCEEDED", () => {
    const program = { id: 'prg_t', time_zone: 'Asia/Shanghai', currency: 'CNY', pending_days: 0 };
    const member = { id: 'mbr_t', tier: null, tags: [], birthday: null, attributes: {} };
    fc.assert(
      fc.property(fc.array(definition, { minLength: 1, maxLength: 4 }), event, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (defs, data, used) => {
        for (const d of defs) assert.ok(validDefinition(d), JSON.stringify(validDefinition.errors));
        const rules = orderRules(defs.map((definition, i) => compileRule({ rule_id: `rul_${i}`, version: 1, created_at: '2026-01-01', definition })));
        const ev: EvalEvent = { id: 'e', type: 'order.paid', occurred_at: new Date('2026-06-10T06:00:00Z'), data };
        const usage = { points: () => used, count: () => 0 };
        let result: ReturnType<typeof evaluate>;
        try {
          result = evaluate(rules, ev, member, program, ev.occurred_at, usage);
        } catch (err) {
          assert.ok(err instanceof DomainError, String(err));
          assert.equal(err.code, 'AWARD_LIMIT_EXCEEDED');
          assert.equal(err.status, 422);
          assert.ok(BigInt(err.details.points as string) > BigInt(MAX_POINTS), String(err.details.points));
          return;
        }
        assertSafe(result, 'evaluation');
        assert.ok(result.total <= MAX_POINTS);
        assert.equal(
          result.total,
          result.awards.reduce((s, a) => s + a.points, 0),
        );
        for (const a of result.awards) assert.ok(a.points >= 1 && a.points <= MAX_POINTS);
      }),
      { numRuns: 500, seed: 8_2026 },
    );
  });
});
