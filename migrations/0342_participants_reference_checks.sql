-- The references of the rows linking makes for every party of a department record: core.event_participants (event,
-- person) and police.incident_parties (incident), checked once per statement instead of once per row, with the shared
-- functions of 0340 (core.check_references, core.referenced_key_gone), as core.persons', core.places' (0340) and
-- core.events' (0341) references are.
--
-- A synced batch inserts a participant and a party row per party of each of its records: their three row-level
-- foreign keys ran three RI queries per party (an index probe and a FOR KEY SHARE row lock each). Measured with
-- `bench:sync` (100,000 police incidents with a party each, linked): the parties' and participants' statement 2.45 s
-- a run, 1.25 s with the three foreign keys dropped; with linking 9,615–9,750 rows/s with them, 10,644–10,753
-- without (4 alternating pairs), and with these checks 9,303–10,500 against 8,360–9,693 (4 of 4 pairs faster, median
-- ratio 1.054; docs/sync.md).
--
-- The guarantees stay:
--  * after INSERT / UPDATE on either table: every event, person and incident named exists (FOR KEY SHARE on each
--    distinct one, as the RI check did, so a concurrent DELETE waits for this transaction and then sees the row);
--    SQLSTATE 23503 with the foreign key's name.
--  * deleting an event or an incident deletes its participants or parties (ON DELETE CASCADE, as before), by a
--    statement-level trigger over the deleted rows; deleting a person still named by a participant is refused (NO
--    ACTION, as before); changing an event's, incident's or person's id while it is named is refused (the foreign
--    keys' ON UPDATE NO ACTION).
-- Not covered, as with any trigger: TRUNCATE of a referenced table (no hub role holds TRUNCATE on them).

ALTER TABLE core.event_participants
  DROP CONSTRAINT event_participants_event_id_fkey,
  DROP CONSTRAINT event_participants_person_id_fkey;
ALTER TABLE police.incident_parties
  DROP CONSTRAINT incident_parties_incident_id_fkey;

CREATE TRIGGER event_participants_references_insert AFTER INSERT ON core.event_participants
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('event_id', 'core.events', 'id', 'event_participants_event_id_fkey',
                                         'person_id', 'core.persons', 'id', 'event_participants_person_id_fkey');
CREATE TRIGGER event_participants_references_update AFTER UPDATE ON core.event_participants
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('event_id', 'core.events', 'id', 'event_participants_event_id_fkey',
                                         'person_id', 'core.persons', 'id', 'event_participants_person_id_fkey');
CREATE TRIGGER incident_parties_references_insert AFTER INSERT ON police.incident_parties
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('incident_id', 'police.incidents', 'id', 'incident_parties_incident_id_fkey');
CREATE TRIGGER incident_parties_references_update AFTER UPDATE ON police.incident_parties
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION core.check_references('incident_id', 'police.incidents', 'id', 'incident_parties_incident_id_fkey');

-- ON DELETE CASCADE per statement. TG_ARGV: the referencing table, its column, the referenced key column.
CREATE FUNCTION core.delete_referencing() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE format('DELETE FROM %1$s x USING gone o WHERE x.%2$I = o.%3$I', TG_ARGV[0], TG_ARGV[1], TG_ARGV[2]);
  RETURN NULL;
END $$;

CREATE TRIGGER event_participants_event_delete AFTER DELETE ON core.events
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.delete_referencing('core.event_participants', 'event_id', 'id');
CREATE TRIGGER event_participants_event_update AFTER UPDATE OF id ON core.events
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION core.referenced_key_gone('core.event_participants', 'event_id', 'id', 'event_participants_event_id_fkey');
CREATE TRIGGER event_participants_person_delete AFTER DELETE ON core.persons
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.referenced_key_gone('core.event_participants', 'person_id', 'id', 'event_participants_person_id_fkey');
CREATE TRIGGER event_participants_person_update AFTER UPDATE OF id ON core.persons
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION core.referenced_key_gone('core.event_participants', 'person_id', 'id', 'event_participants_person_id_fkey');
CREATE TRIGGER incident_parties_incident_delete AFTER DELETE ON police.incidents
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION core.delete_referencing('police.incident_parties', 'incident_id', 'id');
CREATE TRIGGER incident_parties_incident_update AFTER UPDATE OF id ON police.incidents
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION core.referenced_key_gone('police.incident_parties', 'incident_id', 'id', 'incident_parties_incident_id_fkey');
