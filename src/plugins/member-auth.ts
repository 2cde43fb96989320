import type { Db } from '../db/db.ts';
import { InvalidMemberToken, type MemberPrincipal, MemberTokenVerifier } from '../modules/me/index.ts';
import type { Clock } from '../shared/clock.ts';
import { DomainError } from '../shared/errors.ts';
import { type App, bearerOf } from '../shared/http.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route is for members: `Authorization: Bearer <member token>` (a JWT), never an API key. */
    member?: boolean;
  }
  interface FastifyRequest {
    member?: MemberPrincipal;
  }
}

/** RFC 6750 error_description: printable ASCII without `"` and `\`. */
function quoted(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, ' ');
}

/**
 * Routes marked `config: { member: true }` need a member token; the API-key hook (auth.ts) leaves
 * them alone (they declare no scope). A missing, forged, expired, wrong-audience, wrong-issuer,
 * other-program, unknown-member or closed-member token is 401 UNAUTHENTICATED with
 * `WWW-Authenticate: Bearer … error="invalid_token"` (RFC 6750).
 */
export function registerMemberAuth(app: App, db: Db, clock: Clock): MemberTokenVerifier {
  const verifier = new MemberTokenVerifier(db, clock);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.config?.member) return;
    const token = bearerOf(request);
    if (!token) {
      reply.header('www-authenticate', 'Bearer realm="jifen"');
      throw new DomainError('UNAUTHENTICATED', 'Send Authorization: Bearer <member token>');
    }
    try {
      request.member = await verifier.verify(token);
    } catch (err) {
      // (a JWKS that cannot be fetched is a 503 whose Retry-After the error handler sets)
      if (err instanceof InvalidMemberToken) {
        reply.header('www-authenticate', `Bearer realm="jifen", error="invalid_token", error_description="${quoted(err.message)}"`);
      }
      throw err;
    }
  });
  return verifier;
}
