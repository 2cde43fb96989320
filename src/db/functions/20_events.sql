-- Event ingestion (events module; src/flows/ingest-events): what the flow reads before evaluating
-- and writes after, each in one round trip. The rule engine runs in the application between the two.
-- Reads the rules module's rule_award and rule_budget, the members module's member and the ledger
-- module's member_account and lots (the credit goes through jf_credit_locked, a refund through
-- ledger_reverse's helpers).

-- An event stores what only its processing knows — its awards (with their explanations), the
-- reversals of a refund, the skips that cost the member points, its warnings (only when it has
-- some: most have none, and the view says [] for them) — and nothing its columns hold
-- already: its result as the API returns it (the ids, type, member, times, points and the payload)
-- is put together from the row when read (jf_event_view). Before, the stored result repeated the
-- columns and the whole payload: 1,084 of the 1,348 bytes of a coffee-chain order's row, written,
-- logged (WAL) and parsed once more for nothing (bench/README.md, "events").
CREATE OR REPLACE FUNCTION jf_event_view(e event) RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'object', 'event', 'id', e.id, 'event_id', e.external_id, 'program_id', e.program_id, 'type', e.type,
    'member_id', e.member_id, 'occurred_at', jf_ts(e.occurred_at), 'processed_at', jf_ts(e.processed_at), 'points', e.points,
    'awards', o->'awards', 'reversals', o->'reversals', 'skipped', o->'skipped',
    'warnings', coalesce(o->'warnings', '[]'::json), 'data', e.data)
    FROM (SELECT e.result::json AS o) s
$$;

-- Everything event processing reads before evaluating, in one round trip: the program, its
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
  v_ladder tier_ladder;
  v_today date;
  v_window daterange;
  v_renew timestamptz;
