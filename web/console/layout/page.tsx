// What the console's pages share around their content: the header (one h1, a line saying what the
// page is for, actions on the right), filters kept in the URL (so a link or "back" returns to the
// same list), a date range in the program's time zone, and "load more" under a cursor-paged list.
import { Button, DatePicker, Space, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import timezone from 'dayjs/plugin/timezone';
import utc from 'dayjs/plugin/utc';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';

dayjs.extend(utc);
dayjs.extend(timezone);

export function PageHeader({ title, description, extra }: { title: ReactNode; description?: ReactNode; extra?: ReactNode }) {
  const heading = (
    <div>
      <Typography.Title level={1} style={{ fontSize: 24, marginBottom: 4 }}>
        {title}
      </Typography.Title>
      {description ? (
        <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
          {description}
        </Typography.Paragraph>
      ) : null}
    </div>
  );
  if (!extra) return heading;
  return (
    <Space style={{ width: '100%', justifyContent: 'space-between' }} align="start" wrap>
      {heading}
      {extra}
    </Space>
  );
}

/** The page's query string, and a setter: an empty value removes its parameter; the history entry is replaced. */
export function useUrlFilters(): [URLSearchParams, (changes: Record<string, string | undefined>) => void] {
  const [params, setParams] = useSearchParams();
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    setParams(next, { replace: true });
  };
  return [params, set];
}

const DAY = /^\d{4}-\d\d-\d\d$/;

/**
 * The `from`/`to` days of the URL (YYYY-MM-DD, both included) and the instants the API takes for
 * them: the program's start of `from` to the start of the day after `to`.
 */
export function dayRange(params: URLSearchParams, timeZone: string) {
  const fromDay = DAY.test(params.get('from') ?? '') ? params.get('from')! : undefined;
  const toDay = DAY.test(params.get('to') ?? '') ? params.get('to')! : undefined;
  return {
    fromDay,
    toDay,
    from: fromDay ? dayjs.tz(fromDay, timeZone).toISOString() : undefined,
    to: toDay ? dayjs.tz(toDay, timeZone).add(1, 'day').toISOString() : undefined,
  };
}

export function DayRangeFilter({
  label,
  fromDay,
  toDay,
  onChange,
}: {
  label: string;
  fromDay: string | undefined;
  toDay: string | undefined;
  onChange: (days: { from: string | undefined; to: string | undefined }) => void;
}) {
  return (
    <DatePicker.RangePicker
      aria-label={label}
      allowEmpty={[true, true]}
      value={[fromDay ? dayjs(fromDay) : null, toDay ? dayjs(toDay) : null]}
      onChange={(range) => onChange({ from: (range?.[0] as Dayjs | null)?.format('YYYY-MM-DD'), to: (range?.[1] as Dayjs | null)?.format('YYYY-MM-DD') })}
    />
  );
}

/** "Load more" while the list has more pages; at the end, what `done` says (e.g. how many were shown). */
export function LoadMore({
  query,
  done,
  style,
}: {
  query: { hasNextPage: boolean; fetchNextPage: () => unknown; isFetchingNextPage: boolean };
  done?: ReactNode;
  style?: React.CSSProperties;
}) {
  const { t } = useTranslation();
  if (!query.hasNextPage && !done) return null;
  return (
    <div style={{ textAlign: 'center', ...style }}>
      {query.hasNextPage ? (
        <Button onClick={() => query.fetchNextPage()} loading={query.isFetchingNextPage}>
          {t('common:loadMore')}
        </Button>
      ) : (
        done
      )}
    </div>
  );
}
