import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { evaluate, type RuleDefinition, RuleSet } from '../src/modules/rules/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { assertProblem, balance, createMember, createProgram, type Json, ok } from './http/support.ts';

// Issue 9, earning corrections, back-dated events: an event from before any rule listening to its
// type was in force says so (skip no_rule_in_force), and an operator can publish a rule or a rule
// version effective from a past date (backdate: true, at most 366 days back) for events still to come.

const NOW = '2026-06-10T06:00:00.000Z';
const perYuan: RuleDefinition = { name: 'purchase', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } };
const doubled: RuleDefinition = { name: 'purchase ×2', triggers: ['order.paid'], effect: { type: 'rate', points: 2, per_amount: 100 } };

describe('rules not in force at an instant', () => {
  const row = (rule_id: string, version: number, effective_from: string, definition: RuleDefinition, archived_at: string | null = null) => ({
    rule_id,
    rule_created_at: '2026-01-01T00:00:00.000Z',
    archived_at,
    version,
    effective_from,
    definition,
  });
  const program = { id: 'prg_t', time_zone: 'UTC', currency: 'CNY', pending_days: 0 };
  const member = { id: 'mbr_t', tier: null, tags: [], birthday: null, attributes: {} };
  const set = new RuleSet([
    row('rul_a', 1, '2026-06-01T00:00:00.000Z', perYuan),
    row('rul_b', 1, '2026-01-01T00:00:00.000Z', perYuan, '2026-03-01T00:00:00.000Z'),
    row('rul_c', 1, '2026-01-01T00:00:00.000Z', { name: 'checkin', triggers: ['checkin'], effect: { type: 'fixed', points: 5 } }),
  ]);
  const run = (type: string, iso: string) => {
    const at = new Date(iso);
    return evaluate(set.at(at), { id: 'e', type, occurred_at: at, data: { amount: 1_000 } }, member, program, at);
  };

  it('names every rule listening to the type: the ones that apply later (soonest first), then the ones that stopped (latest first)', () => {
    assert.deepEqual(run('order.paid', '2025-12-01T00:00:00Z').skipped, [
      {
        rule_id: 'rul_b',
        reason: 'no_rule_in_force',
        detail: 'no rule for order.paid was in force at 2025-12-01T00:00:00.000Z; this rule applies to it from 2026-01-01T00:00:00.000Z (version 1)',
      },
      {
        rule_id: 'rul_a',
        reason: 'no_rule_in_force',
        detail: 'no rule for order.paid was in force at 2025-12-01T00:00:00.000Z; this rule applies to it from 2026-06-01T00:00:00.000Z (version 1)',
      },
    ]);
    assert.deepEqual(
      run('order.paid', '2026-04-01T00:00:00Z').skipped.map((s) => [s.rule_id, s.detail]),
      [
        ['rul_a', 'no rule for order.paid was in force at 2026-04-01T00:00:00.000Z; this rule applies to it from 2026-06-01T00:00:00.000Z (version 1)'],
        ['rul_b', 'no rule for order.paid was in force at 2026-04-01T00:00:00.000Z; this rule stopped applying to it at 2026-03-01T00:00:00.000Z'],
      ],
    );
  });

  it('says nothing when a rule listening to the type is in force, or when no rule ever listens to it', () => {
    const feb = run('order.paid', '2026-02-01T00:00:00Z');
    assert.deepEqual([feb.total, feb.skipped], [10, []]);
    assert.deepEqual(run('app.opened', '2025-12-01T00:00:00Z').skipped, []);
    assert.deepEqual(run('checkin', '2026-04-01T00:00:00Z').skipped, []);
  });

  it('names the version that starts listening to the type when an earlier one of the rule listens to another', () => {
    const s = new RuleSet([
      row('rul_x', 1, '2026-01-01T00:00:00.000Z', { ...perYuan, triggers: ['checkin'] }),
      row('rul_x', 2, '2026-05-01T00:00:00.000Z', perYuan),
    ]);
    const at = new Date('2026-02-01T00:00:00Z');
    assert.deepEqual(evaluate(s.at(at), { id: 'e', type: 'order.paid', occurred_at: at, data: {} }, member, program, at).skipped, [
      {
        rule_id: 'rul_x',
        reason: 'no_rule_in_force',
        detail: 'no rule for order.paid was in force at 2026-02-01T00:00:00.000Z; this rule applies to it from 2026-05-01T00:00:00.000Z (version 2)',
      },
    ]);
  });
});

