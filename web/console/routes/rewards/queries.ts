// The one reward query the rewards pages share: the editor, the reward pickers and the names of
// the rewards a lottery's prizes issue read a reward from the same cache entry.
import { queryOptions } from '@tanstack/react-query';
import { unwrap } from '../../../shared/api.ts';
import { api } from '../../layout/session.tsx';

export const rewardKey = (rewardId: string) => ['reward', rewardId];

export function rewardQuery(rewardId: string) {
  return queryOptions({
    queryKey: rewardKey(rewardId),
    queryFn: () => unwrap(api.GET('/v1/rewards/{rewardId}', { params: { path: { rewardId } } })),
  });
}
