-- Event processing: write what the rule engine decided for a batch of events, in one round trip
-- and a handful of set-based statements, whatever the batch size.
--
-- The engine runs in the application (rules.engine.ts) on a snapshot: the members, and what each
-- rule already awarded them (for caps and frequency limits). This function locks the batch's
-- members in id order and checks that snapshot is still true (member_account.award_version); if
-- another writer recorded awards for one of them meanwhile (or closed one), it raises
-- EVALUATION_STALE and the application evaluates again. Programme-wide budgets are shared by all
-- members, so they are applied here, under the budget row's lock.
--
-- An event's awards with the same pending period are credited as one entry and one lot (an order
-- earns one "earn" entry, its breakdown by rule is in the event's result and rule_award).
--
-- p = {now, program_id,
--      members:   [{member_id, award_version}],
--      events:    [{idx, id, external_id, type, member_id, occurred_at, data, metadata, activity, skipped}],
--      groups:    [{grp, event_id, member_id, external_id, entry_id, lot_id, txn_id, pending_days}],
--      awards:    [{key, idx, grp, event_id, member_id, rule_id, rule_version, points, occurred_at,
--                   explanation, budget_period_start?, budget_limit?}],
--      reversals: [{event_id, external_id, order_id, entry_id, rule_id, points}]}
-- Returns (idx, result) for every event.
CREATE FUNCTION events_commit(p jsonb) RETURNS TABLE (idx integer, result jsonb) LANGUAGE plpgsql
-- its statements depend on the batch only through p: one generic plan each, not a new plan per call
SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_program text := p->>'program_id';
  v_policy jsonb;
  v_tz text;
  v_expires timestamptz;
  v_cap timestamptz;
  v_members text[];
  v_stale text;
  v_special text;
  v_grants jsonb := '{}';
  v_reversal_ids jsonb := '{}';
  v_limit bigint;
  v_used bigint;
  v_period timestamptz;
  aw record;
  rv record;
  r jsonb;
