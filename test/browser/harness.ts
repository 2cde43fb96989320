/**
 * The browser tests' harness: the real server over HTTP, driven by Debian's Chromium through
 * playwright-core, as a person would use it.
 *
 *   const h = useHarness();          // inside a describe: starts in before, stops in after
 *   const { page } = await h.open('/console/prg_demo/members', { locale: 'en' });
 *
 * One server per test file: `node src/cli.ts serve` in a child process (test/helpers/server-process.ts)
 * on a free port, a fresh JIFEN_DATA_DIR (PGlite), the demo seeded, the bootstrap admin key and the
 * owner's password set; one browser per file. The web apps are built first if their sources
 * changed (`node web/build.ts --if-stale`, once per machine at a time: a lock directory, so two
 * files run side by side do not build into web/dist together). Only this file's own child is killed.
 *
 * Chromium: /usr/bin/chromium (JIFEN_CHROMIUM to use another). When it is missing the tests fail
 * and say how to install it; JIFEN_BROWSER_TESTS=skip skips them instead.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { openDb } from '../../src/db/db.ts';
import { TEST_DATABASE_URL } from '../helpers/db.ts';
import { httpRequest, REPO_ROOT, type RequestOptions, type StartedServer, startServer } from '../helpers/server-process.ts';

export const CHROMIUM = process.env.JIFEN_CHROMIUM ?? '/usr/bin/chromium';
export const INSTALL_CHROMIUM = 'apt-get update && apt-get install -y chromium';
/** node:test's skip option for every browser suite: a reason when JIFEN_BROWSER_TESTS=skip, else false. */
export const SKIP: string | false = process.env.JIFEN_BROWSER_TESTS === 'skip' ? 'JIFEN_BROWSER_TESTS=skip' : false;

export const RESULTS_DIR = join(REPO_ROOT, 'test-results');
export const OWNER_EMAIL = 'owner@jifen.local';
export const OWNER_PASSWORD = 'owner-password-for-browser-tests-1';
export const ADMIN_KEY = 'jf_browser_test_admin_key_000000000001';
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
/** The member centre is a phone page. */
export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1280, height: 800 };

/** Throws, with the install command, when Chromium is not there. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser tests need it. Install it with\n\n    ${INSTALL_CHROMIUM}\n\n` +
        '(as root; .ci/run does this in CI), set JIFEN_CHROMIUM to another Chromium, or JIFEN_BROWSER_TESTS=skip to skip these tests.',
    );
  }
}

export async function launchBrowser(): Promise<Browser> {
  requireChromium();
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` holding a lock directory under the temporary directory (mkdir is atomic), so test
 * processes run side by side do it one at a time; a lock older than 5 minutes is a crashed
 * process's and is taken over.
 */
async function withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), `${name}.lock`);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() > deadline) throw new Error(`lock ${lock} held for too long`);
      await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** `node web/build.ts --if-stale`, one test process at a time. */
