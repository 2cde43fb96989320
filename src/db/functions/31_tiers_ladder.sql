-- Tiers (tiers module, docs/tiers.md): what a ladder edit does to the program's members, a
-- member's tier status in one round trip, and the program's tier mix. Runs in the transaction of
-- the PUT of the ladder (after the ladder row is written) and of the reads.

-- What counts toward qualification, from the program's events, for the days from p_from on: the
-- first ladder of a program has no tier_activity yet (events_commit writes it only for programs
-- with a ladder). The same figures as ingestion: order.paid adds its amount and one order on its
-- local day; order.refunded takes its amount (an amount, its items at what was paid for them, or
-- what is left of the order) off the day of the order it refunds, and one order when it refunds
-- what was left; every event adds the points its qualifying rules awarded, less what its
-- reversals took back of qualifying rules. Set-based: one statement.
CREATE OR REPLACE FUNCTION jf_tier_backfill(p_program text, p_tz text, p_from date) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_rows integer;
  v_all_qualify boolean;
BEGIN
  DELETE FROM tier_activity a USING member m WHERE m.id = a.member_id AND m.program_id = p_program;
  -- without a non-qualifying rule, an event other than a refund counts its points (the sum of its
  -- awards): its stored result need not be parsed
  SELECT NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (v.rule_id) v.definition->>'qualifying' = 'false' AS off
                                      FROM rule_version v JOIN rule r ON r.id = v.rule_id
                                     WHERE r.program_id = p_program ORDER BY v.rule_id, v.version DESC) x WHERE x.off)
    INTO v_all_qualify;
  WITH nonq AS (
    -- rules whose latest version says qualifying: false (rules.set.ts, nonQualifyingIds)
    SELECT DISTINCT ON (v.rule_id) v.rule_id, v.definition->>'qualifying' = 'false' AS off
      FROM rule_version v JOIN rule r ON r.id = v.rule_id
     WHERE r.program_id = p_program
     ORDER BY v.rule_id, v.version DESC
  ), ev AS (
    SELECT e.id, e.member_id, e.type, e.occurred_at, e.data, e.points, e.result
      FROM event e
     WHERE e.program_id = p_program AND e.occurred_at >= jf_local_midnight(p_from, p_tz) - interval '1 day'
  ), paid AS (
    -- the first order.paid of each order (what a refund refers to)
    SELECT DISTINCT ON (e.data->>'order_id') e.data->>'order_id' AS order_id, e.member_id,
           (e.occurred_at AT TIME ZONE p_tz)::date AS day, coalesce((e.data->>'amount')::bigint, 0) AS amount, e.data->'items' AS items
      FROM event e
     WHERE e.program_id = p_program AND e.type = 'order.paid' AND e.data ? 'order_id'
       AND e.occurred_at >= jf_local_midnight(p_from, p_tz) - interval '1 day'
     ORDER BY e.data->>'order_id', e.occurred_at, e.id
  ), refund AS (
    SELECT e.id, p.order_id, p.member_id, p.day, p.amount AS paid, e.occurred_at,
           CASE WHEN e.data ? 'amount' THEN (e.data->>'amount')::bigint
                WHEN e.data ? 'items' THEN
                  (SELECT coalesce(sum(ri.q * pi.unit_price), 0) * p.amount / greatest(pt.total, p.amount, 1)
                     FROM (SELECT x->>'sku' AS sku, (x->>'quantity')::bigint AS q FROM jsonb_array_elements(e.data->'items') x) ri
                     JOIN (SELECT x->>'sku' AS sku, (x->>'unit_price')::bigint AS unit_price FROM jsonb_array_elements(coalesce(p.items, '[]')) x) pi
                       ON pi.sku = ri.sku)
                ELSE p.amount END AS asked
      FROM ev e JOIN paid p ON p.order_id = e.data->>'order_id'
      CROSS JOIN LATERAL (SELECT coalesce(sum((x->>'quantity')::bigint * (x->>'unit_price')::bigint), 0) AS total
                            FROM jsonb_array_elements(coalesce(p.items, '[]')) x) pt
     WHERE e.type = 'order.refunded'
  ), refund_net AS (
    -- cumulated per order, never more than was paid: each refund takes what it adds to the total
    SELECT r.*, least(r.cum, r.paid) - least(r.cum - r.asked, r.paid) AS taken, r.cum - r.asked < r.paid AND r.cum >= r.paid AS full
      FROM (SELECT r.*, sum(r.asked) OVER (PARTITION BY r.order_id ORDER BY r.occurred_at, r.id) AS cum FROM refund r) r
  ), points AS (
    SELECT e.id,
           CASE WHEN v_all_qualify AND e.type <> 'order.refunded' THEN e.points
                ELSE (SELECT coalesce((SELECT sum((a->>'points')::bigint) FROM jsonb_array_elements(coalesce(z.r->'awards', '[]')) a
                                        WHERE NOT coalesce((SELECT n.off FROM nonq n WHERE n.rule_id = a->>'rule_id'), false)), 0)
                           - coalesce((SELECT sum((a->>'points')::bigint) FROM jsonb_array_elements(coalesce(z.r->'reversals', '[]')) a
                                        WHERE NOT coalesce((SELECT n.off FROM nonq n WHERE n.rule_id = a->>'rule_id'), false)), 0)
                        FROM (SELECT e.result::jsonb AS r) z) END AS points
      FROM ev e
  ), act AS (
    SELECT e.member_id, (e.occurred_at AT TIME ZONE p_tz)::date AS day,
           CASE WHEN e.type = 'order.paid' THEN coalesce((e.data->>'amount')::bigint, 0) ELSE 0 END AS spend,
           p.points, CASE WHEN e.type = 'order.paid' THEN 1 ELSE 0 END AS orders
      FROM ev e JOIN points p ON p.id = e.id
     WHERE e.type <> 'order.refunded'
    UNION ALL
    SELECT e.member_id, coalesce(r.day, (e.occurred_at AT TIME ZONE p_tz)::date), -coalesce(r.taken, 0), p.points,
           CASE WHEN r.full THEN -1 ELSE 0 END
      FROM ev e JOIN points p ON p.id = e.id LEFT JOIN refund_net r ON r.id = e.id
     WHERE e.type = 'order.refunded'
  )
  INSERT INTO tier_activity (member_id, day, spend, points, orders)
  SELECT r.member_id, r.day, sum(r.spend), sum(r.points), sum(r.orders)
    FROM act r
   WHERE r.day >= p_from
   GROUP BY 1, 2
  HAVING sum(r.spend) <> 0 OR sum(r.points) <> 0 OR sum(r.orders) <> 0
   ORDER BY 1, 2;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  RETURN v_rows;
