// The tier queries the console's pages share (the ladder page, the history, the dashboard card,
// the member's tier card). A program without a ladder answers 404 TIER_LADDER_NOT_FOUND: here null.
import { useQuery } from '@tanstack/react-query';
import { ApiError, unwrap } from '../../../shared/api.ts';
import type { TierLadder, TierMix, TierStatus } from '../../../shared/tiers.ts';
import { api } from '../../layout/session.tsx';

const orNull = async <T>(call: Promise<unknown>): Promise<T | null> => {
  try {
    return (await call) as T;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'TIER_LADDER_NOT_FOUND') return null;
    throw error;
  }
};

export const ladderKey = (programId: string) => ['tier-ladder', programId];

export function useLadder(programId: string) {
  return useQuery({
    queryKey: ladderKey(programId),
    queryFn: () => orNull<TierLadder>(unwrap(api.GET('/v1/programs/{programId}/tier-ladder', { params: { path: { programId } } }))),
  });
}

export function useTierMix(programId: string) {
  return useQuery({
    queryKey: ['tier-mix', programId],
    queryFn: () => orNull<TierMix>(unwrap(api.GET('/v1/programs/{programId}/tier-mix', { params: { path: { programId } } }))),
  });
}

/** Also under the member's key (members/types.ts memberKey), so the member page's writes refresh it. */
export const memberTierKey = (memberId: string) => ['member', memberId, 'tier'];

export function useMemberTier(memberId: string) {
  return useQuery({
    queryKey: memberTierKey(memberId),
    queryFn: () => orNull<TierStatus>(unwrap(api.GET('/v1/members/{memberId}/tier', { params: { path: { memberId } } }))),
  });
}
