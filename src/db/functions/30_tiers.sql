-- Tiers (tiers module, docs/tiers.md): the date arithmetic of windows and validity, the review,
-- at-risk warnings, the end of overrides and the benefits granted by jobs. Every date is a
-- program-local calendar day; a range is [start, end). Ingestion's upgrades are written by
-- events_commit (20_events.sql) with these helpers.

-- Retired signature: tiers_review took no cursor (it scanned the due members from the first each batch).
DROP FUNCTION IF EXISTS tiers_review(timestamptz, integer, integer, integer);

-- The qualifying window that holds local day d. anchor: the member's first local day
-- (membership_year). A membership year starting on 29 February starts on 28 February in other years
-- (PostgreSQL's date + interval).
CREATE OR REPLACE FUNCTION jf_tier_window(w jsonb, p_anchor date, d date) RETURNS daterange
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  k integer;
  s date;
BEGIN
  CASE w->>'type'
    WHEN 'calendar_year' THEN
      s := date_trunc('year', d)::date;
      RETURN daterange(s, (s + interval '1 year')::date);
    WHEN 'rolling_months' THEN
      RETURN daterange((d - make_interval(months => (w->>'months')::integer))::date + 1, d + 1);
    WHEN 'membership_year' THEN
      k := extract(year FROM d)::integer - extract(year FROM p_anchor)::integer;
      IF (p_anchor + make_interval(years => k))::date > d THEN
        k := k - 1;
      END IF;
      RETURN daterange((p_anchor + make_interval(years => k))::date, (p_anchor + make_interval(years => k + 1))::date);
  END CASE;
  RAISE EXCEPTION 'unknown qualifying window %', w;
END $$;

-- A local day's midnight as an instant.
CREATE OR REPLACE FUNCTION jf_local_midnight(d date, p_tz text) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT d::timestamp AT TIME ZONE p_tz
$$;

-- Until when a status reached on local day dq lasts (exclusive instant).
--   months          dq + months
--   period_and_next the end of the window after the one holding dq
--   until_date      the day after month/day of (the year the window holding dq starts in) + years
--                   (a day past the month's end is its last day)
CREATE OR REPLACE FUNCTION jf_tier_valid_until(v jsonb, w jsonb, p_anchor date, dq date, p_tz text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  cur daterange := jf_tier_window(w, p_anchor, dq);
  y integer;
  m integer;
  first date;
BEGIN
  CASE v->>'type'
    WHEN 'months' THEN
      RETURN jf_local_midnight((dq + make_interval(months => (v->>'months')::integer))::date, p_tz);
    WHEN 'period_and_next' THEN
      RETURN jf_local_midnight(upper(jf_tier_window(w, p_anchor, upper(cur))), p_tz);
    WHEN 'until_date' THEN
      y := extract(year FROM lower(cur))::integer + (v->>'years')::integer;
      m := (v->>'month')::integer;
      first := make_date(y, m, 1);
      RETURN jf_local_midnight(LEAST(first + ((v->>'day')::integer - 1), (first + interval '1 month')::date - 1) + 1, p_tz);
  END CASE;
  RAISE EXCEPTION 'unknown validity %', v;
END $$;

-- The days a review counts, for a status valid until local day vu (exclusive) and reviewed on local
-- day rv (vu + grace days): a rolling window is the months up to rv; a calendar or membership
-- window is the last whole window that ended by vu, plus the grace days [vu, rv).
-- Returns the main range; the grace range is [vu, rv) for windows that are not rolling.
CREATE OR REPLACE FUNCTION jf_tier_review_window(w jsonb, p_anchor date, vu date, rv date) RETURNS daterange
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  c daterange;
BEGIN
  IF w->>'type' = 'rolling_months' THEN
    -- the months up to the review day: (rv − months, rv], so the day a status was reached (rv −
    -- months, with validity `months` and no grace) counted for reaching it, not again for keeping it
    RETURN jf_tier_window(w, p_anchor, rv);
  END IF;
  c := jf_tier_window(w, p_anchor, vu - 1);
  IF upper(c) > vu THEN
    c := jf_tier_window(w, p_anchor, lower(c) - 1);
  END IF;
  RETURN c;
END $$;

-- A member's metric over [lower(r), upper(r)).
-- PL/pgSQL, so that its plan is kept for the session when it is called once per member.
CREATE OR REPLACE FUNCTION jf_tier_metric(p_member text, p_metric text, r daterange) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(sum(CASE p_metric WHEN 'spend' THEN a.spend WHEN 'points' THEN a.points ELSE a.orders END), 0)::bigint
            FROM tier_activity a WHERE a.member_id = p_member AND a.day >= lower(r) AND a.day < upper(r));
END $$;

-- What a review counts for a member: the review window's metric, with the grace days.
CREATE OR REPLACE FUNCTION jf_tier_review_metric(p_member text, l tier_ladder, p_anchor date, vu date, rv date) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT jf_tier_metric(p_member, l.metric, jf_tier_review_window(l.qualifying_window, p_anchor, vu, rv))
       + CASE WHEN l.qualifying_window->>'type' <> 'rolling_months' AND rv > vu
              THEN jf_tier_metric(p_member, l.metric, daterange(vu, rv)) ELSE 0 END
$$;

-- A tier's rank in a ladder (0 = base), null when the ladder has no such tier.
CREATE OR REPLACE FUNCTION jf_tier_rank(l tier_ladder, p_code text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT (t.n - 1)::integer FROM jsonb_array_elements(l.tiers) WITH ORDINALITY AS t(tier, n) WHERE t.tier->>'code' = p_code
$$;

CREATE OR REPLACE FUNCTION jf_tier_code(l tier_ladder, p_rank integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT l.tiers->p_rank->>'code'
$$;

-- The member's first local day (membership years start on its anniversaries).
CREATE OR REPLACE FUNCTION jf_member_anchor(p_member text, p_tz text) RETURNS date LANGUAGE sql STABLE AS $$
  SELECT (m.created_at AT TIME ZONE p_tz)::date FROM member m WHERE m.id = p_member
$$;

-- Sets member.tier to the effective tier (the earned one, or an active override above it) and
-- tells concurrent evaluations their snapshot is stale (award_version). The caller holds the lock.
CREATE OR REPLACE FUNCTION jf_tier_apply(p_member text, p_now timestamptz) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_code text;
BEGIN
  SELECT CASE WHEN mt.override_tier IS NOT NULL AND mt.override_until > p_now
                   AND coalesce(jf_tier_rank(l, mt.override_tier), -1) > coalesce(jf_tier_rank(l, mt.tier), 0)
              THEN mt.override_tier ELSE mt.tier END
    INTO v_code
    FROM member_tier mt JOIN tier_ladder l ON l.program_id = mt.program_id WHERE mt.member_id = p_member;
  IF FOUND THEN
    UPDATE member SET tier = v_code WHERE id = p_member AND tier IS DISTINCT FROM v_code;
    UPDATE member_account SET award_version = award_version + 1 WHERE member_id = p_member;
  END IF;
  RETURN v_code;
END $$;

-- tiers_review's batch (its temporary table jf_trb): the next p_limit members of part p_part whose
-- review is due, after the cursor, in (review_at, member_id) order — read by that index. The
-- planner cannot know that the part's filter keeps one member in p_parts (it guesses one in 200),
-- so it read the whole of member_tier and sorted it for every batch, the more so the more members
-- were due; the index is the only plan here (enable_seqscan off, for this statement only).
-- That guess also made the plan look expensive enough for PostgreSQL's JIT: 10.7 ms of compiling
-- in a 21 ms statement, in every batch (auto_explain, a million members due). jit is off here and
-- in tiers_review: their statements are short and run thousands of times.
CREATE OR REPLACE FUNCTION jf_tier_review_candidates(p_now timestamptz, p_limit integer, p_part integer, p_parts integer,
                                                     p_after_at timestamptz, p_after_id text) RETURNS integer LANGUAGE plpgsql
SET enable_seqscan = off SET enable_mergejoin = off SET enable_hashjoin = off SET jit = off
AS $$
DECLARE
  v_n integer;
BEGIN
  INSERT INTO jf_trb (member_id, program_id, tier, anchor, vu, rv, review_at, override_tier, override_until)
  SELECT mt.member_id, mt.program_id, mt.tier,
         CASE WHEN l.qualifying_window->>'type' = 'membership_year'
              THEN (SELECT (m.created_at AT TIME ZONE pr.time_zone)::date FROM member m WHERE m.id = mt.member_id) ELSE DATE '2000-01-01' END,
         (mt.valid_until AT TIME ZONE pr.time_zone)::date, (mt.review_at AT TIME ZONE pr.time_zone)::date, mt.review_at,
         mt.override_tier, mt.override_until
    FROM member_tier mt
    JOIN tier_ladder l ON l.program_id = mt.program_id
    JOIN program pr ON pr.id = mt.program_id
   WHERE mt.review_at <= p_now AND (p_parts = 1 OR abs(hashtext(mt.member_id)) % p_parts = p_part)
     AND (p_after_at IS NULL OR (mt.review_at, mt.member_id) > (p_after_at, p_after_id))
   ORDER BY mt.review_at, mt.member_id
   LIMIT p_limit;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END $$;

-- The review, for at most p_limit members whose review is due (review_at <= now), in one
-- transaction: each member's metric over its review window decides, by the ladder's policy,
-- whether it keeps its tier (renewed: tier.renewed) or goes down (tier.downgraded: one_step at most
-- one tier, requalify to the tier the metric keeps, never not at all). Members locked by another
-- writer are skipped (SKIP LOCKED) and come in a later run. A kept or lower non-base tier gets a new
-- validity as if reached on the last day of the review window (months: from the old valid_until).
-- p_part of p_parts: only members whose id hashes to this part, so that several connections review
-- side by side without meeting (the job runs one per core).
-- Set-based: the members of the batch, the ladders' tiers and the distinct review windows (with
-- the validity each gives) go into temporary tables — a batch of members due on one day has one
-- window per program — and one statement decides every member (its metric an index range of
-- tier_activity), so each row is written once.
-- A run walks the due members with a cursor: (p_after_at, p_after_id), the last candidate of its
-- previous batch (null: from the first). Without it every batch scanned the index from the first
-- due member, past the entries of every member reviewed before it (their old review_at stays in
-- the index until vacuum), so a run's n-th batch read n batches' worth: a review of a million members
-- slowed down batch after batch. A member skipped in a run (locked, changed meanwhile) is still due
-- and comes in the next run, which starts from the first again.
-- Returns {candidates, reviewed, downgraded, renewed, last_at, last_id}.
CREATE OR REPLACE FUNCTION tiers_review(p_now timestamptz, p_limit integer, p_part integer DEFAULT 0, p_parts integer DEFAULT 1,
                                        p_after_at timestamptz DEFAULT NULL, p_after_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql
-- nested loops: the batch's members looked up by key, never a merge or hash join with the whole
-- member, member_tier or member_account table. The planner chose those, and a merge join reads the
-- big table's keys from the first up to the batch's last (the n-th batch reads n batches' worth: a
-- review of a million members due at once read about 100 times as many keys as it has members);
-- a hash join reads the whole table for every batch. Every join below is by a key. No JIT (see
-- jf_tier_review_candidates).
SET enable_mergejoin = off SET enable_hashjoin = off SET jit = off
AS $$
DECLARE
  v_reviewed integer;
  v_candidates integer;
  v_down integer;
  v_last_at timestamptz;
  v_last_id text;
BEGIN
  -- the batch: anchor is the member's first local day for membership-year windows, else a constant
  CREATE TEMP TABLE IF NOT EXISTS jf_trb (
    member_id text COLLATE "C" PRIMARY KEY, program_id text COLLATE "C" NOT NULL, tier text NOT NULL, anchor date NOT NULL,
    vu date NOT NULL, rv date NOT NULL, review_at timestamptz NOT NULL, override_tier text, override_until timestamptz) ON COMMIT DELETE ROWS;
  -- the ladders' tiers, by rank
  CREATE TEMP TABLE IF NOT EXISTS jf_trl (
    program_id text COLLATE "C" NOT NULL, rank integer NOT NULL, code text NOT NULL, entry bigint NOT NULL, retention bigint NOT NULL,
    PRIMARY KEY (program_id, code)) ON COMMIT DELETE ROWS;
  -- the distinct review windows: [ws, we), the grace days [gs, ge), and the validity a tier kept at them gets
  CREATE TEMP TABLE IF NOT EXISTS jf_trw (
    program_id text COLLATE "C" NOT NULL, anchor date NOT NULL, vu date NOT NULL, rv date NOT NULL,
    ws date NOT NULL, we date NOT NULL, gs date NOT NULL, ge date NOT NULL, until timestamptz, grace_days integer) ON COMMIT DELETE ROWS;
  -- the decisions
  CREATE TEMP TABLE IF NOT EXISTS jf_trd (
    member_id text COLLATE "C" PRIMARY KEY, program_id text COLLATE "C" NOT NULL, from_code text, to_code text NOT NULL,
    from_rank integer NOT NULL, to_rank integer NOT NULL, value bigint NOT NULL, threshold bigint NOT NULL,
    valid_until timestamptz, review_at timestamptz, old_review_at timestamptz NOT NULL, override_tier text, override_until timestamptz)
    ON COMMIT DELETE ROWS;
  -- empty, unless an earlier call in this transaction filled them: the commit empties them in place,
  -- where a TRUNCATE at the end of every batch gave each of the tables and indexes a new file
  -- (5 ms a batch, and every cached plan of the function replanned)
  IF EXISTS (SELECT FROM jf_trb) THEN
    TRUNCATE jf_trb, jf_trl, jf_trw, jf_trd;
  END IF;

  -- the candidates, read without a lock: a member who keeps its tier needs none (its member_tier
  -- row is updated only if it still is what was read, below); one whose tier changes has its
  -- account locked first, as every writer of a member's tier does
  v_candidates := jf_tier_review_candidates(p_now, p_limit, p_part, p_parts, p_after_at, p_after_id);
  IF v_candidates = 0 THEN
    RETURN jsonb_build_object('candidates', 0, 'reviewed', 0, 'downgraded', 0, 'renewed', 0, 'last_at', NULL, 'last_id', NULL);
  END IF;
  SELECT b.review_at, b.member_id INTO v_last_at, v_last_id FROM jf_trb b ORDER BY b.review_at DESC, b.member_id DESC LIMIT 1;
  -- its size for the planner (one column: the statistics of all of them cost 3.5 ms a batch)
  ANALYZE jf_trb (member_id);

  INSERT INTO jf_trl (program_id, rank, code, entry, retention)
  SELECT l.program_id, (t.n - 1)::integer, t.tier->>'code', (t.tier->>'entry')::bigint,
         coalesce((t.tier->>'retention')::bigint, (t.tier->>'entry')::bigint)
    FROM tier_ladder l CROSS JOIN LATERAL jsonb_array_elements(l.tiers) WITH ORDINALITY AS t(tier, n)
   WHERE l.program_id IN (SELECT DISTINCT program_id FROM jf_trb);

  INSERT INTO jf_trw (program_id, anchor, vu, rv, ws, we, gs, ge, until, grace_days)
  SELECT k.program_id, k.anchor, k.vu, k.rv, lower(w.r), upper(w.r),
         CASE WHEN w.rolling THEN k.rv ELSE k.vu END, k.rv,
         CASE WHEN l.validity->>'type' = 'months'
              THEN jf_local_midnight((k.vu + make_interval(months => (l.validity->>'months')::integer))::date, pr.time_zone)
              ELSE jf_tier_valid_until(l.validity, l.qualifying_window, k.anchor, upper(w.r) - 1, pr.time_zone) END,
         l.grace_days
    FROM (SELECT DISTINCT program_id, anchor, vu, rv FROM jf_trb) k
    JOIN tier_ladder l ON l.program_id = k.program_id
    JOIN program pr ON pr.id = k.program_id
   CROSS JOIN LATERAL (SELECT jf_tier_review_window(l.qualifying_window, k.anchor, k.vu, k.rv) AS r,
                              l.qualifying_window->>'type' = 'rolling_months' AS rolling) w;

  -- every decision in one statement: the metric over the review window and the grace days, the
  -- tier it keeps (q: the highest whose retention it reaches), the policy, the new validity
  INSERT INTO jf_trd (member_id, program_id, from_code, to_code, from_rank, to_rank, value, threshold, valid_until, review_at, old_review_at,
                      override_tier, override_until)
  SELECT d.member_id, d.program_id, d.tier, t.code, d.from_rank, d.to_rank, d.value, d.threshold,
         CASE WHEN d.to_rank > 0 THEN d.until END,
         CASE WHEN d.to_rank > 0 THEN d.until + make_interval(days => d.grace_days) END, d.review_at, d.override_tier, d.override_until
    FROM (SELECT b.member_id, b.program_id, b.tier, b.review_at, b.override_tier, b.override_until, v.value, w.until, w.grace_days,
                 coalesce(cur.rank, q.rank) AS from_rank, coalesce(cur.retention, 0) AS threshold,
                 CASE WHEN cur.rank IS NULL THEN q.rank
                      WHEN v.value >= cur.retention OR l.downgrade_policy = 'never' THEN cur.rank
                      WHEN l.downgrade_policy = 'one_step' THEN greatest(cur.rank - 1, LEAST(q.rank, cur.rank))
                      ELSE LEAST(q.rank, cur.rank) END AS to_rank
            FROM jf_trb b
            JOIN jf_trw w ON w.program_id = b.program_id AND w.anchor = b.anchor AND w.vu = b.vu AND w.rv = b.rv
            JOIN tier_ladder l ON l.program_id = b.program_id
            LEFT JOIN jf_trl cur ON cur.program_id = b.program_id AND cur.code = b.tier
           -- one range of the member's days covering both (an OR of the two was two bitmap index scans a member)
           CROSS JOIN LATERAL (SELECT coalesce(sum(CASE l.metric WHEN 'spend' THEN a.spend WHEN 'points' THEN a.points ELSE a.orders END), 0)::bigint AS value
                                 FROM tier_activity a
                                WHERE a.member_id = b.member_id
                                  AND a.day >= LEAST(w.ws, w.gs) AND a.day < GREATEST(w.we, w.ge)
                                  AND ((a.day >= w.ws AND a.day < w.we) OR (a.day >= w.gs AND a.day < w.ge))) v
           CROSS JOIN LATERAL (SELECT coalesce(max(x.rank), 0) AS rank FROM jf_trl x
                                WHERE x.program_id = b.program_id AND v.value >= x.retention) q) d
    JOIN jf_trl t ON t.program_id = d.program_id AND t.rank = d.to_rank;
  -- a member whose tier changes: its account locked first (in id order, SKIP LOCKED: one another
  -- writer holds is left to a later run); the others are not reviewed now
  DELETE FROM jf_trd d
   WHERE d.to_rank <> d.from_rank
     AND d.member_id NOT IN (SELECT a.member_id FROM member_account a
                              WHERE a.member_id IN (SELECT x.member_id FROM jf_trd x WHERE x.to_rank <> x.from_rank)
                              ORDER BY a.member_id
                                FOR UPDATE SKIP LOCKED);
  -- its size, so that the writes below reach member_tier, member and member_account by their keys
  ANALYZE jf_trd (member_id);

  -- only if the status is still what was read, override included (another writer — an upgrade, an
  -- override, another reviewer — may have changed it since: then this review of the member is
  -- dropped, and the member is reviewed again if still due)
  WITH done AS (
    UPDATE member_tier mt
       SET tier = d.to_code,
           since = CASE WHEN d.to_rank <> d.from_rank THEN p_now ELSE mt.since END,
           valid_until = d.valid_until, review_at = d.review_at, at_risk_for = NULL, updated_at = p_now
      FROM jf_trd d
     WHERE mt.member_id = d.member_id AND mt.tier = d.from_code AND mt.review_at = d.old_review_at
       AND mt.override_tier IS NOT DISTINCT FROM d.override_tier AND mt.override_until IS NOT DISTINCT FROM d.override_until
    RETURNING mt.member_id
  )
  -- (NOT IN: a hashed subplan; almost always every decision was applied and nothing is deleted)
  DELETE FROM jf_trd d WHERE d.member_id NOT IN (SELECT done.member_id FROM done);
  SELECT count(*), count(*) FILTER (WHERE to_rank < from_rank) INTO v_reviewed, v_down FROM jf_trd;

  INSERT INTO tier_history (id, program_id, member_id, type, at, from_tier, to_tier, reason, actor, payload)
  SELECT jf_id('tch'), d.program_id, d.member_id,
         CASE WHEN d.to_rank < d.from_rank THEN 'tier.downgraded' ELSE 'tier.renewed' END,
         p_now, d.from_code, d.to_code,
         CASE WHEN d.to_rank < d.from_rank THEN 'review: below retention' ELSE 'review: kept' END, 'tiers',
         -- written out and parsed: half the cost of jsonb_build_object for each of a million rows
         (l.head || d.value || ',"threshold":' || d.threshold || ',"valid_until":'
                 || coalesce('"' || jf_ts(d.valid_until) || '"', 'null') || '}')::jsonb
    FROM jf_trd d
    JOIN (SELECT x.program_id, '{"metric":' || to_json(x.metric) || ',"policy":' || to_json(x.downgrade_policy) || ',"value":' AS head
            FROM tier_ladder x) l ON l.program_id = d.program_id;

  -- the effective tier (an override in force may still hold it up), and the evaluations' staleness
  UPDATE member m SET tier = e.code
    FROM (SELECT d.member_id,
                 CASE WHEN d.override_tier IS NOT NULL AND d.override_until > p_now AND o.rank > d.to_rank
                      THEN d.override_tier ELSE d.to_code END AS code
            FROM jf_trd d
            LEFT JOIN jf_trl o ON o.program_id = d.program_id AND o.code = d.override_tier
           WHERE d.to_rank <> d.from_rank OR d.override_tier IS NOT NULL) e
   WHERE m.id = e.member_id AND m.tier IS DISTINCT FROM e.code;
  UPDATE member_account a SET award_version = a.award_version + 1
    FROM jf_trd d WHERE a.member_id = d.member_id AND d.to_rank <> d.from_rank;
  RETURN jsonb_build_object('candidates', v_candidates, 'reviewed', v_reviewed, 'downgraded', v_down, 'renewed', v_reviewed - v_down,
                            'last_at', to_jsonb(v_last_at), 'last_id', v_last_id);
END $$;

-- tier.at_risk, once per review: members whose review is within 30 days and whose review metric so
-- far is below retention. At most p_limit members a call; each one looked at is marked for its
-- review (at_risk_for), flagged or not. Returns {looked, flagged}.
CREATE OR REPLACE FUNCTION tiers_at_risk(p_now timestamptz, p_limit integer) RETURNS jsonb LANGUAGE plpgsql
-- nested loops by key, as tiers_review (above) says why
SET enable_mergejoin = off SET enable_hashjoin = off
AS $$
DECLARE
  v_looked integer;
  v_flagged integer;
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS jf_tier_risk_batch (member_id text COLLATE "C" PRIMARY KEY, program_id text, tier text,
    review_at timestamptz, metric text, value bigint, threshold bigint) ON COMMIT DELETE ROWS;
  INSERT INTO jf_tier_risk_batch
  SELECT d.member_id, d.program_id, d.tier, d.review_at, (d.ladder).metric,
         jf_tier_review_metric(d.member_id, d.ladder, d.anchor, (d.valid_until AT TIME ZONE d.tz)::date, (d.review_at AT TIME ZONE d.tz)::date),
         coalesce(((d.ladder).tiers->jf_tier_rank(d.ladder, d.tier)->>'retention')::bigint,
                  ((d.ladder).tiers->jf_tier_rank(d.ladder, d.tier)->>'entry')::bigint)
    FROM (SELECT mt.member_id, mt.program_id, mt.tier, mt.valid_until, mt.review_at, l AS ladder, pr.time_zone AS tz,
                 (m.created_at AT TIME ZONE pr.time_zone)::date AS anchor
            FROM member_tier mt JOIN member m ON m.id = mt.member_id
            JOIN tier_ladder l ON l.program_id = mt.program_id JOIN program pr ON pr.id = mt.program_id
           WHERE mt.review_at > p_now AND mt.review_at <= p_now + interval '30 days'
             AND mt.at_risk_for IS DISTINCT FROM mt.review_at AND l.downgrade_policy <> 'never'
           ORDER BY mt.review_at, mt.member_id
           LIMIT p_limit) d;
  GET DIAGNOSTICS v_looked = ROW_COUNT;
  UPDATE member_tier mt SET at_risk_for = b.review_at FROM jf_tier_risk_batch b WHERE mt.member_id = b.member_id;
  INSERT INTO tier_history (id, program_id, member_id, type, at, from_tier, to_tier, reason, actor, payload)
  SELECT jf_id('tch'), b.program_id, b.member_id, 'tier.at_risk', p_now, b.tier, NULL,
         'review within 30 days, below retention', 'tiers',
         jsonb_build_object('metric', b.metric, 'value', b.value, 'threshold', b.threshold,
                            'needed', b.threshold - b.value, 'review_at', jf_ts(b.review_at))
    FROM jf_tier_risk_batch b WHERE b.value < b.threshold;
  GET DIAGNOSTICS v_flagged = ROW_COUNT;
  TRUNCATE jf_tier_risk_batch;
  RETURN jsonb_build_object('looked', v_looked, 'flagged', v_flagged);
END $$;

-- Overrides whose end has come: cleared (tier.override_ended), the member back at its earned tier.
CREATE OR REPLACE FUNCTION tiers_end_overrides(p_now timestamptz, p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_member text;
  v_n integer := 0;
  mt member_tier;
BEGIN
  FOR v_member IN
    SELECT a.member_id FROM member_account a
     WHERE a.member_id IN (SELECT x.member_id FROM member_tier x WHERE x.override_until <= p_now
                            ORDER BY x.override_until, x.member_id LIMIT p_limit)
     ORDER BY a.member_id
       FOR UPDATE SKIP LOCKED
  LOOP
    SELECT * INTO mt FROM member_tier WHERE member_id = v_member;
    CONTINUE WHEN mt.override_until IS NULL OR mt.override_until > p_now;
    UPDATE member_tier SET override_tier = NULL, override_until = NULL, override_reason = NULL, override_by = NULL, updated_at = p_now
     WHERE member_id = v_member;
    INSERT INTO tier_history (id, program_id, member_id, type, at, from_tier, to_tier, reason, actor, payload)
    VALUES (jf_id('tch'), mt.program_id, v_member, 'tier.override_ended', p_now, mt.override_tier, mt.tier,
            'override ended', 'tiers', jsonb_build_object('until', jf_ts(mt.override_until), 'reason', mt.override_reason));
    PERFORM jf_tier_apply(v_member, p_now);
    v_n := v_n + 1;
  END LOOP;
  RETURN v_n;
END $$;

-- A unique coupon code: the prefix, a dash and 10 characters of Crockford's base 32.
CREATE OR REPLACE FUNCTION jf_coupon_code(p_prefix text) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT p_prefix || '-' || string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 1 + floor(random() * 32)::integer, 1), '')
    FROM generate_series(1, 10)
$$;

-- Benefits a job grants (birthday points, periodic grants), for one program, for members with ids
-- after p_after (keyset), at most p_limit members: each grant is recorded in tier_grant first, and
-- only a row that was new is credited, in the same transaction, so a rerun or a second instance
-- grants nothing twice. Members locked by another writer are skipped this time (SKIP LOCKED) and
-- granted on a later run of the same period. Returns {members, last, granted, points}.
CREATE OR REPLACE FUNCTION tiers_grant(p_program text, p_now timestamptz, p_after text, p_limit integer) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  l tier_ladder;
  v_tz text;
  v_today date;
  v_last text;
  v_members integer;
  v_granted integer := 0;
  v_points bigint := 0;
  g record;
  c jf_member_ctx;
  lt lot;
BEGIN
  SELECT * INTO l FROM tier_ladder WHERE program_id = p_program;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('members', 0, 'last', NULL, 'granted', 0, 'points', 0);
  END IF;
  SELECT time_zone INTO v_tz FROM program WHERE id = p_program;
  v_today := (p_now AT TIME ZONE v_tz)::date;
  CREATE TEMP TABLE IF NOT EXISTS jf_tier_grant_batch (member_id text COLLATE "C", tier text, birthday date, status text) ON COMMIT DELETE ROWS;
  INSERT INTO jf_tier_grant_batch
  SELECT m.id, coalesce(m.tier, l.tiers->0->>'code'), m.birthday, m.status
    FROM member m JOIN member_account a ON a.member_id = m.id
   WHERE m.program_id = p_program AND m.id > coalesce(p_after, '') AND m.status = 'active'
   ORDER BY m.id
   LIMIT p_limit
     FOR UPDATE OF a SKIP LOCKED;
  GET DIAGNOSTICS v_members = ROW_COUNT;
  SELECT max(member_id) INTO v_last FROM jf_tier_grant_batch;

  FOR g IN
    WITH wanted AS (
      -- birthday points on the birthday (29 February: 28 February in other years), once a year
      SELECT b.member_id, b.tier, 'birthday' AS grant_key, date_trunc('year', v_today)::date AS period_start, 'birthday' AS kind,
             (t.tier->>'birthday_points')::bigint AS points, NULL::text AS coupon_prefix,
             '生日礼 birthday gift' AS reason
        FROM jf_tier_grant_batch b
        JOIN jsonb_array_elements(l.tiers) t(tier) ON t.tier->>'code' = b.tier
       WHERE coalesce((t.tier->>'birthday_points')::bigint, 0) > 0 AND b.birthday IS NOT NULL
         AND extract(month FROM b.birthday) = extract(month FROM v_today)
         AND LEAST(extract(day FROM b.birthday)::integer,
                   extract(day FROM (date_trunc('month', v_today) + interval '1 month - 1 day'))::integer) = extract(day FROM v_today)::integer
      UNION ALL
      -- periodic grants of the member's tier, once per period
      SELECT b.member_id, b.tier, 'grant:' || b.tier || ':' || (gr->>'key'),
             date_trunc(gr->>'every', v_today)::date, 'periodic',
             coalesce((gr->>'points')::bigint, 0), gr->>'coupon_prefix',
             coalesce(gr->'name'->>'zh-CN', gr->>'key') || ' ' || coalesce(gr->'name'->>'en', '')
        FROM jf_tier_grant_batch b
        JOIN jsonb_array_elements(l.tiers) t(tier) ON t.tier->>'code' = b.tier
       CROSS JOIN LATERAL jsonb_array_elements(coalesce(t.tier->'grants', '[]')) gr
    ), inserted AS (
      INSERT INTO tier_grant (member_id, grant_key, period_start, program_id, tier, kind, points, coupon_code, issued_at)
      SELECT w.member_id, w.grant_key, w.period_start, p_program, w.tier, w.kind, w.points,
             CASE WHEN w.coupon_prefix IS NOT NULL THEN jf_coupon_code(w.coupon_prefix) END, p_now
        FROM wanted w
      ON CONFLICT DO NOTHING
      RETURNING member_id, grant_key, period_start, points
    )
    SELECT i.*, w.reason FROM inserted i JOIN wanted w USING (member_id, grant_key, period_start) ORDER BY i.member_id
  LOOP
    v_granted := v_granted + 1;
    IF g.points > 0 THEN
      c := jf_lock_member(g.member_id, p_now);
      lt := jf_credit_locked(c, jsonb_build_object('points', g.points, 'pending_days', 0, 'reason', g.reason,
                                                   'reference', g.grant_key || '@' || g.period_start, 'actor', 'tiers',
                                                   'metadata', jsonb_build_object('tier_grant', g.grant_key, 'period_start', g.period_start)), p_now);
      UPDATE tier_grant SET entry_id = lt.entry_id WHERE member_id = g.member_id AND grant_key = g.grant_key AND period_start = g.period_start;
      v_points := v_points + g.points;
    END IF;
  END LOOP;
  TRUNCATE jf_tier_grant_batch;
  RETURN jsonb_build_object('members', v_members, 'last', v_last, 'granted', v_granted, 'points', v_points);
END $$;

-- Who may write a program's members' tiers while its ladder is created or changed: the PUT of the
-- ladder takes this lock exclusively before anything else (tiers.service, putLadder); a transaction
-- that registers members or sets the plain tier attribute takes it shared, in a statement of its
-- own before it writes (members.repository), so that what it reads of the ladder is the committed
-- one. Without it, a member registered while the first ladder is being written kept its plain tier
-- as a floor nobody sees (the rebuild did not see the member; the member did not see the ladder).
-- Shared takers do not wait for each other.
CREATE OR REPLACE FUNCTION jf_tier_ladder_lock(p_program text, p_exclusive boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_exclusive THEN
    PERFORM pg_advisory_xact_lock(7262313, hashtext(p_program));
  ELSE
    PERFORM pg_advisory_xact_lock_shared(7262313, hashtext(p_program));
  END IF;
END $$;

-- The plain tier attribute, when a member's create or update gives one (in their statements): the
-- tier as given (NULL clears it) in a program without a ladder; in one with a ladder, 409
-- TIER_MANAGED_BY_LADDER at /tier, whatever was given (the tier follows the ladder; an operator
-- sets an override). In the statement, so no path that writes members can miss it.
CREATE OR REPLACE FUNCTION jf_plain_tier(p_program text, p_tier text) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM tier_ladder WHERE program_id = p_program) THEN
    PERFORM jf_raise('TIER_MANAGED_BY_LADDER', jsonb_build_object('program_id', p_program, 'field', 'tier'));
  END IF;
  RETURN p_tier;
END $$;

-- Ingestion (events_tier_states below, for the flow's contended retries and members a batch
-- registers; events_prepare in 20_events.sql has the same written out, keep the two alike): what evaluation
-- needs of a member's tier status — the earned tier, an override, and the current window with the
-- metric so far.
CREATE OR REPLACE FUNCTION jf_tier_state(m member, l tier_ladder, p_tz text, p_today date,
                                         p_window daterange DEFAULT NULL, p_renew_until timestamptz DEFAULT NULL) RETURNS json
LANGUAGE plpgsql STABLE AS $$
-- p_window / p_renew_until: the caller's, when they are the same for every member (calendar and
-- rolling windows: the window of today, and the validity qualifying today gives); computed here
-- for membership years, which start on each member's anniversary. PL/pgSQL, not SQL: its
-- statements' plans are kept for the session (a SQL function called per member would plan its
-- query, and the metric's, at every call).
DECLARE
  w daterange := coalesce(p_window, jf_tier_window(l.qualifying_window, (m.created_at AT TIME ZONE p_tz)::date, p_today));
  mt member_tier;
  v_value bigint;
BEGIN
  SELECT * INTO mt FROM member_tier WHERE member_id = m.id;
  SELECT coalesce(sum(CASE l.metric WHEN 'spend' THEN a.spend WHEN 'points' THEN a.points ELSE a.orders END), 0)::bigint INTO v_value
    FROM tier_activity a WHERE a.member_id = m.id AND a.day >= lower(w) AND a.day < upper(w);
  RETURN json_build_object('tier', mt.tier, 'override_tier', mt.override_tier, 'override_until', jf_ts(mt.override_until),
                           'window_start', lower(w), 'window_end', upper(w), 'value', v_value,
                           -- a calendar or membership window: reaching the tier's entry again in a later window renews
                           -- the status at once, to what qualifying today gives (docs/tiers.md)
                           'renewable', mt.valid_until IS NOT NULL AND l.qualifying_window->>'type' <> 'rolling_months'
                                        AND coalesce(p_renew_until, jf_tier_valid_until(l.validity, l.qualifying_window, (m.created_at AT TIME ZONE p_tz)::date,
                                                                                         p_today, p_tz)) > mt.valid_until);
END $$;

-- The window of today and the validity qualifying today gives, when every member of the ladder has
-- the same (not membership years): {window, renew_until}, or nulls.
CREATE OR REPLACE FUNCTION jf_tier_shared(l tier_ladder, p_tz text, p_today date, OUT r daterange, OUT renew_until timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN l.qualifying_window->>'type' <> 'membership_year' THEN jf_tier_window(l.qualifying_window, p_today, p_today) END,
         CASE WHEN l.qualifying_window->>'type' = 'calendar_year' THEN jf_tier_valid_until(l.validity, l.qualifying_window, p_today, p_today, p_tz) END
$$;

-- The same for members read after the snapshot (registered by the batch, or locked on a
-- contended retry, where it must be read under the lock): {member_id: state}, {} without a ladder.
CREATE OR REPLACE FUNCTION events_tier_states(p_program text, p_members text[], p_now timestamptz) RETURNS json LANGUAGE sql STABLE AS $$
  SELECT coalesce(json_object_agg(m.id, jf_tier_state(m, l, pr.time_zone, (p_now AT TIME ZONE pr.time_zone)::date, sh.r, sh.renew_until)), '{}')
    FROM tier_ladder l JOIN program pr ON pr.id = l.program_id
   CROSS JOIN LATERAL jf_tier_shared(l, pr.time_zone, (p_now AT TIME ZONE pr.time_zone)::date) sh
    JOIN member m ON m.id = ANY (p_members) AND m.program_id = l.program_id
   WHERE l.program_id = p_program
$$;

-- A status renewed at once (events_commit, under the member's lock): the member reached its earned
-- tier's entry again in a later calendar or membership window, so its validity becomes what
-- qualifying today gives, and the review moves with it (tier.renewed). u = {member_id, value, threshold}
CREATE OR REPLACE FUNCTION jf_tier_renew(p_program text, p_tz text, u jsonb, p_event text, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  l tier_ladder;
  mt member_tier;
  v_until timestamptz;
BEGIN
  SELECT * INTO l FROM tier_ladder WHERE program_id = p_program;
  SELECT * INTO mt FROM member_tier WHERE member_id = u->>'member_id';
  v_until := jf_tier_valid_until(l.validity, l.qualifying_window, jf_member_anchor(mt.member_id, p_tz), (p_now AT TIME ZONE p_tz)::date, p_tz);
  IF mt.valid_until IS NULL OR v_until <= mt.valid_until THEN
    RETURN;
  END IF;
  UPDATE member_tier SET valid_until = v_until, review_at = v_until + make_interval(days => l.grace_days), at_risk_for = NULL, updated_at = p_now
   WHERE member_id = mt.member_id;
  INSERT INTO tier_history (id, program_id, member_id, type, at, from_tier, to_tier, reason, actor, payload)
  VALUES (jf_id('tch'), p_program, mt.member_id, 'tier.renewed', p_now, mt.tier, mt.tier,
          'requalified: ' || l.metric || ' ' || (u->>'value') || ' reached ' || (u->>'threshold'), 'rules',
          jsonb_build_object('metric', l.metric, 'value', (u->>'value')::bigint, 'threshold', (u->>'threshold')::bigint,
                             'event_id', p_event, 'valid_until', jf_ts(v_until), 'previous_valid_until', jf_ts(mt.valid_until)));
END $$;

-- An upgrade an event made (events_commit, under the member's lock): the member's new tier, its
-- validity from today, a tier.upgraded history row, member.tier set to the effective tier, and
-- the new tier's welcome points, once per member and tier ever (tier_grant).
-- u = {member_id, from, to, effective, value, threshold}
CREATE OR REPLACE FUNCTION jf_tier_upgrade(p_program text, p_tz text, u jsonb, p_event text, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  l tier_ladder;
  v_member text := u->>'member_id';
  v_until timestamptz;
  v_welcome bigint;
  c jf_member_ctx;
  lt lot;
BEGIN
  SELECT * INTO l FROM tier_ladder WHERE program_id = p_program;
  v_until := jf_tier_valid_until(l.validity, l.qualifying_window, jf_member_anchor(v_member, p_tz), (p_now AT TIME ZONE p_tz)::date, p_tz);
  INSERT INTO member_tier AS mt (member_id, program_id, tier, since, valid_until, review_at, updated_at)
  VALUES (v_member, p_program, u->>'to', p_now, v_until, v_until + make_interval(days => l.grace_days), p_now)
  ON CONFLICT (member_id) DO UPDATE
    SET tier = excluded.tier, since = excluded.since, valid_until = excluded.valid_until, review_at = excluded.review_at,
        at_risk_for = NULL, updated_at = excluded.updated_at;
  INSERT INTO tier_history (id, program_id, member_id, type, at, from_tier, to_tier, reason, actor, payload)
  VALUES (jf_id('tch'), p_program, v_member, 'tier.upgraded', p_now, u->>'from', u->>'to',
          'qualified: ' || l.metric || ' ' || (u->>'value') || ' reached ' || (u->>'threshold'), 'rules',
          jsonb_build_object('metric', l.metric, 'value', (u->>'value')::bigint, 'threshold', (u->>'threshold')::bigint,
                             'event_id', p_event, 'valid_until', jf_ts(v_until)));
  UPDATE member SET tier = u->>'effective' WHERE id = v_member AND tier IS DISTINCT FROM u->>'effective';
  SELECT coalesce((t->>'welcome_points')::bigint, 0) INTO v_welcome FROM jsonb_array_elements(l.tiers) t WHERE t->>'code' = u->>'to';
  IF v_welcome > 0 THEN
    INSERT INTO tier_grant (member_id, grant_key, period_start, program_id, tier, kind, points, issued_at)
    VALUES (v_member, 'welcome:' || (u->>'to'), '-infinity', p_program, u->>'to', 'welcome', v_welcome, p_now)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
      c := jf_lock_member(v_member, p_now);
      lt := jf_credit_locked(c, jsonb_build_object('points', v_welcome, 'pending_days', 0, 'reason', '升级礼 welcome to ' || (u->>'to'),
                                                   'reference', 'welcome:' || (u->>'to'), 'actor', 'tiers', 'event_id', p_event,
                                                   'metadata', jsonb_build_object('tier_grant', 'welcome:' || (u->>'to'))), p_now);
      UPDATE tier_grant SET entry_id = lt.entry_id WHERE member_id = v_member AND grant_key = 'welcome:' || (u->>'to') AND period_start = '-infinity';
    END IF;
  END IF;
END $$;
