-- members module (member) and ledger module (member_account): a tenth of each page left free, so that
-- an update of a row that changes no indexed column (an account's balance and award version, a
-- member's effective tier) writes its new version on the same page (a HOT update) instead of on a
-- new page with a new entry in each of the table's indexes. Both tables have one row per member and
-- are updated far more often than they grow: every ledger write updates the account, every tier
-- change the member. Pages written before this keep what they had until the table is rewritten
-- (VACUUM FULL, or pg_repack online); their first updates then free room as before, by pruning.
-- Measured on the tier review of a million members due on one day (bench/tiers, docs/tiers.md):
-- 33,732 members/s before, 40,176 after, the downgraded members' two updates being HOT.
ALTER TABLE member SET (fillfactor = 90);
ALTER TABLE member_account SET (fillfactor = 90);
