import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffJson, flatten, show } from '../web/console/routes/audit-log/diff.ts';

describe('audit-log diff', () => {
  it('flattens nested objects to paths, arrays and empty objects as leaves', () => {
    assert.deepEqual(
      [...flatten({ a: 1, b: { c: 'x', d: [1, 2], e: {} } }).entries()],
      [
        ['a', 1],
        ['b.c', 'x'],
        ['b.d', [1, 2]],
        ['b.e', {}],
      ],
    );
  });

  it('marks fields added, removed, changed and the same', () => {
    const d = diffJson({ name: 'a', tags: ['x'], status: 'active', gone: 1 }, { name: 'b', tags: ['x'], status: 'active', tier: 'gold' });
    assert.deepEqual(
      d.map((f) => [f.path, f.kind]),
      [
        ['gone', 'removed'],
        ['name', 'changed'],
        ['status', 'same'],
        ['tags', 'same'],
        ['tier', 'added'],
      ],
    );
    assert.deepEqual(
      diffJson(null, { id: 'x' }).map((f) => f.kind),
      ['added'],
    );
  });

  it('shows strings as they are and the rest as JSON', () => {
    assert.equal(show('a'), 'a');
    assert.equal(show(null), 'null');
    assert.equal(show([1]), '[1]');
    assert.equal(show(undefined), '');
  });
});
