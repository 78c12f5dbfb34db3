-- Blocking keys per PERSON instead of B-tree indexes per key kind on every link: a person seen in twenty
-- records under the same name, birth date and phone has each key once, so a batch whose mentions mostly
-- join known persons writes almost no index entries. Keys are prefixed by kind: sb: (surname pinyin + birth
-- date), nb: (name pinyin + birth year), np: (name pinyin + dwelling), ph: (phone), raw: (an invalid ID
-- number as written), ng: (name pinyin + source group). Stale keys after a split only add candidates, which
-- scoring then judges on the records themselves.
CREATE TABLE core.person_keys (
  key       text NOT NULL,
  person_id uuid NOT NULL REFERENCES core.persons(id),
  PRIMARY KEY (key, person_id)
);
CREATE INDEX person_keys_person ON core.person_keys (person_id);
DROP INDEX core.person_records_block_sb;
DROP INDEX core.person_records_block_nb;
DROP INDEX core.person_records_block_np;
DROP INDEX core.person_records_phone;
DROP INDEX core.person_records_id_raw;
DROP INDEX core.person_records_block_ng;
