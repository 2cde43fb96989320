-- Member tokens: how a programme's members authenticate on /v1/me (JWTs signed by the merchant's
-- backend, or minted by Jifen). One row per programme that has configured or used them.
--
-- The HS256 secret is symmetric, so it is kept as it is (it must verify); the previous one stays
-- valid until the next rotation, so a merchant can roll its backends over without downtime.

CREATE TABLE member_token_config (
  program_id                 text PRIMARY KEY REFERENCES program (id),
  -- the `aud` tokens must carry; NULL = the default, 'jifen:' || program_id
  audience                   text UNIQUE CHECK (audience IS NULL OR (length(audience) BETWEEN 1 AND 200 AND audience NOT LIKE 'jifen:%')),
  -- the `iss` of tokens the merchant signs (required with a JWKS URL); 'jifen' is reserved for minted tokens
  issuer                     text CHECK (issuer IS NULL OR (length(issuer) BETWEEN 1 AND 200 AND issuer <> 'jifen')),
  jwks_url                   text CHECK (jwks_url IS NULL OR length(jwks_url) BETWEEN 1 AND 2000),
  secret_id                  text,
  secret                     text,
  secret_created_at          timestamptz,
  previous_secret_id         text,
  previous_secret            text,
  previous_secret_created_at timestamptz,
  previous_secret_retired_at timestamptz,
  created_at                 timestamptz NOT NULL,
  updated_at                 timestamptz NOT NULL,
  CHECK ((secret_id IS NULL) = (secret IS NULL) AND (secret IS NULL) = (secret_created_at IS NULL)),
  CHECK ((previous_secret_id IS NULL) = (previous_secret IS NULL)),
  CHECK (jwks_url IS NULL OR issuer IS NOT NULL)
);
