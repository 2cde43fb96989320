// The member's session: the member token a merchant's app hands over in the URL
// (/m/#token=… preferred, servers do not log fragments; /m/?token=… too). It is kept in
// sessionStorage (gone with the tab, never in localStorage), removed from the address bar, and sent
// as Bearer on every /v1/me call. A 401 ends the session and shows the sign-in screen.
import { createJifenClient, type JifenClient } from '@jifen/client';
import { useSyncExternalStore } from 'react';
import { createMemberClient } from '../shared/api.ts';

const STORAGE_KEY = 'jifen.memberToken';

/** Why there is no session: never signed in, the token was refused (expired), or the member signed out. */
export type SignedOutReason = 'none' | 'expired' | 'signed_out';

interface SessionState {
  token: string | null;
  reason: SignedOutReason;
}

function readStored(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function writeStored(token: string | null): void {
  try {
    if (token) window.sessionStorage.setItem(STORAGE_KEY, token);
    else window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage refused (private mode): the session lives in memory only
  }
}

/**
 * Takes a token from the URL (fragment first, then query), keeps it and removes it from the URL
 * with history.replaceState, so it is neither bookmarked, shared nor sent in a Referer.
 */
export function captureTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const hash = new URLSearchParams(url.hash.replace(/^#/, ''));
  const token = hash.get('token') || url.searchParams.get('token');
  if (!hash.has('token') && !url.searchParams.has('token')) return;
  hash.delete('token');
  url.searchParams.delete('token');
  const rest = hash.toString();
  url.hash = rest ? `#${rest}` : '';
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  if (token) writeStored(token);
}

let state: SessionState = { token: readStored(), reason: 'none' };
const listeners = new Set<() => void>();
let client: { token: string; api: JifenClient } | undefined;

function set(next: SessionState): void {
  state = next;
  for (const listener of listeners) listener();
}

export const session = {
  /** After a demo sign-in (or any token received in the app). */
  signIn(token: string): void {
    writeStored(token);
    set({ token, reason: 'none' });
  },
  signOut(reason: SignedOutReason = 'signed_out'): void {
    writeStored(null);
    if (state.token !== null || state.reason !== reason) set({ token: null, reason });
  },
  /** Re-reads the stored token (after captureTokenFromUrl). */
  reload(): void {
    set({ token: readStored(), reason: 'none' });
  },
  get token(): string | null {
    return state.token;
  },
};

/** Called (synchronously, before React renders) whenever the session changes. */
export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useSession(): SessionState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}

/** The typed client with the member token (throws when signed out: pages render only with a session). */
export function memberApi(): JifenClient {
  const token = state.token;
  if (!token) throw new Error('not signed in');
  if (client?.token !== token) client = { token, api: createMemberClient(token) };
  return client.api;
}

/** The client for public calls (the demo sign-in): no credentials. */
export const publicApi: JifenClient = createJifenClient({ baseUrl: window.location.origin });
