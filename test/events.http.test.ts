import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { RuleDefinition } from '../src/modules/rules/index.ts';
import { beautyShop, coffeeChain } from './fixtures/seed-programs.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';

forEachDatabase('events and rules over HTTP', (getDb, kind) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), '2026-06-10T06:00:00.000Z');
  });
  after(() => t.close());

  async function programWith(rules: RuleDefinition[], settings: Record<string, unknown> = {}) {
    const program = (await t.call('POST', '/v1/programs', { body: { name: 'P', pending_days: 0, ...settings } })).json();
    for (const definition of rules) {
      const res = await t.call('POST', `/v1/programs/${program.id}/rules`, { body: { definition } });
      assert.equal(res.statusCode, 201, res.body);
    }
    return program.id as string;
  }
  async function member(programId: string, extra: Record<string, unknown> = {}) {
    return (await t.call('POST', `/v1/programs/${programId}/members`, { body: { external_id: unique('m'), ...extra } })).json().id as string;
  }
  const send = (body: Record<string, unknown>) => t.call('POST', '/v1/events', { body, key: t.keys.integration });
  const order = (programId: string, memberId: string, amount: number, extra: Record<string, unknown> = {}) =>
    send({
      id: unique('ord'),
      type: 'order.paid',
      program_id: programId,
      member_id: memberId,
      data: { order_id: unique('o'), amount, currency: 'CNY', ...extra },
    });
  const balance = async (memberId: string) => (await t.call('GET', `/v1/members/${memberId}/balance`)).json();

  it('earns by tier in the coffee chain and explains it to the member', async () => {
    const p = await programWith(coffeeChain);
    const silver = await member(p, { tier: 'silver' });
    const gold = await member(p, { tier: 'gold' });
    assert.equal((await order(p, silver, 10_000)).json().points, 100);
    const res = await order(p, gold, 10_000);
    assert.equal(res.statusCode, 201, res.body);
    const result = res.json();
    assert.equal(result.points, 150);
    assert.equal(result.awards[0].text, '150 = ¥100 × 1 pt/¥ × 1.5 (金卡)');
    assert.equal(result.awards[0].rule_version, 1);
    // the breakdown, without what the award says itself (rule, version, points, text)
    assert.deepEqual(result.awards[0].explanation, {
      rule_name: '消费积分',
      base: { kind: 'rate', amount: 10_000, points: 1, per_amount: 100, value: '100' },
      multipliers: [{ type: 'tier', label: '金卡', value: '1.5' }],
      stacking: 'multiply',
      combined_multiplier: '1.5',
      exact: '150',
      rounding: 'floor',
      rounded: 150,
      caps: [],
    });
    assert.equal((await balance(gold)).available, 150);
    const [entry] = (await t.call('GET', `/v1/members/${gold}/entries`)).json().data;
    assert.equal(entry.reason, '150 = ¥100 × 1 pt/¥ × 1.5 (金卡)');
    assert.equal(entry.event_id, result.id);
    assert.equal(entry.lot_id, result.awards[0].lot_id);
    assert.deepEqual((await t.call('GET', `/v1/events/${result.id}`)).json(), result);
  });

  it("warns when the member's tier is one no rule in force knows (it earns as no tier), in results, stored events, batches and previews", async () => {
    const p = await programWith(coffeeChain);
    const typo = await member(p, { tier: 'platinum' });
    const res = await order(p, typo, 10_000);
    assert.equal(res.statusCode, 201, res.body);
    const warning = {
      code: 'unknown_tier',
      tier: 'platinum',
      message: 'The member\'s tier "platinum" is not one the rules in force know (gold, silver): it earns as no tier',
    };
    assert.deepEqual([res.json().points, res.json().warnings], [100, [warning]]);
    assert.deepEqual((await t.call('GET', `/v1/events/${res.json().id}`)).json(), res.json());
    const preview = await t.call('POST', '/v1/events/preview', {
      key: t.keys.integration,
      body: { id: unique('e'), type: 'order.paid', program_id: p, member_id: typo, data: { order_id: 'x', amount: 100, currency: 'CNY' } },
    });
    assert.deepEqual(preview.json().warnings, [warning]);
    const batch = await t.call('POST', '/v1/events/batch', {
      key: t.keys.integration,
      body: {
        program_id: p,
        events: [
          { id: unique('e'), type: 'checkin', member_id: typo, data: {} },
          { id: unique('e'), type: 'checkin', member_id: await member(p, { tier: 'gold' }), data: {} },
        ],
      },
    });
    assert.deepEqual(
      batch.json().results.map((r: { result: { warnings: unknown[] } }) => r.result.warnings),
      [[warning], []],
    );
    // a known tier, or none: nothing to say (and nothing stored)
    const gold = (await order(p, await member(p, { tier: 'gold' }), 10_000)).json();
    assert.deepEqual([gold.points, gold.warnings], [150, []]);
    assert.deepEqual((await t.call('GET', `/v1/events/${gold.id}`)).json().warnings, []);
    const [stored] = await getDb().db.query<{ result: string }>('SELECT result::text AS result FROM event WHERE id = $1', [gold.id]);
    assert.ok(!stored!.result.includes('warnings'), stored!.result);
    assert.deepEqual((await order(p, await member(p), 10_000)).json().warnings, []);
  });

  it('processes an event id once: a repeat returns the first result and changes nothing', async () => {
    const p = await programWith(coffeeChain);
    const m = await member(p, { tier: 'gold' });
    const body = { id: 'order-1-paid', type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'order-1', amount: 2_000, currency: 'CNY' } };
    const first = await send(body);
    const again = await send(body);
    assert.equal(first.statusCode, 201);
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), first.json());
    assert.equal((await balance(m)).available, 30);
  });

  it("keeps order points pending for the program's return window", async () => {
    const p = await programWith(coffeeChain, { pending_days: 7 });
    const m = await member(p, { tier: 'silver' });
    const result = (await order(p, m, 5_000)).json();
    assert.equal(result.awards[0].available_at, '2026-06-17T06:00:00.000Z');
    assert.deepEqual([(await balance(m)).available, (await balance(m)).pending], [0, 50]);
  });

  it('reverses refunds in proportion to the amount, never more than was earned', async () => {
    const p = await programWith(coffeeChain);
    const m = await member(p, { tier: 'gold' });
    const paid = (
      await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'A-1', amount: 10_000, currency: 'CNY' } })
    ).json();
    assert.equal(paid.points, 150);
    const partial = await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'A-1', amount: 4_000 } });
    assert.equal(partial.statusCode, 201, partial.body);
    assert.equal(partial.json().points, -60);
    assert.equal(partial.json().reversals[0].entry_id, paid.awards[0].entry_id);
    assert.equal(partial.json().reversals[0].reversal_entry_ids.length, 1, 'the reverse entry the ledger wrote');
    const entry = await t.call('GET', `/v1/members/${m}/entries?limit=1`);
    assert.equal(entry.json().data[0].id, partial.json().reversals[0].reversal_entry_ids[0]);
    // the stored event is the result the sender got, reversal entry ids included
    assert.deepEqual((await t.call('GET', `/v1/events/${partial.json().id}`)).json(), partial.json());
    const rest = (await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'A-1' } })).json();
    assert.equal(rest.points, -90);
    // issue 9 (over-refunds): this refund answered 201 with 0 points, clamped silently ('nothing left to reverse')
    const again = await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'A-1', amount: 1_000 } });
    assert.equal(again.statusCode, 422, again.body);
    assert.equal(again.json().code, 'REFUND_EXCEEDS_ORDER');
    assert.deepEqual(again.json().refundable, { amount: 0 });
    assert.equal((await balance(m)).available, 0);
    const missing = await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'nope' } });
    assert.equal(missing.statusCode, 422);
    assert.equal(missing.json().code, 'ORDER_NOT_FOUND');
  });

  it('refuses a refund that asks more than is left of the order, says what is left, and writes nothing', async () => {
    const p = await programWith(beautyShop);
    const m = await member(p);
    const items = [
      { sku: 'lipstick', category: 'makeup', quantity: 1, unit_price: 8_000 },
      { sku: 'serum', category: 'new', quantity: 2, unit_price: 5_000 },
    ];
    await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'R-1', amount: 18_000, currency: 'CNY', items } });
    const refund = (data: Record<string, unknown>, id = unique('e')) =>
      send({ id, type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'R-1', ...data } });
    const first = await refund({ items: [{ sku: 'serum', quantity: 1 }] });
    assert.equal(first.json().points, -100);
    const before = await balance(m);
    // more than the amount left (¥130), more serums than are left (1), and by id: nothing is written, the id stays free
    const id = unique('e');
    const tooMuch = await refund({ amount: 13_001 }, id);
    assert.equal(tooMuch.statusCode, 422, tooMuch.body);
    assert.deepEqual([tooMuch.json().code, tooMuch.json().order_id, tooMuch.json().errors[0].path], ['REFUND_EXCEEDS_ORDER', 'R-1', '/data/amount']);
    assert.deepEqual(tooMuch.json().refundable, {
      amount: 13_000,
      items: [
        { sku: 'lipstick', quantity: 1 },
        { sku: 'serum', quantity: 1 },
      ],
    });
    const serums = await refund({
      items: [
        { sku: 'lipstick', quantity: 1 },
        { sku: 'serum', quantity: 2 },
      ],
    });
    assert.deepEqual([serums.statusCode, serums.json().errors[0].path], [422, '/data/items/1/quantity']);
    assert.deepEqual(await balance(m), before);
    assert.equal((await t.call('GET', `/v1/programs/${p}/events/by-external-id/${id}`)).statusCode, 404);
    // the same id with the right numbers
    const right = await refund({ amount: 13_000 }, id);
    assert.deepEqual([right.statusCode, right.json().points], [201, -180]);
    // in a batch: that event alone is refused; a refund in full of an order refunded in full asks too much
    const batch = await t.call('POST', '/v1/events/batch', {
      key: t.keys.integration,
      body: {
        program_id: p,
        events: [
          { id: unique('e'), type: 'order.refunded', member_id: m, data: { order_id: 'R-1' } },
          { id: unique('e'), type: 'checkin', member_id: m, data: {} },
        ],
      },
    });
    assert.equal(batch.statusCode, 200, batch.body);
    const [full, checkin] = batch.json().results;
    assert.deepEqual([full.status, full.error.code, full.error.errors[0].path, checkin.status], [422, 'REFUND_EXCEEDS_ORDER', '/events/0/data/order_id', 201]);
  });

  it('accepts a refund after an operator reversed part of the credit by hand, taking back only what is left of it', async () => {
    const p = await programWith(coffeeChain);
    const m = await member(p, { tier: 'gold' });
    const paid = (
      await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'M-1', amount: 10_000, currency: 'CNY' } })
    ).json();
    const manual = await t.call('POST', `/v1/entries/${paid.awards[0].entry_id}/reversals`, {
      key: t.keys.integration,
      idem: true,
      body: { points: 100, reason: 'goodwill correction' },
    });
    assert.equal(manual.statusCode, 201, manual.body);
    const refund = await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'M-1' } });
    assert.deepEqual([refund.statusCode, refund.json().points], [201, -50]);
    assert.equal((await balance(m)).available, 0);
  });

  it("says which rule's points each reversal takes back, award by award, with the rule's name", async () => {
    const spend: RuleDefinition = { name: '消费积分', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } };
    const bonus: RuleDefinition = { name: '下单有礼', triggers: ['order.paid'], effect: { type: 'fixed', points: 20 } };
    const later: RuleDefinition = { name: '满额返积分', triggers: ['order.paid'], effect: { type: 'fixed', points: 10 }, pending_days: 7 };
    const p = await programWith([spend, bonus, later]);
    const m = await member(p);
    const paid = (
      await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'N-1', amount: 10_000, currency: 'CNY' } })
    ).json();
    const [s, b, l] = paid.awards as { rule_id: string; entry_id: string; rule_version: number }[];
    assert.equal(s!.entry_id, b!.entry_id, 'one credit for the awards available now');
    const half = await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'N-1', amount: 5_000 } });
    assert.equal(half.statusCode, 201, half.body);
    const [now, pending] = half.json().reversals;
    assert.deepEqual(
      { ...now, reversal_entry_ids: [] },
      {
        entry_id: s!.entry_id,
        rule_id: null,
        rule_name: null,
        points: 60,
        awards: [
          { rule_id: s!.rule_id, rule_version: 1, rule_name: '消费积分', points: 50 },
          { rule_id: b!.rule_id, rule_version: 1, rule_name: '下单有礼', points: 10 },
        ],
        taken_back: 60,
        expired: 0,
        on_hold: 0,
        written_off: 0,
        reversal_entry_ids: [],
      },
    );
    assert.deepEqual([pending.entry_id, pending.rule_id, pending.rule_name, pending.points], [l!.entry_id, l!.rule_id, '满额返积分', 5]);
    assert.equal(half.json().points, -65);
    assert.deepEqual((await t.call('GET', `/v1/events/${half.json().id}`)).json(), half.json());
  });

  it("reports the part of a refund written off as a write-off: the event's points are what the member lost", async () => {
    for (const policy of ['write_off', 'allow_negative'] as const) {
      const p = await programWith([{ name: 'spend', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } }], {
        negative_balance_policy: policy,
      });
      const m = await member(p);
      await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'W-1', amount: 10_000, currency: 'CNY' } });
      assert.equal((await t.call('POST', `/v1/members/${m}/debits`, { key: t.keys.integration, idem: true, body: { points: 80 } })).statusCode, 201);
      await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'W-2', amount: 3_000, currency: 'CNY' } });
      // docs/ledger.md's example: 20 left of the order's lot, 30 from the other, 50 written off (or owed as debt)
      const res = await t.call('POST', '/v1/events/batch', {
        key: t.keys.integration,
        body: { program_id: p, events: [{ id: unique('e'), type: 'order.refunded', member_id: m, data: { order_id: 'W-1' } }] },
      });
      assert.equal(res.statusCode, 200, res.body);
      const { result } = res.json().results[0];
      const [r] = result.reversals;
      if (policy === 'write_off') {
        assert.deepEqual([r.points, r.taken_back, r.written_off, r.expired, r.on_hold], [100, 50, 50, 0, 0]);
        assert.equal(result.points, -50);
        assert.equal((await balance(m)).available, 0);
      } else {
        assert.deepEqual([r.points, r.taken_back, r.written_off], [100, 100, 0]);
        assert.equal(result.points, -100);
        assert.deepEqual([(await balance(m)).available, (await balance(m)).debt], [-50, 50]);
      }
      assert.equal(res.json().points, result.points);
      const stored = (await t.call('GET', `/v1/events/${result.id}`)).json();
      assert.deepEqual(stored, result);
      const [row] = await getDb().db.query<{ points: string }>('SELECT points::text FROM event WHERE id = $1', [result.id]);
      assert.equal(Number(row!.points), result.points);
    }
  });

  it('refuses a refund that names another member than the one who paid, and changes nothing', async () => {
    const p = await programWith(coffeeChain);
    const payer = await member(p, { tier: 'gold' });
    const other = await member(p, { tier: 'gold' });
    await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: payer, data: { order_id: 'X-1', amount: 10_000, currency: 'CNY' } });
    await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: other, data: { order_id: 'X-2', amount: 2_000, currency: 'CNY' } });
    const before = [await balance(payer), await balance(other)];
    const wrong = await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: other, data: { order_id: 'X-1' } });
    assert.equal(wrong.statusCode, 422, wrong.body);
    assert.equal(wrong.json().code, 'ORDER_NOT_FOUND');
    assert.equal(wrong.json().errors[0].path, '/data/order_id');
    assert.deepEqual([await balance(payer), await balance(other)], before);
    const right = await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: payer, data: { order_id: 'X-1' } });
    assert.equal(right.json().points, -150);
  });

  it('reverses exactly the refunded items, at their multiplier', async () => {
    const p = await programWith(beautyShop);
    const m = await member(p);
    const items = [
      { sku: 'lipstick', category: 'makeup', quantity: 1, unit_price: 8_000 },
      { sku: 'serum', category: 'new', quantity: 2, unit_price: 5_000 },
    ];
    const paid = (
      await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'B-1', amount: 18_000, currency: 'CNY', items } })
    ).json();
    assert.equal(paid.points, 280);
    const one = (
      await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'B-1', items: [{ sku: 'serum', quantity: 1 }] } })
    ).json();
    assert.equal(one.points, -100, 'one serum: ¥50 × 2');
    const lip = (
      await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'B-1', items: [{ sku: 'lipstick', quantity: 1 }] } })
    ).json();
    assert.equal(lip.points, -80);
    assert.equal((await balance(m)).available, 100);
  });

  it("earns a discounted order's items on the amount paid, explains list and paid amounts, and refunds by items reverse the same amounts", async () => {
    const p = await programWith(beautyShop);
    const m = await member(p);
    const items = [
      { sku: 'lipstick', category: 'makeup', quantity: 1, unit_price: 8_000 },
      { sku: 'serum', category: 'new', quantity: 2, unit_price: 5_000 },
    ];
    // ¥180 of items, ¥18 off the order: ¥162 paid, allocated ¥72 and ¥90
    const paid = await send({
      id: unique('e'),
      type: 'order.paid',
      program_id: p,
      member_id: m,
      data: { order_id: 'D-1', amount: 16_200, currency: 'CNY', items },
    });
    assert.equal(paid.statusCode, 201, paid.body);
    const award = paid.json().awards[0];
    assert.equal(paid.json().points, 72 + 180);
    assert.equal(award.text, '252 = (¥72 + ¥90 × 2 (新品尝鲜)) × 1 pt/¥ (paid ¥162 of ¥180)');
    assert.deepEqual(award.explanation.items, [
      { sku: 'lipstick', category: 'makeup', amount: 7_200, list_amount: 8_000, multiplier: '1', label: null },
      { sku: 'serum', category: 'new', amount: 9_000, list_amount: 10_000, multiplier: '2', label: '新品尝鲜' },
    ]);
    assert.deepEqual([award.explanation.base.amount, award.explanation.base.list_amount], [16_200, 18_000]);
    const [entry] = (await t.call('GET', `/v1/members/${m}/entries?limit=1`)).json().data;
    assert.equal(entry.reason, award.text);
    // one serum: ¥45 paid × 2; the lipstick: ¥72
    const serum = (
      await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'D-1', items: [{ sku: 'serum', quantity: 1 }] } })
    ).json();
    assert.equal(serum.points, -90);
    const lip = (
      await send({ id: unique('e'), type: 'order.refunded', program_id: p, member_id: m, data: { order_id: 'D-1', items: [{ sku: 'lipstick', quantity: 1 }] } })
    ).json();
    assert.equal(lip.points, -72);
    assert.equal((await balance(m)).available, 90);
    // shipping beside the items (the amount is more than they come to): the items earn at their price
    const shipped = (
      await send({
        id: unique('e'),
        type: 'order.paid',
        program_id: p,
        member_id: m,
        data: { order_id: 'D-2', amount: 10_800, currency: 'CNY', items: [items[1]!] },
      })
    ).json();
    assert.equal(shipped.points, 200);
    assert.equal(shipped.awards[0].explanation.base.list_amount, undefined);
    // a preview says the same
    const preview = await t.call('POST', '/v1/events/preview', {
      key: t.keys.integration,
      body: { id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'D-3', amount: 16_200, currency: 'CNY', items } },
    });
    assert.equal(preview.json().awards[0].text, award.text);
  });

  it('awards review points at most 5 a day and says why the sixth got none', async () => {
    const p = await programWith(beautyShop);
    const m = await member(p);
    const results = [];
    for (let i = 0; i < 6; i++) {
      results.push(
        (await send({ id: unique('rv'), type: 'review.posted', program_id: p, member_id: m, data: { review_id: `r${i}`, has_photo: false } })).json(),
      );
    }
    assert.deepEqual(
      results.map((r) => r.points),
      [20, 20, 20, 20, 20, 0],
    );
    assert.ok(results[5].skipped.some((s: { reason: string }) => s.reason === 'frequency'));
  });

  it('brings a member with a debt or an open hold up to date before crediting an order', async () => {
    const c = await createTestApp(getDb(), '2026-06-10T06:00:00.000Z');
    try {
      const program = (await c.call('POST', '/v1/programs', { body: { name: 'debt', pending_days: 0, negative_balance_policy: 'allow_negative' } })).json();
      const rule = await c.call('POST', `/v1/programs/${program.id}/rules`, {
        body: { definition: { name: 'spend', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } } },
      });
      assert.equal(rule.statusCode, 201, rule.body);
      const newMember = async () => (await c.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id: unique('m') } })).json().id as string;
      const events = async (list: Record<string, unknown>[]) => {
        const res = await c.call('POST', '/v1/events/batch', { key: c.keys.integration, body: { program_id: program.id, events: list } });
        assert.equal(res.statusCode, 200, res.body);
        return res.json().results as { status: number; result: { points: number } }[];
      };
      const paid = (m: string, orderId: string, amount: number) => ({
        id: unique('e'),
        type: 'order.paid',
        member_id: m,
        data: { order_id: orderId, amount, currency: 'CNY' },
      });
      const bal = async (m: string) => (await c.call('GET', `/v1/members/${m}/balance`)).json() as { available: number; held: number; debt: number };

      // a debt: 100 earned, 80 spent, the order refunded (80 owed), then a new order of 150 in one batch with another member
      const indebted = await newMember();
      const other = await newMember();
      await events([paid(indebted, 'o-debt-1', 10_000)]);
      assert.equal((await c.call('POST', `/v1/members/${indebted}/debits`, { key: c.keys.integration, idem: true, body: { points: 80 } })).statusCode, 201);
      await events([{ id: unique('e'), type: 'order.refunded', member_id: indebted, data: { order_id: 'o-debt-1' } }]);
      assert.deepEqual(await bal(indebted), { ...(await bal(indebted)), available: -80, debt: 80 });
      const [credit, plain] = await events([paid(indebted, 'o-debt-2', 15_000), paid(other, 'o-plain', 5_000)]);
      assert.deepEqual([credit!.status, credit!.result.points, plain!.result.points], [201, 150, 50]);
      assert.deepEqual(await bal(indebted), { ...(await bal(indebted)), available: 70, debt: 0 });
      assert.equal((await bal(other)).available, 50);

      // an open hold that timed out is released before the credit; one still open stays held
      const holder = await newMember();
      const keeper = await newMember();
      await events([paid(holder, 'o-h-1', 10_000), paid(keeper, 'o-k-1', 10_000)]);
      for (const [m, seconds] of [
        [holder, 60],
        [keeper, 3_600],
      ] as const) {
        const hold = await c.call('POST', `/v1/members/${m}/holds`, { key: c.keys.integration, idem: true, body: { points: 60, expires_in_seconds: seconds } });
        assert.equal(hold.statusCode, 201, hold.body);
      }
      c.clock.set('2026-06-10T06:10:00.000Z');
      await events([paid(holder, 'o-h-2', 1_000), paid(keeper, 'o-k-2', 1_000)]);
      assert.deepEqual([(await bal(holder)).available, (await bal(holder)).held], [110, 0]);
      assert.deepEqual([(await bal(keeper)).available, (await bal(keeper)).held], [50, 60]);
      assert.equal((await c.call('GET', `/v1/audit?program_id=${program.id}`)).json().ok, true);
    } finally {
      await c.close();
    }
  });

  it('counts what a rule awarded before it got its first cap', async () => {
    const p = await programWith([{ name: 'check-in', triggers: ['checkin'], effect: { type: 'fixed', points: 10 } }]);
    const ruleId = (await t.call('GET', `/v1/programs/${p}/rules`)).json().data[0].id as string;
    const m = await member(p);
    const checkin = async () =>
      (await send({ id: unique('ci'), type: 'checkin', program_id: p, member_id: m, data: {} })).json() as { points: number; skipped: { reason: string }[] };
    for (let i = 0; i < 3; i++) assert.equal((await checkin()).points, 10);
    // a rule without limits keeps its awards in the events' results only
    const [recorded] = await getDb().db.query<{ n: number }>('SELECT count(*)::int AS n FROM rule_award WHERE rule_id = $1', [ruleId]);
    assert.equal(recorded!.n, 0);
    const revised = await t.call('POST', `/v1/rules/${ruleId}/versions`, {
      body: {
        definition: {
          name: 'check-in',
          triggers: ['checkin'],
          effect: { type: 'fixed', points: 10 },
          caps: { per_member: { day: 45 } },
        },
      },
    });
    assert.equal(revised.statusCode, 201, revised.body);
    const [fourth, fifth] = [await checkin(), await checkin()];
    assert.deepEqual([fourth.points, fifth.points], [10, 5]);
    assert.equal((await checkin()).points, 0);
    assert.equal((await balance(m)).available, 45);
  });

  it('counts caps and frequency limits by local day, week and month across requests', async () => {
    // its own clock: Monday 2026-11-02 in Asia/Shanghai (UTC+8), where the program's days turn at 16:00 UTC
    const c = await createTestApp(getDb(), '2026-11-02T00:00:00.000Z');
    try {
      const program = (await c.call('POST', '/v1/programs', { body: { name: 'caps', pending_days: 0 } })).json();
      const rule = await c.call('POST', `/v1/programs/${program.id}/rules`, {
        body: {
          definition: {
            name: 'check-in',
            triggers: ['checkin'],
            effect: { type: 'fixed', points: 10 },
            caps: { per_member: { day: 15, week: 35, month: 45 } },
            frequency: { max: 2, per: 'day' },
          },
        },
      });
      assert.equal(rule.statusCode, 201, rule.body);
      const m = (await c.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id: unique('m') } })).json().id;
      const checkin = async (at: string) => {
        c.clock.set(at);
        const res = await c.call('POST', '/v1/events', {
          key: c.keys.integration,
          body: { id: unique('ci'), type: 'checkin', program_id: program.id, member_id: m, occurred_at: at, data: {} },
        });
        assert.equal(res.statusCode, 201, res.body);
        return res.json() as { points: number; skipped: { reason: string }[] };
      };
      const got = [];
      got.push(await checkin('2026-11-02T15:00:00.000Z')); // Mon 23:00 local: 10
      got.push(await checkin('2026-11-02T15:30:00.000Z')); // Mon 23:30: day cap 15 → 5
      got.push(await checkin('2026-11-02T15:45:00.000Z')); // Mon 23:45: third of the day → frequency
      got.push(await checkin('2026-11-02T16:10:00.000Z')); // Tue 00:10 local (still Monday in UTC): 10
      got.push(await checkin('2026-11-02T17:00:00.000Z')); // Tue 01:00: day cap → 5 (week 30)
      got.push(await checkin('2026-11-04T02:00:00.000Z')); // Wed: week cap 35 → 5
      got.push(await checkin('2026-11-05T02:00:00.000Z')); // Thu: week used up → 0
      got.push(await checkin('2026-11-08T16:05:00.000Z')); // next Monday 00:05 local: 10 (month 45)
      got.push(await checkin('2026-11-09T16:05:00.000Z')); // Tuesday: month cap 45 → 0
      assert.deepEqual(
        got.map((r) => r.points),
        [10, 5, 0, 10, 5, 5, 0, 10, 0],
      );
      assert.equal(got[2]!.skipped[0]!.reason, 'frequency');
      assert.deepEqual([got[6]!.skipped[0]!.reason, got[8]!.skipped[0]!.reason], ['capped', 'capped']);
      // December is a new month (and a new week)
      assert.equal((await checkin('2026-11-30T16:30:00.000Z')).points, 10);
    } finally {
      await c.close();
    }
  });

  it('evaluates each event with the rule version in force at its occurred_at, and shows future versions', async () => {
    const p = await programWith([]);
    const rule = (
      await t.call('POST', `/v1/programs/${p}/rules`, {
        body: { definition: { name: 'base', triggers: ['order.paid'], effect: { type: 'rate', points: 1, per_amount: 100 } } },
      })
    ).json();
    const v2 = await t.call('POST', `/v1/rules/${rule.id}/versions`, {
      body: {
        effective_from: '2026-07-01T00:00:00.000Z',
        definition: { name: 'double', triggers: ['order.paid'], effect: { type: 'rate', points: 2, per_amount: 100 } },
      },
    });
    assert.equal(v2.statusCode, 201, v2.body);
    assert.equal(v2.json().current.version, 1);
    assert.deepEqual(
      v2.json().versions.map((v: { version: number; effective_until: string | null }) => [v.version, v.effective_until]),
      [
        [2, null],
        [1, '2026-07-01T00:00:00.000Z'],
      ],
    );
    const m = await member(p);
    const june = (
      await send({
        id: unique('e'),
        type: 'order.paid',
        program_id: p,
        member_id: m,
        occurred_at: '2026-06-30T23:59:59.000Z',
        data: { order_id: unique('o'), amount: 1_000, currency: 'CNY' },
      })
    ).json();
    const july = (
      await send({
        id: unique('e'),
        type: 'order.paid',
        program_id: p,
        member_id: m,
        occurred_at: '2026-07-01T00:00:00.000Z',
        data: { order_id: unique('o'), amount: 1_000, currency: 'CNY' },
      })
    ).json();
    assert.deepEqual([june.points, june.awards[0].rule_version, july.points, july.awards[0].rule_version], [10, 1, 20, 2]);
    const past = await t.call('POST', `/v1/rules/${rule.id}/versions`, {
      body: { effective_from: '2026-01-01T00:00:00.000Z', definition: { name: 'x', triggers: ['order.paid'], effect: { type: 'fixed', points: 1 } } },
    });
    assert.equal(past.json().code, 'EFFECTIVE_FROM_IN_PAST');
  });

  it('previews points without writing anything', async () => {
    const p = await programWith(coffeeChain);
    const m = await member(p, { tier: 'gold' });
    const res = await t.call('POST', '/v1/events/preview', {
      key: t.keys.integration,
      body: { id: 'basket', type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'cart', amount: 6_800, currency: 'CNY' } },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().points, 102);
    const guest = await t.call('POST', '/v1/events/preview', {
      key: t.keys.integration,
      body: { id: 'basket', type: 'order.paid', program_id: p, data: { order_id: 'cart', amount: 6_800, currency: 'CNY' } },
    });
    assert.equal(guest.json().points, 68);
    assert.equal((await balance(m)).available, 0);
    assert.equal((await t.call('GET', `/v1/programs/${p}/events/by-external-id/basket`)).statusCode, 404);
  });

  it('takes custom event types with their own schema (invite a friend: 200)', async () => {
    const p = await programWith(beautyShop);
    const created = await t.call('POST', `/v1/programs/${p}/event-types`, {
      body: {
        type: 'referral.completed',
        schema: { type: 'object', properties: { referee: { type: 'string' } }, required: ['referee'], additionalProperties: false },
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const m = await member(p);
    const bad = await send({ id: unique('e'), type: 'referral.completed', program_id: p, member_id: m, data: {} });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].path, '/data/referee');
    assert.equal((await send({ id: unique('e'), type: 'referral.completed', program_id: p, member_id: m, data: { referee: 'u2' } })).json().points, 200);
    const types = (await t.call('GET', `/v1/programs/${p}/event-types`)).json().data.map((x: { type: string }) => x.type);
    assert.ok(types.includes('order.paid') && types.includes('referral.completed'));
  });

  it('refuses unknown types and bad payloads with the field, and creates members on member.registered', async () => {
    const p = await programWith([{ name: 'welcome', triggers: ['member.registered'], effect: { type: 'fixed', points: 88 } }]);
    const unknown = await send({ id: unique('e'), type: 'order.teleported', program_id: p, external_member_id: 'x', data: {} });
    assert.deepEqual([unknown.statusCode, unknown.json().code, unknown.json().errors[0].path], [400, 'UNKNOWN_EVENT_TYPE', '/type']);
    const m = await member(p);
    const bad = await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'o', amount: 1.5, currency: 'CNY' } });
    assert.deepEqual([bad.statusCode, bad.json().errors[0].path], [400, '/data/amount']);
    const usd = await send({ id: unique('e'), type: 'order.paid', program_id: p, member_id: m, data: { order_id: 'o', amount: 100, currency: 'USD' } });
    assert.deepEqual([usd.statusCode, usd.json().code], [422, 'CURRENCY_MISMATCH']);
    const reg = await send({ id: unique('e'), type: 'member.registered', program_id: p, external_member_id: 'new-user-1', data: { name: '新会员' } });
    assert.equal(reg.statusCode, 201, reg.body);
    assert.equal(reg.json().points, 88);
    const found = (await t.call('GET', `/v1/programs/${p}/members/by-external-id/new-user-1`)).json();
    assert.equal(found.name, '新会员');
  });

  it('gives each event of a batch its own result: one bad event does not fail the others', async () => {
    const p = await programWith(coffeeChain);
    const m = await member(p, { tier: 'silver' });
    const dup = unique('dup');
    const res = await t.call('POST', '/v1/events/batch', {
      key: t.keys.integration,
      body: {
        program_id: p,
        events: [
          { id: dup, type: 'order.paid', member_id: m, data: { order_id: 'o1', amount: 1_000, currency: 'CNY' } },
          { id: unique('e'), type: 'order.paid', member_id: m, data: { order_id: 'o2', amount: -5, currency: 'CNY' } },
          { id: unique('e'), type: 'order.paid', member_id: 'mbr_nobody', data: { order_id: 'o3', amount: 100, currency: 'CNY' } },
          { id: dup, type: 'order.paid', member_id: m, data: { order_id: 'o1', amount: 1_000, currency: 'CNY' } },
          { id: unique('e'), type: 'order.paid', member_id: m, data: { order_id: 'o4', amount: 2_000, currency: 'CNY' } },
        ],
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    const batch = res.json();
    assert.deepEqual(
      batch.results.map((r: { status: number }) => r.status),
      [201, 400, 404, 200, 201],
    );
    assert.equal(batch.results[1].error.errors[0].path, '/events/1/data/amount');
    assert.deepEqual([batch.processed, batch.duplicates, batch.rejected, batch.points], [2, 1, 2, 30]);
    assert.equal((await balance(m)).available, 30);
  });

  it('stops at the program budget of a rule', async () => {
    const p = await programWith([
      { name: 'launch bonus', triggers: ['app.opened'], effect: { type: 'fixed', points: 100 }, caps: { budget: { period: 'total', points: 250 } } },
    ]);
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await send({ id: unique('e'), type: 'app.opened', program_id: p, member_id: await member(p), data: {} })).json());
    assert.deepEqual(
      results.map((r) => r.points),
      [100, 100, 50, 0],
    );
    assert.match(results[2].awards[0].text, /budget 250/);
    assert.equal(results[3].skipped[0].reason, 'budget');
    assert.deepEqual(results[2].awards[0].explanation.caps.at(-1), { cap: 'budget', limit: 250, before: 100, after: 50 });
    assert.deepEqual((await t.call('GET', `/v1/events/${results[2].id}`)).json(), results[2]);
    // the budget is shared by a batch too: nothing left for anyone
    const batch = (
      await t.call('POST', '/v1/events/batch', {
        body: { program_id: p, events: [{ id: unique('e'), type: 'app.opened', member_id: await member(p), data: {} }] },
      })
    ).json();
    assert.deepEqual([batch.points, batch.results[0].result.skipped[0].reason], [0, 'budget']);
  });

  it('refuses a rule with a bad JSONLogic expression, naming its path', async () => {
    const p = await programWith([]);
    const res = await t.call('POST', `/v1/programs/${p}/rules`, {
      body: {
        definition: { name: 'x', triggers: ['order.paid'], condition: { or: [{ '==': [1, 1] }, { shout: 'hi' }] }, effect: { type: 'fixed', points: 1 } },
      },
    });
    assert.deepEqual([res.statusCode, res.json().errors[0].path], [400, '/definition/condition/or/1/shout']);
  });

  it('extends expiry on any event under the activity-extended policy', async () => {
    const p = await programWith(coffeeChain, { expiry_policy: { type: 'activity_extended', months: 6 } });
    const m = await member(p, { tier: 'silver' });
    await order(p, m, 1_000);
    t.clock.advanceDays(100);
    await send({ id: unique('e'), type: 'app.opened', program_id: p, member_id: m, data: {} });
    const [lot] = (await t.call('GET', `/v1/members/${m}/lots`)).json().data;
    assert.equal(lot.expires_at, new Date(t.clock.now().getTime()).toISOString().replace(/^2026-09/, '2027-03'));
    t.clock.set('2026-06-10T06:00:00.000Z');
  });

  if (kind === 'postgres') {
    it("keeps a frequency limit exact when one member's events arrive concurrently", async () => {
      const p = await programWith(beautyShop);
      const m = await member(p);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          send({ id: unique('c'), type: 'review.posted', program_id: p, member_id: m, data: { review_id: `c${i}`, has_photo: false } }),
        ),
      );
      assert.ok(
        results.every((r) => r.statusCode === 201),
        results
          .filter((r) => r.statusCode !== 201)
          .map((r) => r.body)
          .join('\n'),
      );
      assert.equal(
        results.reduce((s, r) => s + r.json().points, 0),
        100,
        'exactly 5 reviews × 20',
      );
      assert.equal((await balance(m)).available, 100);
    });
  }
});
