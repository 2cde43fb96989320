import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { Clock } from '../shared/clock.ts';

/**
 * What app.ts hands every route registration: the database, the clock and the configuration.
 * It lives with the routes, not in shared/, because it names the database handle and the
 * configuration (shared/ imports nothing above it).
 */
export interface AppDeps {
  db: Db;
  clock: Clock;
  config: Readonly<Config>;
}
