-- core.persons' text indexes with text_pattern_ops (byte-wise comparison), as migration 0102 did for events and
-- places:
--  - A grid worker's or a district's persons are `grid_code LIKE '510104%'` (security/scope.ts, the persons field's
--    gridCode filter), and a name search is `name LIKE '张%'` (subgraphs/core/resolvers.ts). A B-tree in the
--    database's collation (C.UTF-8 here, zh_CN or en_US elsewhere) cannot serve a LIKE prefix, so both read the
--    whole table; with text_pattern_ops the same index serves the prefix and equality (its = is texteq).
--  - Linking writes a row per new person, and every B-tree step of these indexes went through strcoll().
--    COPY of the large evaluation set's 60,854 persons into a table with these indexes (three runs each):
--    730–756 ms with the collation's indexes, 640–700 ms with these.
-- The unique index on ID numbers keeps its name (what a violation reports) and serves ON CONFLICT (id_number).
CREATE INDEX persons_name_pattern ON core.persons (name text_pattern_ops);
DROP INDEX core.persons_name;
ALTER INDEX core.persons_name_pattern RENAME TO persons_name;

CREATE INDEX persons_grid_prefix ON core.persons (grid_code text_pattern_ops);
DROP INDEX core.persons_grid;

CREATE UNIQUE INDEX persons_id_number_pattern ON core.persons (id_number text_pattern_ops);
ALTER TABLE core.persons DROP CONSTRAINT persons_id_number_key;
ALTER INDEX core.persons_id_number_pattern RENAME TO persons_id_number_key;
