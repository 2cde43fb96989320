import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { forEachDatabase } from './helpers/db.ts';

forEachDatabase('smoke', (getDb) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(getDb());
  });
  after(() => t.close());

  it('creates a program and a member, credits and reads the balance', async () => {
    const program = (await t.call('POST', '/v1/programs', { body: { name: 'Coffee' } })).json();
    const member = (await t.call('POST', `/v1/programs/${program.id}/members`, { body: { external_id: 'u1' } })).json();
    const credit = await t.call('POST', `/v1/members/${member.id}/credits`, { body: { points: 100 }, idem: true });
    assert.equal(credit.statusCode, 201, credit.body);
    const balance = (await t.call('GET', `/v1/members/${member.id}/balance`)).json();
    assert.equal(balance.available, 100);
  });
});
