-- Lottery module (src/modules/lottery, docs/rewards.md "Lottery"): a draw of a lottery reward in one
-- transaction of two statements. lottery_draw_begin claims the idempotency key, locks the member,
-- checks as rewards_redeem does (status, the reward, its window, tier, segment, the price, the
-- per-member limit, the balance, the stock) and finds the active seed, the member's client seed,
-- the nonce and the weights of the prizes in stock; the application computes the outcome with the
-- engine (lottery.engine.ts: the one implementation of the draw maths, also the public
-- verification's); lottery_draw_commit then holds and captures the points, records the redemption
-- (delivered at once: a draw cannot be cancelled for its points back), the draw, the prize's stock
-- and points, and the reward's stock last. Owns lottery_prize, lottery_seed, lottery_client_seed,
-- lottery_draw; writes redemption rows of lottery rewards (the rewards module's table: on purpose,
-- as docs/architecture.md's "Who owns which table" allows for rewards_redeem) and moves points only
-- through the ledger's helpers (jf_hold_locked, jf_hold_resolve, jf_credit_locked).

CREATE OR REPLACE FUNCTION jf_lottery_prize_json(z lottery_prize) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', z.id, 'object', 'lottery_prize', 'reward_id', z.reward_id, 'program_id', z.program_id, 'code', z.code,
    'name', z.name, 'weight', z.weight, 'stock', z.stock, 'stock_left', z.stock_left, 'points', z.points,
    'prize_reward_id', z.prize_reward_id, 'created_at', jf_ts(z.created_at), 'updated_at', jf_ts(z.updated_at), 'archived_at', jf_ts(z.archived_at))
$$;

-- Whether a prize can be drawn now: not archived, with stock left (or unlimited), and, a prize that
-- issues a reward, while that reward is not archived and has stock (and, a coupon, a code) left.
CREATE OR REPLACE FUNCTION jf_lottery_prize_in_stock(z lottery_prize) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT z.archived_at IS NULL AND (z.stock_left IS NULL OR z.stock_left > 0)
     AND (z.prize_reward_id IS NULL OR EXISTS (
           SELECT 1 FROM reward pr
            WHERE pr.id = z.prize_reward_id AND pr.status <> 'archived' AND (pr.stock_left IS NULL OR pr.stock_left > 0)
              AND (pr.type <> 'coupon'
                   OR EXISTS (SELECT 1 FROM reward_code rc WHERE rc.reward_id = pr.id AND rc.redemption_id IS NULL))))
$$;

-- The seed itself only once revealed.
CREATE OR REPLACE FUNCTION jf_lottery_seed_json(s lottery_seed) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', s.id, 'object', 'lottery_seed', 'reward_id', s.reward_id, 'program_id', s.program_id,
    'seed_hash', s.seed_hash, 'seed', CASE WHEN s.status = 'revealed' THEN s.seed END, 'status', s.status,
    'created_at', jf_ts(s.created_at), 'revealed_at', jf_ts(s.revealed_at),
    'draws', (SELECT count(*) FROM lottery_draw d WHERE d.seed_id = s.id))
$$;

CREATE OR REPLACE FUNCTION jf_lottery_draw_json(d lottery_draw) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  s lottery_seed;
  z lottery_prize;
BEGIN
  SELECT * INTO s FROM lottery_seed WHERE id = d.seed_id;
  SELECT * INTO z FROM lottery_prize WHERE id = d.prize_id;
  RETURN jsonb_build_object(
    'id', d.id, 'object', 'lottery_draw', 'program_id', d.program_id, 'reward_id', d.reward_id,
    'redemption_id', d.redemption_id, 'member_id', d.member_id, 'seed_id', d.seed_id, 'seed_hash', s.seed_hash,
    'seed_status', s.status, 'client_seed', d.client_seed, 'nonce', d.nonce, 'weights', d.weights,
    'prize', jsonb_build_object('id', z.id, 'code', z.code, 'name', z.name, 'points', d.points_awarded,
                                'reward_id', (SELECT pr.reward_id FROM redemption pr WHERE pr.id = d.prize_redemption_id)),
    'prize_redemption_id', d.prize_redemption_id,
    'points_cost', (SELECT r.points FROM redemption r WHERE r.id = d.redemption_id),
    'hmac', d.hmac, 'at', jf_ts(d.at), 'verify_path', '/v1/lottery-draws/' || d.id || '/verification');
