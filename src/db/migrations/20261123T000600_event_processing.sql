-- Event processing: write what the rule engine decided for a batch of events, in one round trip.
--
-- The engine runs in the application (rules.engine.ts) on a snapshot: the members, and what each
-- rule already awarded them (for caps and frequency limits). This function locks the batch's
-- members in id order and checks that snapshot is still true (member_account.award_version); if
-- another writer recorded awards for one of them meanwhile, it raises EVALUATION_STALE and the
-- application evaluates again. Programme-wide budgets are shared by all members, so they are
-- applied here, under the budget row's lock.
--
-- p = {now, program_id, members: [{member_id, award_version}], events: [{id, external_id, type,
--      member_id, occurred_at, data, metadata, activity, skipped,
--      awards: [{rule_id, rule_version, points, pending_days, explanation, budget?}],
--      reversals: [{entry_id, rule_id, points}]}]}
-- Returns the stored result of every event, in order, one row each (a growing jsonb array would be
-- copied on every append).
CREATE FUNCTION events_commit(p jsonb) RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_program text := p->>'program_id';
  m record;
  ev jsonb;
  aw jsonb;
  rv jsonb;
  c jf_member_ctx;
  l lot;
  r jsonb;
  v_points bigint;
  v_limit bigint;
  v_used bigint;
  v_period timestamptz;
  v_expl jsonb;
  v_awards jsonb;
  v_reversals jsonb;
  v_skipped jsonb;
  v_total bigint;
  v_result jsonb;
  v_awarded boolean;
BEGIN
  FOR m IN
    SELECT x->>'member_id' AS member_id, (x->>'award_version')::bigint AS award_version
      FROM jsonb_array_elements(p->'members') x ORDER BY 1
  LOOP
    PERFORM 1 FROM member_account WHERE member_id = m.member_id AND award_version = m.award_version FOR UPDATE;
    IF NOT FOUND THEN
      PERFORM jf_raise('EVALUATION_STALE', jsonb_build_object('member_id', m.member_id));
    END IF;
  END LOOP;

  FOR ev IN SELECT x FROM jsonb_array_elements(p->'events') x LOOP
    c := jf_lock_member(ev->>'member_id', v_now);
    PERFORM jf_require_status(c, true);
    v_awards := '[]';
    v_reversals := '[]';
    v_skipped := coalesce(ev->'skipped', '[]');
    v_total := 0;
    v_awarded := false;

    FOR aw IN SELECT x FROM jsonb_array_elements(ev->'awards') x LOOP
      v_points := (aw->>'points')::bigint;
      v_expl := aw->'explanation';
      IF aw ? 'budget' THEN
        v_period := coalesce((aw->'budget'->>'period_start')::timestamptz, '-infinity'::timestamptz);
        v_limit := (aw->'budget'->>'points')::bigint;
        INSERT INTO rule_budget (rule_id, period_start) VALUES (aw->>'rule_id', v_period) ON CONFLICT DO NOTHING;
        SELECT used INTO v_used FROM rule_budget WHERE rule_id = aw->>'rule_id' AND period_start = v_period FOR UPDATE;
        IF v_used + v_points > v_limit THEN
          v_expl := jsonb_set(v_expl, '{caps}', (v_expl->'caps') || jsonb_build_array(jsonb_build_object(
                      'cap', 'budget', 'limit', v_limit, 'before', v_points, 'after', greatest(v_limit - v_used, 0))));
          v_points := greatest(v_limit - v_used, 0);
          v_expl := jsonb_set(v_expl, '{points}', to_jsonb(v_points));
          v_expl := jsonb_set(v_expl, '{text}', to_jsonb((v_expl->>'text') || ' → ' || v_points || ' (budget ' || v_limit || ')'));
        END IF;
        IF v_points = 0 THEN
          v_skipped := v_skipped || jsonb_build_array(jsonb_build_object('rule_id', aw->>'rule_id', 'reason', 'budget',
                                                                         'detail', 'the programme budget of this rule is used up'));
          CONTINUE;
        END IF;
        UPDATE rule_budget SET used = used + v_points WHERE rule_id = aw->>'rule_id' AND period_start = v_period;
      END IF;

      l := jf_credit_locked(c, jsonb_build_object(
             'points', v_points, 'pending_days', (aw->>'pending_days')::integer, 'reason', v_expl->>'text',
             'reference', ev->>'external_id', 'event_id', ev->>'id', 'actor', 'rules',
             'rule_id', aw->>'rule_id',
             'metadata', jsonb_build_object('rule_id', aw->>'rule_id', 'rule_version', (aw->>'rule_version')::integer)),
           v_now);
      INSERT INTO rule_award (program_id, member_id, rule_id, rule_version, event_id, entry_id, points, awarded_at)
      VALUES (v_program, c.member_id, aw->>'rule_id', (aw->>'rule_version')::integer, ev->>'id', l.entry_id, v_points,
              (ev->>'occurred_at')::timestamptz);
      v_awarded := true;
      v_total := v_total + v_points;
      v_awards := v_awards || jsonb_build_array(jsonb_build_object(
        'rule_id', aw->>'rule_id', 'rule_version', (aw->>'rule_version')::integer, 'points', v_points,
        'entry_id', l.entry_id, 'lot_id', l.id, 'available_at', jf_ts(l.available_at), 'text', v_expl->>'text',
        'explanation', v_expl));
    END LOOP;

    FOR rv IN SELECT x FROM jsonb_array_elements(ev->'reversals') x LOOP
      r := ledger_reverse(jsonb_build_object(
             'now', v_now, 'entry_id', rv->>'entry_id', 'points', (rv->>'points')::bigint,
             'reason', 'refund ' || (ev->'data'->>'order_id'), 'reference', ev->>'external_id', 'event_id', ev->>'id',
             'actor', 'rules'));
      v_total := v_total - (rv->>'points')::bigint;
      v_reversals := v_reversals || jsonb_build_array(jsonb_build_object(
        'entry_id', rv->>'entry_id', 'rule_id', rv->>'rule_id', 'points', (rv->>'points')::bigint,
        'reversal_entry_ids', (SELECT coalesce(jsonb_agg(x->'id'), '[]') FROM jsonb_array_elements(r->'body'->'entries') x)));
    END LOOP;

    -- crediting already recorded the activity on the account row; only lots may need extending
    IF (ev->>'activity')::boolean THEN
      IF v_awarded THEN
        PERFORM jf_extend_lots(c, v_now);
      ELSE
        PERFORM jf_extend_on_activity(c, v_now);
      END IF;
    END IF;
    IF c.debt > 0 OR jsonb_array_length(ev->'reversals') > 0 THEN
      PERFORM jf_settle_debt(c.member_id, v_now);
    END IF;

    v_result := jsonb_build_object(
      'object', 'event', 'id', ev->>'id', 'event_id', ev->>'external_id', 'program_id', v_program, 'type', ev->>'type',
      'member_id', c.member_id, 'occurred_at', jf_ts((ev->>'occurred_at')::timestamptz), 'processed_at', jf_ts(v_now),
      'points', v_total, 'awards', v_awards, 'reversals', v_reversals, 'skipped', v_skipped, 'data', ev->'data');
    INSERT INTO event (id, program_id, external_id, type, member_id, occurred_at, processed_at, data, metadata, points, result)
    VALUES (ev->>'id', v_program, ev->>'external_id', ev->>'type', c.member_id, (ev->>'occurred_at')::timestamptz, v_now,
            ev->'data', coalesce(ev->'metadata', '{}'), v_total, v_result);
    RETURN NEXT v_result;
  END LOOP;
  RETURN;
END $$;