BEGIN
  SELECT time_zone INTO v_tz FROM program WHERE id = v_program;
  IF NOT FOUND THEN
    RETURN json_build_object('program', NULL);
  END IF;
  -- the program's tier ladder (tiers module), if it has one: each member's tier status and the
  -- metric of its current window so far come with the member
  SELECT * INTO v_ladder FROM tier_ladder WHERE program_id = v_program;
  v_today := (coalesce((p->>'now')::timestamptz, now()) AT TIME ZONE v_tz)::date;
  IF v_ladder.program_id IS NOT NULL THEN
    SELECT sh.r, sh.renew_until INTO v_window, v_renew FROM jf_tier_shared(v_ladder, v_tz, v_today) sh;
  END IF;
  -- the members by id as sent (looked up below, with their program checked), and by external id
  v_members := ARRAY(
    SELECT x.id FROM jsonb_array_elements_text(p->'member_ids') AS x(id)
    UNION
    SELECT m.id FROM jsonb_array_elements_text(p->'external_member_ids') AS x(external_id)
     CROSS JOIN LATERAL (SELECT m.id FROM member m WHERE m.program_id = v_program AND m.external_id = x.external_id LIMIT 1) m);
  v_rules := ARRAY(SELECT jsonb_array_elements_text(p->'usage'->'rule_ids'));
  RETURN json_build_object(
    'program', (SELECT row_to_json(s) FROM (SELECT id, time_zone, currency, pending_days, rules_revision FROM program WHERE id = v_program) s),
    'custom_types', (SELECT coalesce(json_agg(s), '[]') FROM (SELECT type, description, schema FROM event_type WHERE program_id = v_program) s),
    'ladder', CASE WHEN v_ladder.program_id IS NULL THEN NULL ELSE json_build_object(
                'metric', v_ladder.metric, 'upgrade_event_rate', v_ladder.upgrade_event_rate,
                'tiers', (SELECT json_agg(json_build_object('code', t->>'code', 'entry', (t->>'entry')::bigint, 'multiplier', t->>'multiplier',
                                                            'label', t->'name'->>'zh-CN') ORDER BY n)
                            FROM jsonb_array_elements(v_ladder.tiers) WITH ORDINALITY AS x(t, n))) END,
    'existing', (SELECT coalesce(json_agg(e), '[]') FROM jsonb_array_elements_text(p->'external_ids') AS x(external_id)
                  CROSS JOIN LATERAL (SELECT e.external_id, e.type, e.data, jf_event_view(e) AS result FROM event e
                                       WHERE e.program_id = v_program AND e.external_id = x.external_id LIMIT 1) e),
    'members', (SELECT coalesce(json_agg(m), '[]') FROM unnest(v_members) AS x(id)
                 CROSS JOIN LATERAL (SELECT m.id, m.external_id, m.tier, m.tags, to_char(m.birthday, 'YYYY-MM-DD') AS birthday, m.attributes,
                                            m.status, a.award_version,
                                            -- jf_tier_state (30_tiers.sql) written out here, so that it is planned once with this
                                            -- statement rather than called for each member (events_tier_states calls it)
                                            CASE WHEN v_ladder.program_id IS NOT NULL THEN (
                                              SELECT json_build_object('tier', mt.tier, 'override_tier', mt.override_tier, 'override_until', jf_ts(mt.override_until),
                                                                       'window_start', lower(w.r), 'window_end', upper(w.r),
                                                                       'value', (SELECT coalesce(sum(CASE v_ladder.metric WHEN 'spend' THEN ta.spend WHEN 'points' THEN ta.points ELSE ta.orders END), 0)::bigint
                                                                                   FROM tier_activity ta WHERE ta.member_id = m.id AND ta.day >= lower(w.r) AND ta.day < upper(w.r)),
                                                                       'renewable', mt.valid_until IS NOT NULL AND v_ladder.qualifying_window->>'type' <> 'rolling_months'
                                                                                    AND coalesce(v_renew, jf_tier_valid_until(v_ladder.validity, v_ladder.qualifying_window,
                                                                                                                              (m.created_at AT TIME ZONE v_tz)::date, v_today, v_tz)) > mt.valid_until)
                                                FROM (SELECT coalesce(v_window, jf_tier_window(v_ladder.qualifying_window, (m.created_at AT TIME ZONE v_tz)::date, v_today)) AS r) w
                                                LEFT JOIN member_tier mt ON mt.member_id = m.id) END AS tier_state,
                                            -- the segments module's memberships, for rules that target segments
                                            CASE WHEN (p->>'segments')::boolean THEN ARRAY(SELECT sm.segment_id FROM segment_member sm JOIN segment s ON s.id = sm.segment_id AND s.status = 'active' WHERE sm.member_id = m.id ORDER BY 1) END AS segments
                                       FROM member m JOIN member_account a ON a.member_id = m.id
                                      -- by primary key only (IS NOT DISTINCT FROM is no index condition: the program's index is not an option)
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

-- Program budgets, before events_commit, in the same transaction. The batch's members
-- (p.members) and the members of the credits its refunds reverse (p.reversal_entries) are locked
-- first, in id order, as events_commit locks them; then the shared budget rows in (rule, period)
-- order — the same order for every writer, so two batches cannot deadlock. Budgets are granted in
-- award order: an award gets what is left of its budget, possibly nothing.
-- p = {members?, reversal_entries?, awards: [{key, rule_id, points, period_start (null for a total budget), budget_limit}]}
-- Returns {key: points granted}.
CREATE OR REPLACE FUNCTION events_reserve_budgets(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_used jsonb := '{}';
  v_grants jsonb := '{}';
  v_grant bigint;
  aw record;
  b record;
BEGIN
  IF p ? 'members' THEN
    PERFORM 1 FROM member_account a
     WHERE a.member_id = ANY (ARRAY(SELECT jsonb_array_elements_text(p->'members'))
                              || ARRAY(SELECT e.member_id FROM ledger_entry e
                                        WHERE e.id = ANY (ARRAY(SELECT jsonb_array_elements_text(coalesce(p->'reversal_entries', '[]'))))))
     ORDER BY a.member_id
       FOR UPDATE;
  END IF;
  INSERT INTO rule_budget (rule_id, period_start)
  SELECT DISTINCT x.rule_id, coalesce(x.period_start, '-infinity')
    FROM jsonb_to_recordset(p->'awards') AS x(rule_id text, period_start timestamptz)
   ORDER BY 1, 2
  ON CONFLICT DO NOTHING;
  FOR b IN
    SELECT r.rule_id, r.period_start, r.used FROM rule_budget r
     WHERE (r.rule_id, r.period_start) IN (SELECT x.rule_id, coalesce(x.period_start, '-infinity')
                                             FROM jsonb_to_recordset(p->'awards') AS x(rule_id text, period_start timestamptz))
     ORDER BY r.rule_id, r.period_start
       FOR UPDATE
  LOOP
    v_used := v_used || jsonb_build_object(b.rule_id || '@' || b.period_start::text, b.used);
  END LOOP;
  FOR aw IN
    SELECT x.a->>'key' AS key, (x.a->>'rule_id') || '@' || coalesce((x.a->>'period_start')::timestamptz, '-infinity')::text AS budget,
           (x.a->>'points')::bigint AS points, (x.a->>'budget_limit')::bigint AS budget_limit
      FROM jsonb_array_elements(p->'awards') WITH ORDINALITY AS x(a, n)
     ORDER BY x.n
  LOOP
    v_grant := LEAST(aw.points, greatest(aw.budget_limit - (v_used->>aw.budget)::bigint, 0));
    v_used := jsonb_set(v_used, ARRAY[aw.budget], to_jsonb((v_used->>aw.budget)::bigint + v_grant));
    v_grants := v_grants || jsonb_build_object(aw.key, v_grant);
  END LOOP;
  UPDATE rule_budget r SET used = r.used + s.granted
    FROM (SELECT x.rule_id, coalesce(x.period_start, '-infinity') AS period_start, sum((v_grants->>x.key)::bigint) AS granted
            FROM jsonb_to_recordset(p->'awards') AS x(key text, rule_id text, period_start timestamptz) GROUP BY 1, 2) s
   WHERE r.rule_id = s.rule_id AND r.period_start = s.period_start AND s.granted > 0;
  RETURN v_grants;
END $$;

-- Write what the rule engine decided for a batch of events, in one round trip and a handful of
-- set-based statements, whatever the batch size.
--
-- The engine runs in the application (rules.engine.ts) on a snapshot: the members, and what each
-- rule already awarded them (for caps and frequency limits). This function locks the batch's
-- members first, in id order (with the members of the credits its refunds reverse: ledger_reverse
-- locks them later, and every writer locks members in one order, docs/ledger.md), and checks that
-- snapshot is still true (member_account.award_version); if
-- another writer recorded awards for one of them meanwhile (or closed one), it raises
-- EVALUATION_STALE and the application evaluates again.
--
-- An event's awards with the same pending period are credited as one entry and one lot (an order
-- earns one "earn" entry; its breakdown by rule is in the event's result and in rule_award). A
-- pending period ends at most at jf_ts_max(). Events are inserted in external id order, so two
-- batches carrying one event id for different members wait on the unique key in one order.
--
-- p = {now, program_id, rules_revision (of the rules the batch was evaluated with),
--      members:   {member_id: [award_version expected, points credited, entries written, active (an event but a refund)]},
--      events:    {id: [], external_id: [], type: [], member_id: [], occurred_at: [], data: [], metadata: [], points: []},
--      entries:   {event: [], entry_id: [], pending_days: [], points: [], reason: [], rule_ids: []},
--      awards:    {entry: [], rule_id: [], rule_version: [], points: []} (of rules with per-member caps or frequency limits),
--      reversals: [{event, order_id, entry_id, rule_id, rule_name, points, awards}] (awards: [{rule_id, rule_version, rule_name, points}]),
--      active:    [member ids with an activity event]}
-- Rows are sent as columns (one array per field, zipped back with ROWS FROM): parsing the argument
-- into jsonb is then 2.5× cheaper than with one object per row, for 500 events 5 ms instead of 13.
-- Nothing is sent twice: an entry names its event and an award its entry by position (from 0); an
-- entry's lot and transaction ids are its own id with the prefix lot_ / txn_ (ids are unique per
-- kind, so they can share their random part); an award is dated by its event.
-- p_outcomes: what each event stores of its result (jf_event_view), one JSON text per line, in the
-- order of p.events.
-- Returns, for each refund event, its reversals with the ids of the entries they wrote and what
-- became of the points (the stored result has them too): taken_back from the member (the balance
-- went down by it: from the credit's lot, from the member's other points, or as debt), expired
-- (had expired already), on_hold (in an open hold: owed when it resolves) and written_off (spent
-- already and not recoverable, under write_off). An event's points (its column) are the member's
-- net change: the awards' points less what its reversals took back.
--
-- Plans: one generic plan per statement (the batch reaches them only through p). They are made
-- once per connection, possibly while the tables are still empty, and must stay right when the
-- tables are large: so no statement joins the batch to a table (a plan made on an empty table
-- would scan the table for each row of the batch). A table is reached from the batch's keys through
-- an index — `key = ANY (array)` or a LATERAL lookup per key — with sequential scans off, and rows
-- of the batch are zipped (ROWS FROM) or looked up in a jsonb object, not joined.
CREATE OR REPLACE FUNCTION events_commit(p jsonb, p_outcomes text) RETURNS TABLE (i integer, reversals jsonb) LANGUAGE plpgsql
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
  v_lock text[];
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
  -- event position → points of its reversals not taken back from the member (expired, on hold, written off)
  v_not_taken jsonb := '{}';
  v_taken bigint;
  rv record;
  r jsonb;
BEGIN
  -- 0. first the members, in id order: every member this batch writes for, its own and those whose
  --    credits its refunds reverse (ledger_reverse below). Every writer locks members in this order
  --    and before anything else (program budgets, the rules' advisory lock); an UPDATE's plan
  --    would visit them in their physical order.
  v_members := ARRAY(SELECT jsonb_object_keys(v_m));
  v_lock := v_members;
  IF jsonb_array_length(p->'reversals') > 0 THEN
    v_lock := v_lock || ARRAY(SELECT e.member_id FROM ledger_entry e
                               WHERE e.id = ANY (ARRAY(SELECT x->>'entry_id' FROM jsonb_array_elements(p->'reversals') x)));
  END IF;
  PERFORM 1 FROM member_account a WHERE a.member_id = ANY (v_lock) ORDER BY a.member_id FOR UPDATE;

  -- the rules the batch was evaluated with must still be the program's until it commits: changing
  -- them (bumpRulesRevision) takes this lock exclusively, so a rule that starts recording its awards
  -- (rule_award, for caps) sees every batch evaluated without it committed first
  PERFORM pg_advisory_xact_lock_shared(7262312, hashtext(v_program));
  SELECT pr.expiry_policy, pr.time_zone, pr.rules_revision INTO v_policy, v_tz, v_revision FROM program pr WHERE pr.id = v_program;
  IF v_revision IS DISTINCT FROM (p->>'rules_revision')::bigint THEN
    PERFORM jf_raise('EVALUATION_STALE', jsonb_build_object('rules_revision', v_revision));
  END IF;
  v_expires := jf_policy_expiry(v_policy, v_tz, v_now);
  v_cap := jf_policy_cap(v_policy, v_tz, v_now);

  -- 1. the members (locked above), in one UPDATE: the evaluation's snapshot must still
  --    hold (award_version), none may be closed; it records what the batch changes in their accounts
  --    (credits, the award version, activity). A member with an open hold or a debt is brought up to
  --    date first (jf_lock_member: expired holds released, debt settled) and credited after (rare).
  WITH u AS (
    UPDATE member_account a
       SET balance = a.balance + CASE WHEN a.held = 0 AND a.debt = 0 THEN (v_m->a.member_id->>1)::bigint ELSE 0 END,
           lifetime_earned = a.lifetime_earned + CASE WHEN a.held = 0 AND a.debt = 0 THEN (v_m->a.member_id->>1)::bigint ELSE 0 END,
           award_version = a.award_version + (v_m->a.member_id->>2)::bigint,
           last_activity_at = CASE WHEN (v_m->a.member_id->>3)::boolean THEN v_now ELSE a.last_activity_at END,
           -- the dashboard's earning members (the ledger's jf_credit_locked does the same)
           earned_day = CASE WHEN (v_m->a.member_id->>1)::bigint > 0 THEN greatest(a.earned_day, (v_now AT TIME ZONE v_tz)::date) ELSE a.earned_day END,
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
        WHERE LEAST(v_now + make_interval(days => x.pending_days::integer), jf_ts_max()) >= v_expires) THEN
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
  ), roll AS (
    -- the ledger's dashboard rollups: the batch's credits as one delta (jf_post does it for single entries)
    INSERT INTO ledger_daily_delta (program_id, day, issued)
    SELECT v_program, (v_now AT TIME ZONE v_tz)::date, sum(en.points) FROM en HAVING count(*) > 0
  ), lots AS (
    INSERT INTO lot (id, program_id, member_id, entry_id, amount, remaining, earned_at, available_at, expires_at, expiry_cap)
    SELECT en.lot_id, v_program, en.member_id, en.entry_id, en.points, en.points, v_now,
           LEAST(v_now + make_interval(days => en.pending_days), jf_ts_max()), v_expires, v_cap
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
  IF v_policy->>'type' = 'activity_extended' AND v_policy ? 'extend_by_months' THEN
    -- mode add: the first activity of the member in the period adds months to each live lot
    -- (jf_extend_lots); lots this batch credited (earned now) keep the expiry just given
    WITH due AS (
      UPDATE member_account a SET extended_at = v_now
       WHERE a.member_id = ANY (ARRAY(SELECT jsonb_array_elements_text(p->'active')))
         AND jf_extension_due(v_policy, v_tz, a.extended_at, v_now)
      RETURNING a.member_id)
    UPDATE lot l SET expires_at = jf_extended_expiry(v_policy, v_tz, l.expires_at, l.expiry_cap)
     WHERE l.member_id = ANY (ARRAY(SELECT member_id FROM due))
       AND (l.remaining > 0 OR l.held > 0) AND l.expires_at > v_now AND l.earned_at < v_now
       AND l.expires_at < jf_extended_expiry(v_policy, v_tz, l.expires_at, l.expiry_cap);
  ELSIF v_policy->>'type' = 'activity_extended' THEN
    UPDATE lot l SET expires_at = LEAST(v_expires, coalesce(l.expiry_cap, 'infinity'::timestamptz))
     WHERE l.member_id = ANY (ARRAY(SELECT jsonb_array_elements_text(p->'active'))) AND (l.remaining > 0 OR l.held > 0) AND l.expires_at > v_now
       AND l.expires_at < LEAST(v_expires, coalesce(l.expiry_cap, 'infinity'::timestamptz));
  END IF;

  -- 4. refunds, through the ledger's reversal (the program's negative-balance policy applies)
  FOR rv IN
    SELECT (x.r->>'event')::integer AS event, x.r->>'order_id' AS order_id, x.r->>'entry_id' AS entry_id, x.r->'rule_id' AS rule_id,
           x.r->'rule_name' AS rule_name, (x.r->>'points')::bigint AS points, coalesce(x.r->'awards', '[]') AS awards,
           v_event_id[(x.r->>'event')::integer + 1] AS event_id, v_event_external[(x.r->>'event')::integer + 1] AS external_id
      FROM jsonb_array_elements(p->'reversals') WITH ORDINALITY AS x(r, n)
     ORDER BY x.n
  LOOP
    r := ledger_reverse(jsonb_build_object(
           'now', v_now, 'entry_id', rv.entry_id, 'points', rv.points, 'reason', 'refund ' || rv.order_id,
           'reference', rv.external_id, 'event_id', rv.event_id, 'actor', 'rules'));
    v_taken := (r->'body'->'reversal'->>'from_lot')::bigint + (r->'body'->'reversal'->>'from_balance')::bigint
             + (r->'body'->'reversal'->>'to_debt')::bigint;
    IF v_taken < rv.points THEN
      v_not_taken := v_not_taken || jsonb_build_object(rv.event::text, coalesce((v_not_taken->>(rv.event::text))::bigint, 0) + rv.points - v_taken);
    END IF;
    v_reversals := v_reversals || jsonb_build_array(jsonb_build_object(
      'event', rv.event, 'entry_id', rv.entry_id, 'rule_id', coalesce(rv.rule_id, 'null'), 'rule_name', coalesce(rv.rule_name, 'null'),
      'points', rv.points, 'awards', rv.awards, 'taken_back', v_taken,
      'expired', (r->'body'->'reversal'->>'from_expired')::bigint, 'on_hold', (r->'body'->'reversal'->>'on_hold')::bigint,
      'written_off', (r->'body'->'reversal'->>'written_off')::bigint,
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
         x.points::bigint + coalesce((v_not_taken->>((x.n - 1)::text))::bigint, 0),
         CASE WHEN v_reversals ? (x.n - 1)::text THEN (x.result::jsonb || jsonb_build_object('reversals', v_reversals->((x.n - 1)::text)))::text
              ELSE x.result END
    FROM ROWS FROM (jsonb_array_elements_text(p->'events'->'id'), jsonb_array_elements_text(p->'events'->'external_id'),
                    jsonb_array_elements_text(p->'events'->'type'), jsonb_array_elements_text(p->'events'->'member_id'),
                    jsonb_array_elements_text(p->'events'->'occurred_at'), jsonb_array_elements(p->'events'->'data'),
                    jsonb_array_elements(p->'events'->'metadata'), jsonb_array_elements_text(p->'events'->'points'),
                    string_to_table(p_outcomes, E'\n')) WITH ORDINALITY
      AS x(id, external_id, type, member_id, occurred_at, data, metadata, points, result, n)
   ORDER BY x.external_id COLLATE "C";
  -- 6. tiers (a program with a ladder; the tiers module's tables, docs/tiers.md): what the batch adds
  --    to the members' qualifying activity per local day, and the upgrades it made — at once, in
  --    this transaction, under the members' locks taken above
  IF p ? 'tiers' THEN
    INSERT INTO tier_activity AS t (member_id, day, spend, points, orders)
    SELECT x.member_id, x.day::date, sum(x.spend::bigint), sum(x.points::bigint), sum(x.orders::integer)
      FROM ROWS FROM (jsonb_array_elements_text(p->'tiers'->'activity'->'member_id'), jsonb_array_elements_text(p->'tiers'->'activity'->'day'),
                      jsonb_array_elements_text(p->'tiers'->'activity'->'spend'), jsonb_array_elements_text(p->'tiers'->'activity'->'points'),
                      jsonb_array_elements_text(p->'tiers'->'activity'->'orders'))
        AS x(member_id, day, spend, points, orders)
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (member_id, day) DO UPDATE
      SET spend = t.spend + excluded.spend, points = t.points + excluded.points, orders = t.orders + excluded.orders;
    IF jsonb_array_length(coalesce(p->'tiers'->'renewals', '[]')) > 0 THEN
      PERFORM jf_tier_renew(v_program, v_tz, x.u, v_event_id[(x.u->>'event')::integer + 1], v_now)
         FROM jsonb_array_elements(p->'tiers'->'renewals') WITH ORDINALITY AS x(u, n) ORDER BY x.n;
    END IF;
    IF jsonb_array_length(p->'tiers'->'upgrades') > 0 THEN
      PERFORM jf_tier_upgrade(v_program, v_tz, x.u, v_event_id[(x.u->>'event')::integer + 1], v_now)
         FROM jsonb_array_elements(p->'tiers'->'upgrades') WITH ORDINALITY AS x(u, n) ORDER BY x.n;
    END IF;
  END IF;

  RETURN QUERY SELECT k::integer, v FROM jsonb_each(v_reversals) AS e(k, v);
END $$;
