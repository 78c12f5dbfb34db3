-- core.person_records gets one row per person mention, the most rows linking writes: it keeps the features a
-- link was decided on, not the blocking keys derived from them (those live per person in core.person_keys since
-- migration 0304, and no query reads these columns).
ALTER TABLE core.person_records DROP COLUMN block_sb, DROP COLUMN block_nb, DROP COLUMN block_np, DROP COLUMN block_ng;
