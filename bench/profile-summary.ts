/**
 * Summarises V8 CPU profiles (node --cpu-prof, e.g. from BENCH_CPU_PROF=1): self time by function
 * and by package, so that "where does the Jifen server's time go" has an answer in a few lines.
 *
 *   BENCH_CPU_PROF=1 BENCH_SECONDS=10 BENCH_PGLITE=0 BENCH_SQL=0 node bench/ledger.ts
 *   node bench/profile-summary.ts bench/.profiles/postgres-*.cpuprofile
 */
import { readFile } from 'node:fs/promises';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  if (!url) return '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = /\/(src|bench)\/(.*)$/.exec(url);
  return src ? `${src[1]}/${src[2]}` : url;
}

export async function summarise(file: string, top = 25): Promise<string> {
  const p = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    const w = where(n.callFrame.url);
    const key = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : `${name}  ${w}:${n.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const group = name.startsWith('(') ? name : w;
    pkg.set(group, (pkg.get(group) ?? 0) + us);
  }
  const busy = total - (fn.get('(idle)') ?? 0);
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const lines = [`${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (percentages of busy)`, '', 'by package / area:'];
  for (const [k, us] of [...pkg]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15))
    lines.push(`  ${pct(us)}  ${k}`);
  lines.push('', `top ${top} functions (self time):`);
  for (const [k, us] of [...fn]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    lines.push(`  ${pct(us)}  ${k}`);
  return lines.join('\n');
}

if (import.meta.main) {
  const files = process.argv.slice(2);
  if (!files.length) {
    process.stderr.write('usage: node bench/profile-summary.ts FILE.cpuprofile…\n');
    process.exit(2);
  }
  for (const f of files) process.stdout.write(`${await summarise(f)}\n\n`);
}
