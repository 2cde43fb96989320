import type { Queryable } from '../../src/db/db.ts';

/**
 * Everything of the public schema that a migration or a function file can change, as sorted text
 * lines: columns (in their order, with type, collation, nullability, default, identity and
 * generation), constraints (with their definitions and whether they are validated), indexes,
 * functions (pg_get_functiondef: signature, attributes and body), triggers, composite types and
 * views. Two databases with the same fingerprint have the same schema. The runner's own
 * bookkeeping tables are left out.
 */
export async function schemaFingerprint(db: Queryable): Promise<Record<string, string[]>> {
  const rows = async (sql: string) => (await db.query<{ line: string }>(sql)).map((r) => r.line);
  const own = `NOT IN ('schema_migration', 'schema_function_file')`;
  return {
    columns: await rows(`
      SELECT c.table_name || '.' || c.column_name || ' #' || row_number() OVER (PARTITION BY c.table_name ORDER BY c.ordinal_position)
             || ' ' || c.data_type || '/' || c.udt_name || ' collate=' || coalesce(c.collation_name, '-')
             || ' null=' || c.is_nullable || ' default=' || coalesce(c.column_default, '-')
             || ' identity=' || c.is_identity || ' generated=' || coalesce(c.generation_expression, '-') AS line
        FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
       WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name ${own}
       ORDER BY 1`),
    constraints: await rows(`
      SELECT conrelid::regclass::text || ' ' || conname || ' ' || contype::text || ' validated=' || convalidated || ' ' || pg_get_constraintdef(oid) AS line
        FROM pg_constraint
       WHERE connamespace = 'public'::regnamespace AND conrelid <> 0 AND conrelid::regclass::text ${own}
       ORDER BY 1`),
    indexes: await rows(`SELECT indexdef AS line FROM pg_indexes WHERE schemaname = 'public' AND tablename ${own} ORDER BY 1`),
    functions: await rows(`
      SELECT pg_get_functiondef(p.oid) AS line FROM pg_proc p
       WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
       ORDER BY p.proname, pg_get_function_identity_arguments(p.oid)`),
    triggers: await rows(`SELECT pg_get_triggerdef(oid) AS line FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`),
    types: await rows(`
      SELECT t.typname || '(' || string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) || ')' AS line
        FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c' JOIN pg_attribute a ON a.attrelid = c.oid AND NOT a.attisdropped
       WHERE t.typnamespace = 'public'::regnamespace
       GROUP BY t.typname ORDER BY 1`),
    views: await rows(`SELECT viewname || ': ' || definition AS line FROM pg_views WHERE schemaname = 'public' ORDER BY 1`),
  };
}