BEGIN
  SELECT pr.expiry_policy, pr.time_zone INTO v_policy, v_tz FROM program pr WHERE pr.id = v_program;
  v_expires := jf_policy_expiry(v_policy, v_tz, v_now);
  v_cap := jf_policy_cap(v_policy, v_tz, v_now);

  -- 1. lock the members in id order; the evaluation's snapshot must still hold
  SELECT array_agg(x.member_id ORDER BY x.member_id) INTO v_members
    FROM jsonb_to_recordset(p->'members') AS x(member_id text, award_version bigint);
  WITH locked AS (
    SELECT a.member_id, a.award_version, m.status
      FROM member_account a JOIN member m ON m.id = a.member_id
     WHERE a.member_id = ANY (v_members)
     ORDER BY a.member_id
       FOR UPDATE OF a
  )
  SELECT x.member_id INTO v_stale
    FROM jsonb_to_recordset(p->'members') AS x(member_id text, award_version bigint)
    LEFT JOIN locked l ON l.member_id = x.member_id
   WHERE l.member_id IS NULL OR l.award_version <> x.award_version OR l.status = 'closed'
   LIMIT 1;
  IF v_stale IS NOT NULL THEN
    PERFORM jf_raise('EVALUATION_STALE', jsonb_build_object('member_id', v_stale));
  END IF;
  -- members with open holds or debt are brought up to date first (rare)
  FOR v_special IN SELECT member_id FROM member_account WHERE member_id = ANY (v_members) AND (held > 0 OR debt > 0) LOOP
    PERFORM jf_lock_member(v_special, v_now);
  END LOOP;

  -- 2. programme budgets (rules that have one), in award order
  FOR aw IN
    SELECT x.key, x.rule_id, x.points, x.budget_period_start, x.budget_limit
      FROM jsonb_to_recordset(p->'awards') AS x(key text, idx integer, rule_id text, points bigint, budget_period_start timestamptz, budget_limit bigint)
     WHERE x.budget_limit IS NOT NULL
     ORDER BY x.idx
  LOOP
    v_period := coalesce(aw.budget_period_start, '-infinity'::timestamptz);
    INSERT INTO rule_budget (rule_id, period_start) VALUES (aw.rule_id, v_period) ON CONFLICT DO NOTHING;
    SELECT used INTO v_used FROM rule_budget WHERE rule_id = aw.rule_id AND period_start = v_period FOR UPDATE;
    v_limit := LEAST(aw.points, greatest(aw.budget_limit - v_used, 0));
    UPDATE rule_budget SET used = used + v_limit WHERE rule_id = aw.rule_id AND period_start = v_period;
    v_grants := v_grants || jsonb_build_object(aw.key, v_limit);
  END LOOP;

  -- 3. credits: one entry and one lot per event and pending period, rule awards, account totals
  WITH aw AS (
    SELECT x.*, coalesce((v_grants->>x.key)::bigint, x.points) AS final
      FROM jsonb_to_recordset(p->'awards') AS x(key text, idx integer, grp text, event_id text, member_id text, rule_id text,
                                                  rule_version integer, points bigint, occurred_at timestamptz, explanation jsonb)
  ), g AS (
    SELECT grp.*, s.points, s.reason, s.rules
      FROM jsonb_to_recordset(p->'groups') AS grp(grp text, event_id text, member_id text, external_id text, entry_id text, lot_id text,
                                                   txn_id text, pending_days integer)
      JOIN (SELECT aw.grp, sum(aw.final)::bigint AS points,
                   left(string_agg(aw.explanation->>'text', '; ' ORDER BY aw.idx) FILTER (WHERE aw.final > 0), 500) AS reason,
                   jsonb_agg(aw.rule_id ORDER BY aw.idx) FILTER (WHERE aw.final > 0) AS rules
              FROM aw GROUP BY aw.grp) s ON s.grp = grp.grp
     WHERE s.points > 0
  ), ent AS (
    INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount, lot_id,
                              reason, reference, actor, metadata, occurred_at, event_id)
    SELECT g.entry_id, v_program, g.member_id, g.txn_id, 'earn', 'issued', 'member', g.points, g.lot_id,
           g.reason, g.external_id, 'rules', jsonb_build_object('rule_ids', g.rules), v_now, g.event_id
      FROM g
  ), lots AS (
    INSERT INTO lot (id, program_id, member_id, entry_id, amount, remaining, earned_at, available_at, expires_at, expiry_cap)
    SELECT g.lot_id, v_program, g.member_id, g.entry_id, g.points, g.points, v_now,
           v_now + make_interval(days => g.pending_days), v_expires, v_cap
      FROM g
  ), awards AS (
    INSERT INTO rule_award (program_id, member_id, rule_id, rule_version, event_id, entry_id, points, awarded_at)
    SELECT v_program, aw.member_id, aw.rule_id, aw.rule_version, aw.event_id, g.entry_id, aw.final, aw.occurred_at
      FROM aw JOIN g ON g.grp = aw.grp
     WHERE aw.final > 0
  )
  UPDATE member_account a
     SET balance = a.balance + s.points, lifetime_earned = a.lifetime_earned + s.points,
         award_version = a.award_version + s.n, last_activity_at = v_now, updated_at = v_now
    FROM (SELECT g.member_id, sum(g.points)::bigint AS points, count(*) AS n FROM g GROUP BY g.member_id) s
   WHERE a.member_id = s.member_id;
  IF v_expires IS NOT NULL AND EXISTS (
       SELECT 1 FROM jsonb_to_recordset(p->'groups') AS grp(pending_days integer)
        WHERE v_now + make_interval(days => grp.pending_days) >= v_expires) THEN
    PERFORM jf_raise('INVALID_EXPIRY', jsonb_build_object('expires_at', jf_ts(v_expires)));
  END IF;

  -- 4. activity: every event except a refund; extends expiry under activity_extended
  UPDATE member_account a SET last_activity_at = v_now
   WHERE a.member_id IN (SELECT x.member_id FROM jsonb_to_recordset(p->'events') AS x(member_id text, activity boolean) WHERE x.activity)
     AND a.last_activity_at IS DISTINCT FROM v_now;
  IF v_policy->>'type' = 'activity_extended' THEN
    UPDATE lot SET expires_at = LEAST(v_expires, coalesce(expiry_cap, 'infinity'::timestamptz))
     WHERE member_id IN (SELECT x.member_id FROM jsonb_to_recordset(p->'events') AS x(member_id text, activity boolean) WHERE x.activity)
       AND (remaining > 0 OR held > 0) AND expires_at > v_now
       AND expires_at < LEAST(v_expires, coalesce(expiry_cap, 'infinity'::timestamptz));
  END IF;

  -- 5. refunds, through the ledger's reversal (the programme's negative-balance policy applies)
  FOR rv IN
    SELECT * FROM jsonb_to_recordset(p->'reversals') AS x(event_id text, external_id text, order_id text, entry_id text, points bigint)
  LOOP
    r := ledger_reverse(jsonb_build_object(
           'now', v_now, 'entry_id', rv.entry_id, 'points', rv.points, 'reason', 'refund ' || rv.order_id,
           'reference', rv.external_id, 'event_id', rv.event_id, 'actor', 'rules'));
    v_reversal_ids := jsonb_set(v_reversal_ids, ARRAY[rv.event_id || ':' || rv.entry_id],
                                (SELECT coalesce(jsonb_agg(e->'id'), '[]') FROM jsonb_array_elements(r->'body'->'entries') e));
  END LOOP;
  FOR v_special IN SELECT member_id FROM member_account WHERE member_id = ANY (v_members) AND debt > 0 LOOP
    PERFORM jf_settle_debt(v_special, v_now);
  END LOOP;

  -- 6. the events, with their results
  RETURN QUERY
  WITH ev AS (
    SELECT x.* FROM jsonb_to_recordset(p->'events') AS x(idx integer, id text, external_id text, type text, member_id text,
                                                        occurred_at timestamptz, data jsonb, metadata jsonb, skipped jsonb)
  ), aw AS (
    SELECT x.*, coalesce((v_grants->>x.key)::bigint, x.points) AS final
      FROM jsonb_to_recordset(p->'awards') AS x(key text, idx integer, grp text, event_id text, rule_id text, rule_version integer,
                                                  points bigint, explanation jsonb, budget_limit bigint)
  ), grp AS (
    SELECT x.* FROM jsonb_to_recordset(p->'groups') AS x(grp text, entry_id text, lot_id text, pending_days integer)
  ), awj AS (
    SELECT aw.event_id,
           sum(aw.final)::bigint AS points,
           coalesce(jsonb_agg(jsonb_build_object(
             'rule_id', aw.rule_id, 'rule_version', aw.rule_version, 'points', aw.final,
             'entry_id', grp.entry_id, 'lot_id', grp.lot_id,
             'available_at', jf_ts(v_now + make_interval(days => grp.pending_days)),
             'text', CASE WHEN aw.final < aw.points
                          THEN (aw.explanation->>'text') || ' → ' || aw.final || ' (programme budget ' || aw.budget_limit || ')'
                          ELSE aw.explanation->>'text' END,
             'explanation', CASE WHEN aw.final < aw.points
                                 THEN aw.explanation || jsonb_build_object(
                                        'points', aw.final,
                                        'text', (aw.explanation->>'text') || ' → ' || aw.final || ' (programme budget ' || aw.budget_limit || ')',
                                        'caps', (aw.explanation->'caps') || jsonb_build_array(jsonb_build_object(
                                                  'cap', 'budget', 'limit', aw.budget_limit, 'before', aw.points, 'after', aw.final)))
                                 ELSE aw.explanation END)
             ORDER BY aw.idx) FILTER (WHERE aw.final > 0), '[]') AS awards,
           coalesce(jsonb_agg(jsonb_build_object('rule_id', aw.rule_id, 'reason', 'budget',
                                                 'detail', 'the programme budget of this rule is used up'))
                    FILTER (WHERE aw.final = 0), '[]') AS budget_skips
      FROM aw JOIN grp ON grp.grp = aw.grp
     GROUP BY aw.event_id
  ), rvj AS (
    SELECT x.event_id, sum(x.points)::bigint AS points,
           jsonb_agg(jsonb_build_object('entry_id', x.entry_id, 'rule_id', x.rule_id, 'points', x.points,
                                        'reversal_entry_ids', coalesce(v_reversal_ids->(x.event_id || ':' || x.entry_id), '[]'))) AS reversals
      FROM jsonb_to_recordset(p->'reversals') AS x(event_id text, entry_id text, rule_id text, points bigint)
     GROUP BY x.event_id
  ), res AS (
    SELECT ev.idx, ev.id, ev.external_id, ev.type, ev.member_id, ev.occurred_at, ev.data, ev.metadata,
           coalesce(awj.points, 0) - coalesce(rvj.points, 0) AS points,
           jsonb_build_object(
             'object', 'event', 'id', ev.id, 'event_id', ev.external_id, 'program_id', v_program, 'type', ev.type,
             'member_id', ev.member_id, 'occurred_at', jf_ts(ev.occurred_at), 'processed_at', jf_ts(v_now),
             'points', coalesce(awj.points, 0) - coalesce(rvj.points, 0),
             'awards', coalesce(awj.awards, '[]'), 'reversals', coalesce(rvj.reversals, '[]'),
             'skipped', coalesce(ev.skipped, '[]') || coalesce(awj.budget_skips, '[]'), 'data', ev.data) AS result
      FROM ev LEFT JOIN awj ON awj.event_id = ev.id LEFT JOIN rvj ON rvj.event_id = ev.id
  ), ins AS (
    INSERT INTO event (id, program_id, external_id, type, member_id, occurred_at, processed_at, data, metadata, points, result)
    SELECT res.id, v_program, res.external_id, res.type, res.member_id, res.occurred_at, v_now, res.data,
           coalesce(res.metadata, '{}'), res.points, res.result
      FROM res
  )
  SELECT res.idx, res.result FROM res ORDER BY res.idx;
