/**
 * API keys: the keys integrations authenticate with, their scopes (admin, integration, read) and
 * the programs a key is limited to; access.ts says which programs a request may see and change.
 *
 * Owns: api_key. Reads no other table: a scope check asks the module that owns the resource for
 * its program (ProgramOf), and creating a key limited to programs is told which exist by its caller
 * (ApiKeySources: programs' existingPrograms), so every module can use this one and it uses none.
 *
 * This file is the module's only way in: other modules, flows, routes and the CLI import it, never
 * the files beside it (checked by test/architecture.test.ts).
 */

export * from './access.ts';
export * from './api-keys.schemas.ts';
export * from './api-keys.service.ts';
