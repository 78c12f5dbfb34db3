-- core.person_keys is the table linking writes most rows into (about four per person), and it is only ever read
-- by equality on the key (candidate look-ups, linking/person-linking.ts). A hash index on the key serves those
-- probes; the (key, person_id) B-tree primary key it replaces cost a descent with text comparisons per row.
-- Measured on the large evaluation set's 237,290 keys (COPY into an unlogged table like this one, twice each):
-- 794 / 866 ms with the primary key, 412 / 381 ms with the hash index, 224 / 175 ms with no index at all.
--
-- Without the primary key nothing refuses a (key, person) pair twice; the writers keep them single:
--  - linking COPYs the keys of persons it has just created (none can exist yet), and adds those of known persons
--    only where the pair is not there yet (the staging merge, NOT EXISTS), under the linking lock;
--  - merges and splits (linking/review.ts) and the rebuild after a crash insert with NOT EXISTS too.
-- A duplicate that two writers outside the lock might still make is harmless: look-ups collect person ids
-- (UNION), so a pair found twice is one candidate.
ALTER TABLE core.person_keys DROP CONSTRAINT IF EXISTS person_keys_pkey;
CREATE INDEX person_keys_key ON core.person_keys USING hash (key);
