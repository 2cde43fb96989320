import { type ApiKeyVerifier, allows, deploymentOnly } from '../modules/api-keys/index.ts';
import { DomainError } from '../shared/errors.ts';
import { type App, bearerOf } from '../shared/http.ts';
import { authenticateConsoleUser, type ConsoleAuthDeps, sessionTokenOf } from './console-auth.ts';

/**
 * Every route that declares a scope needs `Authorization: Bearer <key>` with that scope. Routes
 * without one (health, metrics, docs) are public. Routes marked deploymentWide (program creation,
 * the sweep) also need a key that is not limited to programs.
 *
 * A request without an Authorization header that carries the console's session cookie is a
 * console user's: their roles decide instead of scopes (console-auth.ts). Routes marked
 * consoleOnly take the session cookie only. An Authorization header always wins over the cookie.
 */
export function registerAuth(app: App, verifier: ApiKeyVerifier, consoleAuth: ConsoleAuthDeps) {
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    const needed = config?.scope;
    if (config?.consoleOnly) {
      if (request.headers.authorization !== undefined) {
        throw new DomainError('UNAUTHENTICATED', 'This operation takes the console session cookie (sign in to the console), not an API key');
      }
      return authenticateConsoleUser(request, sessionTokenOf(request), consoleAuth);
    }
    if (!needed) return;
    if (request.headers.authorization === undefined) {
      const token = sessionTokenOf(request);
      if (token) return authenticateConsoleUser(request, token, consoleAuth);
    }
    const secret = bearerOf(request);
    if (!secret) throw new DomainError('UNAUTHENTICATED', 'Send Authorization: Bearer <API key>');
    const principal = await verifier.verify(secret);
    if (!principal) throw new DomainError('UNAUTHENTICATED', 'The API key is unknown or revoked');
    if (!allows(principal.scopes, needed)) {
      throw new DomainError('FORBIDDEN', `This operation needs the ${needed} scope; the key has ${principal.scopes.join(', ')}`, { required_scope: needed });
    }
    if (request.routeOptions.config?.deploymentWide && principal.programIds !== null) throw deploymentOnly('This operation');
    request.apiKey = principal;
  });
}