export async function buildWebIfStale(): Promise<void> {
  await withLock('jifen-web-build', async () => {
    try {
      execFileSync(process.execPath, [join(REPO_ROOT, 'web', 'build.ts'), '--if-stale'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`node web/build.ts --if-stale failed:\n${e.stderr?.toString() ?? ''}${e.stdout?.toString() ?? ''}`);
    }
  });
}

/** The environment of the tests' servers (besides the data and web directories). */
const SERVER_ENV = {
  JIFEN_DEMO: 'true',
  JIFEN_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
  JIFEN_BOOTSTRAP_OWNER_PASSWORD: OWNER_PASSWORD,
  JIFEN_BOOTSTRAP_OWNER_EMAIL: OWNER_EMAIL,
  // the tests sign in and make many requests from one address
  JIFEN_RATE_LIMIT_API_KEY: '0',
  JIFEN_RATE_LIMIT_MEMBER: '0',
};

/**
 * A database with the demo seeded, as a first start makes it, copied into `into`. Seeding takes
 * from seconds to a minute on a busy machine, so the browser test files share one seeded PGlite
 * directory, made once per day (the demo's history ends at the day it is seeded) and per version
 * of src/ (a hash of every file in it, so a change to the migrations, the demo or the bootstrap
 * makes a new one): a server starts on it, seeds, and stops cleanly, then each file copies it.
 */
export async function seededDataDir(into: string): Promise<void> {
  const hash = createHash('sha256').update(JSON.stringify(SERVER_ENV)).update(new Date().toISOString().slice(0, 10));
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path.slice(REPO_ROOT.length)).update(readFileSync(path));
    }
  };
  walk(join(REPO_ROOT, 'src'));
  const template = join(tmpdir(), `jifen-browser-db-${hash.digest('hex').slice(0, 16)}`);
  await withLock('jifen-browser-db', async () => {
    if (existsSync(join(template, 'seeded'))) return;
    for (let attempt = 1; ; attempt++) {
      rmSync(template, { recursive: true, force: true });
      const server = await startServer(
        { ...SERVER_ENV, JIFEN_DATA_DIR: join(template, 'db'), JIFEN_WEB_DIR: 'none', LOG_LEVEL: 'info' },
        { timeoutMs: 300_000 },
      );
      const killer = setTimeout(() => void server.kill('SIGKILL'), 30_000);
      const exit = await server.kill('SIGTERM');
      clearTimeout(killer);
      if (exit.code === 0) break;
      // a copy of a database that was not closed may be incomplete: seed it again, once
      if (attempt === 2) {
        throw new Error(
          `the server seeding ${template} did not stop cleanly (${exit.signal ?? exit.code}):\n${server.stderr()}${server.stdout().slice(-2000)}`,
        );
      }
    }
    writeFileSync(join(template, 'seeded'), `${new Date().toISOString()}\n`);
    // older ones (another day, another version of src/), unless one may still be being copied
    for (const name of readdirSync(tmpdir())) {
      const old = join(tmpdir(), name);
      if (name.startsWith('jifen-browser-db-') && old !== template && Date.now() - statSync(old).mtimeMs > 10 * 60_000)
        rmSync(old, { recursive: true, force: true });
    }
  });
  cpSync(join(template, 'db'), into, { recursive: true });
}

/**
 * A private copy of web/dist for this test file's server (JIFEN_WEB_DIR), so that a rebuild of
 * web/dist while the tests run (a developer's, another process's) cannot take assets away from
 * pages already loaded. The copy is checked: every hashed asset a file of it names is in it (a
 * copy taken during a build is not), else built and copied again.
 */
export async function webSnapshot(into: string): Promise<string> {
  let missing: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    await buildWebIfStale();
    rmSync(into, { recursive: true, force: true });
    cpSync(join(REPO_ROOT, 'web', 'dist'), into, { recursive: true });
    missing = missingAssets(into);
    if (missing.length === 0) return into;
    await sleep(1000);
  }
  throw new Error(`web/dist keeps changing under the tests (another build?): ${missing.slice(0, 5).join(', ')} missing`);
}

/** Hashed assets (name-HASH8.js/.css) that files under the app folders name but that are not there. */
export function missingAssets(webDir: string): string[] {
  const missing: string[] = [];
  for (const app of ['console', 'member']) {
    const root = join(webDir, app);
    if (!existsSync(join(root, 'index.html'))) {
      missing.push(`${app}/index.html`);
      continue;
    }
    const assets = existsSync(join(root, 'assets')) ? new Set(readdirSync(join(root, 'assets'))) : new Set<string>();
    const files = [join(root, 'index.html'), ...[...assets].filter((f) => /\.(js|css)$/.test(f)).map((f) => join(root, 'assets', f))];
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(/assets\/([\w.-]+-[\w-]{8}\.(?:js|css))|"\.\/([\w.-]+-[\w-]{8}\.(?:js|css))"/g)) {
        const name = m[1] ?? m[2]!;
        if (!assets.has(name)) missing.push(`${app}/assets/${name}`);
      }
    }
  }
  return [...new Set(missing)];
}

