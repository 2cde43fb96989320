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
    'awards', e.result->'awards', 'reversals', e.result->'reversals', 'skipped', e.result->'skipped', 'data', e.data)
$$;

UPDATE event SET result = json_build_object('awards', result->'awards', 'reversals', result->'reversals', 'skipped', result->'skipped');

-- A rule award is read by member and time (rule_award_member_time_idx) and never by itself: its
-- identity column and primary key were one more sequence step and index entry per award (5.4 per
-- order with the 50-rule benchmark set).
ALTER TABLE rule_award DROP COLUMN id;

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
  v_members := ARRAY(
    SELECT m.id FROM jsonb_array_elements_text(p->'member_ids') AS x(id)
     -- by primary key only (IS NOT DISTINCT FROM is no index condition: the programme's index is not an option)
     CROSS JOIN LATERAL (SELECT m.id FROM member m WHERE m.id = x.id AND m.program_id IS NOT DISTINCT FROM v_program LIMIT 1) m
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
                                       FROM member m JOIN member_account a ON a.member_id = m.id WHERE m.id = x.id LIMIT 1) m),
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
