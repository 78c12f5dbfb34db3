-- Audit log: a hash chain computed by the database itself, serialised on a chain-head row, and INSERT rights
-- for every role of the hub (subgraphs record unmasked reads and denials, the admin API records changes).
--
-- Each row's hash = sha256(prev_hash || '|' || field digests), where each field digest is the hex sha256 of the
-- field's text (or '-' for NULL), in the order id, at, actor, role, kind, operation, persons, fields, detail.
-- security/audit.ts recomputes the same chain independently (verifyChain). The trigger assigns id, at,
-- prev_hash and hash itself, under a row lock on hub.audit_chain_head, so concurrent writers cannot fork the
-- chain and a writer cannot forge its position, time or hash.

CREATE TABLE hub.audit_chain_head (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_id    bigint,
  hash       text,
  entries    bigint NOT NULL DEFAULT 0
);
INSERT INTO hub.audit_chain_head (last_id, hash, entries)
  SELECT (SELECT max(id) FROM hub.audit_log),
         (SELECT hash FROM hub.audit_log ORDER BY id DESC LIMIT 1),
         (SELECT count(*) FROM hub.audit_log);

-- The hub's roles get the default hub privileges on new tables (0001); the chain head is the trigger's alone.
REVOKE ALL ON hub.audit_chain_head FROM PUBLIC, tonglan_admin, tonglan_sync;
GRANT SELECT ON hub.audit_chain_head TO tonglan_admin;

CREATE FUNCTION hub.audit_field_digest(value text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN value IS NULL THEN '-' ELSE encode(sha256(convert_to(value, 'UTF8')), 'hex') END
$$;

CREATE FUNCTION hub.audit_log_chain() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, hub AS $$
DECLARE
  prev text;
BEGIN
  SELECT h.hash INTO prev FROM hub.audit_chain_head h WHERE h.singleton FOR UPDATE;
  NEW.id := nextval('hub.audit_log_id_seq');
  NEW.at := clock_timestamp();
  NEW.prev_hash := prev;
  NEW.persons := coalesce(NEW.persons, '{}');
  NEW.fields := coalesce(NEW.fields, '{}');
  NEW.detail := coalesce(NEW.detail, '{}');
  NEW.hash := encode(sha256(convert_to(coalesce(prev, '') || '|' || concat_ws('|',
      hub.audit_field_digest(NEW.id::text),
      hub.audit_field_digest(to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
      hub.audit_field_digest(NEW.actor),
      hub.audit_field_digest(NEW.role),
      hub.audit_field_digest(NEW.kind),
      hub.audit_field_digest(NEW.operation),
      hub.audit_field_digest(NEW.persons::text),
      hub.audit_field_digest(NEW.fields::text),
      hub.audit_field_digest(NEW.detail::text)), 'UTF8')), 'hex');
  UPDATE hub.audit_chain_head SET last_id = NEW.id, hash = NEW.hash, entries = entries + 1 WHERE singleton;
  RETURN NEW;
END $$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON hub.audit_log
  FOR EACH ROW EXECUTE FUNCTION hub.audit_log_chain();

ALTER TABLE hub.audit_log ADD CONSTRAINT audit_log_kind CHECK (kind IN ('pii_read', 'admin_change', 'denied'));
CREATE INDEX audit_log_at ON hub.audit_log (at DESC);
CREATE INDEX audit_log_actor ON hub.audit_log (actor, at DESC);
CREATE INDEX audit_log_persons ON hub.audit_log USING gin (persons);

-- Every hub role may append (and read back the id it got); none may update, delete or truncate (0004's trigger
-- refuses it for everyone, and the rights are not granted).
GRANT USAGE ON SCHEMA hub TO tonglan_core, tonglan_police, tonglan_justice, tonglan_civil, tonglan_petition, tonglan_admin, tonglan_sync;
GRANT INSERT ON hub.audit_log TO tonglan_core, tonglan_police, tonglan_justice, tonglan_civil, tonglan_petition, tonglan_admin, tonglan_sync;
GRANT USAGE ON SEQUENCE hub.audit_log_id_seq TO tonglan_core, tonglan_police, tonglan_justice, tonglan_civil, tonglan_petition, tonglan_admin, tonglan_sync;
REVOKE UPDATE, DELETE, TRUNCATE ON hub.audit_log FROM PUBLIC, tonglan_core, tonglan_police, tonglan_justice, tonglan_civil, tonglan_petition, tonglan_admin, tonglan_sync;
-- `INSERT ... RETURNING id, at, hash` needs SELECT on those columns; only the admin API (city admins) reads
-- the log itself.
GRANT SELECT (id, at, prev_hash, hash) ON hub.audit_log TO tonglan_core, tonglan_police, tonglan_justice, tonglan_civil, tonglan_petition, tonglan_sync;
GRANT SELECT ON hub.audit_log TO tonglan_admin;
