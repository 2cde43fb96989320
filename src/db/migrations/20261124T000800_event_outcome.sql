-- Keys compare as bytes (COLLATE "C"). Every index on an id was ordered by the database's
-- collation: with C.UTF-8 (or en_US), PostgreSQL compares two ids through strcoll — copying both
-- to NUL-terminated buffers first — on every step of every index descent, about a tenth of the
-- database's CPU in event ingestion (perf, bench/README.md "events"). Under "C" it is one memcmp.
-- Ids are ASCII, so the order is the same as before under C.UTF-8 and now the same on every server
-- whatever its locale. Every key column changes at once: comparing two columns of different
-- collations would be an error, and a column with "C" compared with a value of the default
-- collation (a parameter, a PL/pgSQL variable) compares under "C".
ALTER TABLE program ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE member ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN program_id TYPE text COLLATE "C", ALTER COLUMN external_id TYPE text COLLATE "C";
ALTER TABLE member_account ALTER COLUMN member_id TYPE text COLLATE "C", ALTER COLUMN program_id TYPE text COLLATE "C";
ALTER TABLE api_key ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN secret_hash TYPE text COLLATE "C";
ALTER TABLE idempotency_key ALTER COLUMN scope TYPE text COLLATE "C", ALTER COLUMN key TYPE text COLLATE "C";
ALTER TABLE ledger_entry ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN program_id TYPE text COLLATE "C", ALTER COLUMN member_id TYPE text COLLATE "C", ALTER COLUMN txn_id TYPE text COLLATE "C", ALTER COLUMN lot_id TYPE text COLLATE "C", ALTER COLUMN hold_id TYPE text COLLATE "C", ALTER COLUMN reverses_entry_id TYPE text COLLATE "C", ALTER COLUMN counterparty_member_id TYPE text COLLATE "C", ALTER COLUMN event_id TYPE text COLLATE "C";
ALTER TABLE lot ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN program_id TYPE text COLLATE "C", ALTER COLUMN member_id TYPE text COLLATE "C", ALTER COLUMN entry_id TYPE text COLLATE "C";
ALTER TABLE hold ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN program_id TYPE text COLLATE "C", ALTER COLUMN member_id TYPE text COLLATE "C";
ALTER TABLE hold_allocation ALTER COLUMN hold_id TYPE text COLLATE "C", ALTER COLUMN lot_id TYPE text COLLATE "C";
ALTER TABLE event_type ALTER COLUMN program_id TYPE text COLLATE "C", ALTER COLUMN type TYPE text COLLATE "C";
ALTER TABLE rule ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN program_id TYPE text COLLATE "C";
ALTER TABLE rule_version ALTER COLUMN rule_id TYPE text COLLATE "C";
ALTER TABLE rule_budget ALTER COLUMN rule_id TYPE text COLLATE "C";
ALTER TABLE event ALTER COLUMN id TYPE text COLLATE "C", ALTER COLUMN program_id TYPE text COLLATE "C", ALTER COLUMN external_id TYPE text COLLATE "C", ALTER COLUMN type TYPE text COLLATE "C", ALTER COLUMN member_id TYPE text COLLATE "C";
ALTER TABLE rule_award ALTER COLUMN program_id TYPE text COLLATE "C", ALTER COLUMN member_id TYPE text COLLATE "C", ALTER COLUMN rule_id TYPE text COLLATE "C", ALTER COLUMN event_id TYPE text COLLATE "C", ALTER COLUMN entry_id TYPE text COLLATE "C";

-- An event stores what only its processing knows — its awards (with their explanations), the
-- reversals of a refund, the skips that cost the member points — and nothing its columns hold
-- already: its result as the API returns it (the ids, type, member, times, points and the payload)
-- is put together from the row when read (jf_event_view). Before, the stored result repeated the
-- columns and the whole payload: 1,084 of the 1,348 bytes of a coffee-chain order's row, written,
-- logged (WAL) and parsed once more for nothing (bench/README.md, "events").
CREATE FUNCTION jf_event_view(e event) RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'object', 'event', 'id', e.id, 'event_id', e.external_id, 'program_id', e.program_id, 'type', e.type,
    'member_id', e.member_id, 'occurred_at', jf_ts(e.occurred_at), 'processed_at', jf_ts(e.processed_at), 'points', e.points,
    'awards', o->'awards', 'reversals', o->'reversals', 'skipped', o->'skipped', 'data', e.data)
    FROM (SELECT e.result::json AS o) s
