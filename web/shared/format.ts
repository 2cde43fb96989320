// Numbers, money and dates for people: in the viewer's locale, dates in the program's time zone.
// Points are integers shown with thousands separators; money is stored in minor units (fen, cents).

export type Locale = 'zh-CN' | 'en';

const pointFormats = new Map<string, Intl.NumberFormat>();

/** 12,345 (a signed delta shows its sign: +150, −30). */
export function formatPoints(points: number, locale: Locale, options: { signed?: boolean } = {}): string {
  const key = `${locale}:${options.signed ? 's' : ''}`;
  let format = pointFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { maximumFractionDigits: 0, signDisplay: options.signed ? 'exceptZero' : 'auto' });
    pointFormats.set(key, format);
  }
  return format.format(points);
}

/** The number of minor units in one unit of a currency (100 for CNY and USD, 1 for JPY). */
export function minorUnitsOf(currency: string): number {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return 10 ** digits;
}

/** ¥1,234.50 from 123450 minor units of CNY. */
export function formatMoney(minor: number, currency: string, locale: Locale): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / minorUnitsOf(currency));
}

/** 2026年12月2日 / Dec 2, 2026, in the program's time zone. */
export function formatDate(iso: string | Date, timeZone: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { timeZone, year: 'numeric', month: 'short', day: 'numeric' }).format(new Date(iso));
}

/** 2026年12月2日 14:05 / Dec 2, 2026, 2:05 PM, in the program's time zone. */
export function formatDateTime(iso: string | Date, timeZone: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { timeZone, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(
    new Date(iso),
  );
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function dayIn(iso: string | Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** What members see points called, in the viewer's language: the program's point_name (积分), or point_name_en in English. */
export function pointNameOf(program: { point_name: string; point_name_en: string }, locale: Locale): string {
  return locale === 'en' ? program.point_name_en : program.point_name;
}
