-- Ledger module: helpers shared by the ledger operations (11_ledger_operations.sql) and event
-- processing (20_events.sql): JSON shapes, expiry arithmetic, member locking, the lot allocation
-- order, credits, debts, and the triggers that keep ledger entries immutable. Every ledger write
-- takes its time as a parameter (the application's injected clock); nothing here reads now().
-- Owns member_account, ledger_entry, lot, hold, hold_allocation, ledger_daily, ledger_daily_delta
-- (src/modules/ledger/index.ts).

-- Entries are immutable: corrections are new entries. (A trigger binding lives beside its function:
-- the function must exist first, and CREATE OR REPLACE TRIGGER makes it as repeatable.)
CREATE OR REPLACE FUNCTION jf_entry_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entry is append-only (% refused)', TG_OP USING ERRCODE = 'JF001';
END $$;
CREATE OR REPLACE TRIGGER ledger_entry_no_update BEFORE UPDATE OR DELETE ON ledger_entry
  FOR EACH ROW EXECUTE FUNCTION jf_entry_immutable();
CREATE OR REPLACE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry
  FOR EACH STATEMENT EXECUTE FUNCTION jf_entry_immutable();

-- Retired: the dashboard rollups were first kept by a statement trigger on ledger_entry; its
-- query on the transition table cost a credit 10–17% of its database time (bench/README.md,
-- "dashboard"), so the writers append the deltas themselves (jf_post, ledger_expire_due, events_commit).
DROP TRIGGER IF EXISTS ledger_entry_rollup ON ledger_entry;
DROP FUNCTION IF EXISTS jf_entry_rollup();

-- Expiry policy arithmetic, in the program's time zone; at most jf_ts_max() (computed instants
-- are clamped to what the API can represent).
--   {"type":"never"}
--   {"type":"rolling","months":12}                      earned_at + 12 months
--   {"type":"end_of_period","unit":"year","offset":1}   end of the year after the year of earning
--   {"type":"activity_extended","months":12,"hard_cap_months":36}  earned_at + 12 months, extended by activity
--   {"type":"activity_extended","months":12,"extend_by_months":3,"extend_once_per":"quarter"}  (jf_extend_lots)
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

-- JSON shapes returned by the API. One definition each, used by writes and reads alike.
CREATE OR REPLACE FUNCTION jf_entry_json(e ledger_entry) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', e.id, 'object', 'entry', 'program_id', e.program_id, 'member_id', e.member_id, 'txn_id', e.txn_id,
    'kind', e.kind, 'amount', e.amount, 'delta', e.delta, 'held_delta', e.held_delta,
    'debit_account', e.debit_account, 'credit_account', e.credit_account,
    'lot_id', e.lot_id, 'hold_id', e.hold_id, 'reverses_entry_id', e.reverses_entry_id,
    'counterparty_member_id', e.counterparty_member_id, 'event_id', e.event_id, 'reason', e.reason, 'reason_code', e.reason_code,
    'reference', e.reference, 'actor', e.actor, 'metadata', e.metadata, 'occurred_at', jf_ts(e.occurred_at))
$$;

CREATE OR REPLACE FUNCTION jf_lot_json(l lot, p_now timestamptz) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', l.id, 'object', 'lot', 'member_id', l.member_id, 'entry_id', l.entry_id, 'amount', l.amount,
    'remaining', l.remaining, 'held', l.held, 'spent', l.spent, 'expired', l.expired, 'reversed', l.reversed,
    'earned_at', jf_ts(l.earned_at), 'available_at', jf_ts(l.available_at), 'expires_at', jf_ts(l.expires_at),
    'expiry_cap', jf_ts(l.expiry_cap),
    'state', CASE WHEN l.remaining = 0 AND l.held = 0 THEN 'consumed'
                  WHEN l.expires_at IS NOT NULL AND l.expires_at <= p_now THEN 'expired'
                  WHEN l.available_at > p_now THEN 'pending'
                  ELSE 'available' END)
$$;