forEachDatabase('back-dated events and rule versions over HTTP', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), NOW);
  });
  beforeEach(() => t.clock.set(NOW));
  after(() => t.close());

  const createRule = (programId: string, body: Record<string, unknown>) => t.call('POST', `/v1/programs/${programId}/rules`, { body });
  const revise = (ruleId: string, body: Record<string, unknown>) => t.call('POST', `/v1/rules/${ruleId}/versions`, { body });
  const orderBody = (programId: string, memberId: string, occurredAt: string, amount = 1_000) => ({
    id: unique('ord'),
    type: 'order.paid',
    program_id: programId,
    member_id: memberId,
    occurred_at: occurredAt,
    data: { order_id: unique('o'), amount, currency: 'CNY' },
  });
  const send = (body: Record<string, unknown>) => t.call('POST', '/v1/events', { body, key: t.keys.integration });

  it('answers an event from before any rule was in force with 201, 0 points and a no_rule_in_force skip; a preview shows the same', async () => {
    const p = (await createProgram(t, { pending_days: 0 })).id;
    const rule = ok(await createRule(p, { definition: perYuan }), 201);
    const m = (await createMember(t, p)).id;
    const body = orderBody(p, m, '2026-03-01T08:00:00.000Z');
    const res = ok(await send(body), 201);
    const skip = {
      rule_id: rule.id,
      reason: 'no_rule_in_force',
      detail: `no rule for order.paid was in force at 2026-03-01T08:00:00.000Z; this rule applies to it from ${NOW} (version 1)`,
    };
    assert.deepEqual([res.points, res.awards, res.skipped], [0, [], [skip]]);
    assert.deepEqual(ok(await t.call('GET', `/v1/events/${res.id}`), 200), res, 'stored with its skip');
    const pre = ok(await t.call('POST', '/v1/events/preview', { body: { ...body, id: unique('basket') }, key: t.keys.integration }), 200);
    assert.deepEqual([pre.points, pre.skipped], [0, [skip]]);
    // an event now earns as before, without that skip; a type no rule listens to says nothing
    assert.deepEqual(ok(await send(orderBody(p, m, NOW)), 201).skipped, []);
    const opened = ok(await send({ id: unique('app'), type: 'app.opened', program_id: p, member_id: m, occurred_at: '2026-03-01T08:00:00.000Z' }), 201);
    assert.deepEqual([opened.points, opened.skipped], [0, []]);
  });

  it('says which rule stopped applying when every rule for the type was archived before occurred_at', async () => {
    const p = (await createProgram(t, { pending_days: 0 })).id;
    const rule = ok(await createRule(p, { definition: perYuan }), 201);
    t.clock.set('2026-06-11T06:00:00.000Z');
    ok(await t.call('POST', `/v1/rules/${rule.id}/archive`, { body: {} }), 200);
    t.clock.set('2026-06-12T06:00:00.000Z');
    const m = (await createMember(t, p)).id;
    const res = ok(await send(orderBody(p, m, '2026-06-12T06:00:00.000Z')), 201);
    assert.deepEqual(
      [res.points, res.skipped],
      [
        0,
        [
          {
            rule_id: rule.id,
            reason: 'no_rule_in_force',
            detail: 'no rule for order.paid was in force at 2026-06-12T06:00:00.000Z; this rule stopped applying to it at 2026-06-11T06:00:00.000Z',
          },
        ],
      ],
    );
    // while it was in force, it earned
    assert.equal(ok(await send(orderBody(p, m, '2026-06-10T12:00:00.000Z')), 201).points, 10);
  });

  it('publishes a back-dated rule: new events with an old occurred_at earn by it, the event processed before is not evaluated again', async () => {
    const p = (await createProgram(t, { pending_days: 0 })).id;
    const current = ok(await createRule(p, { definition: perYuan }), 201);
    const m = (await createMember(t, p)).id;
    const earlyBody = orderBody(p, m, '2026-03-01T08:00:00.000Z');
    // processed while no rule was in force at its occurred_at (and the program's rules are compiled and cached)
    const early = ok(await send(earlyBody), 201);
    assert.equal(early.points, 0);

    const imported = ok(await createRule(p, { definition: { ...perYuan, name: 'imported' }, effective_from: '2026-02-01T00:00:00.000Z', backdate: true }), 201);
    assert.deepEqual(
      [imported.versions[0].effective_from, imported.versions[0].created_at, imported.versions[0].backdated],
      ['2026-02-01T00:00:00.000Z', NOW, true],
    );
    assert.equal(imported.current.version, 1);
    // on record: who published it, when, and that it took effect before
    const stored = ok(await t.call('GET', `/v1/rules/${imported.id}`), 200);
    assert.equal(typeof stored.versions[0].created_by, 'string');
    assert.deepEqual([stored.versions[0].backdated, stored.versions[0].created_at], [true, NOW]);

    // the earlier event stays as it was: the replay and the stored event answer its first result
    const replay = await send(earlyBody);
    assert.equal(replay.statusCode, 200, replay.body);
    assert.deepEqual(replay.json(), early);
    assert.deepEqual(ok(await t.call('GET', `/v1/events/${early.id}`), 200), early);
    // a new event at the same occurred_at is evaluated by the back-dated rule (the cache picked it up)
    const late = ok(await send(orderBody(p, m, '2026-03-01T08:00:00.000Z')), 201);
    assert.deepEqual([late.points, late.awards.map((a: Json) => [a.rule_id, a.rule_version]), late.skipped], [10, [[imported.id, 1]], []]);
    const pre = ok(await t.call('POST', '/v1/events/preview', { body: orderBody(p, m, '2026-03-01T08:00:00.000Z'), key: t.keys.integration }), 200);
    assert.deepEqual([pre.points, pre.skipped], [10, []]);
    // before the back-dated rule there is still nothing, and it says so
    const older = ok(await send(orderBody(p, m, '2026-01-15T00:00:00.000Z')), 201);
    assert.deepEqual(
      [older.points, older.skipped.map((s: Json) => [s.rule_id, s.reason])],
      [
        0,
        [
          [imported.id, 'no_rule_in_force'],
          [current.id, 'no_rule_in_force'],
        ],
      ],
    );
    assert.equal((await balance(t, m)).available, 10, 'only the event processed after the publication earned');
  });

  it('publishes a back-dated version: events processed after it at an occurred_at since then earn by it, earlier ones keep the version they got', async () => {
    const p = (await createProgram(t, { pending_days: 0 })).id;
    const rule = ok(await createRule(p, { definition: perYuan }), 201);
    const m = (await createMember(t, p)).id;
    t.clock.set('2026-07-10T06:00:00.000Z');
    const julyBody = orderBody(p, m, '2026-07-01T00:00:00.000Z');
    const july = ok(await send(julyBody), 201);
    assert.deepEqual([july.points, july.awards[0].rule_version], [10, 1]);

    const v2 = ok(await revise(rule.id, { definition: doubled, effective_from: '2026-06-20T00:00:00.000Z', backdate: true }), 201);
    assert.deepEqual(
      v2.versions.map((v: Json) => [v.version, v.effective_from, v.effective_until, v.backdated]),
      [
        [2, '2026-06-20T00:00:00.000Z', null, true],
        [1, NOW, '2026-06-20T00:00:00.000Z', false],
      ],
    );
    assert.equal(v2.current.version, 2);
    const replay = await send(julyBody);
    assert.equal(replay.statusCode, 200, replay.body);
    assert.deepEqual(replay.json(), july, 'not evaluated again');
    const again = ok(await send(orderBody(p, m, '2026-07-01T00:00:00.000Z')), 201);
    assert.deepEqual([again.points, again.awards[0].rule_version], [20, 2]);
    const before20 = ok(await send(orderBody(p, m, '2026-06-15T00:00:00.000Z')), 201);
    assert.deepEqual([before20.points, before20.awards[0].rule_version], [10, 1]);
  });

  it('refuses a past effective_from without backdate, beyond 366 days, or before the latest version, with stable codes at /effective_from, writing nothing', async () => {
    const p = (await createProgram(t)).id;
    const rule = ok(await createRule(p, { definition: perYuan }), 201);
    assertProblem(await createRule(p, { definition: perYuan, effective_from: '2026-05-01T00:00:00.000Z' }), 422, 'EFFECTIVE_FROM_IN_PAST', {
      path: '/effective_from',
    });
    assertProblem(await createRule(p, { definition: perYuan, effective_from: '2026-05-01T00:00:00.000Z', backdate: false }), 422, 'EFFECTIVE_FROM_IN_PAST', {
      path: '/effective_from',
    });
    assertProblem(await revise(rule.id, { definition: doubled, effective_from: '2026-06-10T05:00:00.000Z' }), 422, 'EFFECTIVE_FROM_IN_PAST', {
      path: '/effective_from',
    });
    // at most 366 days back: the last millisecond allowed, and the one before
    const earliest = '2025-06-09T06:00:00.000Z';
    const tooOld = assertProblem(
      await createRule(p, { definition: perYuan, effective_from: '2025-06-09T05:59:59.999Z', backdate: true }),
      422,
      'BACKDATE_LIMIT_EXCEEDED',
      { path: '/effective_from', extra: { earliest_effective_from: earliest, max_days: 366 } },
    );
    assert.match(tooOld.detail, /366 days/);
    assertProblem(await revise(rule.id, { definition: doubled, effective_from: '2024-01-01T00:00:00.000Z', backdate: true }), 422, 'BACKDATE_LIMIT_EXCEEDED', {
      path: '/effective_from',
    });
    // versions stay in order: a back-dated version cannot start before the latest one
    assertProblem(
      await revise(rule.id, { definition: doubled, effective_from: '2026-06-01T00:00:00.000Z', backdate: true }),
      422,
      'EFFECTIVE_FROM_BEFORE_LATEST',
      { path: '/effective_from', extra: { latest_effective_from: NOW } },
    );
    assertProblem(await createRule(p, { definition: perYuan, effective_from: '2026-05-01T00:00:00.000Z', backdate: 'yes' }), 400, 'VALIDATION_FAILED', {
      path: '/backdate',
    });
    assertProblem(
      await t.call('POST', `/v1/rules/${rule.id}/archive`, { body: { effective_from: '2026-05-01T00:00:00.000Z', backdate: true } }),
      400,
      'VALIDATION_FAILED',
    );
    assert.deepEqual(
      ok(await t.call('GET', `/v1/rules/${rule.id}`), 200).versions.map((v: Json) => v.version),
      [1],
      'no version was added',
    );
    assert.equal(ok(await t.call('GET', `/v1/programs/${p}/rules`), 200).data.length, 1, 'no rule was created');

    const oldest = ok(await createRule(p, { definition: perYuan, effective_from: earliest, backdate: true }), 201);
    assert.deepEqual([oldest.versions[0].effective_from, oldest.versions[0].backdated], [earliest, true]);
    // backdate only permits: now or later is as without it
    const plain = ok(await createRule(p, { definition: perYuan, backdate: true }), 201);
    assert.deepEqual([plain.versions[0].effective_from, plain.versions[0].backdated], [NOW, false]);
    const announced = ok(await revise(plain.id, { definition: doubled, effective_from: '2026-08-01T00:00:00.000Z', backdate: true }), 201);
    assert.deepEqual([announced.versions[0].backdated, announced.current.version], [false, 1]);
  });

  it('answers a back-dated publication sent again with one Idempotency-Key once', async () => {
    const p = (await createProgram(t)).id;
    const body = { definition: perYuan, effective_from: '2026-02-01T00:00:00.000Z', backdate: true };
    const key = unique('idem');
    const first = await t.call('POST', `/v1/programs/${p}/rules`, { body, idem: key });
    const second = await t.call('POST', `/v1/programs/${p}/rules`, { body, idem: key });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.deepEqual(second.json(), first.json());
    assert.equal(ok(await t.call('GET', `/v1/programs/${p}/rules`), 200).data.length, 1);
  });
});
