-- checkout module (docs/rewards.md, "Checkout deduction"): a deduction is a ledger hold for one
-- order of the merchant's, moved only through the ledger's helpers (jf_lock_member,
-- jf_insufficient, jf_hold_locked, jf_capture_or_void, jf_restore_capture), as
-- rewards_redeem and ledger_hold_resolve do.
-- The quote and its caps are computed by the module's engine (checkout.engine.ts) before the call;
-- checkout_hold checks that the policy it used is still the one stored, under the member's lock.

-- A deduction as the API returns it at p_now. Its status is its hold's (a hold past its deadline
-- is expired at once, even before the timeout job releases it), refunded once given back.
CREATE OR REPLACE FUNCTION jf_checkout_json(d checkout_deduction, p_now timestamptz) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', d.id, 'object', 'checkout_deduction', 'program_id', d.program_id, 'member_id', d.member_id,
    'order_reference', d.order_reference, 'amount', d.amount, 'other_discounts', d.other_discounts,
    'points', d.points, 'value', (d.points / d.points_step) * d.value_step,
    'captured_points', h.captured, 'captured_value', (h.captured / d.points_step) * d.value_step,
    'status', CASE WHEN d.refunded_at IS NOT NULL THEN 'refunded'
                   WHEN h.status = 'open' AND h.expires_at <= p_now THEN 'expired'
                   WHEN h.status = 'open' THEN 'held'
                   ELSE h.status END,
    'points_step', d.points_step, 'value_step', d.value_step, 'hold_id', d.hold_id,
    'expires_at', jf_ts(h.expires_at), 'metadata', d.metadata, 'created_at', jf_ts(d.created_at),
    'resolved_at', jf_ts(h.resolved_at), 'refunded_at', jf_ts(d.refunded_at), 'refund_txn_id', d.refund_txn_id)
  FROM hold h WHERE h.id = d.hold_id
$$;

