-- Rewards module (src/modules/rewards, docs/rewards.md): the price of a reward at an instant, its
-- window, a member's redemption in one round trip, and the cancellation or rejection that gives
-- the points and the stock back exactly once. Owns reward, reward_price_change, redemption,
-- redemption_history, reward_code. On purpose (docs/architecture.md, "Who owns which table"),
-- rewards_redeem reads the member's effective tier (member.tier, tier_ladder) and segments
-- (segment_member) under the member's lock, and moves points only through the ledger's own
-- helpers (jf_hold_locked, jf_hold_resolve, jf_restore_capture), as ledger_hold and
-- ledger_hold_resolve do.

-- The price in force at p_now: the latest scheduled change already effective, else the reward's own.
CREATE OR REPLACE FUNCTION jf_reward_price(r reward, p_now timestamptz, OUT points_cost bigint, OUT cash_part bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT pc.points_cost, pc.cash_part INTO points_cost, cash_part
    FROM reward_price_change pc
   WHERE pc.reward_id = r.id AND pc.effective_at <= p_now
   ORDER BY pc.effective_at DESC LIMIT 1;
  IF NOT FOUND THEN
    points_cost := r.points_cost;
    cash_part := r.cash_part;
  END IF;
END $$;

-- Whether the reward's window (from/until) and flash schedule (weekdays and local hours in the
-- program's time zone) are open at p_now. Status is checked by the caller.
CREATE OR REPLACE FUNCTION jf_reward_open(r reward, p_tz text, p_now timestamptz) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_local timestamp := p_now AT TIME ZONE p_tz;
BEGIN
  RETURN (r.available_from IS NULL OR r.available_from <= p_now)
     AND (r.available_until IS NULL OR p_now < r.available_until)
     AND (r.schedule_days IS NULL
          OR (extract(isodow FROM v_local)::smallint = ANY (r.schedule_days)
              AND v_local::time >= r.schedule_from AND v_local::time < r.schedule_until));
END $$;

-- The start of the per-member limit's period containing p_now, in the program's time zone.
CREATE OR REPLACE FUNCTION jf_reward_period_start(p_period text, p_tz text, p_now timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_period = 'ever' THEN '-infinity'::timestamptz
              ELSE date_trunc(p_period, p_now AT TIME ZONE p_tz) AT TIME ZONE p_tz END
$$;

-- A scheduled price change as the API returns it.
CREATE OR REPLACE FUNCTION jf_price_change_json(pc reward_price_change, p_now timestamptz) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', pc.id, 'object', 'reward_price_change', 'program_id', pc.program_id, 'reward_id', pc.reward_id, 'points_cost', pc.points_cost,
    'cash_part', pc.cash_part, 'announce_at', jf_ts(pc.announce_at), 'effective_at', jf_ts(pc.effective_at),
    'in_effect', pc.effective_at <= p_now, 'created_at', jf_ts(pc.created_at), 'created_by', pc.created_by)
$$;

-- A reward as the API returns it at p_now: the price in force, the changes to come (all of them:
-- the operator's view; the member's catalogue shows those announced), codes left in a coupon's pool.
CREATE OR REPLACE FUNCTION jf_reward_json(r reward, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_price record;
BEGIN
  SELECT * INTO v_price FROM jf_reward_price(r, p_now);
  RETURN jsonb_build_object(
    'id', r.id, 'object', 'reward', 'program_id', r.program_id, 'type', r.type, 'name', r.name,
    'description', r.description, 'image_urls', to_jsonb(r.image_urls), 'category', r.category,
    'points_cost', v_price.points_cost, 'cash_part', v_price.cash_part,
    'upcoming_prices', (SELECT coalesce(jsonb_agg(jf_price_change_json(pc, p_now) ORDER BY pc.effective_at), '[]'::jsonb)
                          FROM reward_price_change pc WHERE pc.reward_id = r.id AND pc.effective_at > p_now),
    'stock', r.stock, 'stock_left', r.stock_left,
    'codes_left', CASE WHEN r.type = 'coupon'
                       THEN (SELECT count(*) FROM reward_code rc WHERE rc.reward_id = r.id AND rc.redemption_id IS NULL) END,
    'limit', CASE WHEN r.limit_per_member IS NULL THEN NULL
                  ELSE jsonb_build_object('per_member', r.limit_per_member, 'period', r.limit_period) END,
    'min_tier', r.min_tier, 'segment_id', r.segment_id,
    'available_from', jf_ts(r.available_from), 'available_until', jf_ts(r.available_until),
    'schedule', CASE WHEN r.schedule_days IS NULL THEN NULL
                     ELSE jsonb_build_object('days', to_jsonb(r.schedule_days), 'from', to_char(r.schedule_from, 'HH24:MI'),
                                             'until', to_char(r.schedule_until, 'HH24:MI')) END,
    'donation_project', r.donation_project, 'status', r.status, 'metadata', r.metadata,
    'created_at', jf_ts(r.created_at), 'updated_at', jf_ts(r.updated_at), 'archived_at', jf_ts(r.archived_at));
END $$;

-- A redemption as the API returns it, with the reward's name (p_name, when the caller has read the
-- reward already: a redemption of a hot reward does not read its row twice). PL/pgSQL (its plan
-- kept for the connection): a SQL function with a subquery is planned again in every transaction.
CREATE OR REPLACE FUNCTION jf_redemption_json(d redemption, p_name jsonb) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN jsonb_build_object(
    'id', d.id, 'object', 'redemption', 'program_id', d.program_id, 'member_id', d.member_id,
    'reward_id', d.reward_id, 'reward_type', d.reward_type, 'reward_name', p_name,
    'quantity', d.quantity, 'points', d.points, 'cash', d.cash, 'status', d.status,
    'hold_id', d.hold_id, 'capture_entry_id', d.capture_entry_id, 'restore_txn_id', d.restore_txn_id,
    'codes', to_jsonb(d.codes), 'shipping', d.shipping, 'carrier', d.carrier, 'tracking_number', d.tracking_number,
    'reason', d.reason, 'actor', d.actor, 'metadata', d.metadata, 'prize_of_draw_id', d.prize_of_draw_id,
    'created_at', jf_ts(d.created_at), 'updated_at', jf_ts(d.updated_at), 'shipped_at', jf_ts(d.shipped_at),
    'delivered_at', jf_ts(d.delivered_at), 'ended_at', jf_ts(d.ended_at));
END $$;

CREATE OR REPLACE FUNCTION jf_redemption_json(d redemption) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN jf_redemption_json(d, (SELECT r.name FROM reward r WHERE r.id = d.reward_id));
END $$;

-- What a redemption and a lottery draw both check of the reward for the member (c, locked), in
-- this order: on sale now (NOT_AVAILABLE_NOW), the member's effective tier at or above the
-- reward's by rank in the program's ladder (TIER_REQUIRED), in its segment (SEGMENT_REQUIRED).
CREATE OR REPLACE FUNCTION jf_reward_gate(c jf_member_ctx, w reward, v_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_tier text;
  v_required integer;
  v_rank integer;
BEGIN
  IF w.status <> 'active' OR NOT jf_reward_open(w, c.time_zone, v_now) THEN
    PERFORM jf_raise('NOT_AVAILABLE_NOW', jsonb_build_object(
      'reward_id', w.id, 'reward_status', w.status, 'available_from', jf_ts(w.available_from),
      'available_until', jf_ts(w.available_until), 'schedule_days', to_jsonb(w.schedule_days),
      'schedule_from', to_char(w.schedule_from, 'HH24:MI'), 'schedule_until', to_char(w.schedule_until, 'HH24:MI')));
  END IF;
  IF w.min_tier IS NOT NULL THEN
    SELECT m.tier INTO v_tier FROM member m WHERE m.id = c.member_id;
    SELECT t.ord - 1 INTO v_required
      FROM tier_ladder l, jsonb_array_elements(l.tiers) WITH ORDINALITY t(v, ord)
     WHERE l.program_id = c.program_id AND t.v->>'code' = w.min_tier;
    SELECT t.ord - 1 INTO v_rank
      FROM tier_ladder l, jsonb_array_elements(l.tiers) WITH ORDINALITY t(v, ord)
     WHERE l.program_id = c.program_id AND t.v->>'code' = v_tier;
    IF v_required IS NULL OR coalesce(v_rank, 0) < v_required THEN
      PERFORM jf_raise('TIER_REQUIRED', jsonb_build_object('reward_id', w.id, 'required_tier', w.min_tier, 'tier', v_tier));
    END IF;
  END IF;
  IF w.segment_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM segment_member sm WHERE sm.segment_id = w.segment_id AND sm.member_id = c.member_id) THEN
    PERFORM jf_raise('SEGMENT_REQUIRED', jsonb_build_object('reward_id', w.id, 'segment_id', w.segment_id));
  END IF;
END $$;

-- The reward's per-member limit over its period (LIMIT_REACHED), for p_qty more units.
CREATE OR REPLACE FUNCTION jf_reward_limit(c jf_member_ctx, w reward, p_qty integer, v_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_used bigint;
BEGIN
  IF w.limit_per_member IS NOT NULL THEN
    SELECT coalesce(sum(quantity), 0) INTO v_used FROM redemption
     WHERE member_id = c.member_id AND reward_id = w.id
       AND created_at >= jf_reward_period_start(w.limit_period, c.time_zone, v_now)
       AND status NOT IN ('cancelled', 'rejected', 'fulfilment_failed') AND prize_of_draw_id IS NULL;
    IF v_used + p_qty > w.limit_per_member THEN
      PERFORM jf_raise('LIMIT_REACHED', jsonb_build_object('reward_id', w.id, 'limit', w.limit_per_member,
                                                           'period', w.limit_period, 'used', v_used, 'requested', p_qty));
    END IF;
  END IF;
END $$;

-- Redeem a reward for a member, in one round trip: claim the idempotency key, lock the member,
-- check (status, the reward and its window, tier, segment, the per-member limit, the balance),
-- hold the points, fulfil (codes from the pool, SKIP LOCKED), capture, record, and take the stock
-- last. Every refusal raises the API's code, and the transaction changes nothing: the hold, the
-- codes and the capture are rolled back with it (a failed fulfilment voids the hold so).
--   p: now, member_id, reward_id, quantity, points (donations), expected_points, shipping,
--      metadata, actor, programs (the caller's program scope, or null), idem_*
CREATE OR REPLACE FUNCTION rewards_redeem(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_qty integer := coalesce((p->>'quantity')::integer, 1);
  v_id text := jf_id('rdm');
  v_price record;
  v_points bigint;
  v_cash bigint;
  v_codes text[] := '{}';
  v_ledger jsonb;
  v_capture jsonb;
  v_hold_id text;
  v_capture_entry text;
  v_body jsonb;
  v_result jsonb;
  r jsonb;
  c jf_member_ctx;
  w reward;
  d redemption;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  c := jf_lock_member_in(p->>'member_id', p->'programs', v_now);
  PERFORM jf_require_status(c, false);

  SELECT * INTO w FROM reward WHERE id = p->>'reward_id' AND program_id = c.program_id;
  IF NOT FOUND THEN
    PERFORM jf_raise('REWARD_NOT_FOUND', jsonb_build_object('reward_id', p->>'reward_id'));
  END IF;
  IF w.type = 'lottery' THEN
    PERFORM jf_raise('REWARD_TYPE_UNSUPPORTED', jsonb_build_object('reward_id', w.id, 'type', w.type));
  END IF;
  PERFORM jf_reward_gate(c, w, v_now);

  IF w.type <> 'donation' AND p ? 'points' THEN
    PERFORM jf_raise('VALIDATION_FAILED', jsonb_build_object('field', 'points', 'reason', 'points is only for donations'));
  ELSIF w.type = 'donation' AND v_qty <> 1 THEN
    PERFORM jf_raise('VALIDATION_FAILED', jsonb_build_object('field', 'quantity', 'reason', 'a donation is one unit: give its points'));
  END IF;
  -- the price: points_cost × quantity, or a donation's own amount from points_cost up
  SELECT * INTO v_price FROM jf_reward_price(w, v_now);
  IF w.type = 'donation' THEN
    v_points := coalesce((p->>'points')::bigint, v_price.points_cost);
    IF v_points < v_price.points_cost THEN
      PERFORM jf_raise('DONATION_BELOW_MINIMUM', jsonb_build_object('field', 'points', 'minimum', v_price.points_cost,
                                                                    'requested', v_points));
    END IF;
    v_cash := NULL;
  ELSE
    v_points := v_price.points_cost * v_qty;
    v_cash := v_price.cash_part * v_qty;
  END IF;
  IF p ? 'expected_points' AND (p->>'expected_points')::bigint <> v_points THEN
    PERFORM jf_raise('PRICE_CHANGED', jsonb_build_object('field', 'expected_points', 'expected_points', (p->>'expected_points')::bigint,
                                                         'points', v_points));
  END IF;

  PERFORM jf_reward_limit(c, w, v_qty, v_now);
  PERFORM jf_insufficient(c, v_points, v_now);
  -- a first look at the stock (unlocked): a sold-out reward is refused before any ledger work
  IF w.stock_left IS NOT NULL AND w.stock_left < v_qty THEN
    PERFORM jf_raise('REWARD_OUT_OF_STOCK', jsonb_build_object('reward_id', w.id, 'stock_left', w.stock_left, 'requested', v_qty));
  END IF;

  -- hold → fulfil → capture, with the ledger's helpers, under the lock taken above
  v_ledger := jsonb_build_object('reference', v_id, 'reason', 'redemption of ' || w.id, 'actor', p->>'actor',
                                 'metadata', jsonb_build_object('redemption_id', v_id, 'reward_id', w.id));
  v_hold_id := jf_hold_locked(c, v_points, v_now, v_ledger);
  IF w.type = 'coupon' THEN
    WITH taken AS (
      SELECT rc.code FROM reward_code rc
       WHERE rc.reward_id = w.id AND rc.redemption_id IS NULL
       ORDER BY rc.created_at, rc.code
       LIMIT v_qty
       FOR UPDATE SKIP LOCKED
    ), issued AS (
      UPDATE reward_code rc SET redemption_id = v_id, issued_at = v_now
        FROM taken WHERE rc.reward_id = w.id AND rc.code = taken.code
      RETURNING rc.code
    )
    SELECT coalesce(array_agg(code ORDER BY code), '{}') INTO v_codes FROM issued;
    IF cardinality(v_codes) < v_qty THEN
      -- the pool is empty: raising voids the hold (the transaction is rolled back, nothing stays)
      PERFORM jf_raise('REWARD_OUT_OF_STOCK', jsonb_build_object('reward_id', w.id, 'codes_left', cardinality(v_codes),
                                                                 'requested', v_qty));
    END IF;
  END IF;
  v_capture := jf_hold_resolve(v_hold_id, v_points, 'captured', v_now, jf_id('txn'), v_ledger - 'metadata');
  PERFORM jf_extend_on_activity(c, v_now);
  SELECT x->>'id' INTO v_capture_entry FROM jsonb_array_elements(v_capture) x WHERE x->>'kind' = 'capture';

  INSERT INTO redemption (id, program_id, member_id, reward_id, reward_type, quantity, points, cash, status, hold_id,
                          capture_entry_id, codes, shipping, actor, metadata, created_at, updated_at)
  VALUES (v_id, c.program_id, c.member_id, w.id, w.type, v_qty, v_points, v_cash, 'confirmed', v_hold_id,
          v_capture_entry, v_codes, p->'shipping', coalesce(p->>'actor', 'system'), coalesce(p->'metadata', '{}'), v_now, v_now)
  RETURNING * INTO d;
  INSERT INTO redemption_history (id, program_id, redemption_id, member_id, reward_id, type, at, actor, payload)
  VALUES (jf_id('rdh'), c.program_id, v_id, c.member_id, w.id, 'redemption.confirmed', v_now, d.actor,
          jsonb_build_object('reward_type', w.type, 'quantity', v_qty, 'points', v_points, 'cash', v_cash,
                             'codes', to_jsonb(v_codes), 'hold_id', v_hold_id, 'capture_entry_id', v_capture_entry));
  v_body := jf_redemption_json(d, w.name) || jsonb_build_object('balance', jf_balance(c.member_id, v_now));
  v_result := jf_idem_store(p, jsonb_build_object('status', 201, 'body', v_body));

  -- the stock, last: the reward's row is locked only from here to the commit
  IF w.stock IS NOT NULL THEN
    UPDATE reward SET stock_left = stock_left - v_qty WHERE id = w.id AND stock_left >= v_qty;
    IF NOT FOUND THEN
      PERFORM jf_raise('REWARD_OUT_OF_STOCK', jsonb_build_object('reward_id', w.id, 'stock_left', 0, 'requested', v_qty));
    END IF;
  END IF;
  RETURN v_result;
END $$;

-- Cancel (member's or operator's, while confirmed) or reject (operator's, confirmed or shipped) a
-- redemption: the captured points come back as new lots with their original expiry
-- (jf_restore_capture), the stock comes back, the status and its history row are written —
-- exactly once: concurrent calls serialise on the member's lock and the second finds the status
-- changed (409 REDEMPTION_STATUS_CONFLICT), or, with the same idempotency key, replays the first.
--   p: now, redemption_id, action (cancel | reject), reason, actor, programs, member_id (a member's own), idem_*
CREATE OR REPLACE FUNCTION rewards_restore(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_action text := p->>'action';
  v_status text := CASE p->>'action' WHEN 'cancel' THEN 'cancelled' ELSE 'rejected' END;
  v_txn text := jf_id('txn');
  v_member text;
  v_program text;
  v_restore jsonb;
  v_stock boolean := false;
  r jsonb;
  c jf_member_ctx;
  d redemption;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  SELECT member_id, program_id INTO v_member, v_program FROM redemption WHERE id = p->>'redemption_id';
  IF NOT FOUND OR (jsonb_typeof(p->'programs') = 'array' AND NOT (p->'programs') ? v_program)
     OR (p->>'member_id' IS NOT NULL AND p->>'member_id' <> v_member) THEN
    PERFORM jf_raise('REDEMPTION_NOT_FOUND', jsonb_build_object('redemption_id', p->>'redemption_id'));
  END IF;
  c := jf_lock_member(v_member, v_now);
  PERFORM jf_require_status(c, true);
  SELECT * INTO d FROM redemption WHERE id = p->>'redemption_id' FOR UPDATE;
  IF NOT (d.status = 'confirmed' OR (v_action = 'reject' AND d.status = 'shipped')) THEN
    PERFORM jf_raise('REDEMPTION_STATUS_CONFLICT', jsonb_build_object('redemption_id', d.id, 'redemption_status', d.status,
                                                                      'action', v_action));
  END IF;
  v_restore := jf_restore_capture(c, d.hold_id, d.capture_entry_id, v_now, v_txn,
                                  jsonb_build_object('reason', coalesce(p->>'reason', v_action || ' of redemption ' || d.id),
                                                     'reference', d.id, 'actor', p->>'actor'));
  -- at most the stock on sale: a reward made limited after this redemption was taken from its
  -- unlimited stock gets nothing back beyond what it has on sale
  UPDATE reward SET stock_left = LEAST(stock, stock_left + d.quantity) WHERE id = d.reward_id AND stock IS NOT NULL;
  v_stock := FOUND;
  UPDATE redemption SET status = v_status, reason = p->>'reason', restore_txn_id = v_txn, ended_at = v_now, updated_at = v_now
   WHERE id = d.id
  RETURNING * INTO d;
  INSERT INTO redemption_history (id, program_id, redemption_id, member_id, reward_id, type, at, actor, payload)
  VALUES (jf_id('rdh'), d.program_id, d.id, d.member_id, d.reward_id, 'redemption.' || v_status, v_now,
          coalesce(p->>'actor', 'system'),
          jsonb_build_object('reason', p->>'reason', 'points_restored', (v_restore->>'points')::bigint,
                             'points_expired', (v_restore->>'expired')::bigint, 'lots', v_restore->'lots',
                             'stock_restored', CASE WHEN v_stock THEN d.quantity ELSE 0 END, 'txn_id', v_txn));
  RETURN jf_idem_store(p, jsonb_build_object('status', 200, 'body',
    jf_redemption_json(d) || jsonb_build_object('balance', jf_balance(c.member_id, v_now), 'restored', v_restore)));
END $$;
