import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

// docs/conventions.md: "program" has one spelling in code, API text and docs.

const root = join(import.meta.dirname, '..');
const TEXT = /\.(ts|cjs|mjs|js|md|json|sql)$/;
// SQL included: a migration is frozen once applied (its checksum covers its comments), so the
// spelling is checked before it ever is
const SKIP = /^(node_modules|data)\//;
const OTHER_SPELLING = new RegExp(['program', 'me'].join(''), 'i');

function textFiles(): string[] {
  const files = ['README.md'];
  for (const dir of ['src', 'test', 'bench', 'docs']) {
    for (const f of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
      const path = relative(root, join(root, dir, f))
        .split('\\')
        .join('/');
      if (TEXT.test(path) && !SKIP.test(path)) files.push(path);
    }
  }
  return files;
}

describe('conventions', () => {
  it('spells program one way in code, tests, benchmarks and docs', () => {
    const found: string[] = [];
    for (const file of textFiles()) {
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (OTHER_SPELLING.test(line)) found.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
        });
    }
    if (found.length) assert.fail(`"program" is spelled one way (docs/conventions.md):\n  ${found.join('\n  ')}`);
  });
});
