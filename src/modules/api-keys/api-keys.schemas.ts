import { Type } from 'typebox';
import { NullableTimestamp, StringEnum, Timestamp } from '../../shared/schemas.ts';

export const SCOPES = ['admin', 'integration', 'read'] as const;

export const ApiKey = Type.Object({
  id: Type.String(),
  object: Type.Literal('api_key'),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  scopes: Type.Array(StringEnum(SCOPES)),
  program_ids: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: 'The programs the key may see and change; null: the whole deployment.',
  }),
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
    scopes: Type.Array(
      StringEnum(SCOPES, {
        description: 'admin: everything; integration: members and points (no program settings, adjustments, keys); read: GET only.',
      }),
      { minItems: 1, uniqueItems: true, examples: [['integration']] },
    ),
    program_ids: Type.Optional(
      Type.Union([Type.Array(Type.String({ pattern: '^prg_[A-Za-z0-9_]{1,64}$' }), { minItems: 1, maxItems: 100, uniqueItems: true }), Type.Null()], {
        description:
          'The programs (1 to 100) the key may see and change: anything of another program is answered as if it did not exist (404). ' +
          'Absent or null: the whole deployment, which only a deployment-wide admin key may give. An admin key limited to programs ' +
          'gives only some of its own programs.',
        examples: [['prg_01a209bcc1ecb53840f36ba2dc73']],
      }),
    ),
  },
  { additionalProperties: false },
);
