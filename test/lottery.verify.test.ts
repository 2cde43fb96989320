/**
 * `jifen verify-draw` (src/modules/lottery/lottery.verify.ts): the worked example of
 * docs/rewards.md by its inputs, a draw fetched by id from a server's public verification (a stub
 * of fetch), a tampered record, an unrevealed seed and bad arguments.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyDrawCommand } from '../src/modules/lottery/index.ts';

const SEED = 'a3f1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00';
const HASH = '1309f953015195d9eadc0455c1e42a5cfc463d4cad90c0cc940ff77b5f1633bd';
const verification = (over: Record<string, unknown> = {}) => ({
  seed: SEED,
  seed_hash: HASH,
  client_seed: 'lucky',
  nonce: 7,
  weights: [
    { prize_id: 'lpz_a', code: 'p50', weight: 30 },
    { prize_id: 'lpz_b', code: 'mug', weight: 20 },
    { prize_id: 'lpz_c', code: 'thanks', weight: 50 },
  ],
  recorded: { prize_code: 'mug', hmac: '6a2099769bb7a300038651f6136647712d3b773f5dfa7e97a0d610b106a03307' },
  ...over,
});
const stub = (body: unknown, status = 200) => {
  const urls: string[] = [];
  const fn = async (url: string) => {
    urls.push(url);
    return { ok: status < 300, status, json: async () => body };
  };
  return { fn, urls };
};

describe('jifen verify-draw', () => {
  it('recomputes the worked example of docs/rewards.md', async () => {
    const r = await verifyDrawCommand({ seed: SEED, 'client-seed': 'lucky', nonce: '7', weights: 'p50:30,mug:20,thanks:50', 'seed-hash': HASH, expect: 'mug' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /hmac: {9}6a2099769bb7a300038651f6136647712d3b773f5dfa7e97a0d610b106a03307/);
    assert.match(r.out, /value: {8}34 of 100/);
    assert.match(r.out, /prize: {8}mug \(position 2 of 3\)/);
    // plain weights name the prizes by position
    assert.match((await verifyDrawCommand({ seed: SEED, 'client-seed': 'lucky', nonce: '7', weights: '30,20,50' })).out, /prize: {8}1 /);
  });

  it('fetches a draw by id and recomputes it locally; a tampered record or hash fails', async () => {
    const good = stub(verification());
    const r = await verifyDrawCommand({ draw: 'ldr_x', url: 'https://jifen.example.com/' }, good.fn);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(good.urls, ['https://jifen.example.com/v1/lottery-draws/ldr_x/verification']);
    assert.match(r.out, /the outcome matches the recorded prize mug/);
    const lied = await verifyDrawCommand({ draw: 'ldr_x', url: 'https://h' }, stub(verification({ recorded: { prize_code: 'p50' } })).fn);
    assert.equal(lied.code, 1);
    assert.match(lied.out, /does NOT match the recorded prize p50/);
    const badHash = await verifyDrawCommand({ draw: 'ldr_x', url: 'https://h' }, stub(verification({ seed_hash: '0'.repeat(64) })).fn);
    assert.equal(badHash.code, 1);
    assert.match(badHash.out, /does NOT match/);
  });

  it('says when the seed is not revealed, the server refuses, or the arguments are wrong', async () => {
    const hidden = await verifyDrawCommand({ draw: 'ldr_x', url: 'https://h' }, stub(verification({ seed: null })).fn);
    assert.equal(hidden.code, 1);
    assert.match(hidden.err, /not revealed yet/);
    assert.equal((await verifyDrawCommand({ draw: 'ldr_x', url: 'https://h' }, stub({}, 404).fn)).code, 1);
    assert.equal((await verifyDrawCommand({ draw: 'ldr_x' })).code, 2);
    assert.equal((await verifyDrawCommand({ seed: SEED, 'client-seed': 'c', nonce: '-1', weights: '1' })).code, 2);
    assert.equal((await verifyDrawCommand({ seed: SEED, 'client-seed': 'c', nonce: '1', weights: '1,0' })).code, 2);
    assert.equal((await verifyDrawCommand({ seed: SEED, 'client-seed': 'c', nonce: '1', weights: 'a:b' })).code, 2);
    assert.equal((await verifyDrawCommand({})).code, 2);
  });
});
