import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { RuleDefinition } from '../src/modules/rules/index.ts';
import { coffeeChain } from './fixtures/seed-programs.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';

// The console's rule editor previews a rule before it is saved: POST /v1/events/preview with draft_rule.
forEachDatabase('previewing a draft rule', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), '2026-06-10T06:00:00.000Z');
  });
  after(() => t.close());

  async function programWith(rules: RuleDefinition[]) {
    const program = (await t.call('POST', '/v1/programs', { body: { name: 'P', pending_days: 0 } })).json();
    const ids: string[] = [];
    for (const definition of rules) {
      const res = await t.call('POST', `/v1/programs/${program.id}/rules`, { body: { definition } });
      assert.equal(res.statusCode, 201, res.body);
      ids.push(res.json().id);
    }
    return { programId: program.id as string, ruleIds: ids };
  }
  const member = async (programId: string, extra: Record<string, unknown> = {}) =>
    (await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id: unique('m'), ...extra } })).json().id as string;
  const preview = (body: Record<string, unknown>, key = t.keys.integration) => t.call('POST', '/v1/events/preview', { body, key });
  const basket = (programId: string, memberId: string | undefined, amount: number) => ({
    id: 'basket',
    type: 'order.paid',
    program_id: programId,
    ...(memberId ? { member_id: memberId } : {}),
    data: { order_id: 'cart', amount, currency: 'CNY' },
  });

  it('evaluates a new rule beside the rules in force, and writes nothing', async () => {
    const { programId } = await programWith(coffeeChain);
    const gold = await member(programId, { tier: 'gold' });
    const draft: RuleDefinition = {
      name: '满50送20',
      triggers: ['order.paid'],
      condition: { '>=': [{ var: 'event.data.amount' }, 5000] },
      effect: { type: 'fixed', points: 20 },
    };
    const res = await preview({ ...basket(programId, gold, 6_800), draft_rule: { definition: draft } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.points, 102 + 20);
    const drafted = body.awards.find((a: { rule_id: string }) => a.rule_id === 'draft');
    assert.deepEqual([drafted.rule_version, drafted.points, drafted.explanation.rule_name], [0, 20, '满50送20']);
    assert.equal(body.awards.length, 2);
    // the draft's condition misses: it is listed with the reason
    const small = (await preview({ ...basket(programId, gold, 4_000), draft_rule: { definition: draft } })).json();
    assert.equal(small.points, 60);
    assert.deepEqual(
      small.skipped.filter((s: { rule_id: string }) => s.rule_id === 'draft').map((s: { reason: string }) => s.reason),
      ['condition'],
    );
    // without the draft, the saved rules alone; nothing was saved
    assert.equal((await preview(basket(programId, gold, 6_800))).json().points, 102);
    assert.equal((await t.call('GET', `/v1/programs/${programId}/rules`)).json().data.length, 1);
    assert.equal((await t.call('GET', `/v1/members/${gold}/balance`)).json().available, 0);
  });

  it('an edit replaces the saved rule it names, keeping its id', async () => {
    const { programId, ruleIds } = await programWith(coffeeChain);
    const ruleId = ruleIds[0]!;
    const gold = await member(programId, { tier: 'gold' });
    const edited: RuleDefinition = { ...coffeeChain[0]!, effect: { type: 'rate', points: 2, per_amount: 100, rounding: 'floor' } };
    const body = (await preview({ ...basket(programId, gold, 6_800), draft_rule: { rule_id: ruleId, definition: edited } })).json();
    assert.equal(body.points, 204);
    assert.deepEqual(
      body.awards.map((a: { rule_id: string; rule_version: number; text: string }) => [a.rule_id, a.rule_version, a.text]),
      [[ruleId, 0, '204 = ¥68 × 2 pt/¥ × 1.5 (金卡)']],
    );
    // a guest: no tier multiplier
    assert.equal((await preview({ ...basket(programId, undefined, 6_800), draft_rule: { rule_id: ruleId, definition: edited } })).json().points, 136);
  });

  it('a draft that would not save is a 400 at its path under /draft_rule/definition', async () => {
    const { programId } = await programWith(coffeeChain);
    const badLogic = await preview({
      ...basket(programId, undefined, 1_000),
      draft_rule: { definition: { name: 'x', triggers: ['order.paid'], condition: { or: [true, { shout: [1] }] }, effect: { type: 'fixed', points: 1 } } },
    });
    assert.equal(badLogic.statusCode, 400, badLogic.body);
    assert.equal(badLogic.json().errors[0].path, '/draft_rule/definition/condition/or/1/shout');
    const noPerAmount = await preview({
      ...basket(programId, undefined, 1_000),
      draft_rule: { definition: { name: 'x', triggers: ['order.paid'], effect: { type: 'rate', points: 1 } } },
    });
    assert.equal(noPerAmount.statusCode, 400, noPerAmount.body);
    assert.equal(noPerAmount.json().errors[0].path, '/draft_rule/definition/effect/per_amount');
    const schema = await preview({ ...basket(programId, undefined, 1_000), draft_rule: { definition: { name: 'x', triggers: ['order.paid'] } } });
    assert.equal(schema.statusCode, 400, schema.body);
    assert.match(schema.json().errors[0].path, /^\/draft_rule\/definition/);
  });
});
