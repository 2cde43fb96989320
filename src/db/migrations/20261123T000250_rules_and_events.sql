-- Earning: rules with versions, custom event types, stored events and the awards they produced.

-- Tiers are computed by a later module; rules can already multiply by them.
ALTER TABLE member ADD COLUMN tier text;
-- Which event produced an entry (events.id), for explanations and refunds.
ALTER TABLE ledger_entry ADD COLUMN event_id text;
-- Bumped whenever rule awards are recorded for the member: the optimistic check that keeps
-- per-member caps exact when the same member's events are evaluated concurrently.
ALTER TABLE member_account ADD COLUMN award_version bigint NOT NULL DEFAULT 0;
-- Bumped by every rule change, so instances know when their compiled rules are stale.
ALTER TABLE program ADD COLUMN rules_revision bigint NOT NULL DEFAULT 0;

CREATE TABLE event_type (
  program_id  text NOT NULL REFERENCES program (id),
  type        text NOT NULL,
  description text,
  schema      jsonb NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (program_id, type)
);

CREATE TABLE rule (
  id          text PRIMARY KEY,
  program_id  text NOT NULL REFERENCES program (id),
  created_at  timestamptz NOT NULL,
  -- the rule stops applying from this instant (may be announced in advance)
  archived_at timestamptz
);
CREATE INDEX rule_program_idx ON rule (program_id, created_at);

-- Editing a rule adds a version; the version with the latest effective_from <= an event's
-- occurred_at is the one that evaluates it.
CREATE TABLE rule_version (
  rule_id        text NOT NULL REFERENCES rule (id),
  version        integer NOT NULL CHECK (version > 0),
  effective_from timestamptz NOT NULL,
  definition     jsonb NOT NULL,
  created_at     timestamptz NOT NULL,
  created_by     text,
  PRIMARY KEY (rule_id, version)
);

CREATE TABLE event (
  id           text PRIMARY KEY,
  program_id   text NOT NULL REFERENCES program (id),
  -- the sender's id: an event is processed once per programme
  external_id  text NOT NULL,
  type         text NOT NULL,
  member_id    text NOT NULL,
  occurred_at  timestamptz NOT NULL,
  processed_at timestamptz NOT NULL,
  data         jsonb NOT NULL,
  metadata     jsonb NOT NULL DEFAULT '{}',
  points       bigint NOT NULL,
  result       jsonb NOT NULL,
  UNIQUE (program_id, external_id)
);
CREATE INDEX event_member_idx ON event (member_id, occurred_at DESC);
CREATE INDEX event_program_time_idx ON event (program_id, occurred_at);
CREATE INDEX event_order_idx ON event (program_id, (data->>'order_id'), type) WHERE data ? 'order_id';

-- One row per points award by a rule: what caps and frequency limits count. The explanation is in the
-- event's result and the entry's reason.
CREATE TABLE rule_award (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  program_id   text NOT NULL,
  member_id    text NOT NULL,
  rule_id      text NOT NULL,
  rule_version integer NOT NULL,
  event_id     text NOT NULL,
  entry_id     text NOT NULL,
  points       bigint NOT NULL CHECK (points > 0),
  awarded_at   timestamptz NOT NULL
);
CREATE INDEX rule_award_member_rule_idx ON rule_award (member_id, rule_id, awarded_at);
CREATE INDEX rule_award_event_idx ON rule_award (event_id);

-- Programme-wide budget use per rule and period: the one shared counter, touched only by rules
-- that have a budget.
CREATE TABLE rule_budget (
  rule_id      text NOT NULL,
  period_start timestamptz NOT NULL,
  used         bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (rule_id, period_start)
);
