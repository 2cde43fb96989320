// Builds the web apps (the console and the member centre) with Vite into web/dist, unless the
// build there was made from the same sources. `npm start` runs it first (`--if-stale`), so the
// first start builds and later starts reuse the build; `npm run build:web` always builds.
// Prints how long it took and what the member centre's first screen costs in gzipped JavaScript.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const web = import.meta.dirname;
const root = join(web, '..');
const dist = join(web, 'dist');
const stampFile = join(dist, '.build-stamp');

/** A hash of everything a build reads: the apps' sources, the client and the lock file. */
function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name === 'dist') continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(web);
  walk(join(root, 'packages', 'client', 'src'));
  hash.update(readFileSync(join(root, 'package-lock.json')));
  return hash.digest('hex');
}

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  css?: string[];
}

/** The gzipped size of the JavaScript a page's first screen loads: the entry and its static imports. */
export function firstScreenBytes(outDir: string): { files: string[]; gzipBytes: number } {
  const manifest = JSON.parse(readFileSync(join(outDir, '.vite', 'manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
  const entry = Object.entries(manifest).find(([, chunk]) => chunk.isEntry);
  if (!entry) throw new Error('no entry in the manifest');
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const next of manifest[key]?.imports ?? []) visit(next);
  };
  visit(entry[0]);
  const files = [...seen].map((key) => manifest[key]!.file).filter((f) => f.endsWith('.js'));
  const gzipBytes = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(outDir, f))).length, 0);
  return { files, gzipBytes };
}

async function main() {
  const ifStale = process.argv.includes('--if-stale');
  const hash = sourceHash();
  if (ifStale && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === hash) {
    console.log('web: the console and the member centre are built (web/dist), reusing them');
    return;
  }
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    if (ifStale && existsSync(join(dist, 'console', 'index.html'))) {
      console.log('web: Vite is not installed (npm ci --omit=dev?); serving the build in web/dist as it is');
      return;
    }
    throw new Error('web: Vite is not installed and there is no build in web/dist: run npm ci');
  }
  const started = performance.now();
  console.log('web: building the console and the member centre (the first start does this once)…');
  for (const app of ['console', 'member']) {
    await vite.build({ configFile: join(web, app, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
  }
  writeFileSync(stampFile, `${hash}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const first = firstScreenBytes(join(dist, 'member'));
  console.log(
    `web: built in ${seconds} s; member centre first screen: ${(first.gzipBytes / 1024).toFixed(1)} KB of gzipped JavaScript (${first.files.length} files)`,
  );
}

if (import.meta.main) await main();
