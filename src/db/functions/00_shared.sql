-- Shared by every module: ids, the API's timestamp format and its bounds, domain errors, exact
-- JSON numbers, and idempotency (idempotency_key, owned by src/shared/idempotency.ts).
--
-- How this folder works (docs/architecture.md, "SQL"): every function, view and trigger binding is
-- defined here once, with CREATE OR REPLACE. The files are applied in name order after the
-- migrations, in the same transaction, whenever one of them changes (src/db/migrate.ts). A
-- function whose arguments or result type change, or that is retired, is dropped explicitly
-- (DROP FUNCTION IF EXISTS name(old argument types)) at the top of its file. `git log` of a file is
-- the history of its functions.

-- Time-sortable opaque ids: <prefix>_<12 hex ms since epoch><16 hex random>. The 64 random bits
-- are two draws of random() (the backend's own generator, seeded from the system's strong random
-- source when the backend first calls it): ids need to be unique, not secret — none authorises
-- anything. A million calls took 1.75 s with gen_random_uuid() and 0.45 s with the two draws (the
-- review and ingestion make ids by the million; bench/README.md, 2026-12-04).
CREATE OR REPLACE FUNCTION jf_id(p_prefix text) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT p_prefix || '_' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
         || lpad(to_hex((random() * 4294967296)::bigint), 8, '0') || lpad(to_hex((random() * 4294967296)::bigint), 8, '0')
$$;

-- ISO 8601 in UTC with milliseconds, the one timestamp format of the API, always within
-- 1970-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z (NULL stays NULL): a response's timestamps
-- always match its declared date-time format (a value outside, stored by a bug, is shown at the
-- nearest bound). STABLE like to_char: declared IMMUTABLE it could never be inlined into the
-- queries that use it.
CREATE OR REPLACE FUNCTION jf_ts(p_t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(CASE WHEN p_t < '1970-01-01 00:00:00+00'::timestamptz THEN '1970-01-01 00:00:00+00'::timestamptz
                      WHEN p_t > '9999-12-31 23:59:59.999+00'::timestamptz THEN '9999-12-31 23:59:59.999+00'::timestamptz
                      ELSE p_t END AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Domain errors travel as SQLSTATE P0001 with the stable API code as message and JSON detail.
CREATE OR REPLACE FUNCTION jf_raise(p_code text, p_detail jsonb DEFAULT '{}') RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = p_code, DETAIL = p_detail::text;
END $$;

-- Idempotency. Look the key up first: a stored result is replayed (or the key was used for another
-- request: IDEMPOTENCY_KEY_REUSED). Otherwise the caller does the work and stores its result with
-- the key, in the same transaction, as one row. Two requests racing with one key both find nothing;
-- the second one's INSERT then waits on the primary key for the first to commit and fails with a
-- unique violation, which rolls its work back: the application retries it, and the retry replays
-- the first result. So a key has exactly one effect, and a write costs one idempotency row.
-- Returns NULL when the caller should do the work.
CREATE OR REPLACE FUNCTION jf_idem_claim(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r idempotency_key;
BEGIN
  IF p->>'idem_key' IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT * INTO r FROM idempotency_key WHERE scope = p->>'idem_scope' AND key = p->>'idem_key';
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF r.request_hash <> p->>'idem_hash' THEN
    PERFORM jf_raise('IDEMPOTENCY_KEY_REUSED', jsonb_build_object('key', p->>'idem_key'));
  END IF;
  RETURN jsonb_build_object('status', r.status_code, 'body', r.response, 'replayed', true);
END $$;

CREATE OR REPLACE FUNCTION jf_idem_store(p jsonb, p_result jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  IF p->>'idem_key' IS NOT NULL THEN
    INSERT INTO idempotency_key (scope, key, request_hash, status_code, response, created_at)
    VALUES (p->>'idem_scope', p->>'idem_key', p->>'idem_hash', (p_result->>'status')::integer, p_result->'body',
            coalesce((p->>'now')::timestamptz, now()));
  END IF;
  RETURN p_result || jsonb_build_object('replayed', false);
END $$;

-- The latest instant the API represents (RFC 3339 has four-digit years).
CREATE OR REPLACE FUNCTION jf_ts_max() RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '9999-12-31 23:59:59.999+00'::timestamptz
$$;

-- An exact integer as JSON for the audit: a number when a JSON number carries it exactly (|x| <= 2^53 − 1),
-- otherwise its decimal digits as a string. Sums over many accounts or entries are numeric (never
-- cast to bigint, which a sum may pass) and compared as numeric.
CREATE OR REPLACE FUNCTION jf_exact_json(x numeric) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN x BETWEEN -9007199254740991 AND 9007199254740991 THEN to_jsonb(x) ELSE to_jsonb(x::text) END
$$;

