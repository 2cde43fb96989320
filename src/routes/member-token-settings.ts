import { requireProgram, scopeOf } from '../modules/api-keys/index.ts';
import * as programs from '../modules/programs/index.ts';
import { MemberTokenSecret, MemberTokenSettings, MemberTokenSettingsUpdate, SecretRotation } from '../modules/programs/index.ts';
import { type App, emptyBodyIsObject, IdempotencyHeaders, idempotencyOf, sendResult } from '../shared/http.ts';
import { IdParam, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['Programs'];
const Params = IdParam('programId', 'prg');

/** A program's member-token settings: audience, issuer, JWKS URL and the HS256 secret. */
export async function memberTokenSettingsRoutes(app: App, { db, clock }: AppDeps) {
  app.get(
    '/v1/programs/:programId/member-token-settings',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Get the member-token settings',
        operationId: 'getMemberTokenSettings',
        description:
          'How members of this program authenticate on /v1/me: the audience and issuer their tokens must carry, your JWKS URL, and the HS256 secret (its id, never its value).',
        params: Params,
        response: { 200: MemberTokenSettings, ...problems(404) },
      },
    },
    async (request) => {
      requireProgram(scopeOf(request), request.params.programId);
      return programs.getMemberTokenSettings(db, request.params.programId);
    },
  );

  app.patch(
    '/v1/programs/:programId/member-token-settings',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Update the member-token settings',
        operationId: 'updateMemberTokenSettings',
        description:
          'Set the JWKS URL (with the issuer) to accept tokens your identity provider signs with RS256, ES256 or EdDSA, or a custom audience. Other instances apply changes within 10 seconds.',
        params: Params,
        headers: IdempotencyHeaders,
        body: MemberTokenSettingsUpdate,
        response: { 200: MemberTokenSettings, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      const { programId } = request.params;
      requireProgram(scopeOf(request), programId);
      const result = await programs.updateMemberTokenSettings(db, programId, request.body, clock.now(), idempotencyOf(request, 'updateMemberTokenSettings'));
      return sendResult(reply, result);
    },
  );

  app.post(
    '/v1/programs/:programId/member-token-secrets',
    {
      config: { scope: 'admin' },
      preValidation: emptyBodyIsObject,
      schema: {
        tags,
        summary: 'Rotate the member-token secret',
        operationId: 'rotateMemberTokenSecret',
        description:
          'Makes a new HS256 secret and returns it once. Tokens signed with the secret it replaces stay valid until the next rotation ' +
          '(or not at all with revoke_previous). Send an Idempotency-Key: a retried rotation must not rotate twice.',
        params: Params,
        headers: IdempotencyHeaders,
        body: SecretRotation,
        response: { 201: MemberTokenSecret, ...problems(404, 409) },
      },
    },
    async (request, reply) => {
      const { programId } = request.params;
      requireProgram(scopeOf(request), programId);
      const result = await programs.rotateMemberTokenSecret(db, programId, request.body, clock.now(), idempotencyOf(request, 'rotateMemberTokenSecret'));
      reply.header('cache-control', 'no-store');
      return sendResult(reply, result);
    },
  );
}
