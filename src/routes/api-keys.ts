import { Type } from 'typebox';
import * as apiKeys from '../modules/api-keys/index.ts';
import { ApiKey, ApiKeyCreate, ApiKeyWithSecret, scopeOf } from '../modules/api-keys/index.ts';
import { existingPrograms } from '../modules/programs/index.ts';
import type { App } from '../shared/http.ts';
import { IdParam, problems } from '../shared/schemas.ts';
import type { AppDeps } from './deps.ts';

const tags = ['API keys'];

export async function apiKeyRoutes(app: App, { db, clock }: AppDeps, verifier: apiKeys.ApiKeyVerifier) {
  app.post(
    '/v1/api-keys',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Create an API key',
        operationId: 'createApiKey',
        description:
          'The secret is returned once, in this response. Only its hash is stored. A key is for the whole deployment or for ' +
          'some programs (program_ids); an admin key limited to programs creates keys only for some of its own programs.',
        body: ApiKeyCreate,
        response: { 201: ApiKeyWithSecret, ...problems(404) },
      },
    },
    async (request, reply) => reply.code(201).send(await apiKeys.createApiKeyFor(db, scopeOf(request), request.body, clock.now(), { existingPrograms })),
  );

  app.get(
    '/v1/api-keys',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'List API keys',
        operationId: 'listApiKeys',
        description: 'A key limited to programs lists only the keys limited to some of its own programs.',
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(ApiKey) }), ...problems() },
      },
    },
    async (request) => ({ object: 'list' as const, data: await apiKeys.listApiKeys(db, scopeOf(request)) }),
  );

  app.delete(
    '/v1/api-keys/:keyId',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Revoke an API key',
        operationId: 'revokeApiKey',
        description: 'A key limited to programs revokes only keys limited to some of its own programs (others are 404 API_KEY_NOT_FOUND).',
        params: IdParam('keyId', 'key'),
        response: { 200: ApiKey, ...problems(404) },
      },
    },
    async (request) => {
      const revoked = await apiKeys.revokeApiKey(db, request.params.keyId, clock.now(), scopeOf(request));
      verifier.forget();
      return revoked;
    },
  );
}
