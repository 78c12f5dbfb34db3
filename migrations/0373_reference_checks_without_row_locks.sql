-- The statement-level reference checks of 0340/0341 without a row lock per referenced row in READ COMMITTED: the
-- deleting side waits for the referencing table's writers instead.
--
-- 0340's check locked every referenced place, grid and building FOR KEY SHARE (as the RI check did), so that a
-- concurrent DELETE of it waited for the writer and then saw the reference. Each lock writes the row (its xmax) and a
-- WAL record, and two transactions locking one row at once (a batch's persons and the places linked beside it both
-- name the same grids) make a MultiXact of it. At a million persons a batch's persons COPY took 382–425 ms with
-- the check and 306–337 ms without it (docs/linking.md round 22); the locks were most of that, on rows that
-- nothing deletes (no hub code deletes places, grids, buildings or event categories: an administrator's repair
-- only).
--
-- Now the guarantee is kept from the other side. core.referenced_key_gone, the trigger on the referenced tables'
-- DELETE and key UPDATE, first takes the referencing table in SHARE mode: it waits for every transaction writing
-- that table to end, and holds off new ones until its own transaction does; its check that nothing references the
-- removed keys then runs with a snapshot taken after the wait (a new statement of a VOLATILE function in READ
-- COMMITTED), so it sees every reference that was committed. A writer that started after the lock was taken waits
-- for the remover, and its check (a statement run after its insert, so with a snapshot taken after that wait) sees
-- the key gone: SQLSTATE 23503 as before. Deleting a place, grid or building so holds off the writers of persons,
-- places and events for the length of that transaction: those deletions are rare repairs.
--
-- A writer in REPEATABLE READ or SERIALIZABLE checks against its transaction's snapshot, which can predate a removal
-- that committed since: there the check still locks each referenced row FOR KEY SHARE (a concurrently deleted row
-- then fails it with a serialization error, as the RI check did).

CREATE OR REPLACE FUNCTION core.check_references() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  i int := 0;
  col text; ref_table text; ref_key text; constraint_name text;
  bad text;
  -- See above: no row lock in READ COMMITTED, where core.referenced_key_gone waits for this transaction instead.
  row_lock text := CASE WHEN current_setting('transaction_isolation') = 'read committed' THEN '' ELSE 'FOR KEY SHARE' END;
BEGIN
  WHILE i < TG_NARGS LOOP
    col := TG_ARGV[i]; ref_table := TG_ARGV[i + 1]; ref_key := TG_ARGV[i + 2]; constraint_name := TG_ARGV[i + 3];
    -- LATERAL keeps it a nested loop of index probes whatever the statistics say (the tables grow during a run).
    EXECUTE format(
      'SELECT n.k::text FROM (SELECT DISTINCT %1$I AS k FROM new_rows WHERE %1$I IS NOT NULL) n
         LEFT JOIN LATERAL (SELECT r.%3$I FROM %2$s r WHERE r.%3$I = n.k %4$s) r ON true
        WHERE r.%3$I IS NULL LIMIT 1', col, ref_table, ref_key, row_lock) INTO bad;
    IF bad IS NOT NULL THEN
      RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, constraint_name
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = constraint_name, SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', col, bad, split_part(ref_table, '.', 2));
    END IF;
    i := i + 4;
  END LOOP;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION core.referenced_key_gone() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  referencing text := TG_ARGV[0];
  col text := TG_ARGV[1];
  key text := TG_ARGV[2];
  constraint_name text := TG_ARGV[3];
  bad text;
BEGIN
  -- Waits for the referencing table's writers (their references are committed, or gone, once it is granted) and holds
  -- off new ones until this transaction ends; the check below then sees every reference (see above).
  EXECUTE format('LOCK TABLE %s IN SHARE MODE', referencing);
  IF TG_LEVEL = 'STATEMENT' THEN
    EXECUTE format('SELECT o.%3$I::text FROM gone o WHERE EXISTS (SELECT 1 FROM %1$s x WHERE x.%2$I = o.%3$I) LIMIT 1', referencing, col, key) INTO bad;
  ELSE
    EXECUTE format('SELECT ($1).%3$I::text FROM %1$s x WHERE x.%2$I = ($1).%3$I LIMIT 1', referencing, col, key) USING OLD INTO bad;
  END IF;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "%"', TG_TABLE_NAME, constraint_name, split_part(referencing, '.', 2)
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = constraint_name, SCHEMA = split_part(referencing, '.', 1), TABLE = split_part(referencing, '.', 2),
            DETAIL = format('Key (%s)=(%s) is still referenced from table "%s".', key, bad, split_part(referencing, '.', 2));
  END IF;
  RETURN NULL;
END $$;
