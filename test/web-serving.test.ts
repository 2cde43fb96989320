// The server serves the built web apps: the console at /console, the member centre at /m, each
// page path answering the app's index.html (client-side routes survive a reload), assets cached
// for good, missing files 404, and / sending people to the console. A fake build in a temporary
// folder stands in for web/dist; the real build is exercised by the browser tests.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { createTestDb, type TestDb } from './helpers/db.ts';

let dir: string;
let testDb: TestDb;
let t: TestApp;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jifen-web-'));
  for (const app of ['console', 'member']) {
    mkdirSync(join(dir, app, 'assets'), { recursive: true });
    writeFileSync(join(dir, app, 'index.html'), `<!doctype html><title>${app}</title>`);
    writeFileSync(join(dir, app, 'assets', 'index-abc123.js'), `console.log('${app}')`);
  }
  testDb = await createTestDb('pglite');
  t = await createTestApp(testDb, undefined, { JIFEN_WEB_DIR: dir });
});

after(async () => {
  await t?.close();
  await testDb?.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const [prefix, app] of [
  ['/console', 'console'],
  ['/m', 'member'],
] as const) {
  test(`${prefix}: the app's page at its root and at any client-side route, never cached`, async () => {
    for (const url of [prefix, `${prefix}/`, `${prefix}/prg_x/members/mbr_y`, `${prefix}/history?page=2`]) {
      const res = await t.call('GET', url, { key: null });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/, url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
      assert.equal(res.body, `<!doctype html><title>${app}</title>`, url);
    }
  });

  test(`${prefix}: hashed assets are cached for a year; a missing file is a 404 problem, not the page`, async () => {
    const asset = await t.call('GET', `${prefix}/assets/index-abc123.js`, { key: null });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.body, `console.log('${app}')`);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    for (const url of [`${prefix}/assets/index-old999.js`, `${prefix}/favicon.ico`]) {
      const missing = await t.call('GET', url, { key: null });
      assert.equal(missing.statusCode, 404, url);
      assert.match(String(missing.headers['content-type']), /^application\/problem\+json/, url);
    }
  });
}

test('/ sends people to the console; the API and its docs are untouched', async () => {
  const root = await t.call('GET', '/', { key: null });
  assert.equal(root.statusCode, 302);
  assert.equal(root.headers.location, '/console/');
  assert.equal((await t.call('GET', '/healthz', { key: null })).statusCode, 200);
  assert.equal((await t.call('GET', '/v1/programs', { key: null })).statusCode, 401);
});

test('without a build (or JIFEN_WEB_DIR=none) there are no web routes, and the API still starts', async () => {
  const bare = await createTestApp(testDb, undefined, { JIFEN_WEB_DIR: join(dir, 'nothing-here') });
  try {
    assert.equal((await bare.call('GET', '/console/', { key: null })).statusCode, 404);
    assert.equal((await bare.call('GET', '/', { key: null })).statusCode, 404);
    assert.equal((await bare.call('GET', '/healthz', { key: null })).statusCode, 200);
  } finally {
    await bare.close();
  }
});