$$;

-- Stored as text: the application writes it with JSON.stringify and it is read as a whole, so
-- PostgreSQL need not validate (parse) it on the way in; a batch's outcomes arrive as one text, one
-- per line (JSON.stringify never writes a raw line feed), split without parsing.
UPDATE event SET result = json_build_object('awards', result->'awards', 'reversals', result->'reversals', 'skipped', result->'skipped');
ALTER TABLE event ALTER COLUMN result TYPE text;

-- A rule award is read by member and time (rule_award_member_time_idx) and never by itself: its
-- identity column and primary key were one more sequence step and index entry per award (5.4 per
-- order with the 50-rule benchmark set).
ALTER TABLE rule_award DROP COLUMN id;

-- rule_award holds what evaluation reads back: the awards of rules with per-member caps or frequency
-- limits (in any version). Every other rule's awards are in its events' results only: recording
-- them cost a row and an index entry per award, about a fifth of an order's cost in the
-- database. A rule that gets its first limit has its awards copied from the results then
-- (rules.service, backfillAwards).
DELETE FROM rule_award r
 WHERE NOT EXISTS (SELECT 1 FROM rule_version v
                    WHERE v.rule_id = r.rule_id AND (v.definition->'caps' ? 'per_member' OR v.definition ? 'frequency'));

-- Write what the rule engine decided for a batch of events, in one round trip and a handful of
-- set-based statements, whatever the batch size.
--
-- The engine runs in the application (rules.engine.ts) on a snapshot: the members, and what each
-- rule already awarded them (for caps and frequency limits). This function locks the batch's
-- members in id order and checks that snapshot is still true (member_account.award_version); if
-- another writer recorded awards for one of them meanwhile (or closed one), it raises
-- EVALUATION_STALE and the application evaluates again.
--
-- An event's awards with the same pending period are credited as one entry and one lot (an order
-- earns one "earn" entry; its breakdown by rule is in the event's result and in rule_award).
--
-- p = {now, program_id, rules_revision (of the rules the batch was evaluated with),
--      members:   {member_id: [award_version expected, points credited, entries written, active (an event but a refund)]},
--      events:    {id: [], external_id: [], type: [], member_id: [], occurred_at: [], data: [], metadata: [], points: []},
--      entries:   {event: [], entry_id: [], pending_days: [], points: [], reason: [], rule_ids: []},
--      awards:    {entry: [], rule_id: [], rule_version: [], points: []} (of rules with per-member caps or frequency limits),
--      reversals: [{event, order_id, entry_id, rule_id, points}],
--      active:    [member ids with an activity event]}
-- Rows are sent as columns (one array per field, zipped back with ROWS FROM): parsing the argument
-- into jsonb is then 2.5× cheaper than with one object per row, for 500 events 5 ms instead of 13.
-- Nothing is sent twice: an entry names its event and an award its entry by position (from 0); an
-- entry's lot and transaction ids are its own id with the prefix lot_ / txn_ (ids are unique per
-- kind, so they can share their random part); an award is dated by its event.
-- p_outcomes: what each event stores of its result (jf_event_view), one JSON text per line, in the
-- order of p.events.
-- Returns, for each refund event, its reversals with the ids of the entries they wrote (the stored
-- result has them too).
--
-- Plans: one generic plan per statement (the batch reaches them only through p). They are made
-- once per connection, possibly while the tables are still empty, and must stay right when the
-- tables are large: so no statement joins the batch to a table (a plan made on an empty table
-- would scan the table for each row of the batch). A table is reached from the batch's keys through
-- an index — `key = ANY (array)` or a LATERAL lookup per key — with sequential scans off, and rows
-- of the batch are zipped (ROWS FROM) or looked up in a jsonb object, not joined.
DROP FUNCTION events_commit(jsonb, json);
CREATE FUNCTION events_commit(p jsonb, p_outcomes text) RETURNS TABLE (i integer, reversals jsonb) LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
#variable_conflict use_column
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_program text := p->>'program_id';
  v_policy jsonb;
  v_tz text;
  v_revision bigint;
  v_expires timestamptz;
  v_cap timestamptz;
  v_members text[];
  -- member id → [award_version expected, points credited, entries written, active]
  v_m jsonb := p->'members';
  v_updated bigint;
  v_specials text[];
  -- the events' columns that entries and awards refer to by position (PL/pgSQL keeps arrays expanded:
  -- an element is found in constant time)
  v_event_id text[] := ARRAY(SELECT jsonb_array_elements_text(p->'events'->'id'));
  v_event_external text[] := ARRAY(SELECT jsonb_array_elements_text(p->'events'->'external_id'));
  v_event_member text[] := ARRAY(SELECT jsonb_array_elements_text(p->'events'->'member_id'));
  v_event_at timestamptz[] := ARRAY(SELECT jsonb_array_elements_text(p->'events'->'occurred_at')::timestamptz);
  v_entry_event integer[] := ARRAY(SELECT jsonb_array_elements_text(p->'entries'->'event')::integer);
  v_entry_id text[] := ARRAY(SELECT jsonb_array_elements_text(p->'entries'->'entry_id'));
  v_special text;
  v_reversals jsonb := '[]';
  rv record;
  r jsonb;
