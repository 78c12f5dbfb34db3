-- The gateway serves the push receiver (POST /push/<connectorId>/<stream>, connectors/push): it reads the
-- push connector's settings (its token is an encrypted secret the gateway decrypts with SECRET_KEY) and
-- stores each batch durably in hub.push_batches for the sync worker.
GRANT SELECT ON hub.connectors TO tonglan_gateway;
GRANT SELECT, INSERT ON hub.push_batches TO tonglan_gateway;
GRANT USAGE ON SEQUENCE hub.push_batches_id_seq TO tonglan_gateway;
