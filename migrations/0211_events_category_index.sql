-- core.events.events_category (0002) serves no query: the graph filters categories by prefix
-- (`category_code LIKE ANY($n::text[])`, subgraphs/core/event-filter.ts), which a B-tree under the database's
-- collation cannot answer, and groups by category over the rows it has already selected; nothing looks an
-- event up by its exact category code. Every event written paid one more index insert for it (a sync batch
-- writes 10,000). The only lookup left by category code is 0210's check when a category is deleted or
-- renamed, an administrative change that may scan core.events.
DROP INDEX core.events_category;
