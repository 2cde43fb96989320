import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';

// Formatting and lint (biome.jsonc), checked on every `npm test`: `biome ci` changes nothing and
// fails on any file that is not formatted or breaks a rule. `npm run lint:fix` repairs most of it.
const root = join(import.meta.dirname, '..');
const biome = join(root, 'node_modules', '.bin', 'biome');

it('keeps every file formatted and every lint rule (biome ci)', () => {
  const run = spawnSync(biome, ['ci', '--reporter=summary', '--colors=off', '.'], { cwd: root, encoding: 'utf8' });
  assert.equal(run.error, undefined, `biome did not run: ${run.error?.message}`);
  if (run.status !== 0) assert.fail(`biome ci found problems (run \`npm run lint:fix\`, then fix what remains):\n${run.stdout}\n${run.stderr}`);
});

it('fails on a file that breaks the format (the check bites)', () => {
  const run = spawnSync(biome, ['format', '--stdin-file-path=example.ts', '--colors=off'], { cwd: root, encoding: 'utf8', input: 'const  x = {a:1}\n' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'const x = { a: 1 };\n', 'the formatter rewrites badly formatted code (biome ci fails on the same input)');
});