END $$;

-- A ladder was created (p_first) or changed: in the PUT's transaction, after tier_ladder holds the
-- new ladder. Locks the program's accounts in member id order (every writer locks members in that
-- order), backfills the qualifying activity on creation, upgrades every member whose metric in its
-- current window reaches a tier above its earned one (tier.upgraded: 'ladder created' or 'ladder
-- changed'), on creation keeps an old plain tier above the computed one as an override until
-- p_keep_until (its last day, inclusive; tier.override_set), then sets member.tier to the
-- effective tier of every member (the base tier without a member_tier row) and bumps their award
-- versions, so an evaluation that read the old ladder runs again. Grants no welcome points.
-- Returns {activity_rows, upgraded, overrides}.
CREATE OR REPLACE FUNCTION tiers_rebuild(p_program text, p_now timestamptz, p_first boolean, p_keep_until date, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  l tier_ladder;
  v_tz text;
  v_today date;
  v_rows integer := 0;
  v_up integer;
  v_over integer := 0;
  v_base text;
BEGIN
  PERFORM 1 FROM member_account a WHERE a.program_id = p_program ORDER BY a.member_id FOR UPDATE;
  SELECT * INTO l FROM tier_ladder WHERE program_id = p_program;
  SELECT time_zone INTO v_tz FROM program WHERE id = p_program;
  v_today := (p_now AT TIME ZONE v_tz)::date;
  v_base := l.tiers->0->>'code';
  IF p_first THEN
    -- the longest window that can matter: 36 rolling months, or the calendar or membership year
    -- before this one (a review window of period_and_next)
    v_rows := jf_tier_backfill(p_program, v_tz, least((v_today - interval '36 months')::date, (date_trunc('year', v_today) - interval '2 years')::date));
  END IF;

  CREATE TEMP TABLE IF NOT EXISTS jf_tlr (
    member_id text COLLATE "C" PRIMARY KEY, old_tier text, anchor date NOT NULL, value bigint NOT NULL, earned integer NOT NULL,
    qualifies integer NOT NULL, has_row boolean NOT NULL, created_at timestamptz NOT NULL) ON COMMIT DELETE ROWS;
  -- each member's metric in its current window: one aggregate over tier_activity when the window is
  -- the same for everyone (calendar year, rolling months), else each member's anniversary year
  WITH t AS (
    SELECT (x.n - 1)::integer AS rank, x.tier->>'code' AS code, (x.tier->>'entry')::bigint AS entry
      FROM jsonb_array_elements(l.tiers) WITH ORDINALITY AS x(tier, n)
  ), shared AS (
    SELECT a.member_id, sum(CASE l.metric WHEN 'spend' THEN a.spend WHEN 'points' THEN a.points ELSE a.orders END)::bigint AS value
      FROM (SELECT jf_tier_window(l.qualifying_window, v_today, v_today) AS r) w
      JOIN tier_activity a ON a.day >= lower(w.r) AND a.day < upper(w.r)
      JOIN member m ON m.id = a.member_id AND m.program_id = p_program
     WHERE l.qualifying_window->>'type' <> 'membership_year'
     GROUP BY a.member_id
  ), x AS (
    SELECT m.id, m.tier, m.created_at, (m.created_at AT TIME ZONE v_tz)::date AS anchor,
           CASE WHEN l.qualifying_window->>'type' = 'membership_year'
                THEN jf_tier_metric(m.id, l.metric, jf_tier_window(l.qualifying_window, (m.created_at AT TIME ZONE v_tz)::date, v_today))
                ELSE coalesce(s.value, 0) END AS value,
           coalesce(te.rank, 0) AS earned, mt.member_id IS NOT NULL AS has_row
      FROM member m
      LEFT JOIN member_tier mt ON mt.member_id = m.id
      LEFT JOIN t te ON te.code = mt.tier
      LEFT JOIN shared s ON s.member_id = m.id
     WHERE m.program_id = p_program
  )
  INSERT INTO jf_tlr
  SELECT x.id, x.tier, x.anchor, x.value, x.earned, (SELECT coalesce(max(t.rank), 0) FROM t WHERE x.value >= t.entry), x.has_row, x.created_at
    FROM x;

  -- upgrades: validity from today, as an upgrade by an event has it
  INSERT INTO member_tier AS mt (member_id, program_id, tier, since, valid_until, review_at, updated_at)
  SELECT u.member_id, p_program, jf_tier_code(l, u.qualifies), p_now, u.vu, u.vu + make_interval(days => l.grace_days), p_now
    FROM (SELECT b.*, jf_tier_valid_until(l.validity, l.qualifying_window, b.anchor, v_today, v_tz) AS vu FROM jf_tlr b WHERE b.qualifies > b.earned) u
  ON CONFLICT (member_id) DO UPDATE
    SET tier = excluded.tier, since = excluded.since, valid_until = excluded.valid_until, review_at = excluded.review_at,
        at_risk_for = NULL, updated_at = excluded.updated_at;
  GET DIAGNOSTICS v_up = ROW_COUNT;
  INSERT INTO tier_history (id, program_id, member_id, type, at, from_tier, to_tier, reason, actor, payload)
  SELECT jf_id('tch'), p_program, b.member_id, 'tier.upgraded', p_now, jf_tier_code(l, b.earned), jf_tier_code(l, b.qualifies),
         CASE WHEN p_first THEN 'ladder created' ELSE 'ladder changed' END, p_actor,
         jsonb_build_object('metric', l.metric, 'value', b.value, 'threshold', (l.tiers->b.qualifies->>'entry')::bigint,
                            'valid_until', jf_ts(mt.valid_until))
    FROM jf_tlr b JOIN member_tier mt ON mt.member_id = b.member_id
   WHERE b.qualifies > b.earned
   ORDER BY b.member_id;

  -- the plain tier attribute kept as an override (first ladder only)
  IF p_first AND p_keep_until IS NOT NULL THEN
    INSERT INTO member_tier AS mt (member_id, program_id, tier, since, valid_until, review_at, override_tier, override_until,
                                   override_reason, override_by, updated_at)
    SELECT b.member_id, p_program, v_base, b.created_at, NULL, NULL, b.old_tier, jf_local_midnight(p_keep_until + 1, v_tz),
           'migrated from the tier attribute', 'migration', p_now
      FROM jf_tlr b
     WHERE jf_tier_rank(l, b.old_tier) > greatest(b.earned, b.qualifies)
    ON CONFLICT (member_id) DO UPDATE
      SET override_tier = excluded.override_tier, override_until = excluded.override_until, override_reason = excluded.override_reason,
          override_by = excluded.override_by, updated_at = excluded.updated_at;
    GET DIAGNOSTICS v_over = ROW_COUNT;
    INSERT INTO tier_history (id, program_id, member_id, type, at, from_tier, to_tier, reason, actor, payload)
    SELECT jf_id('tch'), p_program, b.member_id, 'tier.override_set', p_now, jf_tier_code(l, greatest(b.earned, b.qualifies)), b.old_tier,
           'migrated from the tier attribute', 'migration',
           jsonb_build_object('until', jf_ts(jf_local_midnight(p_keep_until + 1, v_tz)), 'reason', 'migrated from the tier attribute')
      FROM jf_tlr b
     WHERE jf_tier_rank(l, b.old_tier) > greatest(b.earned, b.qualifies)
     ORDER BY b.member_id;
  END IF;

  -- the effective tier of every member, and the evaluations' staleness
  UPDATE member m SET tier = e.code
    FROM (SELECT b.member_id,
                 CASE WHEN mt.override_tier IS NOT NULL AND mt.override_until > p_now
                           AND coalesce(jf_tier_rank(l, mt.override_tier), -1) > coalesce(jf_tier_rank(l, mt.tier), 0)
                      THEN mt.override_tier ELSE coalesce(mt.tier, v_base) END AS code
            FROM jf_tlr b LEFT JOIN member_tier mt ON mt.member_id = b.member_id) e
   WHERE m.id = e.member_id AND m.tier IS DISTINCT FROM e.code;
  UPDATE member_account a SET award_version = a.award_version + 1 WHERE a.program_id = p_program;
  TRUNCATE jf_tlr;
  RETURN jsonb_build_object('activity_rows', v_rows, 'upgraded', v_up, 'overrides', v_over);
END $$;

-- A member's tier status, in one round trip (GET …/tier, /v1/me/tier): null without a ladder.
-- The ladder, the program's time zone and currency, the member's row of member_tier, the current
-- window and the metric in it so far, the review window of the earned tier and what it counts so
-- far, and the last 20 grants.
CREATE OR REPLACE FUNCTION tiers_status(p_member text, p_now timestamptz) RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
           'program_id', l.program_id, 'metric', l.metric, 'tiers', l.tiers, 'downgrade_policy', l.downgrade_policy,
           'qualifying_window', l.qualifying_window, 'currency', pr.currency,
           'tier', m.tier, 'earned', coalesce(mt.tier, l.tiers->0->>'code'),
           'since', jf_ts(coalesce(mt.since, m.created_at)), 'valid_until', jf_ts(mt.valid_until), 'review_at', jf_ts(mt.review_at),
           'override_tier', mt.override_tier, 'override_until', jf_ts(mt.override_until), 'override_reason', mt.override_reason,
           'override_by', mt.override_by,
           'window_start', lower(w.r), 'window_end', upper(w.r), 'value', jf_tier_metric(m.id, l.metric, w.r),
           'keep_start', lower(k.r), 'keep_end', upper(k.r),
           'keep_value', CASE WHEN k.r IS NOT NULL THEN jf_tier_review_metric(m.id, l, d.anchor, d.vu, d.rv) END,
           'grants', coalesce((SELECT json_agg(json_build_object('kind', g.kind, 'key', g.grant_key, 'tier', g.tier,
                                                                 'period_start', CASE WHEN g.period_start = '-infinity' THEN to_char(g.issued_at AT TIME ZONE pr.time_zone, 'YYYY-MM-DD') ELSE g.period_start::text END,
                                                                 'points', g.points, 'coupon_code', g.coupon_code, 'issued_at', jf_ts(g.issued_at))
                                                ORDER BY g.issued_at DESC, g.grant_key)
                                 FROM (SELECT * FROM tier_grant g WHERE g.member_id = m.id ORDER BY g.issued_at DESC, g.grant_key LIMIT 20) g), '[]'))
    FROM member m
    JOIN tier_ladder l ON l.program_id = m.program_id
    JOIN program pr ON pr.id = m.program_id
    LEFT JOIN member_tier mt ON mt.member_id = m.id
    CROSS JOIN LATERAL (SELECT (m.created_at AT TIME ZONE pr.time_zone)::date AS anchor,
                               (mt.valid_until AT TIME ZONE pr.time_zone)::date AS vu,
                               (mt.review_at AT TIME ZONE pr.time_zone)::date AS rv,
                               (p_now AT TIME ZONE pr.time_zone)::date AS today) d
    CROSS JOIN LATERAL (SELECT jf_tier_window(l.qualifying_window, d.anchor, d.today) AS r) w
    CROSS JOIN LATERAL (SELECT CASE WHEN d.vu IS NOT NULL AND d.rv IS NOT NULL THEN jf_tier_review_window(l.qualifying_window, d.anchor, d.vu, d.rv) END AS r) k
   WHERE m.id = p_member
$$;

-- A program's tier mix (GET …/tier-mix): members per effective tier and the overrides in force
-- among them, upgrades and downgrades of the last 30 days, and the members whose review is within
-- 30 days and whose review metric so far is below their tier's retention.
CREATE OR REPLACE FUNCTION tiers_mix(p_program text, p_now timestamptz) RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'tiers', (SELECT json_agg(json_build_object('code', t.tier->>'code', 'name', t.tier->'name',
                                                'members', (SELECT count(*) FROM member m WHERE m.program_id = p_program
                                                               AND coalesce(m.tier, l.tiers->0->>'code') = t.tier->>'code'),
                                                'overrides', (SELECT count(*) FROM member_tier mt JOIN member m ON m.id = mt.member_id
                                                               WHERE mt.program_id = p_program AND mt.override_until > p_now
                                                                 AND m.tier = t.tier->>'code' AND mt.override_tier = t.tier->>'code'))
                              ORDER BY t.n)
                FROM jsonb_array_elements(l.tiers) WITH ORDINALITY AS t(tier, n)),
    'upgrades_30d', (SELECT count(*) FROM tier_history h WHERE h.program_id = p_program AND h.type = 'tier.upgraded'
                        AND h.at > p_now - interval '30 days' AND h.at <= p_now),
    'downgrades_30d', (SELECT count(*) FROM tier_history h WHERE h.program_id = p_program AND h.type = 'tier.downgraded'
                          AND h.at > p_now - interval '30 days' AND h.at <= p_now),
    'at_risk', (SELECT count(*) FROM member_tier mt JOIN member m ON m.id = mt.member_id
                 WHERE l.downgrade_policy <> 'never' AND mt.program_id = p_program
                   AND mt.review_at > p_now AND mt.review_at <= p_now + interval '30 days'
                   AND jf_tier_review_metric(mt.member_id, l, (m.created_at AT TIME ZONE pr.time_zone)::date,
                                             (mt.valid_until AT TIME ZONE pr.time_zone)::date, (mt.review_at AT TIME ZONE pr.time_zone)::date)
                       < coalesce((l.tiers->jf_tier_rank(l, mt.tier)->>'retention')::bigint, (l.tiers->jf_tier_rank(l, mt.tier)->>'entry')::bigint)))
    FROM tier_ladder l JOIN program pr ON pr.id = l.program_id
   WHERE l.program_id = p_program
$$;
