import { Type } from 'typebox';
import { NullableTimestamp, StringEnum, Timestamp } from '../../shared/schemas.ts';

export const SCOPES = ['admin', 'integration', 'read'] as const;

export const ApiKey = Type.Object({
  id: Type.String(),
  object: Type.Literal('api_key'),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  scopes: Type.Array(StringEnum(SCOPES)),
  created_at: Timestamp,
  revoked_at: NullableTimestamp,
});

export const ApiKeyWithSecret = Type.Object({
  ...ApiKey.properties,
  secret: Type.String({ description: 'The key itself. Shown only in this response: store it now.' }),
});

export const ApiKeyCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, examples: ['checkout-service'] }),
    scopes: Type.Array(StringEnum(SCOPES, {
      description: 'admin: everything; integration: members and points (no programme settings, adjustments, keys); read: GET only.',
    }), { minItems: 1, uniqueItems: true, examples: [['integration']] }),
  },
  { additionalProperties: false },
);
