-- A version stamp of core.grids, so that linking can tell whether the division table it holds in memory is current
-- with a primary-key probe instead of a count over every grid.
--
-- loadGazetteer (linking/gazetteer.ts) ran `SELECT count(*) … max(code) FROM core.grids` on every batch (three times
-- per batch in a pipeline: linkPlaces, linkPersons and prepareMentions): 4–6 ms each on the demo city's 27,811 rows,
-- 257 ms over the 60,000-person benchmark (docs/linking.md, Places). Any statement that changes core.grids (INSERT,
-- UPDATE, DELETE, TRUNCATE) now gives the stamp a new random value in the same transaction, so a grid change is seen
-- by the next batch as soon as it commits (as with the count), and a database dropped and made again under the same
-- name never repeats an earlier stamp. A statement that changes no row bumps it too: a reload more, never one less.
CREATE TABLE core.grids_version (
  id      boolean PRIMARY KEY DEFAULT true CHECK (id),
  version text NOT NULL
);
INSERT INTO core.grids_version (id, version) VALUES (true, gen_random_uuid()::text);

-- SECURITY DEFINER: whoever may change core.grids may bump its stamp, without a right on the stamp's table.
CREATE FUNCTION core.bump_grids_version() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE core.grids_version SET version = gen_random_uuid()::text WHERE id;
  RETURN NULL;
END $$;

CREATE TRIGGER grids_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON core.grids
  FOR EACH STATEMENT EXECUTE FUNCTION core.bump_grids_version();
