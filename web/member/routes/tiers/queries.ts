// The member's tier (GET /v1/me/tier) and tier history, under the 'me' keys (cleared on sign-out).
// A program without a ladder answers 404 TIER_LADDER_NOT_FOUND: then null, and no tier card shows.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { ApiError, unwrap } from '../../../shared/api.ts';
import { cursorPages } from '../../../shared/pages.ts';
import type { TierChangePage, TierStatus } from '../../../shared/tiers.ts';
import { memberApi } from '../../session.ts';

export function useMyTier() {
  return useQuery({
    queryKey: ['me', 'tier'],
    queryFn: async (): Promise<TierStatus | null> => {
      try {
        return (await unwrap(memberApi().GET('/v1/me/tier'))) as TierStatus;
      } catch (error) {
        if (error instanceof ApiError && error.code === 'TIER_LADDER_NOT_FOUND') return null;
        throw error;
      }
    },
  });
}

export function useMyTierHistory() {
  return useInfiniteQuery({
    queryKey: ['me', 'tier-history'],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(memberApi().GET('/v1/me/tier-history', { params: { query: { cursor: pageParam, limit: 20 } } })) as Promise<TierChangePage>,
  });
}
