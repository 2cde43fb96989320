-- Issue 8: no deadlocks between writers that lock several members (item 3), and no instant outside
-- 1970-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z that the API cannot represent (item 2).
--
-- Lock order. Every write path that locks more than one member locks them in one global order —
-- member id, bytewise (member_account.member_id is COLLATE "C") — and all of them before any
-- programme budget row (rule_budget, in (rule, period) order), so two writers can never wait on
-- each other in a cycle:
--   * events_commit locked the batch's members in the order its UPDATE's plan visited the rows (a
--     bitmap heap scan: the rows' physical order, which drifts from id order as rows move); 16
--     batches over the same 4 members deadlocked (40P01). It now locks them first with one
--     `SELECT … ORDER BY member_id FOR UPDATE` (one index scan), together with the members whose
--     credits its refunds reverse (ledger_reverse locks them later: they must be in the same order).
--   * events_reserve_budgets (called before events_commit in the same transaction) locked budget
--     rows first, while a batch retried under lock (ingest-events, lockAccounts) locked members first
--     and then budgets: it now locks the batch's members (and refunds' members) before its budgets.
--   * events_commit inserts a batch's events in external id order: two batches that carry the same
--     event id for different members wait on the unique key in one order (the second gets a unique
--     violation and replays the first), instead of deadlocking.
--   * ledger_transfer compared the two ids under the database's collation: now bytewise, the
--     order of the key column itself.
--   The sweep and the hold timeout job take members with SKIP LOCKED (never wait for a member), in
--   id order; every other ledger write locks one member.
--
-- Instants. What the API is given is validated after normalising to UTC (src/shared/formats.ts);
-- what is computed is clamped to 9999-12-31T23:59:59.999Z (jf_ts_max): expiry by policy and its
-- hard cap, the end of a pending period, a hold's deadline. jf_ts returns every stored value inside
-- the API's range, so a timestamp a response carries always matches its declared date-time format
-- (a value outside it, possibly stored before this migration, is shown at the nearest bound).

-- The latest instant the API represents (RFC 3339 has four-digit years).
CREATE FUNCTION jf_ts_max() RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '9999-12-31 23:59:59.999+00'::timestamptz
$$;

