-- API keys scoped to programmes (issue 8, item 11). program_ids NULL: the whole deployment, which is
-- what every key made before this migration stays. Otherwise the key sees and changes only these
-- programmes' resources; the ids are checked against program when the key is created (programmes are
-- never deleted). The programmes of a key never change.
ALTER TABLE api_key ADD COLUMN program_ids text[]
  CHECK (program_ids IS NULL OR (cardinality(program_ids) BETWEEN 1 AND 100 AND array_position(program_ids, NULL) IS NULL));
