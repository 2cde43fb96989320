-- Ledger operations. Each is one function call (one round trip, one transaction with the caller's):
-- claim the idempotency key, lock the member, check, move points between lots and accounts, write
-- immutable entries, remember the result. Input is one JSON object `p`; see ledger.repository.ts.
-- Result: {"status": <http status>, "body": <response>, "replayed": <bool>}.
-- Ledger module (src/modules/ledger).

-- Credit: earn points into a new lot (pending period and expiry from the program's policy
-- unless given explicitly).
CREATE OR REPLACE FUNCTION ledger_credit(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  r jsonb;
  c jf_member_ctx;
  e ledger_entry;
  l lot;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  c := jf_lock_member(p->>'member_id', v_now);
  PERFORM jf_require_status(c, true);
  l := jf_credit_locked(c, p, v_now);
  -- extension and debt repayment may change the new lot: read it again only then
  IF c.expiry_policy->>'type' = 'activity_extended' OR c.debt > 0 THEN
    PERFORM jf_extend_lots(c, v_now);
    PERFORM jf_settle_debt(c.member_id, v_now);
    SELECT * INTO l FROM lot WHERE id = l.id;
  END IF;
  SELECT * INTO e FROM ledger_entry WHERE id = l.entry_id;
  RETURN jf_idem_store(p, jsonb_build_object('status', 201, 'body', jsonb_build_object(
    'entry', jf_entry_json(e), 'lot', jf_lot_json(l, v_now), 'balance', jf_balance(c.member_id, v_now))));
END $$;

-- Debit: spend available points, soonest-expiring lots first. Never overdraws.
CREATE OR REPLACE FUNCTION ledger_debit(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_points bigint := (p->>'points')::bigint;
  r jsonb;
  c jf_member_ctx;
  e ledger_entry;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  c := jf_lock_member(p->>'member_id', v_now);
  PERFORM jf_require_status(c, false);
  PERFORM jf_insufficient(c, v_points, v_now);
  UPDATE lot SET remaining = lot.remaining - t.take, spent = lot.spent + t.take
    FROM jf_take_lots(c.member_id, v_points, v_now) t WHERE lot.id = t.lot_id;
  e := jf_post(c.program_id, c.member_id, jf_id('txn'), 'spend', 'member', 'redeemed', v_points, v_now, p);
  UPDATE member_account SET balance = balance - v_points, lifetime_spent = lifetime_spent + v_points,
                            last_activity_at = v_now, updated_at = v_now
   WHERE member_id = c.member_id;
  PERFORM jf_extend_lots(c, v_now);
  RETURN jf_idem_store(p, jsonb_build_object('status', 201, 'body', jsonb_build_object(
    'entry', jf_entry_json(e), 'balance', jf_balance(c.member_id, v_now))));
END $$;

-- Hold: reserve points for a checkout. The points leave their lots into the hold (remembering
-- which lots), so a later capture cannot fail for lack of points. Its deadline is at most jf_ts_max().
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

-- Capture (full or partial) or void a hold. Exactly one resolution wins: the member lock serialises
-- capture, void and the timeout job, and each checks the hold is still open.
CREATE OR REPLACE FUNCTION ledger_hold_resolve(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_member text;
  v_entries jsonb;
  r jsonb;
  c jf_member_ctx;
  h hold;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  SELECT member_id INTO v_member FROM hold WHERE id = p->>'hold_id';
  IF NOT FOUND THEN
    PERFORM jf_raise('HOLD_NOT_FOUND', jsonb_build_object('hold_id', p->>'hold_id'));
  END IF;
  c := jf_lock_member(v_member, v_now);
  SELECT * INTO h FROM hold WHERE id = p->>'hold_id' FOR UPDATE;
  v_entries := jf_capture_or_void(c, h, p->>'action' = 'capture', (p->>'points')::bigint, 1, v_now, p);
  SELECT * INTO h FROM hold WHERE id = h.id;
  RETURN jf_idem_store(p, jsonb_build_object('status', 200, 'body', jsonb_build_object(
    'hold', jf_hold_json(h, v_now), 'entries', v_entries, 'balance', jf_balance(c.member_id, v_now))));
END $$;

-- Reverse a credit (refund claw-back), whole or part. Points still in the lot come back first;
-- points of the lot that already expired are re-labelled (the member loses nothing twice); points
-- already spent follow the program's policy: allow_negative records a debt repaid from current
-- and future points, write_off takes what the member has now and writes off the rest.
CREATE OR REPLACE FUNCTION ledger_reverse(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_txn text := jf_id('txn');
  v_reversible bigint;
  v_req bigint;
  v_from_lot bigint;
  v_from_expired bigint;
  v_spent bigint;
  v_from_spent bigint;
  v_debt bigint := 0;
  v_taken bigint := 0;
  v_written_off bigint := 0;
  v_on_hold bigint := 0;
  v_entries jsonb := '[]';
  r jsonb;
  c jf_member_ctx;
  e0 ledger_entry;
  e ledger_entry;
  l lot;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  SELECT * INTO e0 FROM ledger_entry WHERE id = p->>'entry_id';
  IF NOT FOUND THEN
    PERFORM jf_raise('ENTRY_NOT_FOUND', jsonb_build_object('entry_id', p->>'entry_id'));
  END IF;
  IF e0.kind NOT IN ('earn', 'adjust') OR e0.credit_account <> 'member' THEN
    PERFORM jf_raise('ENTRY_NOT_REVERSIBLE', jsonb_build_object('entry_id', e0.id, 'kind', e0.kind));
  END IF;
  c := jf_lock_member(e0.member_id, v_now);
  PERFORM jf_require_status(c, true);
  SELECT * INTO l FROM lot WHERE id = e0.lot_id;
  v_reversible := l.amount - l.reversal_total;
  v_req := coalesce((p->>'points')::bigint, v_reversible);
  IF v_reversible = 0 THEN
    PERFORM jf_raise('ENTRY_ALREADY_REVERSED', jsonb_build_object('entry_id', e0.id));
  ELSIF v_req > v_reversible THEN
    PERFORM jf_raise('REVERSAL_EXCEEDS_CREDIT', jsonb_build_object('field', 'points', 'reversible', v_reversible,
                                                                    'requested', v_req));
  END IF;

  v_from_lot := LEAST(v_req, l.remaining);
  v_from_expired := LEAST(v_req - v_from_lot, l.expired);
  v_spent := v_req - v_from_lot - v_from_expired;
  -- under allow_negative the spent part becomes debt and this lot's spent points are re-labelled;
  -- under write_off, points of this lot that are held now are owed when their hold resolves
  v_from_spent := CASE WHEN c.negative_balance_policy = 'allow_negative' THEN LEAST(v_spent, l.spent) ELSE 0 END;
  v_on_hold := CASE WHEN c.negative_balance_policy = 'allow_negative' THEN 0 ELSE LEAST(v_spent, l.held - l.reversal_held) END;
  UPDATE lot SET remaining = remaining - v_from_lot, expired = expired - v_from_expired,
                 spent = spent - v_from_spent, reversed = reversed + v_from_lot + v_from_expired + v_from_spent,
                 reversal_total = reversal_total + v_req, reversal_held = reversal_held + v_on_hold
   WHERE id = l.id;
  IF c.negative_balance_policy = 'allow_negative' THEN
    v_debt := v_spent;
  ELSE
    -- take what the member has available now (other lots), write off the rest
    v_taken := LEAST(v_spent - v_on_hold, greatest(jf_spendable(c.member_id, v_now) - c.debt, 0));
    v_written_off := v_spent - v_on_hold - v_taken;
    IF v_taken > 0 THEN
      UPDATE lot SET remaining = lot.remaining - t.take, reversed = lot.reversed + t.take
        FROM jf_take_lots(c.member_id, v_taken, v_now) t WHERE lot.id = t.lot_id;
    END IF;
  END IF;

  IF v_from_lot + v_taken + v_debt > 0 THEN
    e := jf_post(c.program_id, c.member_id, v_txn, 'reverse', 'member', 'reversed', v_from_lot + v_taken + v_debt,
                 v_now, p, l.id, NULL, e0.id);
    v_entries := v_entries || jf_entry_json(e);
  END IF;
  IF v_from_expired > 0 THEN
    e := jf_post(c.program_id, c.member_id, v_txn, 'reverse', 'expired', 'reversed', v_from_expired,
                 v_now, p, l.id, NULL, e0.id);
    v_entries := v_entries || jf_entry_json(e);
  END IF;
  IF v_written_off > 0 THEN
    e := jf_post(c.program_id, c.member_id, v_txn, 'write_off', 'written_off', 'reversed', v_written_off,
                 v_now, p, l.id, NULL, e0.id);
    v_entries := v_entries || jf_entry_json(e);
  END IF;

  UPDATE member_account
     SET balance = balance - v_from_lot - v_taken - v_debt, debt = debt + v_debt,
         lifetime_earned = lifetime_earned - CASE WHEN e0.kind = 'earn' THEN v_req ELSE 0 END,
         lifetime_expired = lifetime_expired - v_from_expired, updated_at = v_now
   WHERE member_id = c.member_id;
  PERFORM jf_settle_debt(c.member_id, v_now);
  RETURN jf_idem_store(p, jsonb_build_object('status', 201, 'body', jsonb_build_object(
    'reversal', jsonb_build_object('entry_id', e0.id, 'requested', v_req, 'from_lot', v_from_lot,
                                   'from_expired', v_from_expired, 'from_balance', v_taken, 'to_debt', v_debt,
                                   'on_hold', v_on_hold, 'written_off', v_written_off),
    'entries', v_entries, 'balance', jf_balance(c.member_id, v_now))));
END $$;

-- Manual adjustment by an operator: positive creates a lot (policy expiry, no pending period),
-- negative draws from available lots like a debit. Frozen members can be adjusted.
CREATE OR REPLACE FUNCTION ledger_adjust(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_points bigint := (p->>'points')::bigint;
  v_lot text := jf_id('lot');
  r jsonb;
  c jf_member_ctx;
  e ledger_entry;
  l lot;
BEGIN
  r := jf_idem_claim(p);
  IF r IS NOT NULL THEN
    RETURN r;
  END IF;
  c := jf_lock_member(p->>'member_id', v_now);
  PERFORM jf_require_status(c, true);
  IF v_points > 0 THEN
    e := jf_post(c.program_id, c.member_id, jf_id('txn'), 'adjust', 'adjusted', 'member', v_points, v_now, p, v_lot);
    l := jf_new_lot(v_lot, c, e.id, v_points, v_now, v_now, jf_policy_expiry(c.expiry_policy, c.time_zone, v_now),
                    jf_policy_cap(c.expiry_policy, c.time_zone, v_now));
    UPDATE member_account SET balance = balance + v_points, updated_at = v_now WHERE member_id = c.member_id;
    PERFORM jf_settle_debt(c.member_id, v_now);
    SELECT * INTO l FROM lot WHERE id = v_lot;
  ELSE
    PERFORM jf_insufficient(c, -v_points, v_now);
    UPDATE lot SET remaining = lot.remaining - t.take, spent = lot.spent + t.take
      FROM jf_take_lots(c.member_id, -v_points, v_now) t WHERE lot.id = t.lot_id;
    e := jf_post(c.program_id, c.member_id, jf_id('txn'), 'adjust', 'member', 'adjusted', -v_points, v_now, p);
    UPDATE member_account SET balance = balance + v_points, updated_at = v_now WHERE member_id = c.member_id;
  END IF;
  RETURN jf_idem_store(p, jsonb_build_object('status', 201, 'body', jsonb_build_object(
    'entry', jf_entry_json(e), 'lot', CASE WHEN l.id IS NULL THEN NULL ELSE jf_lot_json(l, v_now) END,
    'balance', jf_balance(c.member_id, v_now))));
END $$;

-- Member-to-member transfer within a program. The recipient's new lots keep the expiry of the
-- sender's lots they came from, so a transfer can never refresh expiry. The two members are locked
-- in bytewise id order, the order of every other write path (docs/ledger.md, lock order).
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

-- Qualifying activity without points (e.g. app login): extends expiry under activity_extended.
CREATE OR REPLACE FUNCTION ledger_record_activity(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  c jf_member_ctx;
BEGIN
  c := jf_lock_member(p->>'member_id', v_now);
  PERFORM jf_require_status(c, true);
  PERFORM jf_extend_on_activity(c, v_now);
  RETURN jsonb_build_object('status', 200, 'body', jf_balance(c.member_id, v_now), 'replayed', false);
END $$;

-- Freeze, unfreeze or close a member. Closing is final: open holds must be resolved first, the
-- remaining points are forfeited and any debt is written off, so the account ends at zero.
CREATE OR REPLACE FUNCTION ledger_set_status(p jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p->>'now')::timestamptz;
  v_status text := p->>'status';
  v_txn text := jf_id('txn');
  v_forfeit bigint;
  c jf_member_ctx;
BEGIN
  c := jf_lock_member(p->>'member_id', v_now);
  IF c.status = 'closed' THEN
    PERFORM jf_raise('MEMBER_CLOSED', jsonb_build_object('member_id', c.member_id));
  END IF;
  IF v_status = c.status THEN
    RETURN;
  END IF;
  IF v_status = 'closed' THEN
    IF c.held > 0 THEN
      PERFORM jf_raise('MEMBER_HAS_OPEN_HOLDS', jsonb_build_object('member_id', c.member_id, 'held', c.held));
    END IF;
    SELECT coalesce(sum(remaining), 0) INTO v_forfeit FROM lot WHERE member_id = c.member_id AND remaining > 0;
    IF v_forfeit > 0 THEN
      PERFORM jf_post(c.program_id, c.member_id, v_txn, 'forfeit', 'member', 'forfeited', v_forfeit, v_now, p);
      UPDATE lot SET expired = expired + remaining, remaining = 0 WHERE member_id = c.member_id AND remaining > 0;
    END IF;
    IF c.debt > 0 THEN
      PERFORM jf_post(c.program_id, c.member_id, v_txn, 'write_off', 'written_off', 'member', c.debt, v_now, p);
    END IF;
    UPDATE member_account SET balance = 0, debt = 0, updated_at = v_now WHERE member_id = c.member_id;
  END IF;
  UPDATE member SET status = v_status, status_reason = p->>'reason', updated_at = v_now WHERE id = c.member_id;
END $$;

-- Expiry sweep, one batch: set-based, safe with several instances. Members whose account row is
-- locked by a concurrent write are skipped (SKIP LOCKED) and picked up by the next batch; every
-- due lot gets exactly one expire entry (enforced by ledger_entry_one_sweep_expiry_per_lot).
CREATE OR REPLACE FUNCTION ledger_expire_due(p_now timestamptz, p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_members text[];
  v_member text;
  v_count integer;
  v_txn text := jf_id('txn');
BEGIN
  -- points owed are repaid before anything expires, by every member in debt who has spendable points
  -- (pending points that became available, points a void returned), whether or not a lot of theirs
  -- is due: otherwise those points could expire while the debt stays
  FOR v_member IN
    SELECT member_id FROM member_account
     WHERE debt > 0 AND jf_spendable(member_id, p_now) > 0
     ORDER BY member_id
     FOR UPDATE SKIP LOCKED
  LOOP
    PERFORM jf_settle_debt(v_member, p_now);
  END LOOP;
  SELECT array_agg(a.member_id) INTO v_members FROM (
    SELECT member_id FROM member_account
     -- an array, not IN (subquery): the planner then probes the primary key instead of scanning
     WHERE member_id = ANY (ARRAY(SELECT DISTINCT lt.member_id FROM (
                                   SELECT member_id FROM lot
                                    WHERE remaining > 0 AND expires_at <= p_now
                                    ORDER BY expires_at LIMIT p_limit) lt))
     ORDER BY member_id
     FOR UPDATE SKIP LOCKED
  ) a;
  IF v_members IS NULL THEN
    RETURN 0;
  END IF;
  WITH due AS (
    SELECT id, program_id, member_id, remaining FROM lot
     WHERE member_id = ANY (v_members) AND remaining > 0 AND expires_at <= p_now
  ), upd AS (
    UPDATE lot SET expired = lot.expired + due.remaining, remaining = 0
      FROM due WHERE lot.id = due.id
    RETURNING lot.id, lot.program_id, lot.member_id, due.remaining AS points
  ), ins AS (
    INSERT INTO ledger_entry (id, program_id, member_id, txn_id, kind, debit_account, credit_account, amount,
                              lot_id, metadata, occurred_at)
    SELECT jf_id('ent'), program_id, member_id, v_txn, 'expire', 'member', 'expired', points, id, '{}', p_now
      FROM upd
    RETURNING program_id, member_id, amount
  ), roll AS (
    -- the dashboard rollups: one delta per program of the batch (jf_post does it for single entries)
    INSERT INTO ledger_daily_delta (program_id, day, expired)
    SELECT ins.program_id, (p_now AT TIME ZONE pr.time_zone)::date, sum(ins.amount)
      FROM ins JOIN program pr ON pr.id = ins.program_id
     GROUP BY ins.program_id, pr.time_zone
  ), acc AS (
    UPDATE member_account a SET balance = a.balance - s.total, lifetime_expired = a.lifetime_expired + s.total,
                                updated_at = p_now
      FROM (SELECT member_id, sum(amount)::bigint AS total FROM ins GROUP BY member_id) s
     WHERE a.member_id = s.member_id
    RETURNING 1
  )
  SELECT count(*) INTO v_count FROM ins;
  RETURN v_count;
END $$;

-- Hold timeout, one batch: release holds past their deadline. SKIP LOCKED as above.
CREATE OR REPLACE FUNCTION ledger_release_due_holds(p_now timestamptz, p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_members text[];
  v_hold text;
  v_count integer := 0;
BEGIN
  SELECT array_agg(a.member_id) INTO v_members FROM (
    SELECT member_id FROM member_account
     WHERE member_id IN (SELECT h.member_id FROM hold h WHERE h.status = 'open' AND h.expires_at <= p_now
                          ORDER BY h.expires_at LIMIT p_limit)
     ORDER BY member_id
     FOR UPDATE SKIP LOCKED
  ) a;
  IF v_members IS NULL THEN
    RETURN 0;
  END IF;
  FOR v_hold IN
    SELECT id FROM hold WHERE member_id = ANY (v_members) AND status = 'open' AND expires_at <= p_now
     ORDER BY expires_at
  LOOP
    PERFORM jf_hold_resolve(v_hold, 0, 'expired', p_now, jf_id('txn'), '{}'::jsonb);
    v_count := v_count + 1;
  END LOOP;
  RETURN v_count;
END $$;


-- Dashboard rollups: fold the deltas the trigger appended (jf_entry_rollup) into ledger_daily, one
-- row per program and day. Run by the sweep and by the dashboard before it reads. One compactor at
-- a time (another one running means there is nothing to wait for: it returns 0); a delta is moved
-- exactly once (DELETE … RETURNING, in the same statement as the upsert), and the upsert takes its
-- rows in (program, day) order. Writers only insert deltas, so they never wait on it.
-- Returns the number of deltas folded.
CREATE OR REPLACE FUNCTION ledger_compact_daily() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_count integer;
BEGIN
  IF NOT pg_try_advisory_xact_lock(7262313) THEN
    RETURN 0;
  END IF;
  WITH moved AS (
    DELETE FROM ledger_daily_delta RETURNING *
  ), s AS (
    SELECT program_id, day, sum(issued) AS issued, sum(redeemed) AS redeemed, sum(expired) AS expired,
           sum(reversed) AS reversed, sum(adjusted) AS adjusted, sum(written_off) AS written_off,
           sum(forfeited) AS forfeited, count(*) AS n
      FROM moved GROUP BY program_id, day
  ), ins AS (
    INSERT INTO ledger_daily (program_id, day, issued, redeemed, expired, reversed, adjusted, written_off, forfeited)
    SELECT program_id, day, issued, redeemed, expired, reversed, adjusted, written_off, forfeited
      FROM s ORDER BY program_id, day
    ON CONFLICT (program_id, day) DO UPDATE
       SET issued = ledger_daily.issued + excluded.issued, redeemed = ledger_daily.redeemed + excluded.redeemed,
           expired = ledger_daily.expired + excluded.expired, reversed = ledger_daily.reversed + excluded.reversed,
           adjusted = ledger_daily.adjusted + excluded.adjusted, written_off = ledger_daily.written_off + excluded.written_off,
           forfeited = ledger_daily.forfeited + excluded.forfeited
    RETURNING 1
  )
  SELECT coalesce(sum(n), 0) INTO v_count FROM s;
  RETURN v_count;
END $$;


-- ─── Holding for a caller that holds the member's lock (the rewards module: a redemption) ───
-- What ledger_hold writes (the hold, its allocations soonest-expiring first, the lots, the hold
-- entry, the account), for a member the caller has locked with jf_lock_member and checked
-- (status, jf_insufficient) in the same transaction — without claiming a key, locking again or
-- answering JSON: rewards_redeem then fulfils and captures with jf_hold_resolve, and answers once.
CREATE OR REPLACE FUNCTION jf_hold_locked(c jf_member_ctx, p_points bigint, p_now timestamptz, p jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v_hold text := jf_id('hld');
BEGIN
  INSERT INTO hold (id, program_id, member_id, amount, status, reference, description, metadata, created_at, expires_at)
  VALUES (v_hold, c.program_id, c.member_id, p_points, 'open', p->>'reference', p->>'reason', coalesce(p->'metadata', '{}'), p_now,
          LEAST(p_now + make_interval(secs => c.hold_timeout_seconds), jf_ts_max()));
  INSERT INTO hold_allocation (hold_id, lot_id, amount)
  SELECT v_hold, t.lot_id, t.take FROM jf_take_lots(c.member_id, p_points, p_now) t;
  UPDATE lot SET remaining = lot.remaining - ha.amount, held = lot.held + ha.amount
    FROM hold_allocation ha WHERE ha.hold_id = v_hold AND lot.id = ha.lot_id;
  PERFORM jf_post(c.program_id, c.member_id, jf_id('txn'), 'hold', 'member', 'member_held', p_points, p_now, p, NULL, v_hold);
  UPDATE member_account SET balance = balance - p_points, held = held + p_points, updated_at = p_now
   WHERE member_id = c.member_id;
  RETURN v_hold;
END $$;


-- ─── Restoring a capture (the rewards module: a redemption cancelled, rejected or failed) ───
-- Gives back the points a hold's capture spent, as new lots with the expiry (and hard cap) of the
-- lots they came from: hold_allocation records which lots the hold took, and the capture spent
-- them soonest-expiring first (jf_hold_resolve), so the same order says which were captured.
-- Points whose lot has expired meanwhile come back expired (an expire entry at once): a
-- cancellation never extends an expiry. One reverse entry per lot (redeemed → member, its
-- reverses_entry_id the capture entry), and the dashboard's redeemed figure is reduced by the
-- same amount on the day of the restore. The caller holds the member lock and restores a capture
-- at most once (rewards_restore changes the redemption's status under that lock).
CREATE OR REPLACE FUNCTION jf_restore_capture(c jf_member_ctx, p_hold_id text, p_capture_entry text, p_now timestamptz,
                                              p_txn text, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  h hold;
  a record;
  v_left bigint;
  v_take bigint;
  v_lot text;
  v_restored bigint := 0;
  v_expired bigint := 0;
  v_entries jsonb := '[]';
  v_lots jsonb := '[]';
  e ledger_entry;
BEGIN
  SELECT * INTO h FROM hold WHERE id = p_hold_id AND member_id = c.member_id;
  IF NOT FOUND OR h.status <> 'captured' THEN
    RETURN jsonb_build_object('points', 0, 'expired', 0, 'entries', v_entries, 'lots', v_lots);
  END IF;
  v_left := h.captured;
  FOR a IN
    SELECT ha.lot_id, ha.amount, lt.expires_at, lt.expiry_cap
    FROM hold_allocation ha JOIN lot lt ON lt.id = ha.lot_id
    WHERE ha.hold_id = p_hold_id
    ORDER BY lt.expires_at NULLS LAST, lt.earned_at, lt.id
  LOOP
    EXIT WHEN v_left = 0;
    v_take := LEAST(a.amount, v_left);
    v_left := v_left - v_take;
    v_lot := jf_id('lot');
    e := jf_post(c.program_id, c.member_id, p_txn, 'reverse', 'redeemed', 'member', v_take, p_now, p, v_lot, h.id, p_capture_entry);
    v_entries := v_entries || jf_entry_json(e);
    IF a.expires_at IS NOT NULL AND a.expires_at <= p_now THEN
      INSERT INTO lot (id, program_id, member_id, entry_id, amount, remaining, expired, earned_at, available_at, expires_at, expiry_cap)
      VALUES (v_lot, c.program_id, c.member_id, e.id, v_take, 0, v_take, p_now, p_now, a.expires_at, a.expiry_cap);
      e := jf_post(c.program_id, c.member_id, p_txn, 'expire', 'member', 'expired', v_take, p_now, '{}'::jsonb, v_lot, h.id);
      v_entries := v_entries || jf_entry_json(e);
      v_expired := v_expired + v_take;
    ELSE
      PERFORM jf_new_lot(v_lot, c, e.id, v_take, p_now, p_now, a.expires_at, a.expiry_cap);
    END IF;
    v_lots := v_lots || jsonb_build_object('lot_id', v_lot, 'from_lot_id', a.lot_id, 'points', v_take,
                                           'expires_at', jf_ts(a.expires_at));
    v_restored := v_restored + v_take;
  END LOOP;
  IF v_restored > 0 THEN
    INSERT INTO ledger_daily_delta (program_id, day, redeemed)
    VALUES (c.program_id, (p_now AT TIME ZONE c.time_zone)::date, -v_restored);
    UPDATE member_account
       SET balance = balance + v_restored - v_expired, lifetime_spent = lifetime_spent - v_restored,
           lifetime_expired = lifetime_expired + v_expired, updated_at = p_now
     WHERE member_id = c.member_id;
    PERFORM jf_settle_debt(c.member_id, p_now);
  END IF;
  RETURN jsonb_build_object('points', v_restored, 'expired', v_expired, 'entries', v_entries, 'lots', v_lots);
END $$;
