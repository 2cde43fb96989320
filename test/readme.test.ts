import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { forEachDatabase } from './helpers/db.ts';

const run = promisify(execFile);
const KEY = 'jf_readme_tour_key_0123456789abcdef';

/** The bash blocks of the README's API tour, minus the lines that set the URL and key. */
async function tourScript(): Promise<string> {
  const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const section = readme.split('\n## API tour')[1]!.split('\n## ')[0]!;
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const lines = blocks
    .join('\n')
    .split('\n')
    .filter((l) => !/^export JIFEN_(URL|KEY)=/.test(l));
  return `set -euo pipefail\n${lines.join('\n')}`;
}

forEachDatabase('README API tour', (getDb, kind) => {
  it('works as written against a freshly started server', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'jifen-readme-'));
    const env: Record<string, string> = {
      PORT: '0',
      LOG_LEVEL: 'silent',
      JIFEN_DATA_DIR: dataDir,
      JIFEN_BOOTSTRAP_ADMIN_KEY: KEY,
      JIFEN_DEMO: 'true',
      JIFEN_JOBS: 'false',
    };
    if (kind === 'postgres') env.DATABASE_URL = getDb().url!;
    const server = await startServer(loadConfig(env));
    try {
      const { stdout } = await run('bash', ['-c', await tourScript()], { env: { ...process.env, JIFEN_URL: server.url, JIFEN_KEY: KEY } });
      const outputs = stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      assert.ok(!outputs.some((o) => typeof o.status === 'number' && o.status >= 500), stdout);
      const [first, replay] = outputs.filter((o) => o.entry?.kind === 'earn');
      assert.deepEqual(replay, first, 'the retried credit answers the same and credits once');
      assert.ok(outputs.some((o) => o.code === 'INSUFFICIENT_POINTS' && o.available === 100));
      const balance = outputs.find((o) => o.object === 'balance');
      assert.equal(balance.available, 150 - 50 - 40 - 30);
      const event = outputs.find((o) => o.object === 'event');
      assert.equal(event.points, 150);
      assert.equal(event.awards[0].text, '150 = ¥100 × 1 pt/¥ × 1.5 (金卡)');
      const audit = outputs.find((o) => o.object === 'audit');
      assert.equal(audit.ok, true, JSON.stringify(audit.violations));
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
