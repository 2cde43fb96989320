import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createApiKey } from '../../src/modules/api-keys/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import type { App } from '../../src/shared/http.ts';
import type { TestDb } from './db.ts';
import { unique } from './factories.ts';

export interface TestApp {
  app: App;
  clock: ManualClock;
  keys: { admin: string; integration: string; read: string };
  /** app.inject with a key (admin by default), JSON body and optional Idempotency-Key. */
  call(
    method: string,
    url: string,
    options?: { key?: string | null; body?: unknown; idem?: string | true; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createTestApp(testDb: TestDb, start = '2026-01-01T00:00:00.000Z', env: Record<string, string> = {}): Promise<TestApp> {
  const clock = new ManualClock(start);
  // rate limits on (their hooks and headers run on every test request) but too high to be reached
  const config = loadConfig({
    JIFEN_DEMO: 'false',
    JIFEN_JOBS: 'false',
    LOG_LEVEL: 'silent',
    JIFEN_RATE_LIMIT_API_KEY: '1000000',
    JIFEN_RATE_LIMIT_MEMBER: '1000000',
    // the web apps are tested by test/web-serving.test.ts and the browser tests; the API tests see the API alone
    JIFEN_WEB_DIR: 'none',
    ...env,
  });
  const app = await buildApp({ config, db: testDb.db, clock });
  const now = clock.now();
  const keys = {
    admin: (await createApiKey(testDb.db, 'test admin', ['admin'], now)).secret,
    integration: (await createApiKey(testDb.db, 'test integration', ['integration'], now)).secret,
    read: (await createApiKey(testDb.db, 'test read', ['read'], now)).secret,
  };
  return {
    app,
    clock,
    keys,
    call(method, url, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const key = options.key === undefined ? keys.admin : options.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      if (options.idem) headers['idempotency-key'] = options.idem === true ? unique('idem') : options.idem;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      return app.inject({
        method: method as 'GET',
        url,
        headers,
        payload: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
      });
    },
    close: () => app.close(),
  };
}
