-- Grid codes are hierarchical prefixes (district 6 digits … grid 15), so "this area and everything below it" is
-- `grid_code LIKE '510104%'` (security/scope.ts, subgraphs/core/event-filter.ts). A btree in the database's
-- collation (C.UTF-8 here, en_US elsewhere) cannot serve a LIKE prefix: PostgreSQL uses a btree for it only
-- under the C collation or with the *_pattern_ops operator class. So the events index by grid was used only for
-- one exact grid, and a district's events page or eventStats read the whole table. text_pattern_ops serves
-- both the prefix and equality (its = is texteq), so it replaces the old index rather than joining it: the sync
-- pipeline's insert into core.events maintains no more indexes than before.
CREATE INDEX events_grid_prefix_time ON core.events (grid_code text_pattern_ops, occurred_at DESC);
DROP INDEX core.events_grid_time;
CREATE INDEX places_grid_prefix ON core.places (grid_code text_pattern_ops);
DROP INDEX core.places_grid;
