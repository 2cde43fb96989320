// Choosing one of the program's rewards, however many it has: the options are the rewards whose
// name matches what is typed (the list's `q`, searched on the server, 50 at a time), and a chosen
// reward that is not among them (it came from the URL or a saved form) is fetched by its id so
// that it shows its name, never a bare id. useRewardNames names a few rewards by id the same way.
import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import { Select } from 'antd';
import { type CSSProperties, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { unwrap } from '../../../shared/api.ts';
import { api } from '../../layout/session.tsx';
import { rewardQuery } from './queries.ts';
import { localized, type Reward } from './types.ts';

const SEARCH_DEBOUNCE_MS = 250;

interface RewardSelectProps {
  programId: string;
  value?: string;
  onChange?: (value: string | undefined) => void;
  placeholder?: string;
  'aria-label'?: string;
  /** which rewards may be chosen (all by default) */
  allow?: (reward: Reward) => boolean;
  /** the option's label (the localized name by default) */
  label?: (reward: Reward) => string;
  style?: CSSProperties;
  'data-testid'?: string;
}

export function RewardSelect({ programId, value, onChange, allow, label, ...rest }: RewardSelectProps) {
  const { i18n } = useTranslation('rewards');
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [typed]);
  const options = useQuery({
    queryKey: ['rewards', programId, 'options', search],
    queryFn: () => unwrap(api.GET('/v1/programs/{programId}/rewards', { params: { path: { programId }, query: { limit: 50, q: search || undefined } } })),
    placeholderData: keepPreviousData,
  });
  const listed = options.data?.data ?? [];
  const chosenListed = value === undefined || listed.some((r) => r.id === value);
  const chosen = useQuery({ ...rewardQuery(value ?? ''), enabled: !chosenListed });
  const nameOf = label ?? ((r: Reward) => localized(r.name, i18n.language));
  const shown = [...(chosen.data && !chosenListed ? [chosen.data] : []), ...listed.filter((r) => (allow ? allow(r) : true))];
  return (
    <Select
      {...rest}
      allowClear
      value={value}
      onChange={(v: string | undefined) => onChange?.(v)}
      loading={options.isFetching}
      showSearch={{ filterOption: false, onSearch: setTyped, searchValue: typed }}
      onOpenChange={(open) => {
        if (!open) setTyped('');
      }}
      options={shown.map((r) => ({ value: r.id, label: nameOf(r) }))}
    />
  );
}

/** The names of these rewards, by id (each fetched once and cached; an id not yet known maps to itself). */
export function useRewardNames(ids: readonly string[]): (id: string) => string {
  const { i18n } = useTranslation('rewards');
  const unique = [...new Set(ids)];
  const results = useQueries({ queries: unique.map(rewardQuery) });
  const names = new Map<string, string>();
  unique.forEach((id, i) => {
    const r = results[i]?.data;
    if (r) names.set(id, localized(r.name, i18n.language));
  });
  return (id) => names.get(id) ?? id;
}
