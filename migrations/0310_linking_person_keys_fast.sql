-- Person linking throughput (docs/linking.md, "Measured"): core.person_keys is the table every linking batch
-- writes most rows into, so it carries only what a query needs.
--
-- 1. Keys compare byte-wise (COLLATE "C"): they are ASCII pinyin, digits and source keys, only ever compared
--    for equality, and every B-tree step under the database's default collation went through strcoll().
-- 2. No index on person_id: no linking query looks keys up by person. A merge copies the dropped person's keys
--    from its records (core.person_records by person_id, migration 0002) instead, and keys left behind by a
--    merged person are harmless: candidate look-ups join core.persons and skip merged persons.
-- 3. No 'n:' (name as written) keys: how many registered persons bear a name is counted on core.persons.name
--    (index persons_name, migration 0002), which every person has anyway.
DELETE FROM core.person_keys WHERE key LIKE 'n:%';
DROP INDEX IF EXISTS core.person_keys_person;
ALTER TABLE core.person_keys ALTER COLUMN key TYPE text COLLATE "C";

-- 4. The keys of persons without an ID number, once more: a mention whose valid number settles its person
--    still looks for such persons (they may be the same person, written down before the number was known:
--    absorption, docs/linking.md), and finds them here without probing every key of every registered person.
--    A person that later takes a number or is merged leaves its keys here; look-ups join core.persons and
--    skip it.
CREATE TABLE core.person_open_keys (
  key       text COLLATE "C" NOT NULL,
  person_id uuid NOT NULL REFERENCES core.persons(id),
  PRIMARY KEY (key, person_id)
);
INSERT INTO core.person_open_keys (key, person_id)
SELECT k.key, k.person_id FROM core.person_keys k JOIN core.persons p ON p.id = k.person_id
 WHERE p.id_number IS NULL AND p.merged_into IS NULL;
