/**
 * Console users: the people who sign in to the web console, their roles per program (or for
 * every program), their sessions (cookie + CSRF token) and what each role may do
 * (permissions.ts: the permission of every API operation, which plugins/auth.ts applies to
 * requests made with the session cookie).
 *
 * Owns: console_user, console_role, console_session. Reads no other table: which programs exist
 * is asked of the programs module (existingPrograms, through its index.ts).
 *
 * This file is the module's only way in.
 */

export * from './console-users.access.ts';
export type { ConsoleUserRow, RoleRow } from './console-users.repository.ts';
export * from './console-users.schemas.ts';
export * from './console-users.service.ts';
export * from './permissions.ts';
