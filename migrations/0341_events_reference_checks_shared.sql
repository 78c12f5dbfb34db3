-- core.events' statement-level reference checks (0210) moved onto the shared functions of 0340
-- (core.check_references, core.referenced_key_gone): one mechanism for every reference checked per statement
-- instead of per row. Same triggers, same guarantees, same SQLSTATE 23503 and constraint names; the checks now run
-- as the owner, as the foreign keys' RI checks did (FOR KEY SHARE needs UPDATE privilege on the referenced table).

DROP TRIGGER events_references_insert ON core.events;
DROP TRIGGER events_references_update ON core.events;
DROP TRIGGER events_category_delete ON core.event_categories;
DROP TRIGGER events_category_update ON core.event_categories;
DROP TRIGGER events_place_delete ON core.places;
DROP TRIGGER events_place_update ON core.places;
DROP TRIGGER events_grid_delete ON core.grids;
DROP TRIGGER events_grid_update ON core.grids;
DROP FUNCTION core.events_check_references();
DROP FUNCTION core.events_referenced_key_gone();

CREATE TRIGGER events_references_insert AFTER INSERT ON core.events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('category_code', 'core.event_categories', 'code', 'events_category_code_fkey',
                                         'place_id', 'core.places', 'id', 'events_place_id_fkey',
                                         'grid_code', 'core.grids', 'code', 'events_grid_code_fkey');
CREATE TRIGGER events_references_update AFTER UPDATE ON core.events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('category_code', 'core.event_categories', 'code', 'events_category_code_fkey',
                                         'place_id', 'core.places', 'id', 'events_place_id_fkey',
                                         'grid_code', 'core.grids', 'code', 'events_grid_code_fkey');

CREATE TRIGGER events_category_delete AFTER DELETE ON core.event_categories
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.referenced_key_gone('core.events', 'category_code', 'code', 'events_category_code_fkey');
CREATE TRIGGER events_category_update AFTER UPDATE OF code ON core.event_categories
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION core.referenced_key_gone('core.events', 'category_code', 'code', 'events_category_code_fkey');
CREATE TRIGGER events_place_delete AFTER DELETE ON core.places
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.referenced_key_gone('core.events', 'place_id', 'id', 'events_place_id_fkey');
CREATE TRIGGER events_place_update AFTER UPDATE OF id ON core.places
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION core.referenced_key_gone('core.events', 'place_id', 'id', 'events_place_id_fkey');
CREATE TRIGGER events_grid_delete AFTER DELETE ON core.grids
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.referenced_key_gone('core.events', 'grid_code', 'code', 'events_grid_code_fkey');
CREATE TRIGGER events_grid_update AFTER UPDATE OF code ON core.grids
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION core.referenced_key_gone('core.events', 'grid_code', 'code', 'events_grid_code_fkey');
