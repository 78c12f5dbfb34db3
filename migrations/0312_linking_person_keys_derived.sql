-- core.person_keys and core.person_open_keys are derived data: every key is made from a core.person_records row
-- (linking/person-features.ts, recordKeysSql, makes them in SQL exactly as linking does in code). Linking writes
-- more rows into them than into any other table, so they are kept like an index:
--  - UNLOGGED: no WAL (and no full-page images after every checkpoint) for them. A crash empties them; the
--    sentinel row below goes with the rest, and the next linking batch rebuilds both from core.person_records
--    under the linking lock before it links anything (linking/person-linking.ts, ensureKeys).
--  - No foreign key to core.persons: a key is a hint for candidate look-ups, which join core.persons anyway (and
--    skip merged persons); the check cost a probe and a row lock on core.persons per key.
ALTER TABLE core.person_keys DROP CONSTRAINT IF EXISTS person_keys_person_id_fkey;
ALTER TABLE core.person_open_keys DROP CONSTRAINT IF EXISTS person_open_keys_person_id_fkey;
ALTER TABLE core.person_keys SET UNLOGGED;
ALTER TABLE core.person_open_keys SET UNLOGGED;
-- The sentinel: present while the keys are complete.
INSERT INTO core.person_keys (key, person_id) VALUES ('~built', '00000000-0000-0000-0000-000000000000') ON CONFLICT DO NOTHING;
