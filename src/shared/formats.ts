/**
 * The one `date-time` format of the API, for every schema that declares it (request bodies, query
 * strings, event payloads, custom event types).
 *
 * An RFC 3339 date-time — `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` — is accepted when the instant
 * it names, normalised to UTC, is between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z:
 * the range every part of the system represents the same way (JavaScript's Date, PostgreSQL's
 * timestamptz, the API's own four-digit-year output). Checking the text alone is not enough:
 * `9999-12-31T23:59:59.999-14:00` is year 10000 in UTC.
 *
 * Refused besides: what names no instant or that Date would read differently — a day the month does
 * not have, hour 24, a leap second (`:60`; Date cannot represent it), a UTC offset beyond ±14:00 (no
 * zone uses one; PostgreSQL refuses some of them), a fraction of more than 9 digits. A fraction finer
 * than a millisecond is truncated to the millisecond, as Date does: `normalizeDateTime` gives the
 * instant every layer then uses.
 */

/** The earliest and latest instants the API accepts and returns, in milliseconds since the epoch. */
export const MIN_INSTANT_MS = 0;
export const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const MIN_TIMESTAMP = '1970-01-01T00:00:00.000Z';
export const MAX_TIMESTAMP = '9999-12-31T23:59:59.999Z';
/** The largest UTC offset accepted, in minutes (the zones in use run from −12:00 to +14:00). */
export const MAX_OFFSET_MINUTES = 14 * 60;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * The instant (ms since the epoch, truncated to the millisecond) an API date-time names, or
 * undefined when it is not one the API accepts (see above).
 */
export function parseDateTime(s: string): number | undefined {
  if (typeof s !== 'string' || s.length > 40) return undefined;
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  // a year before 1969 is out of range whatever the offset (and Date.UTC would read 0–99 as 19xx)
  if (year < 1969) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (m[8]) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (om > 59) return undefined;
    offset = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
    if (Math.abs(offset) > MAX_OFFSET_MINUTES) return undefined;
  }
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset * 60_000;
  if (!(t >= MIN_INSTANT_MS && t <= MAX_INSTANT_MS)) return undefined;
  // every other layer reads the text with Date (or gets normalizeDateTime's): it must agree exactly
  if (Date.parse(s) !== t) return undefined;
  return t;
}

/** Whether the text is a date-time the API accepts. */
export function isDateTime(s: string): boolean {
  return parseDateTime(s) !== undefined;
}

/**
 * The accepted date-time as the API writes it: UTC with milliseconds (`2026-11-23T08:00:00.000Z`).
 * Throws on text that is not one (validation has refused it before this is called).
 */
export function normalizeDateTime(s: string): string {
  const t = parseDateTime(s);
  if (t === undefined) throw new RangeError(`not an accepted date-time: ${s}`);
  return new Date(t).toISOString();
}

/** An instant computed by the application, kept within the API's range (the database does the same: jf_ts_max). */
export function clampInstant(ms: number): number {
  return Math.min(Math.max(ms, MIN_INSTANT_MS), MAX_INSTANT_MS);
}

/** `clampInstant` as the API writes timestamps. */
export function timestampOf(ms: number): string {
  return new Date(clampInstant(ms)).toISOString();
}

/** The format for Ajv (`ajv.addFormat('date-time', dateTimeFormat)`). */
export const dateTimeFormat = { type: 'string' as const, validate: isDateTime };
