import { DomainError } from './errors.ts';

/** Opaque cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** What each position of a cursor holds, checked so that a forged cursor is a 400, never a database error. */
export type CursorPart = 'id' | 'timestamp' | 'seq';

const PART_CHECKS: Record<CursorPart, (v: unknown) => boolean> = {
  id: (v) => typeof v === 'string' && /^[a-z]{2,4}_[A-Za-z0-9_]{1,64}$/.test(v),
  timestamp: (v) =>
    typeof v === 'string' &&
    /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?([+-]\d\d(:?\d\d)?|Z)$/.test(v) &&
    !Number.isNaN(Date.parse(v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'))),
  seq: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
};

export function decodeCursor(cursor: string | undefined, parts: CursorPart[]): unknown[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === parts.length && key.every((k, i) => PART_CHECKS[parts[i]!](k))) return key;
  } catch {
    // fall through
  }
  throw new DomainError('INVALID_CURSOR', undefined, {}, [
    { path: '/cursor', location: 'querystring', message: 'is not a cursor this API returned', rule: 'invalid_cursor' },
  ]);
}

export interface Page<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** Rows were fetched with limit + 1 to learn whether there is more. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => unknown[]): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  return { object: 'list', data, has_more: hasMore, next_cursor: hasMore ? encodeCursor(keyOf(data[data.length - 1]!)) : null };
}
