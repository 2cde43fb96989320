-- ── console-users module ────────────────────────────────────────────────────────────────────────

-- The people who sign in to the web console. Emails are stored lowercased, so they are unique
-- whatever the case they were typed in. password_hash is an argon2id PHC string.
CREATE TABLE console_user (
  id                   text COLLATE "C" PRIMARY KEY,
  email                text COLLATE "C" NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  name                 text NOT NULL,
  password_hash        text NOT NULL,
  created_at           timestamptz NOT NULL,
  password_changed_at  timestamptz NOT NULL,
  disabled_at          timestamptz
);

-- What a user may do: one role per program, or (program_id NULL) one role for every program.
CREATE TABLE console_role (
  user_id     text COLLATE "C" NOT NULL REFERENCES console_user (id),
  program_id  text COLLATE "C" REFERENCES program (id),
  role        text NOT NULL CHECK (role IN ('owner', 'operator', 'finance', 'support', 'viewer')),
  CONSTRAINT console_role_user_program_key UNIQUE NULLS NOT DISTINCT (user_id, program_id)
);
CREATE INDEX console_role_program_idx ON console_role (program_id);

-- Signed-in sessions. id is the sha256 (hex) of the cookie's random 256-bit token, so the table
-- holds nothing a browser could present. A session ends at expires_at (7 days after sign-in) or
-- 12 hours after last_seen_at, whichever comes first; sign-out and a password change delete rows.
CREATE TABLE console_session (
  id            text COLLATE "C" PRIMARY KEY,
  user_id       text COLLATE "C" NOT NULL REFERENCES console_user (id),
  csrf_token    text COLLATE "C" NOT NULL,
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX console_session_user_idx ON console_session (user_id);
