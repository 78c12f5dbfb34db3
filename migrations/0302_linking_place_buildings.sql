-- Places of one building (楼栋 / a village house) share a grid: a place whose grid is known (from coordinates
-- in its grid polygon) tells linking the grid of every other room of the building written without them.
-- house_key (road|number|building, no district) finds the district of an address written without one.
ALTER TABLE core.places ADD COLUMN building_key text;
ALTER TABLE core.places ADD COLUMN house_key text;
CREATE INDEX places_building ON core.places (building_key) WHERE building_key IS NOT NULL;
CREATE INDEX places_house ON core.places (house_key) WHERE house_key IS NOT NULL;
