import { type ApiKeyVerifier, allows, deploymentOnly } from '../modules/api-keys/index.ts';
import { DomainError } from '../shared/errors.ts';
import { type App, bearerOf } from '../shared/http.ts';

/**
 * Every route that declares a scope needs `Authorization: Bearer <key>` with that scope. Routes
 * without one (health, metrics, docs) are public. Routes marked deploymentWide (program creation,
 * the sweep) also need a key that is not limited to programs.
 */
export function registerAuth(app: App, verifier: ApiKeyVerifier) {
  app.addHook('onRequest', async (request) => {
    const needed = request.routeOptions.config?.scope;
    if (!needed) return;
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
