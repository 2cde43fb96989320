import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

describe('config', () => {
  it('defaults to the embedded database in ./data with the demo program', () => {
    const config = loadConfig({});
    assert.equal(config.databaseUrl, undefined);
    assert.match(config.dataDir, /\/data$/);
    assert.equal(config.demo, true);
    assert.equal(config.port, 3000);
    assert.ok(Object.isFrozen(config));
  });

  it('switches to PostgreSQL with DATABASE_URL and then seeds no demo by default', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/jifen' });
    assert.equal(config.databaseUrl, 'postgres://u@db:5432/jifen');
    assert.equal(config.demo, false);
  });

  it('stops the start with a message naming every bad variable', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', JIFEN_JOBS: 'maybe', JIFEN_BOOTSTRAP_ADMIN_KEY: 'short' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'JIFEN_JOBS', 'JIFEN_BOOTSTRAP_ADMIN_KEY']) {
          assert.ok(
            err.problems.some((p) => p.startsWith(name)),
            `names ${name}`,
          );
        }
        return true;
      },
    );
  });

  it('chooses the log format: pretty on a terminal by default, or as told', () => {
    assert.equal(loadConfig({}).logFormat, 'auto');
    assert.equal(loadConfig({ LOG_FORMAT: 'json' }).logFormat, 'json');
    assert.equal(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
    assert.throws(() => loadConfig({ LOG_FORMAT: 'xml' }), /LOG_FORMAT="xml": must be one of auto, pretty, json/);
  });

  it('rejects out-of-range numbers', () => {
    assert.throws(() => loadConfig({ PORT: '70000' }), /PORT="70000": must be a whole number from 0 to 65535/);
    assert.throws(() => loadConfig({ DATABASE_POOL_SIZE: '0' }), /DATABASE_POOL_SIZE/);
  });
});
