import { type Static, Type } from 'typebox';
import { Nullable, NullableTimestamp, Timestamp } from '../../shared/schemas.ts';

/** Bounds of a member token's lifetime (exp − iat), for tokens Jifen mints and tokens it accepts. */
export const MEMBER_TOKEN_MIN_SECONDS = 60;
export const MEMBER_TOKEN_MAX_SECONDS = 86_400;
export const MEMBER_TOKEN_DEFAULT_SECONDS = 900;
/** Clock skew allowed on exp, nbf and iat. */
export const MEMBER_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;
/** The `iss` of tokens Jifen mints. */
export const JIFEN_ISSUER = 'jifen';
/** Signature algorithms accepted from a JWKS (HS256 is for the program secret). */
export const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

const Audience = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[\\x21-\\x7e]+$',
  description: 'The `aud` member tokens must carry. Default (null): `jifen:<program_id>`. Unique across programs; `jifen:…` is reserved.',
  examples: ['https://loyalty.example.com'],
});
const Issuer = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[\\x21-\\x7e]+$',
  description: 'The `iss` of the tokens your backend or identity provider signs. Required with jwks_url. `jifen` is reserved for tokens Jifen mints.',
  examples: ['https://auth.example.com/'],
});
const JwksUrl = Type.String({
  minLength: 1,
  maxLength: 2000,
  format: 'uri',
  pattern: '^https://|^http://(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]+)?/',
  description: 'Your JSON Web Key Set (RS256, ES256 or EdDSA keys). https, or http on the loopback interface only.',
  examples: ['https://auth.example.com/.well-known/jwks.json'],
});

export const MemberTokenSettingsUpdate = Type.Object(
  {
    audience: Type.Optional(Nullable(Audience)),
    issuer: Type.Optional(Nullable(Issuer)),
    jwks_url: Type.Optional(Nullable(JwksUrl)),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Send only what changes; null goes back to the default (no issuer, no JWKS, the default audience).',
  },
);
export type MemberTokenSettingsUpdate = Static<typeof MemberTokenSettingsUpdate>;

const SecretInfo = Type.Object({
  id: Type.String({ description: 'The `kid` of tokens signed with it (mts_…).' }),
  created_at: Timestamp,
});

export const MemberTokenSettings = Type.Object({
  object: Type.Literal('member_token_settings'),
  program_id: Type.String(),
  audience: Type.String({ description: 'The `aud` member tokens must carry.' }),
  issuer: Type.Union([Type.String(), Type.Null()], { description: 'The `iss` of tokens you sign (besides `jifen` with the HS256 secret).' }),
  jwks_url: Type.Union([Type.String(), Type.Null()]),
  secret: Type.Union([SecretInfo, Type.Null()], { description: 'The current HS256 secret (its value is shown only when it is made).' }),
  previous_secret: Type.Union([Type.Object({ id: Type.String(), created_at: Timestamp, retired_at: NullableTimestamp }), Type.Null()], {
    description: 'The secret before the last rotation: still valid until the next one (unless revoked).',
  }),
  updated_at: Type.Union([Timestamp, Type.Null()]),
});
export type MemberTokenSettings = Static<typeof MemberTokenSettings>;

export const SecretRotation = Type.Object(
  {
    revoke_previous: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Drop the secret being replaced at once (if it leaked). By default it stays valid until the next rotation.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SecretRotation = Static<typeof SecretRotation>;

export const MemberTokenSecret = Type.Object({
  object: Type.Literal('member_token_secret'),
  program_id: Type.String(),
  id: Type.String({ description: 'Put it in the JWT header as `kid` (optional).' }),
  secret: Type.String({ description: 'The HS256 key (the UTF-8 bytes of this string). Shown once: store it in your backend.' }),
  created_at: Timestamp,
  previous_secret_id: Type.Union([Type.String(), Type.Null()], { description: 'Still valid until the next rotation; null if revoked or there was none.' }),
});

export const MemberTokenCreate = Type.Object(
  {
    member_id: Type.Optional(Type.String({ pattern: '^mbr_[A-Za-z0-9_]{1,64}$' })),
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    expires_in_seconds: Type.Optional(
      Type.Integer({
        minimum: MEMBER_TOKEN_MIN_SECONDS,
        maximum: MEMBER_TOKEN_MAX_SECONDS,
        default: MEMBER_TOKEN_DEFAULT_SECONDS,
        description: 'Lifetime of the token, 60 to 86,400 seconds. Default 900.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Name the member by member_id or by external_id (exactly one).' },
);
export type MemberTokenCreate = Static<typeof MemberTokenCreate>;

export const MemberToken = Type.Object({
  object: Type.Literal('member_token'),
  token: Type.String({ description: 'A JWT (HS256) for `Authorization: Bearer` on /v1/me.' }),
  token_type: Type.Literal('Bearer'),
  program_id: Type.String(),
  member_id: Type.String(),
  expires_in: Type.Integer({ description: 'Seconds.' }),
  expires_at: Timestamp,
});
