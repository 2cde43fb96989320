-- rewards module (docs/rewards.md, "Code pools: import and generation"): the imports that fill a
-- coupon reward's pool of codes (reward_code), from a CSV file or generated, with their progress.
--
-- A CSV import is streamed: its codes are inserted and committed a chunk at a time, and the row's
-- counts are updated with each chunk, so GET …/codes/imports/{importId} shows them growing while
-- the upload runs (a console progress bar polls it). A generation is one transaction: its row is
-- written done. reward_code.batch names the import that brought a code.
--   status         running → done, or failed (the upload broke off: error says why)
--   lines_read     lines of the file read so far (the header line included)
--   imported       codes added to the pool
--   duplicates_in_file / duplicates_in_pool  codes skipped: seen earlier in the file, or already
--                  in the pool (another import, generated); duplicate_codes lists the first 100
--   invalid_count, invalid_lines  lines refused, the first 100 with their line number and reason
--                  (empty, too_long, bad_characters)
--   idem_scope, idem_key, request_hash  the Idempotency-Key of the request and the hash of what it
--                  sent (known when the import ends): a retry answers this import
CREATE TABLE reward_code_import (
  id                  text COLLATE "C" PRIMARY KEY,
  reward_id           text COLLATE "C" NOT NULL REFERENCES reward (id),
  program_id          text COLLATE "C" NOT NULL REFERENCES program (id),
  kind                text NOT NULL CHECK (kind IN ('csv', 'generated')),
  status              text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  lines_read          bigint NOT NULL DEFAULT 0 CHECK (lines_read >= 0),
  imported            bigint NOT NULL DEFAULT 0 CHECK (imported >= 0),
  duplicates_in_file  bigint NOT NULL DEFAULT 0 CHECK (duplicates_in_file >= 0),
  duplicates_in_pool  bigint NOT NULL DEFAULT 0 CHECK (duplicates_in_pool >= 0),
  duplicate_codes     text[] NOT NULL DEFAULT '{}',
  invalid_count       bigint NOT NULL DEFAULT 0 CHECK (invalid_count >= 0),
  -- [{"line": 7, "reason": "too_long"}, …]
  invalid_lines       jsonb NOT NULL DEFAULT '[]',
  -- a generation's parameters: {"count", "prefix", "length"}
  parameters          jsonb,
  error               text,
  actor               text NOT NULL,
  idem_scope          text,
  idem_key            text,
  request_hash        text,
  started_at          timestamptz NOT NULL,
  finished_at         timestamptz,
  CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX reward_code_import_reward_idx ON reward_code_import (reward_id, started_at DESC, id DESC);
CREATE UNIQUE INDEX reward_code_import_idem_idx ON reward_code_import (reward_id, idem_scope, idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX reward_code_batch_idx ON reward_code (reward_id, batch) WHERE batch IS NOT NULL;
