-- Schemas: one per department for its synced records, `core` for the linked people-place-event graph,
-- `hub` for the hub's own state. One database role per subgraph, with rights on its own schema only.
-- Roles are cluster-wide: creating them tolerates another database (or process) having made them first.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['tonglan_core','tonglan_police','tonglan_justice','tonglan_civil','tonglan_petition','tonglan_admin','tonglan_sync']
  LOOP
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END LOOP;
END $$;

CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS police;
CREATE SCHEMA IF NOT EXISTS justice;
CREATE SCHEMA IF NOT EXISTS civil;
CREATE SCHEMA IF NOT EXISTS petition;
CREATE SCHEMA IF NOT EXISTS hub;

-- Read rights of each subgraph role on its own schema, including tables made by later migrations.
GRANT USAGE ON SCHEMA core TO tonglan_core;
GRANT USAGE ON SCHEMA police TO tonglan_police;
GRANT USAGE ON SCHEMA justice TO tonglan_justice;
GRANT USAGE ON SCHEMA civil TO tonglan_civil;
GRANT USAGE ON SCHEMA petition TO tonglan_petition;
GRANT USAGE ON SCHEMA hub TO tonglan_admin;
ALTER DEFAULT PRIVILEGES IN SCHEMA core GRANT SELECT ON TABLES TO tonglan_core;
ALTER DEFAULT PRIVILEGES IN SCHEMA police GRANT SELECT ON TABLES TO tonglan_police;
ALTER DEFAULT PRIVILEGES IN SCHEMA justice GRANT SELECT ON TABLES TO tonglan_justice;
ALTER DEFAULT PRIVILEGES IN SCHEMA civil GRANT SELECT ON TABLES TO tonglan_civil;
ALTER DEFAULT PRIVILEGES IN SCHEMA petition GRANT SELECT ON TABLES TO tonglan_petition;
ALTER DEFAULT PRIVILEGES IN SCHEMA hub GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO tonglan_admin;
ALTER DEFAULT PRIVILEGES IN SCHEMA hub GRANT USAGE, SELECT ON SEQUENCES TO tonglan_admin;

-- The sync worker writes every department schema, core and hub.
GRANT USAGE, CREATE ON SCHEMA core, police, justice, civil, petition, hub TO tonglan_sync;
ALTER DEFAULT PRIVILEGES IN SCHEMA core, police, justice, civil, petition, hub GRANT ALL ON TABLES TO tonglan_sync;
ALTER DEFAULT PRIVILEGES IN SCHEMA core, police, justice, civil, petition, hub GRANT ALL ON SEQUENCES TO tonglan_sync;
