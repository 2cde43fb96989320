import type { RoleRow } from './console-users.repository.ts';
import { type Permission, ROLE_PERMISSIONS, roleAllows } from './permissions.ts';

/**
 * The programs where these roles allow a permission: null when a role for every program allows it,
 * otherwise the program ids (empty: nowhere).
 */
export function programsAllowing(roles: readonly RoleRow[], permission: Permission): string[] | null {
  const allowing = roles.filter((r) => roleAllows(r.role, permission));
  if (allowing.some((r) => r.program_id === null)) return null;
  return [...new Set(allowing.map((r) => r.program_id!))].sort();
}

/** Whether the roles give the user any role in this program (a role for every program counts). */
export function hasRoleIn(roles: readonly RoleRow[], programId: string): boolean {
  return roles.some((r) => r.program_id === null || r.program_id === programId);
}

/** The roles with what each allows, as GET /v1/console/session says them. */
export function accessOf(roles: readonly RoleRow[]) {
  return roles.map((r) => ({ program_id: r.program_id, role: r.role, permissions: [...ROLE_PERMISSIONS[r.role]] }));
}
