-- Observability: the gateway's /metrics samples the hub's shared state at scrape time
-- (observability/hub-state-metrics.ts). The gateway's role may read the columns those aggregates need, and
-- nothing else: no connector settings or secrets, no change-event payloads, no webhook URLs or errors.
GRANT SELECT (id, name, department) ON hub.connectors TO tonglan_gateway;
GRANT SELECT (connector_id, status, started_at, finished_at, records_read, records_written, records_unchanged,
              records_quarantined, records_deleted) ON hub.sync_runs TO tonglan_gateway;
GRANT SELECT (id, created_at) ON hub.outbox TO tonglan_gateway;
GRANT SELECT (position) ON hub.change_events TO tonglan_gateway;
GRANT SELECT (name, position) ON hub.event_consumers TO tonglan_gateway;
GRANT SELECT (status) ON hub.webhook_deliveries TO tonglan_gateway;
GRANT SELECT (status_code) ON hub.webhook_attempts TO tonglan_gateway;
