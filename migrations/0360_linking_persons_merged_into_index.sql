-- A merge repoints the persons merged into the dropped person at the kept one (linking/review.ts, mergeInto:
-- `UPDATE core.persons SET merged_into = $1 WHERE merged_into = $2`). Without an index that read the whole table
-- for every merge, absorptions during linking included: 3 ms a merge at 60,000 persons (139 ms over the large
-- evaluation set's 39 absorptions, from the server's statement log), and growing with the city's population.
-- Only merged persons are indexed, so writing new persons (merged_into null) costs nothing more.
CREATE INDEX persons_merged_into ON core.persons (merged_into) WHERE merged_into IS NOT NULL;
