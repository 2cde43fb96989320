/**
 * The world the fuzzer works in, made through the API: two programs with rules, members with
 * balances (one frozen, one closed), open and resolved holds, credits, a reversal, events and a custom
 * event type, and a spare and a revoked API key. Its ids fill path parameters and id fields, so that
 * requests reach the handlers.
 */
import type { TestApp } from '../helpers/app.ts';
import { createMember, createProgram, credit, hold, ok } from '../http/support.ts';

export interface World {
  /** Real ids by prefix: prg, mbr, hld, ent, key, rul, evt, rwd, rdm, rpc, lpz, ldr. */
  ids: Record<string, string[]>;
  /** Real external ids (members and events) by program. */
  externalIds: { programId: string; members: string[]; events: string[] }[];
  /** Members whose balances are compared around every refused write. */
  members: string[];
  revokedKey: string;
  /** An admin key limited to the second program, if the app scopes keys (else undefined). */
  scopedKey?: { secret: string; programId: string };
  /** The program of every id the world made. */
  owner: Map<string, string>;
  /** Values the generator prefers for these property names. */
  hints: Record<string, unknown[]>;
  /** How often optional properties of these names are sent. */
  include: Record<string, number>;
  /** Each program with its active members (not frozen, not closed) and all of them. */
  programs: { id: string; active: string[]; all: string[] }[];
  /** Member tokens (JWTs) for /v1/me, when the app mints them. */
  memberTokens: string[];
  /** Ids that operations which use a thing up (close, freeze, capture, void, archive, revoke) leave alone while others exist, so the world stays usable. */
  kept: Set<string>;
}

/** Member tokens for the first members of each program, if the app mints them (POST …/member-tokens). Minting changes nothing. */
export async function mintMemberTokens(t: TestApp, programs: World['programs']): Promise<string[]> {
  const tokens: string[] = [];
  for (const p of programs) {
    for (const m of p.all.slice(0, 2)) {
      const res = await t.call('POST', `/v1/programs/${p.id}/member-tokens`, { body: { member_id: m } });
      const token = res.statusCode === 201 ? (res.json() as { token?: unknown }).token : undefined;
      if (typeof token === 'string') tokens.push(token);
    }
  }
  return tokens;
}

/** Valid bodies that need ids to agree (a member of the event's program, data of the event's type), by operationId. */
export function templates(w: World, pick: <T>(values: readonly T[]) => T): Record<string, (() => unknown) | undefined> {
  const event = (withProgram: boolean) => {
    const p = pick(w.programs);
    const [type, data] = pick([
      ['checkin', {}],
      ['app.opened', {}],
      ['order.paid', { order_id: `o-${pick([1, 2, 3, 4, 5, 6, 7, 8, 9])}`, amount: pick([1, 99, 12_345, 1_000_000]), currency: 'CNY' }],
      ['custom.visit', { store: pick(['A1', 'B2']) }],
    ] as const);
    const e: Record<string, unknown> = {
      id: `fz-evt-${pick(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'])}${pick([1, 2, 3, 4, 5, 6, 7, 8, 9])}`,
      type,
      member_id: pick(p.all),
      data,
    };
    if (withProgram) e.program_id = p.id;
    return { p, e };
  };
  return {
    sendEvent: () => event(true).e,
    previewEvent: () => event(true).e,
    sendEvents: () => {
      const { p, e } = event(false);
      const more = [e, ...[1, 2].map(() => ({ ...event(false).e, member_id: pick(p.all) }))];
      return { program_id: p.id, events: more.slice(0, pick([1, 2, 3])) };
    },
    transferPoints: () => {
      const p = pick(w.programs);
      const [a, b] = pick([p.active, [...p.active].reverse()]);
      return { from_member_id: a, to_member_id: b, points: pick([1, 5, 20]) };
    },
  };
}