END $$;

-- Everything event processing reads before evaluating, in one round trip: the programme, its
-- custom event types, the events of the batch already processed, the members (with their account
-- state), and, for the rules the caller expects to be in force, what they already awarded these
-- members (recent awards for day/week/month caps, lifetime totals).
-- p = {program_id, external_ids, member_ids, external_member_ids, usage?: {rule_ids, since, lifetime}}
CREATE FUNCTION events_prepare(p jsonb) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_program text := p->>'program_id';
  v_members text[];
  v_rules text[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM program WHERE id = v_program) THEN
    RETURN jsonb_build_object('program', NULL);
  END IF;
  SELECT array_agg(id) INTO v_members FROM (
    SELECT m.id FROM member m WHERE m.id IN (SELECT jsonb_array_elements_text(p->'member_ids')) AND m.program_id = v_program
    UNION
    SELECT m.id FROM member m WHERE m.program_id = v_program AND m.external_id IN (SELECT jsonb_array_elements_text(p->'external_member_ids'))
  ) x;
  v_rules := ARRAY(SELECT jsonb_array_elements_text(p->'usage'->'rule_ids'));
  RETURN jsonb_build_object(
    'program', (SELECT jsonb_build_object('id', id, 'time_zone', time_zone, 'currency', currency, 'pending_days', pending_days,
                                          'rules_revision', rules_revision) FROM program WHERE id = v_program),
    'custom_types', (SELECT coalesce(jsonb_agg(jsonb_build_object('type', type, 'description', description, 'schema', schema)), '[]')
                       FROM event_type WHERE program_id = v_program),
    'existing', (SELECT coalesce(jsonb_agg(jsonb_build_object('external_id', external_id, 'type', type, 'data', data, 'result', result)), '[]')
                   FROM event WHERE program_id = v_program AND external_id IN (SELECT jsonb_array_elements_text(p->'external_ids'))),
    'members', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                  'id', m.id, 'external_id', m.external_id, 'tier', m.tier, 'tags', to_jsonb(m.tags),
                  'birthday', to_char(m.birthday, 'YYYY-MM-DD'), 'attributes', m.attributes, 'status', m.status,
                  'award_version', a.award_version)), '[]')
                  FROM member m JOIN member_account a ON a.member_id = m.id WHERE m.id = ANY (v_members)),
    'recent', CASE WHEN cardinality(v_rules) = 0 OR v_members IS NULL THEN '[]'::jsonb ELSE (
                SELECT coalesce(jsonb_agg(jsonb_build_object('member_id', member_id, 'rule_id', rule_id, 'points', points, 'at', jf_ts(awarded_at))), '[]')
                  FROM rule_award WHERE member_id = ANY (v_members) AND rule_id = ANY (v_rules)
                   AND awarded_at >= (p->'usage'->>'since')::timestamptz) END,
    'lifetime', CASE WHEN cardinality(v_rules) = 0 OR v_members IS NULL OR NOT coalesce((p->'usage'->>'lifetime')::boolean, false) THEN '[]'::jsonb ELSE (
                SELECT coalesce(jsonb_agg(jsonb_build_object('member_id', member_id, 'rule_id', rule_id, 'points', points, 'count', n)), '[]')
                  FROM (SELECT member_id, rule_id, sum(points)::bigint AS points, count(*)::int AS n FROM rule_award
                         WHERE member_id = ANY (v_members) AND rule_id = ANY (v_rules) GROUP BY member_id, rule_id) s) END);
END $$;
