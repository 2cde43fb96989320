import { Type } from 'typebox';
import { type App, type AppDeps } from '../../shared/http.ts';
import { IdParam, problems } from '../../shared/schemas.ts';
import { ApiKey, ApiKeyCreate, ApiKeyWithSecret } from './api-keys.schemas.ts';
import * as service from './api-keys.service.ts';

const tags = ['API keys'];

export async function apiKeyRoutes(app: App, { db, clock }: AppDeps, verifier: service.ApiKeyVerifier) {
  app.post('/v1/api-keys', {
    config: { scope: 'admin' },
    schema: {
      tags, summary: 'Create an API key', operationId: 'createApiKey',
      description: 'The secret is returned once, in this response. Only its hash is stored.',
      body: ApiKeyCreate, response: { 201: ApiKeyWithSecret, ...problems() },
    },
  }, async (request, reply) => reply.code(201).send(await service.createApiKey(db, request.body.name, request.body.scopes, clock.now())));

  app.get('/v1/api-keys', {
    config: { scope: 'admin' },
    schema: {
      tags, summary: 'List API keys', operationId: 'listApiKeys',
      response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(ApiKey) }), ...problems() },
    },
  }, async () => ({ object: 'list' as const, data: await service.listApiKeys(db) }));

  app.delete('/v1/api-keys/:keyId', {
    config: { scope: 'admin' },
    schema: {
      tags, summary: 'Revoke an API key', operationId: 'revokeApiKey',
      params: IdParam('keyId', 'key'), response: { 200: ApiKey, ...problems(404) },
    },
  }, async (request) => {
    const revoked = await service.revokeApiKey(db, request.params.keyId, clock.now());
    verifier.forget();
    return revoked;
  });
}