export async function makeWorld(t: TestApp): Promise<World> {
  const ids: Record<string, string[]> = { prg: [], mbr: [], hld: [], ent: [], key: [], rul: [], evt: [], rwd: [], rdm: [], rpc: [], lpz: [], ldr: [] };
  const externalIds: World['externalIds'] = [];
  const members: string[] = [];
  const programs: World['programs'] = [];
  const kept = new Set<string>();
  const owner = new Map<string, string>();
  for (const [n, tz] of [
    [1, 'Asia/Shanghai'],
    [2, 'UTC'],
  ] as const) {
    const p = await createProgram(t, { name: `Fuzz program ${n}`, time_zone: tz, currency: 'CNY' });
    ids.prg!.push(p.id);
    const ext = { programId: p.id as string, members: [] as string[], events: [] as string[] };
    const lengths = Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, v.length]));
    externalIds.push(ext);
    const made = [];
    for (let i = 0; i < 4; i++) {
      const m = await createMember(t, p.id, { external_id: `fuzz-${n}-${i}`, tier: i === 0 ? 'gold' : undefined, tags: i === 1 ? ['vip'] : undefined });
      made.push(m.id as string);
      ext.members.push(`fuzz-${n}-${i}`);
      ids.mbr!.push(m.id);
      members.push(m.id);
      const c = await credit(t, m.id, 1_000 + i, { pending_days: 0, reference: `seed-${n}-${i}` });
      ids.ent!.push(c.entry.id);
    }
    const [a, b, frozen, closed] = made as [string, string, string, string];
    programs.push({ id: p.id, active: [a, b], all: made });
    kept.add(a).add(b);
    ids.ent!.push((await credit(t, a, 50, { pending_days: 5 })).entry.id);
    ids.ent!.push((await credit(t, a, 70, { pending_days: 0, expires_at: '2027-06-30T00:00:00Z' })).entry.id);
    const debit = ok(await t.call('POST', `/v1/members/${b}/debits`, { body: { points: 10 }, idem: true }), 201);
    if (debit.entry?.id) ids.ent!.push(debit.entry.id);
    const rev = ok(await t.call('POST', `/v1/entries/${ids.ent![ids.ent!.length - 3]}/reversals`, { body: { points: 5 }, idem: true }), 201);
    if (rev.entry?.id) ids.ent!.push(rev.entry.id);
    const h1 = await hold(t, a, 30);
    const h2 = await hold(t, b, 20);
    const h3 = await hold(t, a, 5);
    ids.hld!.push(h1.hold.id, h2.hold.id, h3.hold.id);
    kept.add(h1.hold.id);
    ok(await t.call('POST', `/v1/holds/${h2.hold.id}/capture`, { body: { points: 15 } }), 200);
    ok(await t.call('POST', `/v1/holds/${h3.hold.id}/void`, { body: {} }), 200);
    ok(await t.call('POST', `/v1/members/${frozen}/freeze`, { body: {}, idem: true }), 200);
    ok(await t.call('POST', `/v1/members/${closed}/close`, { body: {}, idem: true }), 200);
    const r1 = ok(
      await t.call('POST', `/v1/programs/${p.id}/rules`, {
        body: { definition: { name: 'check-in', triggers: ['checkin'], effect: { type: 'fixed', points: 5 } } },
      }),
      201,
    );
    const r2 = ok(
      await t.call('POST', `/v1/programs/${p.id}/rules`, {
        body: {
          definition: {
            name: 'order points, capped',
            triggers: ['order.paid'],
            effect: { type: 'rate', points: 1, per_amount: 100 },
            caps: { per_member: { day: 500 } },
          },
        },
      }),
      201,
    );
    const r3 = ok(
      await t.call('POST', `/v1/programs/${p.id}/rules`, {
        body: { definition: { name: 'archived', triggers: ['app.opened'], effect: { type: 'fixed', points: 1 } } },
      }),
      201,
    );
    ok(await t.call('POST', `/v1/rules/${r3.id}/archive`, { body: {} }), 200);
    ids.rul!.push(r1.id, r2.id, r3.id);
    kept.add(r1.id).add(r2.id);
    ok(
      await t.call('POST', `/v1/programs/${p.id}/event-types`, {
        body: { type: 'custom.visit', schema: { type: 'object', properties: { store: { type: 'string' } } } },
      }),
      201,
    );
    for (const [id, type, data] of [
      [`fuzz-evt-${n}-1`, 'checkin', {}],
      [`fuzz-evt-${n}-2`, 'order.paid', { order_id: `o-${n}`, amount: 12_345, currency: 'CNY' }],
      [`fuzz-evt-${n}-3`, 'custom.visit', { store: 'A1' }],
    ] as const) {
      const e = ok(await t.call('POST', '/v1/events', { body: { id, type, program_id: p.id, member_id: a, data } }));
      ids.evt!.push(e.id);
      ext.events.push(id);
    }
    // rewards: a physical one with stock (a price change to come, a confirmed and a shipped
    // redemption), a coupon whose pool is empty, a donation, and a draft
    const reward = async (body: Record<string, unknown>) =>
      ok(
        await t.call('POST', `/v1/programs/${p.id}/rewards`, { body: { name: { 'zh-CN': '奖品', en: 'Prize' }, points_cost: 5, status: 'active', ...body } }),
        201,
      ).id as string;
    const physical = await reward({ type: 'physical', stock: 20, limit: { per_member: 10, period: 'day' } });
    const coupon = await reward({ type: 'coupon' });
    const donation = await reward({ type: 'donation', donation_project: 'school' });
    const draft = await reward({ type: 'service', status: 'draft' });
    ids.rwd!.push(physical, coupon, donation, draft);
    kept.add(physical).add(coupon);
    ids.rpc!.push(
      ok(await t.call('POST', `/v1/rewards/${physical}/price-changes`, { body: { points_cost: 6, effective_at: '2098-01-01T00:00:00.000Z' } }), 201).id,
    );
    const confirmed = ok(await t.call('POST', `/v1/members/${a}/redemptions`, { body: { reward_id: physical }, idem: true }), 201).id as string;
    const shipped = ok(await t.call('POST', `/v1/members/${b}/redemptions`, { body: { reward_id: physical }, idem: true }), 201).id as string;
    ok(await t.call('POST', `/v1/redemptions/${shipped}/ship`, { body: { carrier: 'SF', tracking_number: 'SF1' } }), 200);
    ids.rdm!.push(confirmed, shipped);
    kept.add(confirmed);
    // a lottery with a points prize, a limited one and a "thank you", its seed, and a draw by a
    const lottery = await reward({ type: 'lottery' });
    for (const [code, weight, extra] of [
      ['p10', 30, { points: 10 }],
      ['mug', 20, { stock: 3 }],
      ['thanks', 50, {}],
    ] as const) {
      const prize = await t.call('POST', `/v1/rewards/${lottery}/lottery-prizes`, {
        body: { code, name: { 'zh-CN': '奖品', en: 'Prize' }, weight, ...extra },
      });
      ids.lpz!.push(ok(prize, 201).id);
    }
    ok(await t.call('POST', `/v1/rewards/${lottery}/lottery-seeds`, { body: {} }), 201);
    const token = ok(await t.call('POST', `/v1/programs/${p.id}/member-tokens`, { body: { member_id: a } }), 201).token as string;
    ids.ldr!.push(ok(await t.call('POST', '/v1/me/lottery-draws', { key: token, body: { reward_id: lottery }, idem: true }), 201).id);
    ids.rwd!.push(lottery);
    kept.add(lottery);
    for (const [k, v] of Object.entries(ids)) for (const id of v.slice(lengths[k])) owner.set(id, p.id);
  }
  const scoped = await t.call('POST', '/v1/api-keys', { body: { name: 'fuzz scoped', scopes: ['admin'], program_ids: [ids.prg![1]] } });
  const scopedKey = scoped.statusCode === 201 ? { secret: (scoped.json() as { secret: string }).secret, programId: ids.prg![1]! } : undefined;
  const spare = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'fuzz spare', scopes: ['read'] } }), 201);
  const revoked = ok(await t.call('POST', '/v1/api-keys', { body: { name: 'fuzz revoked', scopes: ['admin'] } }), 201);
  ok(await t.call('DELETE', `/v1/api-keys/${revoked.id}`), 200);
  ids.key!.push(spare.id, revoked.id);
  const memberTokens = await mintMemberTokens(t, programs);
  return {
    ids,
    programs,
    memberTokens,
    kept,
    externalIds,
    members,
    revokedKey: revoked.secret,
    scopedKey,
    owner,
    hints: {
      type: ['checkin', 'order.paid', 'app.opened', 'custom.visit', 'order.refunded', 'referral'],
      triggers: ['checkin', 'order.paid', 'app.opened', 'custom.visit'],
      currency: ['CNY'],
      time_zone: ['UTC', 'Asia/Shanghai', 'Europe/Paris', 'America/New_York'],
      reason_code: ['goodwill', 'correction'],
      scopes: ['admin', 'integration', 'read'],
      points: [1, 5, 10, 100],
      external_id: externalIds.flatMap((e) => e.members),
      data: [
        {},
        { order_id: 'o-77', amount: 12_345, currency: 'CNY' },
        { order_id: 'o-78', amount: 100, currency: 'CNY', items: [{ sku: 'latte', amount: 100, quantity: 1 }] },
        { store: 'A1' },
      ],
      schema: [{ type: 'object' }, { type: 'object', properties: { store: { type: 'string' } }, required: ['store'] }],
    },
    include: { program_id: 0.95, member_id: 0.9, external_member_id: 0.05, data: 0.9, from_member_id: 1, to_member_id: 1 },
  };
}