/** A new, empty database on the PostgreSQL server at TEST_DATABASE_URL (the server migrates and seeds it). */
async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `jifen_browser_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await openDb({ databaseUrl: TEST_DATABASE_URL, poolSize: 1 });
  await admin.exec(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

/** What went wrong in a page: console errors, uncaught exceptions, i18n keys missing. */
export interface Watched {
  page: Page;
  context: BrowserContext;
  /** console.error messages and uncaught page errors, as "<kind>: <text> (<url>)". */
  errors: string[];
  /** Allows console errors matching this (e.g. a 403 the test provokes on purpose). */
  allow(pattern: RegExp): void;
}

export interface OpenOptions {
  locale?: Locale;
  viewport?: { width: number; height: number };
  /** Reuse a context (its cookies: a signed-in user); else a new one. */
  context?: BrowserContext;
}

export interface Harness {
  /** Which database the server runs on: 'pglite' or 'postgres'. */
  readonly label: 'pglite' | 'postgres';
  readonly url: string;
  readonly server: StartedServer;
  readonly browser: Browser;
  /** A request to the API with the bootstrap admin key (or `key`). */
  api(method: string, path: string, options?: RequestOptions): ReturnType<typeof httpRequest>;
  /** A new browser context, the locale chosen before any page script runs. */
  newContext(options?: { locale?: Locale; viewport?: { width: number; height: number } }): Promise<BrowserContext>;
  /** Opens a path in a new page (of a new context unless one is given), watching its errors. */
  open(path: string, options?: OpenOptions): Promise<Watched>;
  /** Watches an existing page. */
  watch(page: Page): Watched;
}

/**
 * Registers before/after hooks (call inside a describe) that start a server and a browser for the
 * suite; the returned object is usable inside tests.
 */
export interface HarnessOptions {
  /** On a database of its own on the PostgreSQL server at TEST_DATABASE_URL (dropped afterwards) instead of PGlite. */
  postgres?: boolean;
}

/** node:test's skip option for a suite on PostgreSQL: a reason when TEST_DATABASE_URL=none. */
export const SKIP_POSTGRES: string | false = SKIP || (TEST_DATABASE_URL === 'none' ? 'TEST_DATABASE_URL=none' : false);

export function useHarness(options: HarnessOptions = {}): Harness {
  const { harness, start, stop } = createHarness(options);
  before(start);
  after(stop);
  return harness;
}

/** The harness with explicit start and stop (for scripts; tests use useHarness). */
export function createHarness(options: HarnessOptions = {}): { harness: Harness; start: () => Promise<void>; stop: () => Promise<void> } {
  let state: { server: StartedServer; browser: Browser; dataDir: string; dropDatabase?: () => Promise<void> } | undefined;
  const need = () => {
    if (!state) throw new Error('the harness did not start (see the before hook)');
    return state;
  };
  const start = async () => {
    requireChromium();
    const dataDir = mkdtempSync(join(tmpdir(), 'jifen-browser-'));
    let database: { url: string; drop: () => Promise<void> } | undefined;
    let server: StartedServer | undefined;
    try {
      const webDir = await webSnapshot(join(dataDir, 'web'));
      if (options.postgres) database = await createDatabase();
      else await seededDataDir(join(dataDir, 'db'));
      server = await startServer(
        { ...SERVER_ENV, JIFEN_DATA_DIR: join(dataDir, 'db'), JIFEN_WEB_DIR: webDir, DATABASE_URL: database?.url },
        { timeoutMs: 300_000 },
      );
      const browser = await launchBrowser();
      state = { server, browser, dataDir, dropDatabase: database?.drop };
    } catch (err) {
      await server?.kill('SIGKILL');
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
  };

  const stop = async () => {
    if (!state) return;
    const { browser, server, dataDir, dropDatabase } = state;
    state = undefined;
    await browser.close().catch(() => {});
    // a graceful stop, and no waiting for ever on one
    const killer = setTimeout(() => void server.kill('SIGKILL'), 10_000);
    await server.kill('SIGTERM');
    clearTimeout(killer);
    await dropDatabase?.();
    rmSync(dataDir, { recursive: true, force: true });
  };

  const watch = (page: Page): Watched => {
    const errors: string[] = [];
    const allowed: RegExp[] = [];
    const record = (line: string) => {
      if (!allowed.some((pattern) => pattern.test(line))) errors.push(line);
    };
    // the browser asks for /favicon.ico on its own; neither app has one (a 404, not the page's doing)
    allowed.push(/status of 404 .*\/favicon\.ico\)$/);
    page.on('console', (message) => {
      if (message.type() === 'error') record(`console.error: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => record(`pageerror: ${error.message}`));
    return { page, context: page.context(), errors, allow: (pattern) => allowed.push(pattern) };
  };

  const newContext: Harness['newContext'] = async (options = {}) => {
    const context = await need().browser.newContext({
      baseURL: need().server.url,
      viewport: options.viewport ?? DESKTOP,
      locale: options.locale ?? 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    context.setDefaultTimeout(15_000);
    if (options.locale) await context.addInitScript(`window.localStorage.setItem('jifen.locale', ${JSON.stringify(options.locale)});`);
    return context;
  };

  const harness: Harness = {
    label: options.postgres ? 'postgres' : 'pglite',
    get url() {
      return need().server.url;
    },
    get server() {
      return need().server;
    },
    get browser() {
      return need().browser;
    },
    api: (method, path, options) => httpRequest(need().server.url, method, path, { key: ADMIN_KEY, ...options }),
    newContext,
    watch,
    async open(path, options = {}) {
      const context = options.context ?? (await newContext({ locale: options.locale, viewport: options.viewport }));
      const page = await context.newPage();
      const watched = watch(page);
      // not signed in yet: the console asks for its session and is told 401 (expected)
      watched.allow(/status of 401 .*\/v1\/console\/session\)$/);
      await page.goto(path);
      return watched;
    },
  };
  return { harness, start, stop };
}

