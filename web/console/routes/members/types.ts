// The members area's types, from the typed client (generated from the API's schemas).
import type { operations } from '@jifen/client';

type Json<O extends keyof operations, S extends number> =
  operations[O]['responses'] extends Record<S, { content: { 'application/json': infer T } }> ? T : never;

export type Member = Json<'getMember', 200>;
export type MemberStatus = Member['status'];
export type Balance = Json<'getBalance', 200>;
export type Entry = Json<'listEntries', 200>['data'][number];
export type EntryKind = Entry['kind'];
export type Lot = Json<'listLots', 200>['data'][number];
export type Hold = Json<'listHolds', 200>['data'][number];
export type ExpiryForecast = Json<'getExpiryForecast', 200>;
export type MemberEvent = Json<'listMemberEvents', 200>['data'][number];

export const MEMBER_STATUSES: MemberStatus[] = ['active', 'frozen', 'closed'];
/** Badge statuses (a coloured dot beside text of the normal colour: readable, unlike antd's pale tags). */
export type BadgeStatus = 'success' | 'processing' | 'default' | 'error' | 'warning';
export const STATUS_BADGES: Record<MemberStatus, BadgeStatus> = { active: 'success', frozen: 'processing', closed: 'default' };
export const ENTRY_KINDS: EntryKind[] = [
  'earn',
  'spend',
  'hold',
  'capture',
  'release',
  'expire',
  'reverse',
  'adjust',
  'transfer_out',
  'transfer_in',
  'forfeit',
  'write_off',
];
/** The reason codes the console offers for a manual adjustment (the API takes any ^[a-z][a-z0-9_]{1,63}$). */
export const REASON_CODES = ['goodwill', 'service_recovery', 'correction', 'migration', 'other'] as const;

/** Query keys of one member: everything under ['member', id] is refreshed after a change. */
export const memberKey = (memberId: string, ...rest: unknown[]) => ['member', memberId, ...rest];