-- Hold points for an order.
--   p: now, member_id, order_reference, amount, other_discounts, points, points_step, value_step,
--      policy_updated_at (the policy the caps were computed with), expires_in_seconds, metadata,
--      actor, programs (the caller's program scope, or null), idem_*
CREATE OR REPLACE FUNCTION checkout_hold(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_points bigint := (p->>'points')::bigint;
  v_id text := jf_id('chk');
  v_hold text;
  v_other text;
  r jsonb;
  c jf_member_ctx;
  pol checkout_policy;
  d checkout_deduction;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  c := jf_lock_member_in(p->>'member_id', p->'programs', v_now);
  SELECT * INTO pol FROM checkout_policy WHERE program_id = c.program_id;
  IF NOT FOUND OR NOT pol.enabled THEN
    PERFORM jf_raise('CHECKOUT_NOT_ENABLED', jsonb_build_object('program_id', c.program_id));
  END IF;
  IF jf_ts(pol.updated_at) IS DISTINCT FROM p->>'policy_updated_at' THEN
    PERFORM jf_raise('CHECKOUT_POLICY_CHANGED', jsonb_build_object('program_id', c.program_id));
  END IF;
  PERFORM jf_require_status(c, false);
  -- one order, one live deduction: two members cannot race for the same order either
  PERFORM pg_advisory_xact_lock(hashtextextended('checkout:' || c.program_id || ':' || (p->>'order_reference'), 0));
  SELECT d0.id INTO v_other
    FROM checkout_deduction d0 JOIN hold h ON h.id = d0.hold_id
   WHERE d0.program_id = c.program_id AND d0.order_reference = p->>'order_reference'
     AND d0.refunded_at IS NULL
     AND (h.status = 'captured' OR (h.status = 'open' AND h.expires_at > v_now))
   LIMIT 1;
  IF FOUND THEN
    PERFORM jf_raise('CHECKOUT_ORDER_HAS_DEDUCTION', jsonb_build_object('field', 'order_reference', 'deduction_id', v_other));
  END IF;
  PERFORM jf_insufficient(c, v_points, v_now);
  c.hold_timeout_seconds := coalesce((p->>'expires_in_seconds')::integer, pol.hold_timeout_seconds, c.hold_timeout_seconds);
  v_hold := jf_hold_locked(c, v_points, v_now, jsonb_build_object(
    'reference', 'checkout:' || (p->>'order_reference'), 'reason', 'checkout deduction',
    'metadata', jsonb_build_object('checkout_deduction_id', v_id, 'order_reference', p->>'order_reference'),
    'actor', p->>'actor'));
  INSERT INTO checkout_deduction (id, program_id, member_id, hold_id, order_reference, amount, other_discounts, points,
                                  points_step, value_step, metadata, created_at)
  VALUES (v_id, c.program_id, c.member_id, v_hold, p->>'order_reference', (p->>'amount')::bigint,
          (p->>'other_discounts')::bigint, v_points, (p->>'points_step')::bigint, (p->>'value_step')::bigint,
          coalesce(p->'metadata', '{}'), v_now)
  RETURNING * INTO d;
  RETURN jf_idem_store(p, jsonb_build_object('status', 201, 'body', jf_checkout_json(d, v_now)
    || jsonb_build_object('balance', jf_balance(c.member_id, v_now))));
END $$;

-- Capture (on payment, whole or part), void (the order cancelled) or refund (a captured order
-- refunded: the points come back as lots with their original expiry, jf_restore_capture) a
-- deduction. Exactly one resolution wins: the member's lock serialises them and the timeout job.
--   p: now, deduction_id, action (capture | void | refund), points (capture: default all),
--      actor, programs, idem_*
CREATE OR REPLACE FUNCTION checkout_resolve(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_action text := p->>'action';
  v_entry text;
  v_txn text;
  r jsonb;
  c jf_member_ctx;
  d checkout_deduction;
  h hold;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  SELECT * INTO d FROM checkout_deduction WHERE id = p->>'deduction_id';
  IF NOT FOUND OR (jsonb_typeof(p->'programs') = 'array' AND NOT (p->'programs') ? d.program_id) THEN
    PERFORM jf_raise('CHECKOUT_DEDUCTION_NOT_FOUND', jsonb_build_object('deduction_id', p->>'deduction_id'));
  END IF;
  -- locking the member releases its holds past their deadline first (jf_lock_member)
  c := jf_lock_member(d.member_id, v_now);
  SELECT * INTO d FROM checkout_deduction WHERE id = d.id FOR UPDATE;
  SELECT * INTO h FROM hold WHERE id = d.hold_id FOR UPDATE;
  IF v_action = 'refund' THEN
    IF d.refunded_at IS NOT NULL THEN
      PERFORM jf_raise('CHECKOUT_ALREADY_REFUNDED', jsonb_build_object('deduction_id', d.id));
    ELSIF h.status <> 'captured' THEN
      PERFORM jf_raise('CHECKOUT_NOT_CAPTURED', jsonb_build_object('deduction_id', d.id, 'deduction_status', h.status));
    END IF;
    SELECT e.id INTO v_entry FROM ledger_entry e WHERE e.hold_id = h.id AND e.kind = 'capture';
    v_txn := jf_id('txn');
    PERFORM jf_restore_capture(c, h.id, v_entry, v_now, v_txn,
      jsonb_build_object('reason', 'checkout order refunded', 'reference', 'checkout:' || d.order_reference, 'actor', p->>'actor'));
    UPDATE checkout_deduction SET refunded_at = v_now, refund_txn_id = v_txn WHERE id = d.id RETURNING * INTO d;
  ELSE
    PERFORM jf_capture_or_void(c, h, v_action = 'capture', (p->>'points')::bigint, d.points_step, v_now,
      jsonb_build_object('reason', CASE v_action WHEN 'capture' THEN 'checkout order paid' ELSE 'checkout order cancelled' END,
                         'reference', 'checkout:' || d.order_reference, 'actor', p->>'actor'));
  END IF;
  RETURN jf_idem_store(p, jsonb_build_object('status', 200, 'body', jf_checkout_json(d, v_now)
    || jsonb_build_object('balance', jf_balance(c.member_id, v_now))));
END $$;
