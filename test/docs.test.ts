/**
 * The documents stay true to the code: every error code is in docs/api.md's table with its status,
 * every field rule in its "Field errors" table, and every environment variable the configuration
 * reads is in the README's table.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { ERRORS, FIELD_RULES } from '../src/shared/errors.ts';

const root = join(import.meta.dirname, '..');

it('lists every error code with its status in docs/api.md', async () => {
  const doc = await readFile(join(root, 'docs/api.md'), 'utf8');
  const rows = new Map([...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
  for (const [code, [status]] of Object.entries(ERRORS)) assert.equal(rows.get(code), status, `${code} (${status}) in docs/api.md`);
  for (const code of rows.keys()) assert.ok(Object.hasOwn(ERRORS, code), `docs/api.md lists ${code}, which the code does not have`);
});

it('lists every field rule in docs/api.md, and no other', async () => {
  const doc = await readFile(join(root, 'docs/api.md'), 'utf8');
  const table = /^\| rule \| meaning \|\n\|---\|---\|\n((?:\|.*\n)+)/m.exec(doc)?.[1] ?? '';
  const rules = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]!);
  assert.deepEqual(rules.sort(), Object.keys(FIELD_RULES).sort());
});

it('documents every configuration variable in the README', async () => {
  const [readme, config] = await Promise.all([readFile(join(root, 'README.md'), 'utf8'), readFile(join(root, 'src/config.ts'), 'utf8')]);
  const variables = new Set([...config.matchAll(/\b(?:str|int|bool)\('([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!));
  assert.ok(variables.size > 10, 'the configuration reads its variables through str/int/bool');
  const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
  for (const v of variables)
    assert.ok(
      rows.some((r) => r.split('|')[1]!.includes(`\`${v}\``)),
      `${v} in the README's configuration table`,
    );
});
