-- A record's group in its source (a civil-affairs assistance family, an elderly-care station): two records of
-- one group with the same name are very likely one person, the only evidence a name-only record has.
ALTER TABLE core.person_records ADD COLUMN group_key text, ADD COLUMN block_ng text;
CREATE INDEX person_records_block_ng ON core.person_records (block_ng) WHERE block_ng IS NOT NULL;
