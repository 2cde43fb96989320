-- events module: event_program_idx (20261202T000600) made a second index whose first column is
-- program_id beside the unique key (program_id, external_id). A plan made while the event table
-- was empty (a generic plan, kept for the connection: events_prepare's lookup of already processed
-- events by external id) could pick it and then read all of a program's events for each id, with a
-- filter on external_id (found by the demo seed with tier ladders: 2.2 ms a lookup at 5,600 events,
-- growing with the table). As a partial index that only the event log's queries can use — they say
-- `occurred_at IS NOT NULL`, which a lookup by external id does not — it can no longer be chosen
-- for anything else.
DROP INDEX event_program_idx;
CREATE INDEX event_program_idx ON event (program_id, occurred_at DESC, id DESC) WHERE occurred_at IS NOT NULL;
