-- Every stored total stays exact as a JSON number: at most 2^53 − 1 (9007199254740991) in
-- magnitude. The API refuses a write that would pass it with 422 BALANCE_LIMIT_EXCEEDED and writes
-- nothing (fromDatabaseError maps these constraints, named *_points_bound). One operation moves at
-- most 10^12 points (the API's schemas and the rule engine's award limit); these constraints are the
-- backstop on every path at once, whatever the operation: a member's balance, held points, debt and
-- lifetime totals, a lot's and a hold's points, a rule's budget use, an event's net points.
--
-- The timed jobs cannot be stopped by a bound: a release keeps balance + held, expiry lowers the
-- balance, and lifetime_expired stays below lifetime_earned (points expire only after they were
-- earned; a reversal takes them off both).
--
-- NOT VALID: rows written before are not read (a deployment that already holds a larger total,
-- possible only through the bug this fixes, still starts); every write from now on is checked, so
-- such a row refuses further changes with BALANCE_LIMIT_EXCEEDED instead of answering 500 later.
-- member_account_balance_check (balance <= 2^53 − 1) exists since the first migration.

-- balance + held: what a member owns (a hold moves points from one to the other, a release back). Bounded
-- together, so that releasing a hold — which the timed job does too, for many members in one batch —
-- never takes the balance past the bound: a credit that would is refused instead.
ALTER TABLE member_account
  ADD CONSTRAINT member_account_balance_points_bound CHECK (balance >= -9007199254740991) NOT VALID,
  ADD CONSTRAINT member_account_held_points_bound CHECK (held <= 9007199254740991) NOT VALID,
  ADD CONSTRAINT member_account_balance_and_held_points_bound CHECK (balance + held <= 9007199254740991) NOT VALID,
  ADD CONSTRAINT member_account_debt_points_bound CHECK (debt <= 9007199254740991) NOT VALID,
  ADD CONSTRAINT member_account_lifetime_earned_points_bound CHECK (lifetime_earned BETWEEN -9007199254740991 AND 9007199254740991) NOT VALID,
  ADD CONSTRAINT member_account_lifetime_spent_points_bound CHECK (lifetime_spent BETWEEN -9007199254740991 AND 9007199254740991) NOT VALID,
  ADD CONSTRAINT member_account_lifetime_expired_points_bound CHECK (lifetime_expired BETWEEN -9007199254740991 AND 9007199254740991) NOT VALID;

-- a lot's parts are each at most its amount (they add up to it and none is negative)
ALTER TABLE lot ADD CONSTRAINT lot_amount_points_bound CHECK (amount <= 9007199254740991) NOT VALID;
ALTER TABLE hold ADD CONSTRAINT hold_amount_points_bound CHECK (amount <= 9007199254740991) NOT VALID;
ALTER TABLE hold_allocation ADD CONSTRAINT hold_allocation_amount_points_bound CHECK (amount <= 9007199254740991) NOT VALID;
ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_amount_points_bound CHECK (amount <= 9007199254740991) NOT VALID;
ALTER TABLE rule_award ADD CONSTRAINT rule_award_points_points_bound CHECK (points <= 9007199254740991) NOT VALID;
ALTER TABLE rule_budget ADD CONSTRAINT rule_budget_used_points_bound CHECK (used <= 9007199254740991) NOT VALID;
ALTER TABLE event ADD CONSTRAINT event_points_points_bound CHECK (points BETWEEN -9007199254740991 AND 9007199254740991) NOT VALID;

-- An exact integer as JSON for the audit: a number when a JSON number carries it exactly (|x| <= 2^53 − 1),
-- otherwise its decimal digits as a string. Sums over many accounts or entries are numeric (never
-- cast to bigint, which a sum may pass) and compared as numeric.
CREATE FUNCTION jf_exact_json(x numeric) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN x BETWEEN -9007199254740991 AND 9007199254740991 THEN to_jsonb(x) ELSE to_jsonb(x::text) END
$$;
