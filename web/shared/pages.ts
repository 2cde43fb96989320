// The API's cursor pages for TanStack Query's useInfiniteQuery, in both apps:
// `{ ...cursorPages, queryFn: ({ pageParam }) => … cursor: pageParam … }`.

export interface CursorPage {
  has_more: boolean;
  next_cursor?: string | null;
}

export const cursorPages = {
  initialPageParam: undefined as string | undefined,
  getNextPageParam: (last: CursorPage): string | undefined => (last.has_more && last.next_cursor ? last.next_cursor : undefined),
};
