-- The hub's own state: connectors and their cursors, sync runs, quarantine, outbox and change-event log,
-- webhooks, audit log.

CREATE TABLE hub.connectors (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  department   text NOT NULL,            -- POLICE, JUSTICE, CIVIL_AFFAIRS, PETITION ...
  name         text NOT NULL,
  kind         text NOT NULL,            -- postgres, mysql, http, file, push
  config       jsonb NOT NULL DEFAULT '{}',  -- settings without secrets
  secrets      jsonb,                    -- encrypted envelope of the secret settings (platform/secrets.ts)
  streams      jsonb NOT NULL DEFAULT '[]',  -- selected streams with sync mode and cursor field
  mapping      jsonb NOT NULL DEFAULT '{}',  -- declarative mapping onto the department's model
  schedule     jsonb,                    -- {cron} or {everyMs}; null = manual only
  paused       boolean NOT NULL DEFAULT false,
  origin       text NOT NULL DEFAULT 'api' CHECK (origin IN ('api', 'file')),  -- file: declared in connectors.yaml
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (department, name)
);

-- Per-stream cursor state; written in the same transaction as the batch it covers.
CREATE TABLE hub.connector_state (
  connector_id uuid NOT NULL REFERENCES hub.connectors(id) ON DELETE CASCADE,
  stream       text NOT NULL,
  state        jsonb NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connector_id, stream)
);

CREATE TABLE hub.sync_runs (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  connector_id         uuid NOT NULL REFERENCES hub.connectors(id) ON DELETE CASCADE,
  mode                 text NOT NULL CHECK (mode IN ('INCREMENTAL', 'FULL_REFRESH')),
  trigger              text NOT NULL DEFAULT 'manual',   -- manual, schedule, push, replay
  status               text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  queued_at            timestamptz NOT NULL DEFAULT now(),
  started_at           timestamptz,
  finished_at          timestamptz,
  records_read         bigint NOT NULL DEFAULT 0,
  records_written      bigint NOT NULL DEFAULT 0,
  records_unchanged    bigint NOT NULL DEFAULT 0,
  records_quarantined  bigint NOT NULL DEFAULT 0,
  records_deleted      bigint NOT NULL DEFAULT 0,
  progress             jsonb NOT NULL DEFAULT '{}',
  schema_changes       jsonb NOT NULL DEFAULT '[]',  -- new source columns noticed, reported not fatal
  error                jsonb
);
CREATE INDEX sync_runs_connector ON hub.sync_runs (connector_id, queued_at DESC);

-- Records that failed mapping or validation: kept with their source payload and every reason.
CREATE TABLE hub.quarantine (
  id           bigserial PRIMARY KEY,
  connector_id uuid NOT NULL REFERENCES hub.connectors(id) ON DELETE CASCADE,
  run_id       uuid REFERENCES hub.sync_runs(id) ON DELETE SET NULL,
  department   text NOT NULL,
  stream       text NOT NULL,
  record_key   text,
  payload      jsonb NOT NULL,        -- the source record as read
  errors       jsonb NOT NULL,        -- [{field, reason, value}]
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'discarded')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz,
  resolved_by  text
);
CREATE INDEX quarantine_open ON hub.quarantine (connector_id, status, created_at DESC);

-- Transactional outbox: written in the same transaction as the data and the cursor.
CREATE TABLE hub.outbox (
  id             bigserial PRIMARY KEY,
  entity_type    text NOT NULL,       -- Person, Place, Event
  entity_id      uuid NOT NULL,
  op             text NOT NULL CHECK (op IN ('CREATE', 'UPDATE', 'DELETE')),
  department     text,
  grid_code      text,
  changed_fields text[] NOT NULL DEFAULT '{}',
  data           jsonb NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- The durable, replayable change-event log. `position` is the public ChangeEvent.id ordering.
CREATE TABLE hub.change_events (
  position       bigserial PRIMARY KEY,
  id             uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),  -- CloudEvents id
  type           text NOT NULL,       -- e.g. gov.tonglan.event.created
  source         text NOT NULL,       -- CloudEvents source, e.g. /tonglan/departments/POLICE
  subject        text,                -- Event/<uuid>
  op             text NOT NULL,
  entity_type    text NOT NULL,
  entity_id      uuid NOT NULL,
  department     text,
  grid_code      text,
  changed_fields text[] NOT NULL DEFAULT '{}',
  data           jsonb NOT NULL DEFAULT '{}',
  time           timestamptz NOT NULL DEFAULT now(),
  outbox_id      bigint UNIQUE
);
CREATE INDEX change_events_entity ON hub.change_events (entity_type, entity_id, position);

CREATE TABLE hub.webhooks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner       text NOT NULL,          -- subject of the identity that registered it
  department  text,                   -- for department-scoped owners
  url         text NOT NULL,
  secret      jsonb NOT NULL,         -- encrypted envelope of the signing secret
  filter      jsonb NOT NULL DEFAULT '{}',
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hub.webhook_deliveries (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  webhook_id   uuid NOT NULL REFERENCES hub.webhooks(id) ON DELETE CASCADE,
  position     bigint NOT NULL,       -- change event position
  status       text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  attempts     integer NOT NULL DEFAULT 0,
  last_status  integer,
  last_error   text,
  next_attempt_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (webhook_id, position)
);

-- Append-only, hash-chained audit log. No role of the hub may update or delete it (trigger below).
CREATE TABLE hub.audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  role        text,
  kind        text NOT NULL,          -- pii_read, admin_change, denied
  operation   text,
  persons     uuid[] NOT NULL DEFAULT '{}',
  fields      text[] NOT NULL DEFAULT '{}',
  detail      jsonb NOT NULL DEFAULT '{}',
  prev_hash   text,
  hash        text NOT NULL
);

CREATE FUNCTION hub.audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'hub.audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON hub.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION hub.audit_log_immutable();
REVOKE UPDATE, DELETE, TRUNCATE ON hub.audit_log FROM tonglan_admin, tonglan_sync;