/** The keys i18n reported missing in this page (window.__jifenMissingKeys). */
export async function missingKeys(page: Page): Promise<string[]> {
  return ((await page.evaluate('window.__jifenMissingKeys ?? null')) as string[] | null) ?? ['(window.__jifenMissingKeys is not set: i18n did not start)'];
}

/** Waits until the page has settled: no request in flight for a moment, no spinner, fonts and layout done. */
export async function settle(page: Page): Promise<void> {
  // the spinners first (a page that has not rendered one yet has none: networkidle below waits for
  // its requests), then one quiet moment of the network
  await page
    .locator('.ant-spin-spinning, .adm-spin-loading, .adm-skeleton, .ant-skeleton-active')
    .first()
    .waitFor({ state: 'detached', timeout: 15_000 })
    .catch(() => {});
  await page.waitForLoadState('networkidle');
}

export interface AxeFinding {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: string[];
}

/** axe's violations in the page, split into those that fail (serious, critical) and the rest. */
export async function axe(page: Page): Promise<{ failing: AxeFinding[]; minor: AxeFinding[] }> {
  // violations only: axe then builds selectors for no passing or incomplete node (the slow tail of a run)
  const result = await new AxeBuilder({ page }).options({ resultTypes: ['violations'] }).analyze();
  const findings = result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}${n.failureSummary ? ` — ${n.failureSummary.split('\n').slice(1).join(' ').trim()}` : ''}`),
  }));
  return {
    failing: findings.filter((f) => f.impact === 'serious' || f.impact === 'critical'),
    minor: findings.filter((f) => f.impact !== 'serious' && f.impact !== 'critical'),
  };
}

/** Saves test-results/<name>.png (full page). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

/** Appends a line to test-results/<file> (findings to read after a run). */
export function note(file: string, line: string): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, file), `${line}\n`, { flag: 'a' });
}

/**
 * Waits until `check` passes (returns without throwing), retrying every 100 ms for up to `timeoutMs`;
 * then throws its last error. Pages update after requests: assertions about them wait like this.
 */
export async function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

/** The locator's text comes to contain `text`. */
export async function expectText(locator: Locator, text: string, timeoutMs?: number): Promise<void> {
  await eventually(async () => {
    const shown = (await locator.textContent({ timeout: 1000 })) ?? '';
    assert.ok(shown.includes(text), `${locator} shows ${JSON.stringify(shown)}, want it to contain ${JSON.stringify(text)}`);
  }, timeoutMs);
}

/** The locator comes to match `count` elements. */
export async function expectCount(locator: Locator, count: number, timeoutMs?: number): Promise<void> {
  await eventually(async () => assert.equal(await locator.count(), count, `${locator}: count`), timeoutMs);
}

/** The input comes to hold `value`. */
export async function expectValue(locator: Locator, value: string, timeoutMs?: number): Promise<void> {
  await eventually(async () => assert.equal(await locator.inputValue({ timeout: 1000 }), value, `${locator}: value`), timeoutMs);
}