-- ISO 8601 in UTC with milliseconds, the one timestamp format of the API, always within
-- 1970-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z (NULL stays NULL). STABLE like to_char.
CREATE OR REPLACE FUNCTION jf_ts(p_t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(CASE WHEN p_t < '1970-01-01 00:00:00+00'::timestamptz THEN '1970-01-01 00:00:00+00'::timestamptz
                      WHEN p_t > '9999-12-31 23:59:59.999+00'::timestamptz THEN '9999-12-31 23:59:59.999+00'::timestamptz
                      ELSE p_t END AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Expiry policy arithmetic, in the programme's time zone; at most jf_ts_max().
CREATE OR REPLACE FUNCTION jf_policy_expiry(p_policy jsonb, p_tz text, p_earned timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_unit text;
  v_step interval;
BEGIN
  CASE p_policy->>'type'
    WHEN 'never' THEN
      RETURN NULL;
    WHEN 'rolling', 'activity_extended' THEN
      RETURN LEAST(((p_earned AT TIME ZONE p_tz) + make_interval(months => (p_policy->>'months')::integer)) AT TIME ZONE p_tz, jf_ts_max());
    WHEN 'end_of_period' THEN
      v_unit := p_policy->>'unit';
      v_step := CASE v_unit WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months'
                            ELSE interval '1 year' END;
      RETURN LEAST((date_trunc(v_unit, p_earned AT TIME ZONE p_tz)
                    + v_step * (coalesce((p_policy->>'offset')::integer, 0) + 1)) AT TIME ZONE p_tz, jf_ts_max());
    ELSE
      PERFORM jf_raise('INVALID_EXPIRY_POLICY', jsonb_build_object('policy', p_policy));
  END CASE;
END $$;

CREATE OR REPLACE FUNCTION jf_policy_cap(p_policy jsonb, p_tz text, p_earned timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_policy->>'type' = 'activity_extended' AND p_policy ? 'hard_cap_months'
              THEN LEAST(((p_earned AT TIME ZONE p_tz) + make_interval(months => (p_policy->>'hard_cap_months')::integer)) AT TIME ZONE p_tz, jf_ts_max())
         END
$$;

-- Credit a member whose row the caller has locked (as before); the end of the pending period is at
-- most jf_ts_max().
CREATE OR REPLACE FUNCTION jf_credit_locked(c jf_member_ctx, p jsonb, p_now timestamptz) RETURNS lot LANGUAGE plpgsql AS $$
DECLARE
  v_points bigint := (p->>'points')::bigint;
  v_lot text := jf_id('lot');
  v_available timestamptz;
  v_expires timestamptz;
  e ledger_entry;
BEGIN
  v_available := coalesce((p->>'available_at')::timestamptz,
                          LEAST(p_now + make_interval(days => coalesce((p->>'pending_days')::integer, c.pending_days)), jf_ts_max()));
  v_expires := CASE WHEN p ? 'expires_at' THEN (p->>'expires_at')::timestamptz
                    ELSE jf_policy_expiry(c.expiry_policy, c.time_zone, p_now) END;
  IF v_expires IS NOT NULL AND v_expires <= greatest(p_now, v_available) THEN
    PERFORM jf_raise('INVALID_EXPIRY', jsonb_build_object('field', 'expires_at', 'expires_at', jf_ts(v_expires),
                                                          'available_at', jf_ts(v_available)));
  END IF;
  e := jf_post(c.program_id, c.member_id, coalesce(p->>'txn_id', jf_id('txn')), 'earn', 'issued', 'member', v_points, p_now, p, v_lot);
  -- earning is activity; a rule award also tells concurrent evaluations their snapshot is stale
  UPDATE member_account SET balance = balance + v_points, lifetime_earned = lifetime_earned + v_points,
                            last_activity_at = p_now, award_version = award_version + (p ? 'rule_id')::integer,
                            updated_at = p_now
   WHERE member_id = c.member_id;
  RETURN jf_new_lot(v_lot, c, e.id, v_points, p_now, v_available, v_expires,
                    CASE WHEN p ? 'expires_at' THEN NULL ELSE jf_policy_cap(c.expiry_policy, c.time_zone, p_now) END);
END $$;

-- Hold (as before); its deadline is at most jf_ts_max().
CREATE OR REPLACE FUNCTION ledger_hold(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_points bigint := (p->>'points')::bigint;
  v_hold text := jf_id('hld');
  r jsonb;
  c jf_member_ctx;
  e ledger_entry;
  h hold;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  c := jf_lock_member(p->>'member_id', v_now);
  PERFORM jf_require_status(c, false);
  PERFORM jf_insufficient(c, v_points, v_now);
  INSERT INTO hold (id, program_id, member_id, amount, status, reference, description, metadata, created_at, expires_at)
  VALUES (v_hold, c.program_id, c.member_id, v_points, 'open', p->>'reference', p->>'reason',
          coalesce(p->'metadata', '{}'), v_now,
          LEAST(v_now + make_interval(secs => coalesce((p->>'expires_in_seconds')::integer, c.hold_timeout_seconds)), jf_ts_max()))
  RETURNING * INTO h;
  INSERT INTO hold_allocation (hold_id, lot_id, amount)
  SELECT v_hold, t.lot_id, t.take FROM jf_take_lots(c.member_id, v_points, v_now) t;
  UPDATE lot SET remaining = lot.remaining - ha.amount, held = lot.held + ha.amount
    FROM hold_allocation ha WHERE ha.hold_id = v_hold AND lot.id = ha.lot_id;
  e := jf_post(c.program_id, c.member_id, jf_id('txn'), 'hold', 'member', 'member_held', v_points, v_now, p, NULL, v_hold);
  UPDATE member_account SET balance = balance - v_points, held = held + v_points, updated_at = v_now
   WHERE member_id = c.member_id;
  RETURN jf_idem_store(p, jsonb_build_object('status', 201, 'body', jsonb_build_object(
    'hold', jf_hold_json(h, v_now), 'entry', jf_entry_json(e), 'balance', jf_balance(c.member_id, v_now))));
END $$;

-- Transfer (as before); the two members are locked in bytewise id order, the order of every other
-- path (the comparison was under the database's collation).
CREATE OR REPLACE FUNCTION ledger_transfer(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_points bigint := (p->>'points')::bigint;
  v_from text := p->>'from_member_id';
  v_to text := p->>'to_member_id';
  v_txn text := jf_id('txn');
  r jsonb;
  c_from jf_member_ctx;
  c_to jf_member_ctx;
  e_out ledger_entry;
  e_in ledger_entry;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  IF v_from = v_to THEN
    PERFORM jf_raise('TRANSFER_TO_SELF', jsonb_build_object('field', 'to_member_id'));
  END IF;
  -- lock both members in id order so that opposite transfers cannot deadlock
  IF v_from COLLATE "C" < v_to COLLATE "C" THEN
    c_from := jf_lock_member(v_from, v_now);
    c_to := jf_lock_member(v_to, v_now);
  ELSE
    c_to := jf_lock_member(v_to, v_now);
    c_from := jf_lock_member(v_from, v_now);
  END IF;
  IF c_from.program_id <> c_to.program_id THEN
    PERFORM jf_raise('TRANSFER_ACROSS_PROGRAMS', jsonb_build_object('field', 'to_member_id'));
  END IF;
  PERFORM jf_require_status(c_from, false);
  PERFORM jf_require_status(c_to, true);
  PERFORM jf_insufficient(c_from, v_points, v_now);
  e_out := jf_post(c_from.program_id, v_from, v_txn, 'transfer_out', 'member', 'transfer', v_points, v_now, p,
                   NULL, NULL, NULL, v_to);
  e_in := jf_post(c_to.program_id, v_to, v_txn, 'transfer_in', 'transfer', 'member', v_points, v_now, p,
                  NULL, NULL, NULL, v_from);
  WITH t AS (
    SELECT * FROM jf_take_lots(v_from, v_points, v_now)
  ), u AS (
    UPDATE lot SET remaining = lot.remaining - t.take, spent = lot.spent + t.take FROM t WHERE lot.id = t.lot_id
  )
  INSERT INTO lot (id, program_id, member_id, entry_id, amount, remaining, earned_at, available_at, expires_at, expiry_cap)
  SELECT jf_id('lot'), c_to.program_id, v_to, e_in.id, t.take, t.take, v_now, v_now, t.expires_at, t.expiry_cap FROM t;
  UPDATE member_account SET balance = balance - v_points, updated_at = v_now WHERE member_id = v_from;
  UPDATE member_account SET balance = balance + v_points, updated_at = v_now WHERE member_id = v_to;
  PERFORM jf_settle_debt(v_to, v_now);
  RETURN jf_idem_store(p, jsonb_build_object('status', 201, 'body', jsonb_build_object(
    'object', 'transfer', 'id', v_txn, 'from_member_id', v_from, 'to_member_id', v_to, 'points', v_points,
    'entries', jsonb_build_array(jf_entry_json(e_out), jf_entry_json(e_in)),
    'from_balance', jf_balance(v_from, v_now), 'to_balance', jf_balance(v_to, v_now))));
END $$;

-- Programme budgets (as before), after the members: p.members (the batch's member ids) and
-- p.reversal_entries (the credits its refunds reverse; their members) are locked first, in id order,
-- as events_commit locks them; then the budget rows in (rule, period) order.
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

-- Write a batch of events (as in 20261124T000800_event_outcome.sql), with the members locked first
-- in id order (with the members of the credits its refunds reverse), the pending periods' ends at
-- most jf_ts_max(), and the events inserted in external id order.
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
  rv record;
  r jsonb;
BEGIN
  -- 0. first the members, in id order: every member this batch writes for, its own and those whose
  --    credits its refunds reverse (ledger_reverse below). Every writer locks members in this order
  --    and before anything else (programme budgets, the rules' advisory lock); an UPDATE's plan
  --    would visit them in their physical order.
  v_members := ARRAY(SELECT jsonb_object_keys(v_m));
  v_lock := v_members;
  IF jsonb_array_length(p->'reversals') > 0 THEN
    v_lock := v_lock || ARRAY(SELECT e.member_id FROM ledger_entry e
                               WHERE e.id = ANY (ARRAY(SELECT x->>'entry_id' FROM jsonb_array_elements(p->'reversals') x)));
  END IF;
  PERFORM 1 FROM member_account a WHERE a.member_id = ANY (v_lock) ORDER BY a.member_id FOR UPDATE;

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
      AS x(id, external_id, type, member_id, occurred_at, data, metadata, points, result, n)
   ORDER BY x.external_id COLLATE "C";
  RETURN QUERY SELECT k::integer, v FROM jsonb_each(v_reversals) AS e(k, v);
END $$;