CREATE OR REPLACE FUNCTION jf_hold_json(h hold, p_now timestamptz) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', h.id, 'object', 'hold', 'program_id', h.program_id, 'member_id', h.member_id, 'amount', h.amount,
    'captured', h.captured,
    -- a hold past its deadline is expired at once, even before the timeout job releases it
    'status', CASE WHEN h.status = 'open' AND h.expires_at <= p_now THEN 'expired' ELSE h.status END,
    'reference', h.reference, 'description', h.description, 'metadata', h.metadata,
    'created_at', jf_ts(h.created_at), 'expires_at', jf_ts(h.expires_at), 'resolved_at', jf_ts(h.resolved_at))
$$;

-- The balance as of p_now, exact in time: lots past expires_at are never available and pending
-- lots become available at available_at, whether or not any job has run. Points of holds past
-- their deadline count as available again before the timeout job releases them.
--
-- PL/pgSQL rather than SQL here and in the other helpers called on every write: PostgreSQL (before
-- 18) re-plans a non-inlinable SQL function in every transaction, while PL/pgSQL keeps its plans
-- for the connection. Measured: a credit spent 0.8 ms of 1.8 ms planning this query.
CREATE OR REPLACE FUNCTION jf_balance(p_member_id text, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  a member_account;
  v_spendable bigint;
  v_pending bigint;
  v_exp30 bigint;
  v_exp60 bigint;
  v_exp90 bigint;
  v_next_at timestamptz;
  v_next_points bigint := 0;
  v_held bigint := 0;
  v_back_spendable bigint := 0;
  v_back_pending bigint := 0;
BEGIN
  SELECT * INTO a FROM member_account WHERE member_id = p_member_id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT coalesce(sum(remaining) FILTER (WHERE available_at <= p_now AND (expires_at IS NULL OR expires_at > p_now)), 0),
         coalesce(sum(remaining) FILTER (WHERE available_at > p_now AND (expires_at IS NULL OR expires_at > p_now)), 0),
         coalesce(sum(remaining) FILTER (WHERE expires_at > p_now AND expires_at <= p_now + interval '30 days'), 0),
         coalesce(sum(remaining) FILTER (WHERE expires_at > p_now AND expires_at <= p_now + interval '60 days'), 0),
         coalesce(sum(remaining) FILTER (WHERE expires_at > p_now AND expires_at <= p_now + interval '90 days'), 0),
         min(expires_at) FILTER (WHERE expires_at > p_now)
    INTO v_spendable, v_pending, v_exp30, v_exp60, v_exp90, v_next_at
    FROM lot WHERE member_id = p_member_id AND remaining > 0;
  IF v_next_at IS NOT NULL THEN
    SELECT coalesce(sum(remaining), 0) INTO v_next_points
      FROM lot WHERE member_id = p_member_id AND remaining > 0 AND expires_at = v_next_at;
  END IF;
  -- holds only matter for members that have some (most have none)
  IF a.held > 0 THEN
    SELECT coalesce(sum(amount) FILTER (WHERE expires_at > p_now), 0) INTO v_held
      FROM hold WHERE member_id = p_member_id AND status = 'open';
    SELECT coalesce(sum(ha.amount) FILTER (WHERE lt.available_at <= p_now AND (lt.expires_at IS NULL OR lt.expires_at > p_now)), 0),
           coalesce(sum(ha.amount) FILTER (WHERE lt.available_at > p_now AND (lt.expires_at IS NULL OR lt.expires_at > p_now)), 0)
      INTO v_back_spendable, v_back_pending
      FROM hold ho JOIN hold_allocation ha ON ha.hold_id = ho.id JOIN lot lt ON lt.id = ha.lot_id
     WHERE ho.member_id = p_member_id AND ho.status = 'open' AND ho.expires_at <= p_now;
  END IF;
  RETURN jsonb_build_object(
    'object', 'balance', 'member_id', a.member_id,
    'available', v_spendable + v_back_spendable - a.debt,
    'pending', v_pending + v_back_pending,
    'held', v_held,
    'debt', a.debt,
    'lifetime_earned', a.lifetime_earned, 'lifetime_spent', a.lifetime_spent, 'lifetime_expired', a.lifetime_expired,
    'next_expiry', CASE WHEN v_next_at IS NULL THEN NULL
                        ELSE jsonb_build_object('at', jf_ts(v_next_at), 'points', v_next_points) END,
    'expiring', jsonb_build_object('days_30', v_exp30, 'days_60', v_exp60, 'days_90', v_exp90),
    'last_activity_at', jf_ts(a.last_activity_at),
    'as_of', jf_ts(p_now));
END $$;

-- Spendable lots in allocation order (soonest expiry first, never-expiring last, then oldest),
-- with how much to take from each to reach p_points. The caller holds the member lock, so the
-- member's lots cannot change underneath.
CREATE OR REPLACE FUNCTION jf_take_lots(p_member_id text, p_points bigint, p_now timestamptz)
RETURNS TABLE (lot_id text, take bigint, expires_at timestamptz, expiry_cap timestamptz) LANGUAGE sql STABLE AS $$
  SELECT s.id, LEAST(s.remaining, p_points - (s.cum - s.remaining)), s.expires_at, s.expiry_cap
  FROM (
    SELECT lt.id, lt.remaining, lt.expires_at, lt.expiry_cap,
           sum(lt.remaining) OVER (ORDER BY lt.expires_at NULLS LAST, lt.earned_at, lt.id) AS cum
    FROM lot lt
    WHERE lt.member_id = p_member_id AND lt.remaining > 0 AND lt.available_at <= p_now
      AND (lt.expires_at IS NULL OR lt.expires_at > p_now)
  ) s
  WHERE s.cum - s.remaining < p_points
$$;

CREATE OR REPLACE FUNCTION jf_spendable(p_member_id text, p_now timestamptz) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(sum(remaining), 0)::bigint FROM lot
           WHERE member_id = p_member_id AND remaining > 0 AND available_at <= p_now
             AND (expires_at IS NULL OR expires_at > p_now));
