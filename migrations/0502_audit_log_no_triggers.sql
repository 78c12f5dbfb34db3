-- The sync role received ALL on hub tables by default privileges (0001); 0004 took back UPDATE, DELETE and
-- TRUNCATE on the audit log but left TRIGGER (and REFERENCES, SELECT). With TRIGGER and CREATE on schema hub,
-- it could add a trigger that rewrites entries before they are chained (the chain would verify, the content
-- would lie). Take those back: hub roles may only append, and read back their entry's id, time and hash.
REVOKE TRIGGER, REFERENCES, SELECT ON hub.audit_log FROM tonglan_sync;
GRANT SELECT (id, at, prev_hash, hash) ON hub.audit_log TO tonglan_sync;
REVOKE TRIGGER, REFERENCES ON hub.audit_log FROM PUBLIC, tonglan_core, tonglan_police, tonglan_justice, tonglan_civil, tonglan_petition, tonglan_admin, tonglan_gateway;
