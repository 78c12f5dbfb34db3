-- At most one active (queued or running) sync run per connector: the database itself refuses a second one,
-- whatever process (API, scheduler, replay) asks for it. A run left 'running' by a killed worker is found
-- stale (its session advisory lock is gone) and closed before a new one starts (sync/runs.ts).
CREATE UNIQUE INDEX sync_runs_one_active ON hub.sync_runs (connector_id) WHERE status IN ('queued', 'running');

-- Quarantine lookups by the source record (a corrected replay resolves the record's other open entries).
CREATE INDEX quarantine_record ON hub.quarantine (connector_id, stream, record_key) WHERE status = 'open';
