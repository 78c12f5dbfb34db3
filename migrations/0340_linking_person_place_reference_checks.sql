-- core.persons' and core.places' references to places, grids and register buildings: checked once per statement
-- instead of once per row, as core.events' were in 0210.
--
-- Linking writes thousands of persons and places per batch. Their row-by-row foreign keys ran one RI query (an
-- index probe and a row lock) per row: EXPLAIN ANALYZE of a 5,000-person insert, 427 ms, of which 101 ms the
-- residence_place_id check and 100 ms the grid_code check; of a 5,000-place insert, 467 ms, of which 95 ms grid_code
-- and 94 ms building_id (docs/linking.md, round 6). Measured for this change, 20,000 persons with a residence and a
-- grid each: 792–829 ms with the foreign keys, 487–551 ms with the statement-level check, 442–520 ms with no check.
--
-- The guarantees stay, by statement-level triggers with transition tables:
--  * after INSERT / UPDATE on core.persons: every non-null residence_place_id and grid_code of the new rows exists;
--    after INSERT / UPDATE on core.places: every non-null grid_code and building_id exists. One anti-join per
--    statement over the distinct keys, each referenced row locked FOR KEY SHARE first (as the RI check did), so a
--    concurrent DELETE of it waits for this transaction and then sees the reference.
--  * after DELETE / UPDATE of the key on core.places, core.grids, core.buildings: no person or place references a
--    key that is gone (NO ACTION, as before). The look-ups use persons_residence, persons_grid, places_grid_prefix
--    and places_building_id.
-- Violations raise SQLSTATE 23503 (foreign_key_violation) with the constraint name the FK had. Not covered (as with
-- any trigger): TRUNCATE of a referenced table, which the FK refused without CASCADE; no hub role holds TRUNCATE on
-- those tables. core.persons.merged_into keeps its foreign key (set by merges only, a handful of rows).

ALTER TABLE core.persons
  DROP CONSTRAINT persons_residence_place_id_fkey,
  DROP CONSTRAINT persons_grid_code_fkey;
ALTER TABLE core.places
  DROP CONSTRAINT places_grid_code_fkey,
  DROP CONSTRAINT places_building_id_fkey;

-- TG_ARGV: pairs of (column, referenced table, referenced key column, constraint name).
-- SECURITY DEFINER, as the RI checks run as the table owner: FOR KEY SHARE needs UPDATE privilege on the referenced
-- table, which the roles writing persons and places (linking, the review queue's merges) need not have.
CREATE FUNCTION core.check_references() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  i int := 0;
  col text; ref_table text; ref_key text; constraint_name text;
  bad text;
BEGIN
  WHILE i < TG_NARGS LOOP
    col := TG_ARGV[i]; ref_table := TG_ARGV[i + 1]; ref_key := TG_ARGV[i + 2]; constraint_name := TG_ARGV[i + 3];
    -- LATERAL keeps it a nested loop of index probes whatever the statistics say (the tables grow during a run).
    EXECUTE format(
      'SELECT n.k::text FROM (SELECT DISTINCT %1$I AS k FROM new_rows WHERE %1$I IS NOT NULL) n
         LEFT JOIN LATERAL (SELECT r.%3$I FROM %2$s r WHERE r.%3$I = n.k FOR KEY SHARE) r ON true
        WHERE r.%3$I IS NULL LIMIT 1', col, ref_table, ref_key) INTO bad;
    IF bad IS NOT NULL THEN
      RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, constraint_name
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = constraint_name, SCHEMA = TG_TABLE_SCHEMA, TABLE = TG_TABLE_NAME,
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', col, bad, split_part(ref_table, '.', 2));
    END IF;
    i := i + 4;
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER persons_references_insert AFTER INSERT ON core.persons
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('residence_place_id', 'core.places', 'id', 'persons_residence_place_id_fkey',
                                         'grid_code', 'core.grids', 'code', 'persons_grid_code_fkey');
-- Updates: every updated row's references are checked (a trigger with a transition table cannot name columns; the RI
-- check skipped rows whose key did not change). Linking updates few persons and only the places it changes.
CREATE TRIGGER persons_references_update AFTER UPDATE ON core.persons
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('residence_place_id', 'core.places', 'id', 'persons_residence_place_id_fkey',
                                         'grid_code', 'core.grids', 'code', 'persons_grid_code_fkey');
CREATE TRIGGER places_references_insert AFTER INSERT ON core.places
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('grid_code', 'core.grids', 'code', 'places_grid_code_fkey',
                                         'building_id', 'core.buildings', 'id', 'places_building_id_fkey');
CREATE TRIGGER places_references_update AFTER UPDATE ON core.places
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('grid_code', 'core.grids', 'code', 'places_grid_code_fkey',
                                         'building_id', 'core.buildings', 'id', 'places_building_id_fkey');

-- The referenced side. TG_ARGV: referencing table, its column, the referenced key column, constraint name.
-- Deletes: per statement over the deleted rows; key updates: per row, only when the key changes (WHEN clause).
CREATE FUNCTION core.referenced_key_gone() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  referencing text := TG_ARGV[0];
  col text := TG_ARGV[1];
  key text := TG_ARGV[2];
  constraint_name text := TG_ARGV[3];
  bad text;
BEGIN
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

CREATE TRIGGER persons_residence_place_delete AFTER DELETE ON core.places
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.referenced_key_gone('core.persons', 'residence_place_id', 'id', 'persons_residence_place_id_fkey');
CREATE TRIGGER persons_residence_place_update AFTER UPDATE OF id ON core.places
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION core.referenced_key_gone('core.persons', 'residence_place_id', 'id', 'persons_residence_place_id_fkey');
CREATE TRIGGER persons_grid_delete AFTER DELETE ON core.grids
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.referenced_key_gone('core.persons', 'grid_code', 'code', 'persons_grid_code_fkey');
CREATE TRIGGER persons_grid_update AFTER UPDATE OF code ON core.grids
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION core.referenced_key_gone('core.persons', 'grid_code', 'code', 'persons_grid_code_fkey');
CREATE TRIGGER places_grid_delete AFTER DELETE ON core.grids
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.referenced_key_gone('core.places', 'grid_code', 'code', 'places_grid_code_fkey');
CREATE TRIGGER places_grid_update AFTER UPDATE OF code ON core.grids
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION core.referenced_key_gone('core.places', 'grid_code', 'code', 'places_grid_code_fkey');
CREATE TRIGGER places_building_delete AFTER DELETE ON core.buildings
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.referenced_key_gone('core.places', 'building_id', 'id', 'places_building_id_fkey');
CREATE TRIGGER places_building_update AFTER UPDATE OF id ON core.buildings
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION core.referenced_key_gone('core.places', 'building_id', 'id', 'places_building_id_fkey');
