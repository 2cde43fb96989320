import type { Queryable } from '../../db/db.ts';
import { DomainError, fieldError } from '../../shared/errors.ts';

/**
 * A program's time zone is used on both sides: by PostgreSQL (expiry dates, cap periods summed by
 * local day) and by Node's Intl (rule schedules and cap periods in the rule engine). Only zones both
 * agree on are accepted: IANA names (Asia/Shanghai, UTC, America/Argentina/Buenos_Aires, and the
 * aliases both know, such as Asia/Calcutta), never PostgreSQL's extras — posix/… and right/… copies,
 * localtime, Factory, posixrules — nor POSIX TZ strings or offsets such as +08:00 (PostgreSQL reads a
 * POSIX offset with the opposite sign of ISO 8601).
 */

/** Area/Location[/Sublocation], or a single name such as UTC: letters, digits, _ + - only. */
export const TIME_ZONE_PATTERN = '^[A-Za-z][A-Za-z0-9_+-]{0,29}(/[A-Za-z0-9][A-Za-z0-9_+-]{0,29}){0,2}$';
const NAME = new RegExp(TIME_ZONE_PATTERN);
/** Names PostgreSQL has that are not zones of their own (or not the same zone elsewhere). */
const NOT_ZONES = /^(posix|right)\/|^(localtime|posixrules|Factory)$/i;

const intlVerdicts = new Map<string, boolean>();

/** Whether the name looks like an IANA zone and Node's Intl knows it (no database needed). */
export function isIntlTimeZone(tz: string): boolean {
  let ok = intlVerdicts.get(tz);
  if (ok === undefined) {
    ok = NAME.test(tz) && !NOT_ZONES.test(tz);
    if (ok) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
      } catch {
        ok = false;
      }
    }
    if (intlVerdicts.size > 10_000) intlVerdicts.clear();
    intlVerdicts.set(tz, ok);
  }
  return ok;
}

// The database's zone names, read once per database handle (pg_timezone_names costs 15–30 ms a query).
const databaseZones = new WeakMap<object, Promise<Set<string>>>();

async function zonesOf(db: Queryable): Promise<Set<string>> {
  let zones = databaseZones.get(db);
  if (!zones) {
    zones = db.query<{ name: string }>('SELECT name FROM pg_timezone_names').then((rows) => new Set(rows.map((r) => r.name)));
    databaseZones.set(db, zones);
    zones.catch(() => databaseZones.delete(db));
  }
  return zones;
}

/** Whether both sides know the zone by exactly this name (PostgreSQL's names are case-sensitive here). */
export async function isSupportedTimeZone(db: Queryable, tz: string): Promise<boolean> {
  return isIntlTimeZone(tz) && (await zonesOf(db)).has(tz);
}

/** Refuses a time zone in a request body (VALIDATION_FAILED at `path`). */
export async function checkTimeZone(db: Queryable, tz: string | undefined, path = '/time_zone'): Promise<void> {
  if (tz !== undefined && !(await isSupportedTimeZone(db, tz))) {
    throw fieldError(
      path,
      'is not a supported IANA time zone name (such as Asia/Shanghai or UTC; not an offset, a POSIX TZ string, posix/…, right/…, localtime or Factory)',
      'time_zone',
    );
  }
}

/**
 * A program stored with a zone the rule engine cannot use (accepted by an earlier version):
 * its events are refused with a clear 422 until the program's time zone is updated.
 */
export function unsupportedTimeZone(programId: string, tz: string): DomainError {
  return new DomainError(
    'PROGRAM_TIME_ZONE_UNSUPPORTED',
    `Program ${programId} has the time zone ${JSON.stringify(tz)}, which rules cannot be evaluated in; set an IANA time zone (PATCH /v1/programs/${programId})`,
    { program_id: programId, time_zone: tz },
  );
}
