-- ── segments module: rule-based member segments and their memberships ──────────────────────────

-- A segment of a program: a JSONLogic condition over the member's profile and computed stats
-- (src/modules/segments, docs/segments.md). Its memberships are what the last refresh found.
CREATE TABLE segment (
  id            text COLLATE "C" PRIMARY KEY,
  program_id    text COLLATE "C" NOT NULL REFERENCES program (id),
  -- {"zh-CN": "…", "en": "…"}
  name          jsonb NOT NULL,
  description   text,
  condition     jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  -- what a built-in segment is ('at_risk'); null for the program's own. Built-ins are neither edited nor archived.
  built_in_key  text CHECK (built_in_key IS NULL OR built_in_key IN ('at_risk')),
  member_count  integer NOT NULL DEFAULT 0 CHECK (member_count >= 0),
  refreshed_at  timestamptz,
  -- the last refresh's figures: {evaluated, added, removed, duration_ms}
  last_refresh  jsonb,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  archived_at   timestamptz,
  CHECK ((status = 'archived') = (archived_at IS NOT NULL))
);
CREATE INDEX segment_program_idx ON segment (program_id, created_at DESC, id DESC);
-- one of each built-in per program (created with the program, and for existing ones below)
CREATE UNIQUE INDEX segment_built_in_idx ON segment (program_id, built_in_key) WHERE built_in_key IS NOT NULL;

-- The members of a segment as of its last refresh, since when (a refresh writes only the changes).
CREATE TABLE segment_member (
  segment_id text COLLATE "C" NOT NULL REFERENCES segment (id),
  member_id  text COLLATE "C" NOT NULL REFERENCES member (id),
  since      timestamptz NOT NULL,
  PRIMARY KEY (segment_id, member_id)
);
-- a member's segments (GET /v1/members/{memberId}/segments, segmentIdsOfMembers for rule targeting)
CREATE INDEX segment_member_member_idx ON segment_member (member_id);

-- The built-in "at risk" (流失风险) segment for every existing program: no activity for 90 days and
-- points expiring within 45 days. New programs get theirs when they are created (createProgram's
-- onCreated, handed segments' createBuiltInSegments by routes/programs.ts). The id has jf_id's shape
-- (jf_id is defined after the migrations run, so it cannot be called here).
INSERT INTO segment (id, program_id, name, description, condition, built_in_key, created_at, updated_at)
SELECT 'seg_' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
              || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16),
       p.id,
       '{"zh-CN": "流失风险", "en": "At risk"}',
       'No activity for 90 days and points expiring within 45 days.',
       '{"and": [{">=": [{"var": "stats.days_since_last_activity"}, 90]}, {">": [{"var": "stats.points_expiring_45d"}, 0]}]}',
       'at_risk', now(), now()
  FROM program p;
