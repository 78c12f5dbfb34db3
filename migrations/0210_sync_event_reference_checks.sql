-- core.events' references to the category tree, places and grids: checked once per statement instead of once
-- per row.
--
-- The three foreign keys of 0002 (category_code → core.event_categories, place_id → core.places, grid_code →
-- core.grids) ran one RI query per inserted or updated event row: 0.13 s of every 10,000-row sync batch measured
-- (auto_explain, "Trigger for constraint events_*_fkey", 10,000 calls each), a tenth of the batch.
-- The sync pipeline writes only references that exist (its event statement LEFT JOINs the three tables and
-- stores null for a code the hub lacks, sync/load/batch-writer.ts), but integrity must not rest on one writer,
-- so the same guarantees are kept by statement-level triggers with transition tables:
--
--  * after INSERT / UPDATE on core.events: every non-null category_code, place_id, grid_code among the new rows
--    exists — one anti-join per statement — and the referenced rows are locked FOR KEY SHARE first (as the RI
--    check did), so a concurrent DELETE of a referenced row waits for this transaction and then sees the event;
--  * after DELETE / UPDATE on core.event_categories, core.places, core.grids: no event references a key that is
--    gone (NO ACTION, as before). The lookups use events_category, events_place and events_grid_time.
--
-- Violations raise SQLSTATE 23503 (foreign_key_violation) with the constraint name the FK had, so callers see
-- the same error. Not covered (as with any trigger): TRUNCATE of a referenced table, which the FK refused
-- without CASCADE; no hub role holds TRUNCATE on those tables.

ALTER TABLE core.events
  DROP CONSTRAINT events_category_code_fkey,
  DROP CONSTRAINT events_place_id_fkey,
  DROP CONSTRAINT events_grid_code_fkey;

CREATE FUNCTION core.events_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad text;
BEGIN
  -- Each distinct key of the statement's rows: one index probe that locks the referenced row (FOR KEY SHARE,
  -- as the RI check did). LATERAL keeps it a nested loop of probes whatever the tables' statistics say (a scan
  -- of core.places per batch would grow with the hub).
  SELECT n.k INTO bad FROM (SELECT DISTINCT category_code AS k FROM new_events WHERE category_code IS NOT NULL) n
    LEFT JOIN LATERAL (SELECT c.code FROM core.event_categories c WHERE c.code = n.k FOR KEY SHARE) r ON true
   WHERE r.code IS NULL LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'insert or update on table "events" violates foreign key constraint "events_category_code_fkey"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'events_category_code_fkey', SCHEMA = 'core', TABLE = 'events',
            DETAIL = format('Key (category_code)=(%s) is not present in table "event_categories".', bad);
  END IF;
  SELECT n.k::text INTO bad FROM (SELECT DISTINCT place_id AS k FROM new_events WHERE place_id IS NOT NULL) n
    LEFT JOIN LATERAL (SELECT p.id FROM core.places p WHERE p.id = n.k FOR KEY SHARE) r ON true
   WHERE r.id IS NULL LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'insert or update on table "events" violates foreign key constraint "events_place_id_fkey"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'events_place_id_fkey', SCHEMA = 'core', TABLE = 'events',
            DETAIL = format('Key (place_id)=(%s) is not present in table "places".', bad);
  END IF;
  SELECT n.k INTO bad FROM (SELECT DISTINCT grid_code AS k FROM new_events WHERE grid_code IS NOT NULL) n
    LEFT JOIN LATERAL (SELECT g.code FROM core.grids g WHERE g.code = n.k FOR KEY SHARE) r ON true
   WHERE r.code IS NULL LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'insert or update on table "events" violates foreign key constraint "events_grid_code_fkey"'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'events_grid_code_fkey', SCHEMA = 'core', TABLE = 'events',
            DETAIL = format('Key (grid_code)=(%s) is not present in table "grids".', bad);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER events_references_insert AFTER INSERT ON core.events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION core.events_check_references();
CREATE TRIGGER events_references_update AFTER UPDATE ON core.events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION core.events_check_references();

-- The referenced side: a key that is deleted, or changed by an update, may not be used by an event. Deletes:
-- per statement over the deleted rows. Updates: per row, and only when the key itself changes (the WHEN clause
-- is evaluated without calling the function; linking updates places often, their ids never).
CREATE FUNCTION core.events_referenced_key_gone() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  col text := TG_ARGV[0];
  key text := TG_ARGV[1];
  bad text;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    EXECUTE format('SELECT o.%2$I::text FROM gone o WHERE EXISTS (SELECT 1 FROM core.events e WHERE e.%1$I = o.%2$I) LIMIT 1', col, key) INTO bad;
  ELSE
    EXECUTE format('SELECT ($1).%2$I::text FROM core.events e WHERE e.%1$I = ($1).%2$I LIMIT 1', col, key) USING OLD INTO bad;
  END IF;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "events_%_fkey" on table "events"', TG_TABLE_NAME, col
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = format('events_%s_fkey', col), SCHEMA = 'core', TABLE = 'events',
            DETAIL = format('Key (%s)=(%s) is still referenced from table "events".', key, bad);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER events_category_delete AFTER DELETE ON core.event_categories
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.events_referenced_key_gone('category_code', 'code');
CREATE TRIGGER events_category_update AFTER UPDATE OF code ON core.event_categories
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION core.events_referenced_key_gone('category_code', 'code');
CREATE TRIGGER events_place_delete AFTER DELETE ON core.places
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.events_referenced_key_gone('place_id', 'id');
CREATE TRIGGER events_place_update AFTER UPDATE OF id ON core.places
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION core.events_referenced_key_gone('place_id', 'id');
CREATE TRIGGER events_grid_delete AFTER DELETE ON core.grids
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.events_referenced_key_gone('grid_code', 'code');
CREATE TRIGGER events_grid_update AFTER UPDATE OF code ON core.grids
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION core.events_referenced_key_gone('grid_code', 'code');
