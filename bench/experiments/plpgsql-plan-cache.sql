-- EXPERIMENT (not a migration): the change recommended for src/db/migrations, applied to a
-- benchmark database after migrating so that it can be measured without touching src/:
--
--   BENCH_SQL_PATCH=bench/experiments/plpgsql-plan-cache.sql npm run bench
--
-- Why: a LANGUAGE sql function that PostgreSQL cannot inline (a body with a CTE, FROM or
-- aggregate, an INSERT … RETURNING, or a body more volatile than the function's declaration) is
-- parsed, analysed and planned again in every transaction that calls it from PL/pgSQL:
-- PostgreSQL before 18 caches no plan for SQL-language functions across calls of the outer query.
-- jf_balance, a five-CTE query that is part of every write's response, cost ~1.1 ms of a ~2.2 ms
-- credit that way (pg_stat_user_functions with track_functions = all). A PL/pgSQL function keeps
-- its statements' plans for the life of the connection.
--
-- This rewrites the current definitions in place (so it follows whatever the migrations now say):
--   jf_balance, jf_spendable   LANGUAGE sql → plpgsql: BEGIN RETURN (<the same query>); END
--   jf_post, jf_new_lot        LANGUAGE sql → plpgsql: <the same INSERT> RETURNING * INTO r; RETURN r
--   jf_ts                      IMMUTABLE → STABLE: to_char(timestamp, text) is STABLE, so a function
--                              declared IMMUTABLE around it is never inlined; declared STABLE, it is.
-- In the migrations the same change is a matter of writing those five functions that way.
DO $experiment$
DECLARE
  f record;
  v_body text;
  v_new text;
BEGIN
  FOR f IN
    SELECT p.proname, p.prosrc, pg_get_function_arguments(p.oid) AS args, format_type(p.prorettype, NULL) AS rettype,
           CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END AS volatility
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.pronamespace = 'public'::regnamespace AND l.lanname = 'sql'
       AND p.proname IN ('jf_balance', 'jf_spendable', 'jf_post', 'jf_new_lot')
  LOOP
    v_body := regexp_replace(btrim(f.prosrc, E' \n\t'), ';\s*$', '');
    IF v_body ~* 'RETURNING \*$' THEN
      v_new := format(E'DECLARE r %s;\nBEGIN\n%s INTO r;\nRETURN r;\nEND', f.rettype, v_body);
    ELSE
      v_new := format(E'BEGIN\nRETURN (%s);\nEND', v_body);
    END IF;
    EXECUTE format('CREATE OR REPLACE FUNCTION %I(%s) RETURNS %s LANGUAGE plpgsql %s AS %L',
                   f.proname, f.args, f.rettype, f.volatility, v_new);
    RAISE NOTICE 'experiment: % is now plpgsql', f.proname;
  END LOOP;
  ALTER FUNCTION jf_ts(timestamptz) STABLE;
END
$experiment$;
