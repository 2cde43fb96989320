import { join, resolve } from 'node:path';

/**
 * The only reader of process.env. Parsed and checked once at boot; a bad value stops the start with
 * a message naming the variable.
 */
export interface Config {
  /** postgres://… when running on a PostgreSQL server; undefined for the embedded PGlite database. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /**
   * How long a request waits for a database connection (PostgreSQL) or its turn (the embedded
   * database) before it is answered 503 with Retry-After, having started nothing.
   */
  databaseAcquireTimeoutMs: number;
  /** How many times a transaction that hit a deadlock or serialization failure is run again before 503. */
  databaseConflictRetries: number;
  /** Where the embedded database keeps its files. */
  dataDir: string;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `pretty`: human-readable lines; `json`: one JSON object a line; `auto`: pretty on a terminal. */
  logFormat: 'auto' | 'pretty' | 'json';
  /** Use this admin key instead of generating one on the first start. */
  bootstrapAdminKey: string | undefined;
  /** The password of the console's first owner (owner@jifen.local) instead of a generated one; 10 to 256 characters. */
  bootstrapOwnerPassword: string | undefined;
  /**
   * Behind a reverse proxy: believe its X-Forwarded-For and X-Forwarded-Proto (the client's IP for
   * sign-in limits, https for the session cookie's Secure flag). Off by default.
   */
  trustProxy: boolean;
  /** Create the demo program on an empty database. */
  demo: boolean;
  /** Run the background jobs (expiry sweep, hold timeouts, idempotency key purge) in this process. */
  jobs: boolean;
  jobIntervalSeconds: number;
  /** How often the job refreshes each active segment's members. */
  segmentRefreshSeconds: number;
  tierJobSeconds: number;
  idempotencyRetentionDays: number;
  /** Requests per API key per rate-limit window; 0 = no limit. */
  rateLimitApiKey: number;
  /** Requests per member (member tokens on /v1/me) per rate-limit window; 0 = no limit. */
  rateLimitMember: number;
  rateLimitWindowSeconds: number;
  /** Where the built web apps are (web/dist): the console at /console, the member centre at /m; `none` serves no web app. */
  webDir: string | undefined;
}

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const problems: string[] = [];
  const str = (name: string) => {
    const v = env[name]?.trim();
    return v === '' ? undefined : v;
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean) => {
    const raw = str(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name}=${JSON.stringify(env[name])}: must be true or false`);
    return fallback;
  };

  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    problems.push(`DATABASE_URL: must be a postgres:// or postgresql:// URL (leave it unset for the embedded database)`);
  }
  const logLevel = str('LOG_LEVEL') ?? 'info';
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  if (!levels.includes(logLevel as Config['logLevel'])) {
    problems.push(`LOG_LEVEL=${JSON.stringify(logLevel)}: must be one of ${levels.join(', ')}`);
  }
  const logFormat = str('LOG_FORMAT') ?? 'auto';
  const formats = ['auto', 'pretty', 'json'] as const;
  if (!formats.includes(logFormat as Config['logFormat'])) {
    problems.push(`LOG_FORMAT=${JSON.stringify(logFormat)}: must be one of ${formats.join(', ')}`);
  }
  const bootstrapAdminKey = str('JIFEN_BOOTSTRAP_ADMIN_KEY');
  if (bootstrapAdminKey !== undefined && !/^[A-Za-z0-9_-]{24,128}$/.test(bootstrapAdminKey)) {
    problems.push('JIFEN_BOOTSTRAP_ADMIN_KEY: must be 24 to 128 letters, digits, _ or -');
  }
  const bootstrapOwnerPassword = env.JIFEN_BOOTSTRAP_OWNER_PASSWORD === '' ? undefined : env.JIFEN_BOOTSTRAP_OWNER_PASSWORD;
  if (bootstrapOwnerPassword !== undefined && (bootstrapOwnerPassword.length < 10 || bootstrapOwnerPassword.length > 256)) {
    problems.push('JIFEN_BOOTSTRAP_OWNER_PASSWORD: must be 10 to 256 characters');
  }

  const config: Config = {
    databaseUrl,
    databasePoolSize: int('DATABASE_POOL_SIZE', 20, 1, 1000),
    databaseAcquireTimeoutMs: int('DATABASE_ACQUIRE_TIMEOUT_MS', 5000, 0, 600_000),
    databaseConflictRetries: int('DATABASE_CONFLICT_RETRIES', 4, 0, 20),
    dataDir: resolve(str('JIFEN_DATA_DIR') ?? 'data'),
    host: str('HOST') ?? '127.0.0.1',
    port: int('PORT', 3000, 0, 65535),
    logLevel: logLevel as Config['logLevel'],
    logFormat: logFormat as Config['logFormat'],
    bootstrapAdminKey,
    bootstrapOwnerPassword,
    trustProxy: bool('JIFEN_TRUST_PROXY', false),
    demo: bool('JIFEN_DEMO', databaseUrl === undefined),
    jobs: bool('JIFEN_JOBS', true),
    jobIntervalSeconds: int('JIFEN_JOB_INTERVAL_SECONDS', 60, 1, 86_400),
    segmentRefreshSeconds: int('JIFEN_SEGMENT_REFRESH_SECONDS', 3600, 10, 604_800),
    tierJobSeconds: int('JIFEN_TIER_JOB_SECONDS', 900, 10, 86_400),
    idempotencyRetentionDays: int('JIFEN_IDEMPOTENCY_RETENTION_DAYS', 30, 1, 3650),
    rateLimitApiKey: int('JIFEN_RATE_LIMIT_API_KEY', 6000, 0, 10_000_000),
    rateLimitMember: int('JIFEN_RATE_LIMIT_MEMBER', 300, 0, 10_000_000),
    rateLimitWindowSeconds: int('JIFEN_RATE_LIMIT_WINDOW_SECONDS', 60, 1, 3600),
    webDir: str('JIFEN_WEB_DIR') === 'none' ? undefined : resolve(str('JIFEN_WEB_DIR') ?? join(import.meta.dirname, '..', 'web', 'dist')),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
