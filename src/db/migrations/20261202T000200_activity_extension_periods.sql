-- Activity extension that adds months to the current expiry at most once per period (the seeds'
-- 有效期12个月,每季度登录一次可延长3个月): when the member's lots were last extended that way, so the
-- next qualifying activity in the same period (in the program's time zone) extends nothing.
-- NULL: never. Only the activity_extended policy with extend_by_months reads or writes it.
ALTER TABLE member_account ADD COLUMN extended_at timestamptz;
