-- API keys of integrators (and other machine clients): `tlk_<id>_<secret>`. Only a SHA-256 of the secret is
-- stored (the secret is 256 random bits, so a fast hash is enough: nothing to brute-force); the full key is
-- shown once, when it is created. A key carries the role and the narrowing (grids, districts, department,
-- scopes) of the identity it stands for.

DO $$
BEGIN
  CREATE ROLE tonglan_gateway NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

CREATE TABLE hub.api_keys (
  id            text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{8,32}$'),
  name          text NOT NULL,
  secret_hash   text NOT NULL,               -- hex sha256 of the secret part
  role          text NOT NULL DEFAULT 'integrator'
                CHECK (role IN ('city-admin', 'district-officer', 'grid-worker', 'department-admin', 'integrator', 'analyst')),
  department    text,
  grids         text[] NOT NULL DEFAULT '{}',
  districts     text[] NOT NULL DEFAULT '{}',
  scopes        text[] NOT NULL DEFAULT '{}',
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  revoked_at    timestamptz,
  last_used_at  timestamptz
);

-- The gateway verifies keys (read, and touch last_used_at) and records denials in the audit log; the admin API
-- manages keys. Neither may read more of the hub schema than that.
REVOKE ALL ON hub.api_keys FROM PUBLIC, tonglan_sync;
GRANT USAGE ON SCHEMA hub TO tonglan_gateway;
GRANT SELECT ON hub.api_keys TO tonglan_gateway;
GRANT UPDATE (last_used_at) ON hub.api_keys TO tonglan_gateway;
GRANT INSERT ON hub.audit_log TO tonglan_gateway;
GRANT SELECT (id, at, prev_hash, hash) ON hub.audit_log TO tonglan_gateway;
GRANT USAGE ON SEQUENCE hub.audit_log_id_seq TO tonglan_gateway;
GRANT SELECT, INSERT, UPDATE ON hub.api_keys TO tonglan_admin;
REVOKE DELETE ON hub.api_keys FROM tonglan_admin;
