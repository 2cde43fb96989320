/**
 * `jifen verify-draw`: recomputes a draw from its revealed seed, client seed, nonce and weights,
 * locally (nothing trusted from the server but the inputs), or fetches those inputs from a server's
 * public verification endpoint by draw id.
 */
import { drawOutcome, seedHash, weightsProblem } from './lottery.engine.ts';

export interface VerifyDrawOptions {
  seed?: string;
  'client-seed'?: string;
  nonce?: string;
  /** "30,20,50" or "p50:30,mug:20,thanks:50" (code:weight), in the draw's order. */
  weights?: string;
  'seed-hash'?: string;
  draw?: string;
  url?: string;
  /** The prize code the draw recorded, to compare with. */
  expect?: string;
}

export interface VerifyDrawResult {
  code: number;
  out: string;
  err: string;
}

export const VERIFY_DRAW_USAGE = `verify-draw --seed S --client-seed C --nonce N --weights code:w,… [--seed-hash H] [--expect CODE]
verify-draw --draw ldr_… --url https://jifen.example.com`;

function parseWeights(text: string): { codes: string[]; weights: number[] } | string {
  const codes: string[] = [];
  const weights: number[] = [];
  for (const [i, part] of text.split(',').entries()) {
    const m = /^\s*(?:([^:\s]+):)?(\d+)\s*$/.exec(part);
    if (!m) return `weight ${i + 1} ("${part}") is not a number or code:number`;
    codes.push(m[1] ?? String(i));
    weights.push(Number(m[2]));
  }
  return weightsProblem(weights) ?? { codes, weights };
}

type Fetch = (url: string) => Promise<{ ok: boolean; status: number; json: () => Promise<unknown> }>;

export async function verifyDrawCommand(o: VerifyDrawOptions, fetchFn: Fetch = fetch): Promise<VerifyDrawResult> {
  let seed = o.seed;
  let clientSeed = o['client-seed'];
  let nonceText = o.nonce;
  let weightsText = o.weights;
  let hash = o['seed-hash'];
  let expect = o.expect;
  const lines: string[] = [];
  if (o.draw) {
    if (!o.url) return { code: 2, out: '', err: `--draw needs --url (the server)\n${VERIFY_DRAW_USAGE}\n` };
    const url = `${o.url.replace(/\/+$/, '')}/v1/lottery-draws/${encodeURIComponent(o.draw)}/verification`;
    let res: Awaited<ReturnType<Fetch>>;
    try {
      res = await fetchFn(url);
    } catch (e) {
      return { code: 1, out: '', err: `Could not reach ${url}: ${(e as Error).message}\n` };
    }
    if (!res.ok) return { code: 1, out: '', err: `${url} answered ${res.status}\n` };
    // biome-ignore lint/suspicious/noExplicitAny: the public verification's JSON
    const v = (await res.json()) as any;
    if (v.seed === null) {
      return {
        code: 1,
        out: '',
        err: `本期种子尚未公开，暂不能验证 / The seed of ${o.draw} is not revealed yet: it can be verified once the seed is rotated.\n`,
      };
    }
    seed = v.seed;
    clientSeed = v.client_seed;
    nonceText = String(v.nonce);
    weightsText = (v.weights as { code: string; weight: number }[]).map((w) => `${w.code}:${w.weight}`).join(',');
    hash = v.seed_hash;
    expect = v.recorded?.prize_code;
    lines.push(`draw ${o.draw} (from ${url})`);
  }
  if (!seed || clientSeed === undefined || nonceText === undefined || !weightsText)
    return { code: 2, out: '', err: `verify-draw needs --seed, --client-seed, --nonce and --weights, or --draw and --url\n${VERIFY_DRAW_USAGE}\n` };
  if (!/^\d+$/.test(nonceText)) return { code: 2, out: '', err: '--nonce must be a whole number\n' };
  const parsed = parseWeights(weightsText);
  if (typeof parsed === 'string') return { code: 2, out: '', err: `--weights: ${parsed}\n` };
  const nonce = Number(nonceText);
  const out = drawOutcome(seed, clientSeed, nonce, parsed.weights);
  const code = parsed.codes[out.index]!;
  lines.push(
    `seed sha256:  ${seedHash(seed)}`,
    `hmac:         ${out.hmac}`,
    `value:        ${out.value} of ${out.total} (${out.chunks} chunk(s) of 32 bits read)`,
    `prize:        ${code} (position ${out.index + 1} of ${parsed.weights.length})`,
  );
  let ok = true;
  if (hash !== undefined) {
    const same = seedHash(seed) === hash.toLowerCase();
    ok &&= same;
    lines.push(same ? '种子哈希一致 / the seed hash matches the published one' : `种子哈希不一致 / the seed hash does NOT match ${hash}`);
  }
  if (expect !== undefined) {
    const same = expect === code;
    ok &&= same;
    lines.push(same ? `结果一致 / the outcome matches the recorded prize ${expect}` : `结果不一致 / the outcome does NOT match the recorded prize ${expect}`);
  }
  return { code: ok ? 0 : 1, out: `${lines.join('\n')}\n`, err: '' };
}
