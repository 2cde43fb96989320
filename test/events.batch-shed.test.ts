/**
 * A batch naming several programs writes them one after the other. If a later program's write
 * is shed (503: overload) after an earlier one committed, the answer must say what committed: 200
 * with the later program's events at 503 (safe to send again), not a 503 for the whole request.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { Db, Queryable } from '../src/db/db.ts';
import { createApiKey } from '../src/modules/api-keys/index.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { DomainError } from '../src/shared/errors.ts';
import type { App } from '../src/shared/http.ts';
import { forEachDatabase } from './helpers/db.ts';

forEachDatabase('event batch across programs under overload', (getDb) => {
  let app: App;
  let key: string;
  /** How many more events_commit calls pass before one is shed. */
  let passes = Number.POSITIVE_INFINITY;
  const shed = () => new DomainError('SERVICE_UNAVAILABLE', 'The database is busy', { retry_after_seconds: 1, reason: 'database_busy' });

  before(async () => {
    const real = getDb().db;
    const wrap = (q: Queryable): Queryable => ({
      query: async (text, params) => {
        if (text.includes('events_commit(') && passes-- <= 0) throw shed();
        return q.query(text, params);
      },
      exec: (text) => q.exec(text),
    });
    const db: Db = { ...real, ...wrap(real), transaction: (fn) => real.transaction((tx) => fn(wrap(tx))) };
    const clock = new ManualClock('2026-01-01T00:00:00.000Z');
    app = await buildApp({ config: loadConfig({ JIFEN_DEMO: 'false', JIFEN_JOBS: 'false', LOG_LEVEL: 'silent', JIFEN_RATE_LIMIT_API_KEY: '0' }), db, clock });
    key = (await createApiKey(real, 'admin', ['admin'], clock.now())).secret;
  });
  after(() => app.close());

  const call = (method: 'GET' | 'POST', url: string, body?: unknown) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': `k-${Math.random()}` },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });

  it('reports the committed program and fails only the shed one', async () => {
    const programs: string[] = [];
    const members: string[] = [];
    for (const name of ['A', 'B']) {
      const p = (await call('POST', '/v1/programs', { name, time_zone: 'UTC' })).json();
      programs.push(p.id);
      await call('POST', `/v1/programs/${p.id}/rules`, { definition: { name: 'check-in', triggers: ['checkin'], effect: { type: 'fixed', points: 7 } } });
      members.push((await call('POST', `/v1/programs/${p.id}/members`, { external_id: `m-${name}` })).json().id);
    }
    const events = programs.map((program_id, i) => ({ id: `ev-${i}`, type: 'checkin', program_id, member_id: members[i] }));

    passes = 1; // A commits, B is shed
    const res = await call('POST', '/v1/events/batch', { events });
    passes = Number.POSITIVE_INFINITY;
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(
      body.results.map((r: { status: number }) => r.status),
      [201, 503],
    );
    assert.equal(body.results[1].error.code, 'SERVICE_UNAVAILABLE');
    assert.equal(body.processed, 1);
    assert.equal(body.rejected, 1);

    // sent again: A is a duplicate, B is processed now
    const again = (await call('POST', '/v1/events/batch', { events })).json();
    assert.deepEqual(
      again.results.map((r: { status: number }) => r.status),
      [200, 201],
    );
    for (const m of members) assert.equal((await call('GET', `/v1/members/${m}/balance`)).json().available, 7);
  });

  it('answers 503 for the whole request when nothing was committed', async () => {
    const p = (await call('POST', '/v1/programs', { name: 'C', time_zone: 'UTC' })).json();
    await call('POST', `/v1/programs/${p.id}/rules`, { definition: { name: 'check-in', triggers: ['checkin'], effect: { type: 'fixed', points: 7 } } });
    const m = (await call('POST', `/v1/programs/${p.id}/members`, { external_id: 'm-C' })).json().id;
    passes = 0;
    const res = await call('POST', '/v1/events/batch', { events: [{ id: 'ev-c', type: 'checkin', program_id: p.id, member_id: m }] });
    passes = Number.POSITIVE_INFINITY;
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.headers['retry-after'], '1');
  });
});
