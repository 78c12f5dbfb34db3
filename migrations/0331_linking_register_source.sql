-- The address as the register delivered it (core.buildings.address is the hub's canonical form of it): a reload
-- of an unchanged register compares rows without parsing them again.
ALTER TABLE core.buildings ADD COLUMN source_address text;
