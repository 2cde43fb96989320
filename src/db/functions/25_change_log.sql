-- Change-log module (src/modules/change-log): the audit log of changes is append-only, like the
-- ledger's entries. Owns change_log.
CREATE OR REPLACE FUNCTION jf_change_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'change_log is append-only (% refused)', TG_OP USING ERRCODE = 'JF001';
END $$;
CREATE OR REPLACE TRIGGER change_log_no_update BEFORE UPDATE OR DELETE ON change_log
  FOR EACH ROW EXECUTE FUNCTION jf_change_log_immutable();
CREATE OR REPLACE TRIGGER change_log_no_truncate BEFORE TRUNCATE ON change_log
  FOR EACH STATEMENT EXECUTE FUNCTION jf_change_log_immutable();
