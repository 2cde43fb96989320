-- ── change-log module ───────────────────────────────────────────────────────────────────────────

-- The audit log of every change made through the API or the console (who, when, what, before and
-- after), one row per successful write request, written by src/plugins/change-log.ts. Append-only:
-- the triggers in src/db/functions/25_change_log.sql refuse UPDATE, DELETE and TRUNCATE.
-- program_id is NULL for changes to the deployment (an API key for every program, the sweep).
-- No foreign key to program: a row records what was done and is never the reason a write fails.
CREATE TABLE change_log (
  id             text COLLATE "C" PRIMARY KEY,
  at             timestamptz NOT NULL,
  program_id     text COLLATE "C",
  actor_type     text NOT NULL CHECK (actor_type IN ('api_key', 'console_user', 'member', 'system')),
  actor_id       text COLLATE "C",
  actor_name     text,
  operation      text COLLATE "C" NOT NULL,
  resource_type  text COLLATE "C" NOT NULL,
  resource_id    text COLLATE "C",
  method         text NOT NULL,
  path           text NOT NULL,
  request_id     text,
  status         integer NOT NULL,
  before         jsonb,
  after          jsonb,
  summary        jsonb
);
CREATE INDEX change_log_program_at_idx ON change_log (program_id, at DESC, id DESC);
CREATE INDEX change_log_program_resource_idx ON change_log (program_id, resource_id, at DESC);
CREATE INDEX change_log_program_actor_idx ON change_log (program_id, actor_id, at DESC);
CREATE INDEX change_log_program_operation_idx ON change_log (program_id, operation, at DESC);
