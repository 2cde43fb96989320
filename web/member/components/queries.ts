// The member's data from /v1/me, through TanStack Query. Keys start with 'me' so signing out or
// in clears them together (queryClient.removeQueries({ queryKey: ['me'] })).

import type { operations } from '@jifen/client';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { unwrap } from '../../shared/api.ts';
import type { Locale } from '../../shared/format.ts';
import { memberApi } from '../session.ts';

/** The JSON body of an operation's success response. */
export type Ok<Op extends keyof operations, Status extends number = 200> =
  operations[Op]['responses'] extends Record<Status, { content: { 'application/json': infer T } }> ? T : never;

export type MeProfile = Ok<'getMe'>;
export type MeBalance = Ok<'getMyBalance'>;
export type MyEntry = Ok<'listMyEntries'>['data'][number];
export type MyLot = Ok<'listMyLots'>['data'][number];
export type ExpiryForecast = Ok<'getMyExpiryForecast'>;

export function useProfile() {
  return useQuery({ queryKey: ['me', 'profile'], queryFn: () => unwrap(memberApi().GET('/v1/me')) });
}

export function useBalance() {
  return useQuery({ queryKey: ['me', 'balance'], queryFn: () => unwrap(memberApi().GET('/v1/me/balance')) });
}

export function useForecast() {
  return useQuery({ queryKey: ['me', 'expiry-forecast'], queryFn: () => unwrap(memberApi().GET('/v1/me/expiry-forecast')) });
}

/** The viewer's locale ('zh-CN' | 'en'), following the language switch. */
export function useLocale(): Locale {
  const { i18n } = useTranslation();
  return i18n.language === 'en' ? 'en' : 'zh-CN';
}