END $$;

CREATE OR REPLACE FUNCTION jf_post(p_program text, p_member text, p_txn text, p_kind text, p_debit text, p_credit text,
                        p_amount bigint, p_now timestamptz, p jsonb, p_lot text DEFAULT NULL,
                        p_hold text DEFAULT NULL, p_reverses text DEFAULT NULL, p_counterparty text DEFAULT NULL)
RETURNS ledger_entry LANGUAGE plpgsql AS $$
DECLARE
  r ledger_entry;
BEGIN
  INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount,
                            lot_id, hold_id, reverses_entry_id, counterparty_member_id,
                            reason, reason_code, reference, actor, metadata, occurred_at, event_id)
  VALUES (jf_id('ent'), p_program, p_member, p_txn, p_kind, p_debit, p_credit, p_amount,
          p_lot, p_hold, p_reverses, p_counterparty,
          p->>'reason', p->>'reason_code', p->>'reference', p->>'actor', coalesce(p->'metadata', '{}'), p_now,
          p->>'event_id')
  RETURNING * INTO r;
  -- the dashboard rollups (migration 20261202T000500_dashboard_rollups.sql, docs/ledger.md "Dashboard
  -- rollups"): the entry's flow into the program's system accounts, on its program-local day,
  -- appended as a delta (an insert: writes of one program never wait on a shared row)
  IF p_kind NOT IN ('hold', 'release', 'transfer_out', 'transfer_in') THEN
    INSERT INTO ledger_daily_delta (program_id, day, issued, redeemed, expired, reversed, adjusted, written_off, forfeited)
    SELECT p_program, (p_now AT TIME ZONE pr.time_zone)::date,
           CASE WHEN p_debit = 'issued' THEN p_amount ELSE 0 END,
           CASE WHEN p_credit = 'redeemed' THEN p_amount ELSE 0 END,
           CASE WHEN p_credit = 'expired' THEN p_amount WHEN p_debit = 'expired' THEN -p_amount ELSE 0 END,
           CASE WHEN p_credit = 'reversed' THEN p_amount ELSE 0 END,
           CASE WHEN p_debit = 'adjusted' THEN p_amount WHEN p_credit = 'adjusted' THEN -p_amount ELSE 0 END,
           CASE WHEN p_debit = 'written_off' THEN p_amount ELSE 0 END,
           CASE WHEN p_credit = 'forfeited' THEN p_amount ELSE 0 END
      FROM program pr WHERE pr.id = p_program;
  END IF;
  RETURN r;
END $$;

-- Resolve a hold exactly once: capture p_capture points (soonest-expiring allocations first) and
-- return the rest to their lots. Points returned to a lot that has expired meanwhile expire now.
-- A reversal still owed on held points of a lot (reversal_held) is settled here: released points
-- pay it first, captured ones were spent and are written off. The caller holds the member lock
-- and has checked the hold is open.
CREATE OR REPLACE FUNCTION jf_hold_resolve(p_hold_id text, p_capture bigint, p_status text, p_now timestamptz,
                                p_txn text, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  h hold;
  a record;
  v_need bigint := p_capture;
  v_cap bigint;
  v_rel bigint;
  v_exp bigint;
  v_owed bigint;
  v_rel_rev bigint;
  v_captured bigint := 0;
  v_released bigint := 0;
  v_reversed bigint := 0;
  v_written_off bigint := 0;
  v_expired bigint := 0;
  v_expired_lots text[] := '{}';
  v_expired_amounts bigint[] := '{}';
  v_entries jsonb := '[]';
  e ledger_entry;
BEGIN
  SELECT * INTO h FROM hold WHERE id = p_hold_id FOR UPDATE;
  FOR a IN
    SELECT ha.lot_id, ha.amount, lt.expires_at, lt.reversal_held
    FROM hold_allocation ha JOIN lot lt ON lt.id = ha.lot_id
    WHERE ha.hold_id = p_hold_id
    ORDER BY lt.expires_at NULLS LAST, lt.earned_at, lt.id
  LOOP
    v_cap := LEAST(a.amount, v_need);
    v_need := v_need - v_cap;
    v_owed := LEAST(a.reversal_held, a.amount);
    v_rel_rev := LEAST(v_owed, a.amount - v_cap);
    v_rel := a.amount - v_cap - v_rel_rev;
    v_exp := CASE WHEN a.expires_at IS NOT NULL AND a.expires_at <= p_now THEN v_rel ELSE 0 END;
    UPDATE lot SET held = held - a.amount, spent = spent + v_cap, reversed = reversed + v_rel_rev,
                   reversal_held = reversal_held - v_owed,
                   remaining = remaining + v_rel - v_exp, expired = expired + v_exp
     WHERE id = a.lot_id;
    v_captured := v_captured + v_cap;
    v_released := v_released + v_rel;
    v_reversed := v_reversed + v_rel_rev;
    v_written_off := v_written_off + v_owed - v_rel_rev;
    IF v_exp > 0 THEN
      v_expired := v_expired + v_exp;
      v_expired_lots := v_expired_lots || a.lot_id;
      v_expired_amounts := v_expired_amounts || v_exp;
    END IF;
  END LOOP;

  IF v_captured > 0 THEN
    e := jf_post(h.program_id, h.member_id, p_txn, 'capture', 'member_held', 'redeemed', v_captured, p_now, p,
                 NULL, h.id);
    v_entries := v_entries || jf_entry_json(e);
  END IF;
  IF v_released > 0 THEN
    e := jf_post(h.program_id, h.member_id, p_txn, 'release', 'member_held', 'member', v_released, p_now,
                 CASE WHEN p_status = 'expired' THEN jsonb_build_object('reason', 'hold timed out') ELSE p END,
                 NULL, h.id);
    v_entries := v_entries || jf_entry_json(e);
  END IF;
  IF v_reversed > 0 THEN
    e := jf_post(h.program_id, h.member_id, p_txn, 'reverse', 'member_held', 'reversed', v_reversed, p_now,
                 jsonb_build_object('reason', 'reversal of a refunded credit, settled when its held points came back'),
                 NULL, h.id);
    v_entries := v_entries || jf_entry_json(e);
  END IF;
  IF v_written_off > 0 THEN
    e := jf_post(h.program_id, h.member_id, p_txn, 'write_off', 'written_off', 'reversed', v_written_off, p_now,
                 jsonb_build_object('reason', 'reversal of a refunded credit whose held points were captured'),
                 NULL, h.id);
    v_entries := v_entries || jf_entry_json(e);
  END IF;
  -- points returned to a lot that expired while they were held expire now
  FOR i IN 1 .. coalesce(array_length(v_expired_lots, 1), 0) LOOP
    e := jf_post(h.program_id, h.member_id, p_txn, 'expire', 'member', 'expired', v_expired_amounts[i], p_now,
                 '{}'::jsonb, v_expired_lots[i], h.id);
    v_entries := v_entries || jf_entry_json(e);
  END LOOP;

  UPDATE member_account
     SET held = held - h.amount, balance = balance + v_released - v_expired,
         lifetime_spent = lifetime_spent + v_captured, lifetime_expired = lifetime_expired + v_expired,
         updated_at = p_now
   WHERE member_id = h.member_id;
  UPDATE hold SET status = p_status, captured = v_captured, resolved_at = p_now WHERE id = h.id;
  RETURN v_entries;
END $$;

-- Repay debt from spendable lots. No entry: the member's balance does not change, the lots
-- that were owed are consumed.
CREATE OR REPLACE FUNCTION jf_settle_debt(p_member_id text, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_debt bigint;
  v_take bigint;
BEGIN
  SELECT debt INTO v_debt FROM member_account WHERE member_id = p_member_id;
  IF v_debt = 0 THEN
    RETURN;
  END IF;
  v_take := LEAST(v_debt, jf_spendable(p_member_id, p_now));
  IF v_take = 0 THEN
    RETURN;
  END IF;
  UPDATE lot SET remaining = lot.remaining - t.take, spent = lot.spent + t.take
    FROM jf_take_lots(p_member_id, v_take, p_now) t WHERE lot.id = t.lot_id;
  UPDATE member_account SET debt = debt - v_take, updated_at = p_now WHERE member_id = p_member_id;
END $$;

-- Lock the member's account row (the one lock every ledger write takes first), then bring the
-- member up to date: release holds past their deadline and repay debt from available lots.
CREATE OR REPLACE FUNCTION jf_lock_member(p_member_id text, p_now timestamptz) RETURNS jf_member_ctx
LANGUAGE plpgsql AS $$
DECLARE
  c jf_member_ctx;
  v_hold text;
BEGIN
  SELECT a.member_id, a.program_id, m.status, a.balance, a.held, a.debt,
         pr.time_zone, pr.expiry_policy, pr.pending_days, pr.negative_balance_policy, pr.hold_timeout_seconds
    INTO c
    FROM member_account a JOIN member m ON m.id = a.member_id JOIN program pr ON pr.id = a.program_id
   WHERE a.member_id = p_member_id
     FOR UPDATE OF a;
  IF NOT FOUND THEN
    PERFORM jf_raise('MEMBER_NOT_FOUND', jsonb_build_object('member_id', p_member_id));
  END IF;
  -- the common case (no open hold, no debt) needs nothing more
  IF c.held = 0 AND c.debt = 0 THEN
    RETURN c;
  END IF;
  FOR v_hold IN
    SELECT id FROM hold WHERE member_id = p_member_id AND status = 'open' AND expires_at <= p_now ORDER BY expires_at
  LOOP
    PERFORM jf_hold_resolve(v_hold, 0, 'expired', p_now, jf_id('txn'), '{}'::jsonb);
  END LOOP;
  PERFORM jf_settle_debt(p_member_id, p_now);
  SELECT a.member_id, a.program_id, m.status, a.balance, a.held, a.debt,
         pr.time_zone, pr.expiry_policy, pr.pending_days, pr.negative_balance_policy, pr.hold_timeout_seconds
    INTO c
    FROM member_account a JOIN member m ON m.id = a.member_id JOIN program pr ON pr.id = a.program_id
   WHERE a.member_id = p_member_id;
  RETURN c;
END $$;

-- jf_lock_member for a caller limited to some programs (p_programs: a JSON array of ids, or null for
-- every program): a member of another program is not found, as if it did not exist.
CREATE OR REPLACE FUNCTION jf_lock_member_in(p_member_id text, p_programs jsonb, p_now timestamptz) RETURNS jf_member_ctx
LANGUAGE plpgsql AS $$
DECLARE
  c jf_member_ctx := jf_lock_member(p_member_id, p_now);
BEGIN
  IF jsonb_typeof(p_programs) = 'array' AND NOT p_programs ? c.program_id THEN
    PERFORM jf_raise('MEMBER_NOT_FOUND', jsonb_build_object('member_id', c.member_id));
  END IF;
  RETURN c;
END $$;

-- Capture (p_points of it, default all, in multiples of p_step) or void an open hold of a member
-- the caller has locked (c), for ledger_hold_resolve and checkout_resolve. A hold no longer open is
-- HOLD_EXPIRED (its points released by the timeout) or HOLD_ALREADY_RESOLVED; a capture needs an
-- active member, at most the hold, whole steps. p: what the entries record (reason, reference,
-- actor). Returns the entries written.
CREATE OR REPLACE FUNCTION jf_capture_or_void(c jf_member_ctx, h hold, p_capture boolean, p_points bigint, p_step bigint,
                                              p_now timestamptz, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_capture bigint := coalesce(p_points, h.amount);
  v_entries jsonb;
BEGIN
  IF h.status = 'expired' THEN
    PERFORM jf_raise('HOLD_EXPIRED', jsonb_build_object('hold_id', h.id, 'expires_at', jf_ts(h.expires_at)));
  ELSIF h.status <> 'open' THEN
    PERFORM jf_raise('HOLD_ALREADY_RESOLVED', jsonb_build_object('hold_id', h.id, 'hold_status', h.status));
  END IF;
  IF NOT p_capture THEN
    RETURN jf_hold_resolve(h.id, 0, 'voided', p_now, jf_id('txn'), p);
  END IF;
  PERFORM jf_require_status(c, false);
  IF v_capture > h.amount THEN
    PERFORM jf_raise('CAPTURE_EXCEEDS_HOLD', jsonb_build_object('field', 'points', 'hold_amount', h.amount, 'requested', v_capture));
  ELSIF v_capture % p_step <> 0 THEN
    PERFORM jf_raise('VALIDATION_FAILED', jsonb_build_object('field', 'points', 'reason', format('points are used in steps of %s', p_step)));
  END IF;
  v_entries := jf_hold_resolve(h.id, v_capture, 'captured', p_now, jf_id('txn'), p);
  PERFORM jf_extend_on_activity(c, p_now);
  RETURN v_entries;
END $$;

CREATE OR REPLACE FUNCTION jf_require_status(c jf_member_ctx, p_allow_frozen boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF c.status = 'closed' THEN
    PERFORM jf_raise('MEMBER_CLOSED', jsonb_build_object('member_id', c.member_id));
  ELSIF c.status = 'frozen' AND NOT p_allow_frozen THEN
    PERFORM jf_raise('MEMBER_FROZEN', jsonb_build_object('member_id', c.member_id));
  END IF;
END $$;

-- Activity-extended expiry. Qualifying activity (earning, spending, capturing a hold, an event
-- but a refund, POST /v1/members/{id}/activity) extends the member's live lots, never beyond a
-- lot's hard cap, and never shortening an expiry; expired lots stay expired. Two ways:
--   reset (default): every live lot expires `months` after the activity;
--   add (extend_by_months + extend_once_per): the first activity of each month / quarter / year (in
--     the program's time zone) adds extend_by_months to each live lot's current expiry; later
--     activity in the same period adds nothing (member_account.extended_at). Lots earned by the
--     activity itself (earned_at = now) are not extended: they have just been given their expiry.
-- Writes that update the member's account row anyway set last_activity_at themselves and call
-- jf_extend_lots; jf_extend_on_activity is for activity that writes nothing else.
CREATE OR REPLACE FUNCTION jf_extend_on_activity(c jf_member_ctx, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE member_account SET last_activity_at = p_now WHERE member_id = c.member_id;
  PERFORM jf_extend_lots(c, p_now);
END $$;

-- The instant an activity at p_now extends a lot expiring at p_expires to under p_policy (mode add),
-- capped at p_cap and at jf_ts_max().
CREATE OR REPLACE FUNCTION jf_extended_expiry(p_policy jsonb, p_tz text, p_expires timestamptz, p_cap timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT LEAST(((p_expires AT TIME ZONE p_tz) + make_interval(months => (p_policy->>'extend_by_months')::integer)) AT TIME ZONE p_tz,
               coalesce(p_cap, 'infinity'::timestamptz), jf_ts_max())
$$;

-- Whether an activity at p_now may extend under mode add: the member's lots were not extended
-- that way yet in p_now's period.
CREATE OR REPLACE FUNCTION jf_extension_due(p_policy jsonb, p_tz text, p_extended_at timestamptz, p_now timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT p_extended_at IS NULL
      OR date_trunc(p_policy->>'extend_once_per', p_extended_at AT TIME ZONE p_tz) <> date_trunc(p_policy->>'extend_once_per', p_now AT TIME ZONE p_tz)
$$;

CREATE OR REPLACE FUNCTION jf_extend_lots(c jf_member_ctx, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_until timestamptz;
BEGIN
  IF c.expiry_policy->>'type' <> 'activity_extended' THEN
    RETURN;
  END IF;
  IF c.expiry_policy ? 'extend_by_months' THEN
    UPDATE member_account SET extended_at = p_now
     WHERE member_id = c.member_id AND jf_extension_due(c.expiry_policy, c.time_zone, extended_at, p_now);
    IF NOT FOUND THEN
      RETURN;
    END IF;
    UPDATE lot SET expires_at = jf_extended_expiry(c.expiry_policy, c.time_zone, expires_at, expiry_cap)
     WHERE member_id = c.member_id AND (remaining > 0 OR held > 0) AND expires_at > p_now AND earned_at < p_now
       AND expires_at < jf_extended_expiry(c.expiry_policy, c.time_zone, expires_at, expiry_cap);
    RETURN;
  END IF;
  v_until := jf_policy_expiry(c.expiry_policy, c.time_zone, p_now);
  UPDATE lot SET expires_at = LEAST(v_until, coalesce(expiry_cap, 'infinity'::timestamptz))
   WHERE member_id = c.member_id AND (remaining > 0 OR held > 0)
     AND expires_at > p_now AND expires_at < LEAST(v_until, coalesce(expiry_cap, 'infinity'::timestamptz));
END $$;

CREATE OR REPLACE FUNCTION jf_insufficient(c jf_member_ctx, p_points bigint, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_available bigint := jf_spendable(c.member_id, p_now) - c.debt;
BEGIN
  IF v_available < p_points THEN
    PERFORM jf_raise('INSUFFICIENT_POINTS', jsonb_build_object('available', v_available, 'requested', p_points));
  END IF;
END $$;

-- Create a lot for a credit entry and return it.
CREATE OR REPLACE FUNCTION jf_new_lot(p_lot_id text, c jf_member_ctx, p_entry text, p_points bigint, p_now timestamptz,
                           p_available_at timestamptz, p_expires_at timestamptz, p_cap timestamptz)
RETURNS lot LANGUAGE plpgsql AS $$
DECLARE
  r lot;
BEGIN
  INSERT INTO lot (id, program_id, member_id, entry_id, amount, remaining, earned_at, available_at, expires_at, expiry_cap)
  VALUES (p_lot_id, c.program_id, c.member_id, p_entry, p_points, p_points, p_now, p_available_at, p_expires_at, p_cap)
  RETURNING * INTO r;
  RETURN r;
END $$;

-- Credit a member whose row the caller has locked: one earn entry and its lot, pending and expiry
-- from p (available_at / pending_days / expires_at) or else the program; the end of the pending
-- period is at most jf_ts_max(). Shared by ledger_credit and event processing.
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
                            earned_day = greatest(earned_day, (p_now AT TIME ZONE c.time_zone)::date), updated_at = p_now
   WHERE member_id = c.member_id;
  RETURN jf_new_lot(v_lot, c, e.id, v_points, p_now, v_available, v_expires,
                    CASE WHEN p ? 'expires_at' THEN NULL ELSE jf_policy_cap(c.expiry_policy, c.time_zone, p_now) END);
END $$;

