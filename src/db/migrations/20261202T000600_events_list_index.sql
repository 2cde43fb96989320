-- events module: a program's event log, newest first (GET /v1/programs/{programId}/events).
-- The baseline indexes events by member (event_member_idx) and by the sender's id (the unique
-- key), so a program's newest events were a scan of all its events and a sort. This index
-- serves the order and the cursor, and the date range (occurred_at) within one program.
CREATE INDEX event_program_idx ON event (program_id, occurred_at DESC, id DESC);
