// The signed-in console user: GET /v1/console/session (the session cookie), with the CSRF token the
// client sends on writes and what the user may do in each program. The API enforces the roles;
// the console uses them only to hide what would be refused.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useMemo } from 'react';
import { ApiError, createConsoleClient, setCsrfToken } from '../../shared/api.ts';

export const api = createConsoleClient();

export type Role = 'owner' | 'operator' | 'finance' | 'support' | 'viewer';
export type Permission =
  | 'read'
  | 'members.write'
  | 'members.status'
  | 'points.adjust'
  | 'ledger.write'
  | 'rules.write'
  | 'events.write'
  | 'settings.write'
  | 'api_keys.manage'
  | 'users.manage';

export interface Access {
  /** null: every program */
  program_id: string | null;
  role: Role;
  permissions: Permission[];
}

export interface ConsoleSession {
  user: { id: string; email: string; name: string | null };
  csrf_token: string;
  access: Access[];
}

export const SESSION_KEY = ['console-session'] as const;

async function fetchSession(): Promise<ConsoleSession | null> {
  const response = await fetch('/v1/console/session', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (response.status === 401) return null;
  const body = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiError({ status: response.status, code: body?.code ?? `HTTP_${response.status}`, ...body });
  return body as ConsoleSession;
}

interface SessionValue {
  session: ConsoleSession | null;
  loading: boolean;
  error: unknown;
  /** Whether the user's role in this program allows the permission. */
  can: (programId: string | undefined, permission: Permission) => boolean;
  /** The user's role in a program (a role for every program counts), or undefined. */
  roleIn: (programId: string | undefined) => Role | undefined;
  refresh: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const query = useQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 60_000 });
  const session = query.data ?? null;
  setCsrfToken(session?.csrf_token);
  const value = useMemo<SessionValue>(() => {
    const accessIn = (programId: string | undefined) =>
      session?.access.filter((a) => a.program_id === null || (programId !== undefined && a.program_id === programId)) ?? [];
    const rank: Role[] = ['owner', 'operator', 'finance', 'support', 'viewer'];
    return {
      session,
      loading: query.isPending,
      error: query.error,
      can: (programId, permission) => accessIn(programId).some((a) => a.permissions.includes(permission)),
      roleIn: (programId) =>
        accessIn(programId)
          .map((a) => a.role)
          .sort((a, b) => rank.indexOf(a) - rank.indexOf(b))[0],
      refresh: async () => {
        await queryClient.invalidateQueries({ queryKey: SESSION_KEY });
      },
    };
  }, [session, query.isPending, query.error, queryClient]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