BEGIN
  -- the rules the batch was evaluated with must still be the programme's until it commits: changing
  -- them (bumpRulesRevision) takes this lock exclusively, so a rule that starts recording its awards
  -- (rule_award, for caps) sees every batch evaluated without it committed first
  PERFORM pg_advisory_xact_lock_shared(7262312, hashtext(v_program));
  SELECT pr.expiry_policy, pr.time_zone, pr.rules_revision INTO v_policy, v_tz, v_revision FROM program pr WHERE pr.id = v_program;
  IF v_revision IS DISTINCT FROM (p->>'rules_revision')::bigint THEN
    PERFORM jf_raise('EVALUATION_STALE', jsonb_build_object('rules_revision', v_revision));
  END IF;
  v_expires := jf_policy_expiry(v_policy, v_tz, v_now);
  v_cap := jf_policy_cap(v_policy, v_tz, v_now);

  -- 1. the members, in one UPDATE that locks them in id order: the evaluation's snapshot must still
  --    hold (award_version), none may be closed; it records what the batch changes in their accounts
  --    (credits, the award version, activity). A member with an open hold or a debt is brought up to
  --    date first (jf_lock_member: expired holds released, debt settled) and credited after (rare).
  v_members := ARRAY(SELECT jsonb_object_keys(v_m) ORDER BY 1);
  WITH u AS (
    UPDATE member_account a
       SET balance = a.balance + CASE WHEN a.held = 0 AND a.debt = 0 THEN (v_m->a.member_id->>1)::bigint ELSE 0 END,
           lifetime_earned = a.lifetime_earned + CASE WHEN a.held = 0 AND a.debt = 0 THEN (v_m->a.member_id->>1)::bigint ELSE 0 END,
           award_version = a.award_version + (v_m->a.member_id->>2)::bigint,
           last_activity_at = CASE WHEN (v_m->a.member_id->>3)::boolean THEN v_now ELSE a.last_activity_at END,
           updated_at = CASE WHEN (v_m->a.member_id->>2)::bigint > 0 THEN v_now ELSE a.updated_at END
      FROM member m
     WHERE a.member_id = ANY (v_members) AND m.id = a.member_id AND m.status <> 'closed'
       AND a.award_version = (v_m->a.member_id->>0)::bigint
    RETURNING a.member_id, a.held > 0 OR a.debt > 0 AS special
  )
  SELECT count(*), coalesce(array_agg(u.member_id ORDER BY u.member_id) FILTER (WHERE u.special), '{}') INTO v_updated, v_specials FROM u;
  IF v_updated < cardinality(v_members) THEN
    -- another writer recorded awards for one of them (or closed one): nothing of this is kept
    PERFORM jf_raise('EVALUATION_STALE', jsonb_build_object('members', cardinality(v_members) - v_updated));
  END IF;
  FOREACH v_special IN ARRAY v_specials LOOP
    PERFORM jf_lock_member(v_special, v_now);
    UPDATE member_account a SET balance = a.balance + (v_m->v_special->>1)::bigint, lifetime_earned = a.lifetime_earned + (v_m->v_special->>1)::bigint
     WHERE a.member_id = v_special;
  END LOOP;

  -- 2. credits: one entry and one lot per event and pending period, the rule awards, account totals
  IF v_expires IS NOT NULL AND EXISTS (
       SELECT 1 FROM jsonb_array_elements_text(p->'entries'->'pending_days') AS x(pending_days)
        WHERE v_now + make_interval(days => x.pending_days::integer) >= v_expires) THEN
    PERFORM jf_raise('INVALID_EXPIRY', jsonb_build_object('expires_at', jf_ts(v_expires)));
  END IF;
  WITH en AS (
    SELECT v_event_id[x.event::integer + 1] AS event_id, v_event_external[x.event::integer + 1] AS external_id,
           v_event_member[x.event::integer + 1] AS member_id,
           x.entry_id, 'lot_' || substr(x.entry_id, 5) AS lot_id, 'txn_' || substr(x.entry_id, 5) AS txn_id,
           x.pending_days::integer AS pending_days, x.points::bigint AS points, x.reason, x.rule_ids
      FROM ROWS FROM (jsonb_array_elements_text(p->'entries'->'event'), jsonb_array_elements_text(p->'entries'->'entry_id'),
                      jsonb_array_elements_text(p->'entries'->'pending_days'), jsonb_array_elements_text(p->'entries'->'points'),
                      jsonb_array_elements_text(p->'entries'->'reason'), jsonb_array_elements(p->'entries'->'rule_ids'))
        AS x(event, entry_id, pending_days, points, reason, rule_ids)
  ), ent AS (
    INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount, lot_id,
                              reason, reference, actor, metadata, occurred_at, event_id)
    SELECT en.entry_id, v_program, en.member_id, en.txn_id, 'earn', 'issued', 'member', en.points, en.lot_id,
           en.reason, en.external_id, 'rules', jsonb_build_object('rule_ids', en.rule_ids), v_now, en.event_id
      FROM en
  ), lots AS (
    INSERT INTO lot (id, program_id, member_id, entry_id, amount, remaining, earned_at, available_at, expires_at, expiry_cap)
    SELECT en.lot_id, v_program, en.member_id, en.entry_id, en.points, en.points, v_now,
           v_now + make_interval(days => en.pending_days), v_expires, v_cap
      FROM en
  )
  INSERT INTO rule_award (program_id, member_id, rule_id, rule_version, event_id, entry_id, points, awarded_at)
    SELECT v_program, v_event_member[v_entry_event[x.entry::integer + 1] + 1], x.rule_id, x.rule_version::integer,
           v_event_id[v_entry_event[x.entry::integer + 1] + 1], v_entry_id[x.entry::integer + 1], x.points::bigint,
           v_event_at[v_entry_event[x.entry::integer + 1] + 1]
      FROM ROWS FROM (jsonb_array_elements_text(p->'awards'->'entry'), jsonb_array_elements_text(p->'awards'->'rule_id'),
                      jsonb_array_elements_text(p->'awards'->'rule_version'), jsonb_array_elements_text(p->'awards'->'points'))
        AS x(entry, rule_id, rule_version, points);

  -- 3. activity (every event but a refund; marked above) extends expiry under activity_extended
  IF v_policy->>'type' = 'activity_extended' THEN
    UPDATE lot l SET expires_at = LEAST(v_expires, coalesce(l.expiry_cap, 'infinity'::timestamptz))
     WHERE l.member_id = ANY (ARRAY(SELECT jsonb_array_elements_text(p->'active'))) AND (l.remaining > 0 OR l.held > 0) AND l.expires_at > v_now
       AND l.expires_at < LEAST(v_expires, coalesce(l.expiry_cap, 'infinity'::timestamptz));
  END IF;

  -- 4. refunds, through the ledger's reversal (the programme's negative-balance policy applies)
  FOR rv IN
    SELECT (x.r->>'event')::integer AS event, x.r->>'order_id' AS order_id, x.r->>'entry_id' AS entry_id, x.r->>'rule_id' AS rule_id,
           (x.r->>'points')::bigint AS points, v_event_id[(x.r->>'event')::integer + 1] AS event_id,
           v_event_external[(x.r->>'event')::integer + 1] AS external_id
      FROM jsonb_array_elements(p->'reversals') WITH ORDINALITY AS x(r, n)
     ORDER BY x.n
  LOOP
    r := ledger_reverse(jsonb_build_object(
           'now', v_now, 'entry_id', rv.entry_id, 'points', rv.points, 'reason', 'refund ' || rv.order_id,
           'reference', rv.external_id, 'event_id', rv.event_id, 'actor', 'rules'));
    v_reversals := v_reversals || jsonb_build_array(jsonb_build_object(
      'event', rv.event, 'entry_id', rv.entry_id, 'rule_id', rv.rule_id, 'points', rv.points,
      'reversal_entry_ids', (SELECT coalesce(jsonb_agg(e->'id'), '[]') FROM jsonb_array_elements(r->'body'->'entries') e)));
  END LOOP;
  FOR v_special IN
    SELECT a.member_id FROM member_account a WHERE a.member_id = ANY (v_members) AND a.debt > 0
  LOOP
    PERFORM jf_settle_debt(v_special, v_now);
  END LOOP;

  -- 5. the events, with their results (a refund's result gets the ids of its reversal entries)
  IF jsonb_array_length(v_reversals) > 0 THEN
    v_reversals := (SELECT jsonb_object_agg(g.i, g.reversals) FROM (
                      SELECT x->>'event' AS i, jsonb_agg(x - 'event') AS reversals FROM jsonb_array_elements(v_reversals) x GROUP BY 1) g);
  ELSE
    v_reversals := '{}';
  END IF;
  INSERT INTO event (id, program_id, external_id, type, member_id, occurred_at, processed_at, data, metadata, points, result)
  SELECT x.id, v_program, x.external_id, x.type, x.member_id, x.occurred_at::timestamptz, v_now, x.data, coalesce(x.metadata, '{}'),
         x.points::bigint,
         CASE WHEN v_reversals ? (x.n - 1)::text THEN (x.result::jsonb || jsonb_build_object('reversals', v_reversals->((x.n - 1)::text)))::text
              ELSE x.result END
    FROM ROWS FROM (jsonb_array_elements_text(p->'events'->'id'), jsonb_array_elements_text(p->'events'->'external_id'),
                    jsonb_array_elements_text(p->'events'->'type'), jsonb_array_elements_text(p->'events'->'member_id'),
                    jsonb_array_elements_text(p->'events'->'occurred_at'), jsonb_array_elements(p->'events'->'data'),
                    jsonb_array_elements(p->'events'->'metadata'), jsonb_array_elements_text(p->'events'->'points'),
                    string_to_table(p_outcomes, E'\n')) WITH ORDINALITY
      AS x(id, external_id, type, member_id, occurred_at, data, metadata, points, result, n);
  RETURN QUERY SELECT k::integer, v FROM jsonb_each(v_reversals) AS e(k, v);
END $$;

-- Everything event processing reads before evaluating, in one round trip: the programme, its
-- custom event types, the events of the batch already processed, the members (with their account
-- state), and, for the rules the caller expects to be in force, what they already awarded these
-- members (recent awards for day/week/month caps, lifetime totals). Built as json from rows: for a
-- batch of 500 events, jsonb objects cost 4× as much to build as the same json. Every lookup goes
-- from the batch's ids into an index (LATERAL), so its cost follows the batch, not the tables.
-- p = {program_id, external_ids, member_ids, external_member_ids, usage?: {rule_ids, since, lifetime}}
CREATE OR REPLACE FUNCTION events_prepare(p jsonb) RETURNS json LANGUAGE plpgsql STABLE
-- as events_commit: generic plans that reach every table from the batch through an index, whatever
-- the tables held when they were made
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_program text := p->>'program_id';
  v_members text[];
  v_rules text[];
  v_since timestamptz := (p->'usage'->>'since')::timestamptz;
  v_tz text;
BEGIN
  SELECT time_zone INTO v_tz FROM program WHERE id = v_program;
  IF NOT FOUND THEN
    RETURN json_build_object('program', NULL);
  END IF;
  -- the members by id as sent (looked up below, with their programme checked), and by external id
  v_members := ARRAY(
    SELECT x.id FROM jsonb_array_elements_text(p->'member_ids') AS x(id)
    UNION
    SELECT m.id FROM jsonb_array_elements_text(p->'external_member_ids') AS x(external_id)
     CROSS JOIN LATERAL (SELECT m.id FROM member m WHERE m.program_id = v_program AND m.external_id = x.external_id LIMIT 1) m);
  v_rules := ARRAY(SELECT jsonb_array_elements_text(p->'usage'->'rule_ids'));
  RETURN json_build_object(
    'program', (SELECT row_to_json(s) FROM (SELECT id, time_zone, currency, pending_days, rules_revision FROM program WHERE id = v_program) s),
    'custom_types', (SELECT coalesce(json_agg(s), '[]') FROM (SELECT type, description, schema FROM event_type WHERE program_id = v_program) s),
    'existing', (SELECT coalesce(json_agg(e), '[]') FROM jsonb_array_elements_text(p->'external_ids') AS x(external_id)
                  CROSS JOIN LATERAL (SELECT e.external_id, e.type, e.data, jf_event_view(e) AS result FROM event e
                                       WHERE e.program_id = v_program AND e.external_id = x.external_id LIMIT 1) e),
    'members', (SELECT coalesce(json_agg(m), '[]') FROM unnest(v_members) AS x(id)
                 CROSS JOIN LATERAL (SELECT m.id, m.external_id, m.tier, m.tags, to_char(m.birthday, 'YYYY-MM-DD') AS birthday, m.attributes,
                                            m.status, a.award_version
                                       FROM member m JOIN member_account a ON a.member_id = m.id
                                      -- by primary key only (IS NOT DISTINCT FROM is no index condition: the programme's index is not an option)
                                      WHERE m.id = x.id AND m.program_id IS NOT DISTINCT FROM v_program LIMIT 1) m),
    -- per member, rule and local day: every cap and frequency window is whole local days
    'recent', CASE WHEN cardinality(v_rules) = 0 OR cardinality(v_members) = 0 THEN '[]'::json ELSE (
                SELECT coalesce(json_agg(r), '[]') FROM unnest(v_members) AS x(id)
                 CROSS JOIN LATERAL (SELECT r.member_id, r.rule_id, sum(r.points)::bigint AS points, count(*)::int AS count,
                                            jf_ts(date_trunc('day', r.awarded_at, v_tz)) AS at
                                       FROM rule_award r
                                      WHERE r.member_id = x.id AND r.awarded_at >= v_since AND r.rule_id = ANY (v_rules)
                                      GROUP BY r.member_id, r.rule_id, date_trunc('day', r.awarded_at, v_tz)) r) END,
    'lifetime', CASE WHEN cardinality(v_rules) = 0 OR cardinality(v_members) = 0 OR NOT coalesce((p->'usage'->>'lifetime')::boolean, false) THEN '[]'::json ELSE (
                SELECT coalesce(json_agg(t), '[]') FROM unnest(v_members) AS x(id)
                 CROSS JOIN LATERAL (SELECT r.member_id, r.rule_id, sum(r.points)::bigint AS points, count(*)::int AS count
                                       FROM rule_award r WHERE r.member_id = x.id AND r.rule_id = ANY (v_rules)
                                      GROUP BY r.member_id, r.rule_id) t) END);
END $$;
