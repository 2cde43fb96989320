// History: every entry, newest first, page by page as the member scrolls, with its kind, signed
// change, time in the program's time zone and the API's explanation (150 = ¥100 × 1 pt/¥ × 1.5 (金卡)).
import { useInfiniteQuery } from '@tanstack/react-query';
import { InfiniteScroll } from 'antd-mobile';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { unwrap } from '../../../shared/api.ts';
import { pointNameOf } from '../../../shared/format.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { Choice } from '../../components/choice.tsx';
import { EntryItem } from '../../components/entry-item.tsx';
import { CardSkeleton, EmptyNote, ErrorView, Refreshable } from '../../components/feedback.tsx';
import { useLocale, useProfile } from '../../components/queries.ts';
import { memberApi } from '../../session.ts';

const FILTERS = ['all', 'earn', 'spend', 'expire', 'reverse'] as const;
type Filter = (typeof FILTERS)[number];
const PAGE = 20;

export default function HistoryPage() {
  const { t } = useTranslation('history');
  const [filter, setFilter] = useState<Filter>('all');
  const profile = useProfile();
  const locale = useLocale();
  const entries = useInfiniteQuery({
    queryKey: ['me', 'entries', 'history', filter],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(
        memberApi().GET('/v1/me/entries', {
          params: { query: { limit: PAGE, ...(pageParam ? { cursor: pageParam } : {}), ...(filter === 'all' ? {} : { kind: filter }) } },
        }),
      ),
  });

  if (profile.error) return <ErrorView error={profile.error} onRetry={() => void profile.refetch()} />;
  const items = entries.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <Choice
        label={t('filterLabel')}
        testId="history-filter"
        value={filter}
        options={FILTERS.map((f) => ({ label: t(`filters.${f}`), value: f }))}
        onChange={setFilter}
      />
      <Refreshable>
        {entries.error && !entries.data ? (
          <ErrorView error={entries.error} onRetry={() => void entries.refetch()} />
        ) : !profile.data || !entries.data ? (
          <CardSkeleton lines={6} />
        ) : (
          <section className="m-card" aria-label={t('listLabel')}>
            {items.length === 0 ? (
              <EmptyNote>{filter === 'all' ? t('empty', { pointName: pointNameOf(profile.data.program, locale) }) : t('emptyFilter')}</EmptyNote>
            ) : (
              <ul className="m-entries" data-testid="history-list">
                {items.map((e) => (
                  <EntryItem key={e.id} entry={e} timeZone={profile.data.program.time_zone} />
                ))}
              </ul>
            )}
            {items.length > 0 && (
              <InfiniteScroll
                hasMore={entries.hasNextPage}
                loadMore={async (isRetry) => {
                  const result = await entries.fetchNextPage({ cancelRefetch: !isRetry });
                  if (result.isError) throw result.error;
                }}
              >
                {(hasMore, failed, retry) =>
                  failed ? (
                    <button type="button" className="m-link m-more" onClick={retry} style={{ border: 0, background: 'none', width: '100%' }}>
                      {t('loadFailed')}
                    </button>
                  ) : hasMore ? (
                    <span>{t('common:loading')}</span>
                  ) : (
                    <span>{t('common:noMore')}</span>
                  )
                }
              </InfiniteScroll>
            )}
          </section>
        )}
      </Refreshable>
    </>
  );
}
