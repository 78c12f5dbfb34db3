/** The sentinel row of core.person_keys (migration 0312): present while the key tables are complete. */
export const KEYS_BUILT = '~built';
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The key tables' generation, as an SQL expression: the database and the xmin of their sentinel row (a rebuild after
 * a crash writes a new one), or null when the sentinel is missing (the tables are incomplete). What the process keeps
 * about the tables (linking/known-key-pairs.ts, linking/open-keys.ts) is valid for the generation it was read under.
 */
export const KEYS_GENERATION_SQL = `(SELECT current_database() || ':' || xmin::text FROM core.person_keys
  WHERE key = '${KEYS_BUILT}' AND person_id = '${NIL_UUID}'::uuid)`;
