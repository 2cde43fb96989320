/**
 * Code pools of coupon rewards (docs/rewards.md, "Code pools: import and generation"), through the
 * HTTP API on PGlite and PostgreSQL: a CSV import's counts (duplicates in the file and in the pool,
 * invalid lines with their numbers, a header), its progress while the file streams in, replays of
 * one Idempotency-Key, every refusal changing nothing, generation (alphabet, prefix, uniqueness,
 * idempotency), the pool's list with issued codes masked unless revealed, and on PostgreSQL a pool
 * of 30 raced by 60 redemptions issuing 30 distinct codes.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { before, describe, it } from 'node:test';
import { CODE_ALPHABET, codeSpaceTooSmall, parseCodeLine } from '../src/modules/rewards/index.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';
import { unique } from './helpers/factories.ts';
import { activeReward, fundedMember, type Json, ok, redeem, rewardProgram } from './helpers/rewards.ts';
import { assertProblem } from './http/support.ts';

function csv(t: TestApp, rewardId: string, payload: string | PassThrough, opts: { idem?: string; key?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? t.keys.admin}`, 'content-type': 'text/csv', ...opts.headers };
  if (opts.idem) headers['idempotency-key'] = opts.idem;
  return t.app.inject({ method: 'POST', url: `/v1/rewards/${rewardId}/codes/imports`, headers, payload });
}

forEachDatabase('reward code pools', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb(), '2026-03-02T02:00:00.000Z');
  });
  const poolOf = async (rewardId: string) =>
    (await getDb().db.query<{ code: string; batch: string | null }>('SELECT code, batch FROM reward_code WHERE reward_id = $1 ORDER BY code', [rewardId])).map(
      (r) => r.code,
    );
  const importsOf = async (rewardId: string) =>
    (await getDb().db.query<{ n: number }>('SELECT count(*)::int AS n FROM reward_code_import WHERE reward_id = $1', [rewardId]))[0]!.n;
  const coupon = async (p: string, body: Json = {}) => activeReward(t, p, { type: 'coupon', ...body });

  describe('CSV import', () => {
    it('counts codes, duplicates in the file and in the pool, invalid lines with their numbers; skips a header', async () => {
      const p = await rewardProgram(t);
      const r = await coupon(p);
      const first = ok(await csv(t, r.id, `code\nAAA-1\nBBB_2\r\nAAA-1\n\n"CCC3"\nbad code\n${'X'.repeat(65)}\n中文\nDDD4`), 201);
      assert.equal(first.object, 'reward_code_import');
      assert.equal(first.kind, 'csv');
      assert.equal(first.status, 'done');
      assert.equal(first.lines_read, 10);
      assert.equal(first.imported, 4);
      assert.deepEqual(first.duplicates, { in_file: 1, in_pool: 0, codes: ['AAA-1'] });
      assert.deepEqual(first.invalid, {
        count: 4,
        lines: [
          { line: 5, reason: 'empty' },
          { line: 7, reason: 'bad_characters' },
          { line: 8, reason: 'too_long' },
          { line: 9, reason: 'bad_characters' },
        ],
      });
      assert.ok(first.finished_at);
      assert.deepEqual(await poolOf(r.id), ['AAA-1', 'BBB_2', 'CCC3', 'DDD4']);
      assert.equal(ok(await t.call('GET', `/v1/rewards/${r.id}`)).codes_left, 4);
      // a second file: codes the pool has already are counted, not added
      const second = ok(await csv(t, r.id, 'BBB_2\nEEE5\nDDD4\n'), 201);
      assert.equal(second.imported, 1);
      assert.deepEqual(second.duplicates, { in_file: 0, in_pool: 2, codes: ['BBB_2', 'DDD4'] });
      assert.equal(second.lines_read, 3);
      const rows = await getDb().db.query<{ code: string; batch: string }>('SELECT code, batch FROM reward_code WHERE reward_id = $1 AND code = $2', [
        r.id,
        'EEE5',
      ]);
      assert.equal(rows[0]!.batch, second.id, 'the batch column names the import');
      assert.deepEqual(ok(await t.call('GET', `/v1/rewards/${r.id}/codes/imports/${second.id}`, { key: t.keys.read })), second);
    });

    it('shows the counts growing while the file streams in', async () => {
      const p = await rewardProgram(t);
      const r = await coupon(p);
      const body = new PassThrough();
      const pending = csv(t, r.id, body);
      const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `CODE${from + i}\n`).join('');
      body.write(lines(0, 1500));
      let progress: Json | undefined;
      for (let i = 0; i < 200 && !progress; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        const [row] = ok(await t.call('GET', `/v1/rewards/${r.id}/codes/imports`, { key: t.keys.read })).data;
        if (!row) continue;
        const seen = ok(await t.call('GET', `/v1/rewards/${r.id}/codes/imports/${row.id}`));
        if (seen.imported >= 1000) progress = seen;
      }
      assert.ok(progress, 'the first chunk shows before the file ends');
      assert.equal(progress.status, 'running');
      assert.equal(progress.finished_at, null);
      assert.ok(progress.imported < 2500);
      body.end(lines(1500, 1000));
      const done = ok(await pending, 201);
      assert.equal(done.id, progress.id);
      assert.equal(done.status, 'done');
      assert.equal(done.imported, 2500);
      assert.equal(done.lines_read, 2500);
      assert.equal((await poolOf(r.id)).length, 2500);
      assert.deepEqual(ok(await t.call('GET', `/v1/rewards/${r.id}/codes/imports`)).data, [done]);
    });

    it('a body that grows past the limit without a Content-Length: 413, the import failed, its codes out of the pool', async () => {
      const p = await rewardProgram(t);
      const r = await coupon(p);
      const body = new PassThrough();
      const pending = csv(t, r.id, body);
      body.write(Array.from({ length: 1500 }, (_, i) => `BIG${i}\n`).join(''));
      const filler = 'Z'.repeat(1024 * 1024);
      for (let i = 0; i < 17; i++) body.write(filler);
      body.end();
      assertProblem(await pending, 413, 'PAYLOAD_TOO_LARGE');
      assert.deepEqual(await poolOf(r.id), []);
      const [row] = await getDb().db.query<Json>('SELECT status, imported::int AS imported, error FROM reward_code_import WHERE reward_id = $1', [r.id]);
      assert.equal(row.status, 'failed');
      assert.equal(row.imported, 0);
      assert.match(row.error, /PAYLOAD_TOO_LARGE/);
      // one line of 300 characters is too long, not kept
      const long = ok(await csv(t, r.id, `${'Q'.repeat(300)}\nOK1\n`), 201);
      assert.deepEqual(long.invalid, { count: 1, lines: [{ line: 1, reason: 'too_long' }] });
      assert.deepEqual(await poolOf(r.id), ['OK1']);
    });

    it('streams a file over a real socket (chunked, no Content-Length) and answers the import', async () => {
      const served = await createTestApp(getDb(), '2026-03-02T02:00:00.000Z');
      try {
        const base = await served.app.listen({ port: 0, host: '127.0.0.1' });
        const p = ok(await served.call('POST', '/v1/programs', { body: { name: unique('socket'), time_zone: 'UTC' } }), 201).id;
        const r = ok(
          await served.call('POST', `/v1/programs/${p}/rewards`, { body: { type: 'coupon', name: { 'zh-CN': '券', en: 'Coupon' }, points_cost: 5 } }),
          201,
        );
        const lines = Array.from({ length: 2500 }, (_, i) => `SOCK${i}\n`);
        const body = new ReadableStream({
          start(controller) {
            for (let i = 0; i < lines.length; i += 500) controller.enqueue(new TextEncoder().encode(lines.slice(i, i + 500).join('')));
            controller.close();
          },
        });
        const res = await fetch(`${base}/v1/rewards/${r.id}/codes/imports`, {
          method: 'POST',
          headers: { authorization: `Bearer ${served.keys.admin}`, 'content-type': 'text/csv' },
          body,
          duplex: 'half',
        } as RequestInit);
        assert.equal(res.status, 201);
        const done = (await res.json()) as Json;
        assert.equal(done.imported, 2500);
        assert.equal(done.status, 'done');
        assert.equal((await poolOf(r.id)).length, 2500);
      } finally {
        await served.close();
      }
    });

    it('replays one Idempotency-Key for the same file, refuses it for another', async () => {
      const p = await rewardProgram(t);
      const r = await coupon(p);
      const key = unique('import');
      const a = ok(await csv(t, r.id, 'K1\nK2\n', { idem: key }), 201);
      const again = await csv(t, r.id, 'K1\nK2\n', { idem: key });
      assert.deepEqual(ok(again, 201), a);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assertProblem(await csv(t, r.id, 'K3\n', { idem: key }), 409, 'IDEMPOTENCY_KEY_REUSED');
      assert.deepEqual(await poolOf(r.id), ['K1', 'K2']);
      assert.equal(await importsOf(r.id), 1);
      // one change logged, the first, with counts but no codes
      const changes = ok(await t.call('GET', `/v1/programs/${p}/changes?resource_type=reward_code_import`)).data;
      assert.equal(changes.length, 1);
      assert.equal(changes[0].resource_id, a.id);
      assert.deepEqual(changes[0].after.duplicates, { in_file: 0, in_pool: 0 });
    });

    it('refusals change nothing: not a coupon, unknown, archived, JSON, too large, a read key', async () => {
      const p = await rewardProgram(t);
      const physical = await activeReward(t, p);
      assertProblem(await csv(t, physical.id, 'A1\n'), 409, 'REWARD_NOT_COUPON');
      assertProblem(await csv(t, 'rwd_000000000000aaaaaaaaaaaaaaaa', 'A1\n'), 404, 'REWARD_NOT_FOUND');
      const r = await coupon(p);
      assertProblem(await t.call('POST', `/v1/rewards/${r.id}/codes/imports`, { body: { codes: ['A1'] } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      const big = new PassThrough();
      const res = csv(t, r.id, big, { headers: { 'content-length': String(17 * 1024 * 1024) } });
      big.end('A1\n');
      assertProblem(await res, 413, 'PAYLOAD_TOO_LARGE');
      assertProblem(await csv(t, r.id, 'A1\n', { key: t.keys.read }), 403, 'FORBIDDEN');
      ok(await t.call('POST', `/v1/rewards/${r.id}/archive`, { body: {} }));
      assertProblem(await csv(t, r.id, 'A1\n'), 409, 'REWARD_ARCHIVED');
      assert.deepEqual(await poolOf(r.id), []);
      assert.equal(await importsOf(r.id), 0);
      assert.equal(await importsOf(physical.id), 0);
      assertProblem(await t.call('GET', `/v1/rewards/${r.id}/codes/imports/rci_000000000000aaaaaaaaaaaaaaaa`), 404, 'CODE_IMPORT_NOT_FOUND');
    });
  });

  describe('generation', () => {
    it('draws unique codes from the unambiguous alphabet with the prefix, idempotently', async () => {
      const p = await rewardProgram(t);
      const r = await coupon(p);
      const key = unique('gen');
      const g = ok(await t.call('POST', `/v1/rewards/${r.id}/codes/generate`, { body: { count: 1500, prefix: 'VIP-', length: 8 }, idem: key }), 201);
      assert.equal(g.kind, 'generated');
      assert.equal(g.status, 'done');
      assert.equal(g.imported, 1500);
      assert.deepEqual(g.parameters, { count: 1500, prefix: 'VIP-', length: 8 });
      const codes = await poolOf(r.id);
      assert.equal(codes.length, 1500);
      assert.equal(new Set(codes).size, 1500);
      const shape = new RegExp(`^VIP-[${CODE_ALPHABET}]{8}$`);
      for (const c of codes) assert.match(c, shape);
      for (const c of codes) assert.doesNotMatch(c.slice(4), /[01OI]/);
      const replay = await t.call('POST', `/v1/rewards/${r.id}/codes/generate`, { body: { count: 1500, prefix: 'VIP-', length: 8 }, idem: key });
      assert.deepEqual(ok(replay, 201), g);
      assert.equal((await poolOf(r.id)).length, 1500);
      // with the default length
      const d = ok(await t.call('POST', `/v1/rewards/${r.id}/codes/generate`, { body: { count: 3 }, idem: true }), 201);
      assert.equal(d.parameters.length, 12);
      assert.equal((await poolOf(r.id)).length, 1503);
    });

    it('refuses counts out of range, a code space too small for the pool, and non-coupons, changing nothing', async () => {
      const p = await rewardProgram(t);
      const r = await coupon(p);
      for (const body of [{ count: 0 }, { count: 100_001 }, { count: 5, length: 5 }, { count: 5, prefix: 'lower' }, { count: 5, extra: 1 }])
        assertProblem(await t.call('POST', `/v1/rewards/${r.id}/codes/generate`, { body, idem: true }), 400, 'VALIDATION_FAILED');
      // 32^6 ≈ 1.07e9 codes: enough for a pool of 1,073,741 at 1,000 codes a code, not one more
      assert.equal(codeSpaceTooSmall(6, 1_073_741), false);
      assert.equal(codeSpaceTooSmall(6, 1_073_742), true);
      assert.equal(codeSpaceTooSmall(12, 100_000_000), false);
      assert.deepEqual(await poolOf(r.id), []);
      assert.equal(await importsOf(r.id), 0);
      const physical = await activeReward(t, p);
      assertProblem(await t.call('POST', `/v1/rewards/${physical.id}/codes/generate`, { body: { count: 5 }, idem: true }), 409, 'REWARD_NOT_COUPON');
      assert.equal(await importsOf(physical.id), 0);
    });
  });

  describe('the pool', () => {
    it('reads a line as a code, or says why not', () => {
      assert.deepEqual(parseCodeLine('  AB-12_x \r'), { code: 'AB-12_x' });
      assert.deepEqual(parseCodeLine('"Q1"'), { code: 'Q1' });
      assert.deepEqual(parseCodeLine('\r'), { reason: 'empty' });
      assert.deepEqual(parseCodeLine('""'), { reason: 'empty' });
      assert.deepEqual(parseCodeLine('A'.repeat(64)), { code: 'A'.repeat(64) });
      assert.deepEqual(parseCodeLine('A'.repeat(65)), { reason: 'too_long' });
      assert.deepEqual(parseCodeLine('A1,B2'), { reason: 'bad_characters' });
    });

    it('counts free and issued codes; masks issued codes unless revealed; pages by code', async () => {
      const p = await rewardProgram(t);
      const r = await coupon(p, { points_cost: 10 });
      ok(await csv(t, r.id, 'C1\nC2\nC3\nC4\nC5\n'), 201);
      const m = await fundedMember(t, p, 100);
      const d = ok(await redeem(t, m, { reward_id: r.id, quantity: 2 }), 201);
      assert.deepEqual(d.codes, ['C1', 'C2']);
      const list = ok(await t.call('GET', `/v1/rewards/${r.id}/codes`, { key: t.keys.read }));
      assert.equal(list.free, 3);
      assert.equal(list.issued, 2);
      assert.deepEqual(
        list.data.map((c: Json) => [c.code, c.masked, c.status, c.redemption_id]),
        [
          ['C1****', true, 'issued', d.id],
          ['C2****', true, 'issued', d.id],
          ['C3', false, 'free', null],
          ['C4', false, 'free', null],
          ['C5', false, 'free', null],
        ],
      );
      assertProblem(await t.call('GET', `/v1/rewards/${r.id}/codes/revealed`, { key: t.keys.read }), 403, 'FORBIDDEN');
      const revealed = ok(await t.call('GET', `/v1/rewards/${r.id}/codes/revealed?status=issued`));
      assert.deepEqual(
        revealed.data.map((c: Json) => [c.code, c.masked]),
        [
          ['C1', false],
          ['C2', false],
        ],
      );
      const page1 = ok(await t.call('GET', `/v1/rewards/${r.id}/codes?status=free&limit=2`));
      assert.deepEqual(
        page1.data.map((c: Json) => c.code),
        ['C3', 'C4'],
      );
      assert.equal(page1.has_more, true);
      const page2 = ok(await t.call('GET', `/v1/rewards/${r.id}/codes?status=free&limit=2&cursor=${page1.next_cursor}`));
      assert.deepEqual(
        page2.data.map((c: Json) => c.code),
        ['C5'],
      );
      assert.equal(page2.next_cursor, null);
      assertProblem(await t.call('GET', `/v1/rewards/${r.id}/codes?cursor=nope`), 400, 'INVALID_CURSOR');
      assertProblem(await t.call('GET', `/v1/rewards/${(await activeReward(t, p)).id}/codes`), 409, 'REWARD_NOT_COUPON');
    });
  });
});

forEachDatabase(
  'reward code pools concurrency',
  (getDb) => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp(getDb(), '2026-03-02T02:00:00.000Z');
    });
    it('an imported pool of 30 raced by 60 redemptions issues 30 distinct codes and refuses the rest', async () => {
      const p = await rewardProgram(t);
      const r = await activeReward(t, p, { type: 'coupon', points_cost: 10 });
      const codes = Array.from({ length: 30 }, (_, i) => `RACE${String(i).padStart(2, '0')}`);
      ok(await csv(t, r.id, `code\n${codes.join('\n')}\n`), 201);
      const members: string[] = [];
      for (let i = 0; i < 60; i++) members.push(await fundedMember(t, p, 10));
      const results = await Promise.all(members.map((m) => redeem(t, m, { reward_id: r.id })));
      const won = results.filter((x) => x.statusCode === 201).map((x) => x.json());
      const refused = results.filter((x) => x.statusCode !== 201);
      assert.equal(won.length, 30);
      for (const x of refused) assertProblem(x, 422, 'REWARD_OUT_OF_STOCK');
      const issued = won.flatMap((x: Json) => x.codes);
      assert.equal(issued.length, 30);
      assert.deepEqual([...new Set(issued)].sort(), codes);
      const rows = await getDb().db.query<{ n: number }>('SELECT count(DISTINCT redemption_id)::int AS n FROM reward_code WHERE reward_id = $1', [r.id]);
      assert.equal(rows[0]!.n, 30);
      const pool = ok(await t.call('GET', `/v1/rewards/${r.id}/codes`));
      assert.deepEqual([pool.free, pool.issued], [0, 30]);
      const audit = ok(await t.call('GET', `/v1/audit?program_id=${p}`));
      assert.equal(audit.ok, true, JSON.stringify(audit.violations));
    });
  },
  { kinds: ['postgres'], poolSize: 20 },
);
