/**
 * Console users: the people who sign in to the web console, their roles per program (or for
 * every program), their sessions (cookie + CSRF token) and what each role may do
 * (permissions.ts: the permission of every API operation).
 *
 * Owns: console_user, console_role, console_session. Reads no other table.
 *
 * This file is the module's only way in.
 */

export * from './permissions.ts';
