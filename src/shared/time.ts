/**
 * Calendar arithmetic in a program's time zone, with Intl only (no tz database of our own). The
 * database does the same arithmetic for expiry (jf_policy_expiry); this is for rule schedules and
 * cap periods, evaluated in process.
 */
export interface LocalParts {
  year: number;
  month: number; // 1–12
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

function partsFromIntl(at: Date, tz: string): LocalParts {
  const p: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(at)) p[part.type] = part.value;
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAYS[p.weekday!]!,
  };
}

// UTC offsets only change on quarter-hour instants, so one Intl call per zone and quarter hour is
// enough; formatToParts is far too slow to call for every rule of every event.
const QUARTER_HOUR = 900_000;
const offsets = new Map<string, Map<number, number>>();

function offsetAt(t: number, tz: string): number {
  let byBucket = offsets.get(tz);
  if (!byBucket) offsets.set(tz, (byBucket = new Map()));
  const bucket = Math.floor(t / QUARTER_HOUR);
  let offset = byBucket.get(bucket);
  if (offset === undefined) {
    const start = bucket * QUARTER_HOUR;
    const p = partsFromIntl(new Date(start), tz);
    offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - start;
    if (byBucket.size > 50_000) byBucket.clear();
    byBucket.set(bucket, offset);
  }
  return offset;
}

export function localParts(at: Date, tz: string): LocalParts {
  const d = new Date(at.getTime() + offsetAt(at.getTime(), tz));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay() || 7,
  };
}

/** The instant at which the local wall-clock time y-m-d h:m:s occurs in tz (first one, on DST overlap). */
export function fromLocal(tz: string, year: number, month: number, day = 1, hour = 0, minute = 0, second = 0): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // Guess with the offset at the wall time read as UTC, then correct once for the offset there.
  let t = wall - offsetMs(new Date(wall), tz);
  t = wall - offsetMs(new Date(t), tz);
  return new Date(t);
}

function offsetMs(at: Date, tz: string): number {
  return offsetAt(at.getTime(), tz);
}

export type Period = 'day' | 'week' | 'month';

const periods = new Map<string, Map<number, [Date, Date]>>();
const PERIOD_INDEX: Record<Period, number> = { day: 0, week: 1, month: 2 };

/** [start, end) of the local day, ISO week (Monday first) or month containing `at`. */
export function periodOf(at: Date, tz: string, period: Period): [Date, Date] {
  // cap periods of one local day are asked for again and again: remember them by local day number
  const t = at.getTime();
  const key = Math.floor((t + offsetAt(t, tz)) / 86_400_000) * 3 + PERIOD_INDEX[period];
  let byTz = periods.get(tz);
  if (!byTz) periods.set(tz, (byTz = new Map()));
  let found = byTz.get(key);
  if (!found) {
    found = computePeriod(localParts(at, tz), tz, period);
    if (byTz.size > 20_000) byTz.clear();
    byTz.set(key, found);
  }
  return found;
}

function computePeriod(p: LocalParts, tz: string, period: Period): [Date, Date] {
  if (period === 'month') {
    return [fromLocal(tz, p.year, p.month, 1), fromLocal(tz, p.month === 12 ? p.year + 1 : p.year, p.month === 12 ? 1 : p.month + 1, 1)];
  }
  const back = period === 'week' ? p.weekday - 1 : 0;
  const start = new Date(Date.UTC(p.year, p.month - 1, p.day - back));
  const end = new Date(Date.UTC(p.year, p.month - 1, p.day - back + (period === 'week' ? 7 : 1)));
  return [
    fromLocal(tz, start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate()),
    fromLocal(tz, end.getUTCFullYear(), end.getUTCMonth() + 1, end.getUTCDate()),
  ];
}