END $$;

-- The checks and the draw's inputs, under the member's lock (taken here, kept to the commit).
--   p: now, member_id, reward_id, expected_points, client_seed_default, actor, programs, idem_*
-- Returns a stored result (replayed) or {seed_id, seed, client_seed, nonce, weights, points}.
CREATE OR REPLACE FUNCTION lottery_draw_begin(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_price record;
  v_client text;
  v_nonce integer;
  v_weights jsonb;
  r jsonb;
  c jf_member_ctx;
  w reward;
  s lottery_seed;
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
  IF w.type <> 'lottery' THEN
    PERFORM jf_raise('NOT_A_LOTTERY', jsonb_build_object('reward_id', w.id, 'type', w.type));
  END IF;
  PERFORM jf_reward_gate(c, w, v_now);

  SELECT * INTO v_price FROM jf_reward_price(w, v_now);
  IF p ? 'expected_points' AND (p->>'expected_points')::bigint <> v_price.points_cost THEN
    PERFORM jf_raise('PRICE_CHANGED', jsonb_build_object('field', 'expected_points', 'expected_points', (p->>'expected_points')::bigint,
                                                         'points', v_price.points_cost));
  END IF;
  PERFORM jf_reward_limit(c, w, 1, v_now);
  PERFORM jf_insufficient(c, v_price.points_cost, v_now);
  IF w.stock_left IS NOT NULL AND w.stock_left < 1 THEN
    PERFORM jf_raise('REWARD_OUT_OF_STOCK', jsonb_build_object('reward_id', w.id, 'stock_left', w.stock_left, 'requested', 1));
  END IF;

  -- the active seed (FOR SHARE: a rotation waits for the draws under way, and they for it)
  SELECT * INTO s FROM lottery_seed WHERE reward_id = w.id AND status = 'active' FOR SHARE;
  IF NOT FOUND THEN
    -- a rotation committed while this waited for the old seed: the new one is seen by a new statement
    SELECT * INTO s FROM lottery_seed WHERE reward_id = w.id AND status = 'active' FOR SHARE;
  END IF;
  IF NOT FOUND THEN
    PERFORM jf_raise('LOTTERY_NO_ACTIVE_SEED', jsonb_build_object('reward_id', w.id));
  END IF;
  -- the prizes with a limited stock are locked to the commit (their stock_left holds); unlimited
  -- ones are read as they are: the weights read are the weights recorded
  PERFORM 1 FROM lottery_prize
    WHERE reward_id = w.id AND archived_at IS NULL AND stock_left IS NOT NULL
    ORDER BY id FOR UPDATE;
  SELECT coalesce(jsonb_agg(jsonb_build_object('prize_id', z.id, 'code', z.code, 'weight', z.weight) ORDER BY z.created_at, z.id), '[]')
    INTO v_weights
    FROM lottery_prize z
   WHERE z.reward_id = w.id AND jf_lottery_prize_in_stock(z);
  IF jsonb_array_length(v_weights) = 0 THEN
    PERFORM jf_raise('LOTTERY_NO_PRIZES', jsonb_build_object('reward_id', w.id));
  END IF;

  SELECT cs.client_seed INTO v_client FROM lottery_client_seed cs WHERE cs.member_id = c.member_id;
  IF NOT FOUND THEN
    v_client := p->>'client_seed_default';
    INSERT INTO lottery_client_seed (member_id, client_seed, updated_at) VALUES (c.member_id, v_client, v_now);
  END IF;
  SELECT count(*) INTO v_nonce FROM lottery_draw d WHERE d.seed_id = s.id AND d.member_id = c.member_id;
  RETURN jsonb_build_object('seed_id', s.id, 'seed', s.seed, 'client_seed', v_client, 'nonce', v_nonce,
                            'weights', v_weights, 'points', v_price.points_cost);
END $$;

-- Writes the draw lottery_draw_begin prepared, in the same transaction, with the outcome the
-- engine computed: hold → capture of the points, the redemption (delivered), the draw, the prize's
-- stock and points, the idempotency key, and the reward's stock last.
--   p: what lottery_draw_begin took, and draw (its answer), outcome_index, hmac
CREATE OR REPLACE FUNCTION lottery_draw_commit(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_draw jsonb := p->'draw';
  v_points bigint := (p->'draw'->>'points')::bigint;
  v_won jsonb := p->'draw'->'weights'->((p->>'outcome_index')::integer);
  v_id text := jf_id('rdm');
  v_draw_id text := jf_id('ldr');
  v_actor text := coalesce(p->>'actor', 'system');
  v_ledger jsonb;
  v_capture jsonb;
  v_hold_id text;
  v_capture_entry text;
  v_body jsonb;
  v_result jsonb;
  v_prize_rdm text;
  v_codes text[] := '{}';
  c jf_member_ctx;
  w reward;
  pr reward;
  z lottery_prize;
  d redemption;
  x lottery_draw;
BEGIN
  c := jf_lock_member(p->>'member_id', v_now);
  SELECT * INTO w FROM reward WHERE id = p->>'reward_id';
  SELECT * INTO z FROM lottery_prize WHERE id = v_won->>'prize_id';
  IF NOT FOUND THEN
    PERFORM jf_raise('VALIDATION_FAILED', jsonb_build_object('field', 'outcome_index', 'reason', 'no such prize in the weights'));
  END IF;
  IF z.prize_reward_id IS NOT NULL THEN
    v_prize_rdm := jf_id('rdm');
  END IF;

  v_ledger := jsonb_build_object('reference', v_id, 'reason', 'lottery draw of ' || w.id, 'actor', v_actor,
                                 'metadata', jsonb_build_object('redemption_id', v_id, 'reward_id', w.id, 'lottery_draw_id', v_draw_id));
  v_hold_id := jf_hold_locked(c, v_points, v_now, v_ledger);
  v_capture := jf_hold_resolve(v_hold_id, v_points, 'captured', v_now, jf_id('txn'), v_ledger - 'metadata');
  PERFORM jf_extend_on_activity(c, v_now);
  SELECT e->>'id' INTO v_capture_entry FROM jsonb_array_elements(v_capture) e WHERE e->>'kind' = 'capture';

  INSERT INTO redemption (id, program_id, member_id, reward_id, reward_type, quantity, points, status, hold_id,
                          capture_entry_id, actor, metadata, created_at, updated_at, delivered_at)
  VALUES (v_id, c.program_id, c.member_id, w.id, 'lottery', 1, v_points, 'delivered', v_hold_id, v_capture_entry, v_actor,
          jsonb_build_object('lottery_draw_id', v_draw_id, 'prize_code', z.code), v_now, v_now, v_now)
  RETURNING * INTO d;
  INSERT INTO redemption_history (id, program_id, redemption_id, member_id, reward_id, type, at, actor, payload)
  VALUES (jf_id('rdh'), c.program_id, v_id, c.member_id, w.id, 'redemption.confirmed', v_now, v_actor,
          jsonb_build_object('reward_type', 'lottery', 'quantity', 1, 'points', v_points, 'hold_id', v_hold_id,
                             'capture_entry_id', v_capture_entry)),
         (jf_id('rdh'), c.program_id, v_id, c.member_id, w.id, 'redemption.delivered', v_now, v_actor,
          jsonb_build_object('lottery_draw_id', v_draw_id, 'prize_id', z.id, 'prize_code', z.code, 'prize_points', z.points,
                             'prize_reward_id', z.prize_reward_id, 'prize_redemption_id', v_prize_rdm));

  -- a prize that issues a reward: the winner's redemption of it, at no points (a code from the
  -- pool, SKIP LOCKED; the stock with the same check as a redemption); none left: the draw is
  -- refused as out of stock and nothing is written
  IF z.prize_reward_id IS NOT NULL THEN
    SELECT * INTO pr FROM reward WHERE id = z.prize_reward_id;
    IF pr.type = 'coupon' THEN
      WITH taken AS (
        SELECT rc.code FROM reward_code rc
         WHERE rc.reward_id = pr.id AND rc.redemption_id IS NULL
         ORDER BY rc.created_at, rc.code LIMIT 1
         FOR UPDATE SKIP LOCKED
      ), issued AS (
        UPDATE reward_code rc SET redemption_id = v_prize_rdm, issued_at = v_now
          FROM taken WHERE rc.reward_id = pr.id AND rc.code = taken.code
        RETURNING rc.code
      )
      SELECT coalesce(array_agg(code), '{}') INTO v_codes FROM issued;
      IF cardinality(v_codes) = 0 THEN
        PERFORM jf_raise('REWARD_OUT_OF_STOCK', jsonb_build_object('reward_id', pr.id, 'codes_left', 0, 'requested', 1));
      END IF;
    END IF;
    IF pr.stock IS NOT NULL THEN
      UPDATE reward SET stock_left = stock_left - 1 WHERE id = pr.id AND stock_left >= 1;
      IF NOT FOUND THEN
        PERFORM jf_raise('REWARD_OUT_OF_STOCK', jsonb_build_object('reward_id', pr.id, 'stock_left', 0, 'requested', 1));
      END IF;
    END IF;
    INSERT INTO redemption (id, program_id, member_id, reward_id, reward_type, quantity, points, status, codes, shipping,
                            actor, metadata, created_at, updated_at, prize_of_draw_id)
    VALUES (v_prize_rdm, c.program_id, c.member_id, pr.id, pr.type, 1, 0, 'confirmed', v_codes, p->'shipping', v_actor,
            jsonb_build_object('lottery_draw_id', v_draw_id, 'lottery_reward_id', w.id, 'prize_code', z.code), v_now, v_now, v_draw_id);
    INSERT INTO redemption_history (id, program_id, redemption_id, member_id, reward_id, type, at, actor, payload)
    VALUES (jf_id('rdh'), c.program_id, v_prize_rdm, c.member_id, pr.id, 'redemption.confirmed', v_now, v_actor,
            jsonb_build_object('reward_type', pr.type, 'quantity', 1, 'points', 0, 'codes', to_jsonb(v_codes),
                               'prize_of_draw_id', v_draw_id, 'lottery_reward_id', w.id, 'prize_code', z.code));
  END IF;

  INSERT INTO lottery_draw (id, program_id, reward_id, redemption_id, member_id, seed_id, client_seed, nonce, weights,
                            prize_id, prize_code, points_awarded, hmac, at, prize_redemption_id)
  VALUES (v_draw_id, c.program_id, w.id, v_id, c.member_id, v_draw->>'seed_id', v_draw->>'client_seed',
          (v_draw->>'nonce')::integer, v_draw->'weights', z.id, z.code, z.points, p->>'hmac', v_now, v_prize_rdm)
  RETURNING * INTO x;
  IF z.stock_left IS NOT NULL THEN
    UPDATE lottery_prize SET stock_left = stock_left - 1 WHERE id = z.id;
  END IF;
  -- a points prize: an earn entry and its lot, available at once, with the program's expiry
  IF z.points IS NOT NULL THEN
    PERFORM jf_credit_locked(c, jsonb_build_object('points', z.points, 'pending_days', 0, 'reason', 'lottery prize ' || z.code,
                                                   'reference', v_draw_id, 'actor', v_actor,
                                                   'metadata', jsonb_build_object('lottery_draw_id', v_draw_id, 'prize_id', z.id)), v_now);
    IF c.expiry_policy->>'type' = 'activity_extended' OR c.debt > 0 THEN
      PERFORM jf_extend_lots(c, v_now);
      PERFORM jf_settle_debt(c.member_id, v_now);
    END IF;
  END IF;

  v_body := jf_lottery_draw_json(x) || jsonb_build_object('balance', jf_balance(c.member_id, v_now));
  v_result := jf_idem_store(p, jsonb_build_object('status', 201, 'body', v_body));
  IF w.stock IS NOT NULL THEN
    UPDATE reward SET stock_left = stock_left - 1 WHERE id = w.id AND stock_left >= 1;
    IF NOT FOUND THEN
      PERFORM jf_raise('REWARD_OUT_OF_STOCK', jsonb_build_object('reward_id', w.id, 'stock_left', 0, 'requested', 1));
    END IF;
  END IF;
  RETURN v_result;
END $$;
