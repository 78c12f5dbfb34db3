-- The standard-address register (标准地址库): every building of the city (楼栋 of a 小区, or a village house) with
-- its one canonical address, its point and its grid, loaded with the grids (cli/bootstrap.ts for the demo city;
-- in a real city, from the city's register). Place linking resolves an address to its building here, and so to
-- its grid. The keys are derived by the hub's own address parser from the canonical address when a row is
-- loaded (linking/place-linking.ts, loadAddressRegister):
--   building_key  district|road|number|building (urban) or V|community|group|number (village), as core.places
--   house_key     road|number|building: finds the building of an address written without its district
--   compound_key  community|小区 name|building: finds the building of an address written by its compound name
CREATE TABLE core.buildings (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  source_id     text NOT NULL UNIQUE,    -- the register's own id of the building
  address       text NOT NULL,           -- canonical standard address
  building_key  text NOT NULL UNIQUE,
  house_key     text,
  compound_key  text,
  compound      text,                    -- 小区 name
  district_code text NOT NULL,
  community_code text,
  grid_code     text NOT NULL REFERENCES core.grids(code),
  lon           double precision,
  lat           double precision,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX buildings_house ON core.buildings (house_key) WHERE house_key IS NOT NULL;
CREATE INDEX buildings_compound ON core.buildings (compound_key) WHERE compound_key IS NOT NULL;
CREATE INDEX buildings_grid ON core.buildings (grid_code);

-- The register building a place was resolved to (null: not in the register; parse_error says why).
ALTER TABLE core.places ADD COLUMN building_id uuid REFERENCES core.buildings(id);
CREATE INDEX places_building_id ON core.places (building_id) WHERE building_id IS NOT NULL;
