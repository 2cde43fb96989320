import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { cruise, type ICruiseOptions, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

// The layers and their direction (.dependency-cruiser.cjs, docs/architecture.md), checked on every
// `npm test`; and on a fixture that breaks each rule once, to prove the rules bite.

const root = join(import.meta.dirname, '..');
const fixture = join(import.meta.dirname, 'fixtures', 'architecture');

async function cruiseSrc(baseDir: string): Promise<ICruiseResult> {
  const options: ICruiseOptions = { ...(await extractDepcruiseOptions(join(root, '.dependency-cruiser.cjs'))), baseDir, validate: true };
  const { output } = await cruise(['src'], options);
  assert.ok(typeof output === 'object', 'dependency-cruiser answers a cruise result');
  return output;
}

function describeViolation(v: IViolation): string {
  const via = v.cycle?.length ? v.cycle.map((step) => step.name).join(' → ') : v.to;
  return `${v.rule.name}: ${v.from}${via && via !== v.from ? ` → ${via}` : ''}`;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => relative(root, join(dir, f)).split('\\').join('/'))
    .sort();
}

describe('architecture', () => {
  it('keeps every import in src/ in the direction of the layers, with no cycle and no module entered but by its index.ts', async () => {
    const result = await cruiseSrc(root);
    // a parser that silently skipped .ts files would pass every rule: every file must have been read
    const cruised = new Set(result.modules.map((m) => m.source));
    assert.deepEqual(
      tsFiles(join(root, 'src')).filter((f) => !cruised.has(f)),
      [],
      'every .ts file in src/ is cruised',
    );
    const violations = result.summary.violations.map(describeViolation);
    if (violations.length)
      assert.fail(`${violations.length} layer violations (the rules: .dependency-cruiser.cjs, docs/architecture.md):\n  ${violations.join('\n  ')}`);
  });

  it('reports each kind of violation in a tree built to break every rule once, and allows what the layers allow', async () => {
    const result = await cruiseSrc(fixture);
    const found = result.summary.violations
      .filter((v) => v.rule.name !== 'no-cycles')
      .map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*\/node_modules\//, 'node_modules/')}`)
      .sort();
    assert.deepEqual(found, [
      'db-imports-only-below: src/db/db.ts → src/modules/a/index.ts',
      'module-through-index: src/modules/a/a.service.ts → src/modules/b/b.repository.ts',
      'modules-imports-only-below: src/modules/a/a.service.ts → src/flows/f.ts',
      'modules-through-index: src/flows/f.ts → src/modules/b/b.repository.ts',
      'no-orphans: src/shared/orphan.ts → src/shared/orphan.ts',
      'plugins-imports-only-below: src/plugins/p.ts → src/routes/r.ts',
      'resolvable: src/db/db.ts → ./missing.ts',
      'shared-imports-only-below: src/shared/util.ts → src/config.ts',
      'src-not-dev-dependencies: src/modules/b/b.repository.ts → node_modules/fast-check/lib/fast-check.js',
      'src-not-into-test-or-bench: src/routes/r.ts → test/helper.ts',
    ]);
    const cycles = result.summary.violations.filter((v) => v.rule.name === 'no-cycles');
    assert.ok(cycles.length >= 1, 'the cycle is reported');
    for (const cycle of cycles) {
      const members = [...new Set([cycle.from, ...(cycle.cycle ?? []).map((step) => step.name)])].sort();
      assert.deepEqual(members, ['src/flows/f.ts', 'src/modules/a/a.service.ts', 'src/modules/a/index.ts']);
    }
  });
});
