// The member's catalogue, redemptions and lottery draws from /v1/me, under the 'me' keys (cleared
// on sign-out). Writes send an Idempotency-Key made once per confirm sheet (or draw button), so a
// double tap or a retry gives one redemption.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { unwrap } from '../../../shared/api.ts';
import { cursorPages } from '../../../shared/pages.ts';
import type { Ok } from '../../components/queries.ts';
import { memberApi, publicApi } from '../../session.ts';

export type CatalogueItem = Ok<'getMyRewards'>['data'][number];
export type Reward = CatalogueItem['reward'];
export type ReachItem = Ok<'getMyRewardsWithinReach'>['data'][number];
export type MyRedemption = Ok<'listMyRedemptions'>['data'][number];
export type Redeemed = Ok<'redeemMyReward', 201>;
export type MyDraw = Ok<'listMyLotteryDraws'>['data'][number];
export type Drawn = Ok<'drawMyLottery', 201>;
export type Verification = Ok<'verifyLotteryDraw'>;
export type LotteryPrizes = Ok<'listMyLotteryPrizes'>['data'][number];
export type RedemptionInput = { reward_id: string; points?: number; expected_points?: number; shipping?: Shipping };
export type Shipping = { name?: string; phone?: string; address?: string; postal_code?: string };

/** The catalogue (every active reward but lotteries), or one category of it. */
export function useCatalogue(category: string | null) {
  return useInfiniteQuery({
    queryKey: ['me', 'rewards', 'catalogue', category],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(memberApi().GET('/v1/me/rewards', { params: { query: { limit: 50, cursor: pageParam, ...(category ? { category } : {}) } } })),
  });
}

export function useWithinReach() {
  return useQuery({
    queryKey: ['me', 'rewards', 'within-reach'],
    queryFn: () => unwrap(memberApi().GET('/v1/me/rewards/within-reach', { params: { query: { limit: 6 } } })),
  });
}

export function useLotteries() {
  return useQuery({
    queryKey: ['me', 'rewards', 'lotteries'],
    queryFn: () => unwrap(memberApi().GET('/v1/me/rewards', { params: { query: { type: 'lottery', limit: 20 } } })),
  });
}

/** Each active lottery's prizes with their odds now, by lottery. */
export function useLotteryPrizes() {
  return useQuery({
    queryKey: ['me', 'lottery-prizes'],
    queryFn: () => unwrap(memberApi().GET('/v1/me/lottery-prizes')),
    select: (list) => new Map(list.data.map((l) => [l.reward_id, l])),
  });
}

export function useMyRedemptions() {
  return useInfiniteQuery({
    queryKey: ['me', 'redemptions'],
    ...cursorPages,
    queryFn: ({ pageParam }) => unwrap(memberApi().GET('/v1/me/redemptions', { params: { query: { limit: 20, cursor: pageParam } } })),
  });
}

/** The address of the member's latest order of goods (to fill a form with, or to send with a draw), or null. */
export function useLastShipping(enabled: boolean): Shipping | null {
  const redemptions = useMyRedemptions();
  if (!enabled) return null;
  const last = redemptions.data?.pages[0]?.data.find((r) => r.reward_type === 'physical' && r.shipping?.address);
  return last?.shipping ?? null;
}

/** The member's points moved: the balance, the catalogue's states, the lists, the history. */
function useRefreshAfterSpending() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: ['me'] });
}

export function useRedeem() {
  const refresh = useRefreshAfterSpending();
  return useMutation({
    mutationFn: ({ input, key }: { input: RedemptionInput; key: string }) =>
      unwrap(memberApi().POST('/v1/me/redemptions', { params: { header: { 'idempotency-key': key } }, body: input })),
    onSuccess: () => void refresh(),
  });
}

export function useMyDraws() {
  return useInfiniteQuery({
    queryKey: ['me', 'lottery-draws'],
    ...cursorPages,
    queryFn: ({ pageParam }) => unwrap(memberApi().GET('/v1/me/lottery-draws', { params: { query: { limit: 20, cursor: pageParam } } })),
  });
}

export function useDraw() {
  const refresh = useRefreshAfterSpending();
  return useMutation({
    mutationFn: ({ rewardId, expected, key, shipping }: { rewardId: string; expected: number; key: string; shipping: Shipping | null }) =>
      unwrap(
        memberApi().POST('/v1/me/lottery-draws', {
          params: { header: { 'idempotency-key': key } },
          // a prize may be goods to ship: the address of the member's last order goes with the draw
          body: { reward_id: rewardId, expected_points: expected, ...(shipping ? { shipping } : {}) },
        }),
      ),
    onSuccess: () => void refresh(),
  });
}

export function useClientSeed() {
  return useQuery({ queryKey: ['me', 'lottery-client-seed'], queryFn: () => unwrap(memberApi().GET('/v1/me/lottery-client-seed')) });
}

export function useSetClientSeed() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ clientSeed, key }: { clientSeed: string; key: string }) =>
      unwrap(memberApi().PUT('/v1/me/lottery-client-seed', { params: { header: { 'idempotency-key': key } }, body: { client_seed: clientSeed } })),
    onSuccess: (data) => queryClient.setQueryData(['me', 'lottery-client-seed'], data),
  });
}

/** The public verification of a draw (no credentials: anyone with the link may check it). */
export function useVerification(drawId: string) {
  return useQuery({
    queryKey: ['lottery-verification', drawId],
    queryFn: () => unwrap(publicApi.GET('/v1/lottery-draws/{drawId}/verification', { params: { path: { drawId } } })),
  });
}
