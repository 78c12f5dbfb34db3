-- Linking's link store: one row per person MENTION of a department record, with the features linking
-- compared and the blocking keys later records are matched by.
--
-- A record may mention several persons (the parties of an incident or a mediation case), so the key of a link
-- becomes (source_table, record_id, mention_key); mention_key is '' for a record that is itself one person
-- (a household registration, a subsidy) and e.g. 'party:0' for the first party of an incident.
ALTER TABLE core.person_records ADD COLUMN mention_key text NOT NULL DEFAULT '';
ALTER TABLE core.person_records DROP CONSTRAINT person_records_pkey;
ALTER TABLE core.person_records ADD PRIMARY KEY (source_table, record_id, mention_key);

-- The record's person features as linking normalised them (scoring compares a new mention with every record
-- already linked to a candidate person, so a person keeps every spelling of their name, phone and address).
ALTER TABLE core.person_records
  ADD COLUMN name          text,
  ADD COLUMN name_pinyin   text,     -- toneless pinyin syllables joined by spaces, surname mode
  ADD COLUMN sex           text,
  ADD COLUMN birth_date    date,
  ADD COLUMN phone         text,     -- digits only, mobile numbers without +86
  ADD COLUMN id_number     text,     -- valid, normalised 18-digit number
  ADD COLUMN id_number_raw text,     -- an invalid number as written (normalised): evidence, never identity
  ADD COLUMN place_key     text,     -- the norm_key of the parsed address
  -- Blocking keys (candidate generation): surname pinyin + birth date, full-name pinyin + birth year,
  -- full-name pinyin + address.
  ADD COLUMN block_sb      text,
  ADD COLUMN block_nb      text,
  ADD COLUMN block_np      text;

CREATE INDEX person_records_block_sb ON core.person_records (block_sb) WHERE block_sb IS NOT NULL;
CREATE INDEX person_records_block_nb ON core.person_records (block_nb) WHERE block_nb IS NOT NULL;
CREATE INDEX person_records_block_np ON core.person_records (block_np) WHERE block_np IS NOT NULL;
CREATE INDEX person_records_phone ON core.person_records (phone) WHERE phone IS NOT NULL;
CREATE INDEX person_records_id_raw ON core.person_records (id_number_raw) WHERE id_number_raw IS NOT NULL;
