-- Change events for integrators (events/): wake the relay on outbox inserts, track consumers of the change
-- log, and keep what webhooks need beyond migration 0004 (owner scope, per-attempt delivery log).

-- The relay LISTENs on `tonglan_outbox`; one notification per inserting statement (not per row) is enough
-- to wake it, and it is delivered only when the inserting transaction commits.
CREATE FUNCTION hub.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tonglan_outbox', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON hub.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION hub.notify_outbox();

-- Durable readers of hub.change_events (the webhook dispatcher): the last position each has consumed.
-- A reader locks its row (FOR UPDATE) while it works, so several processes never consume the same range.
CREATE TABLE hub.event_consumers (
  name        text PRIMARY KEY,
  position    bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Positions are assigned by the relay as max+1 under a lock, so they are gap-free and in commit order.
CREATE INDEX change_events_time ON hub.change_events (time);

-- Webhooks: the registering identity's scope (role, grids, districts, department) is applied to every
-- delivery, so it is kept with the endpoint.
ALTER TABLE hub.webhooks
  ADD COLUMN owner_identity jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN description    text,
  ADD COLUMN disabled_at    timestamptz;
CREATE INDEX webhooks_owner ON hub.webhooks (owner);

ALTER TABLE hub.webhook_deliveries
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX webhook_deliveries_log ON hub.webhook_deliveries (webhook_id, created_at DESC);
CREATE INDEX webhook_deliveries_pending ON hub.webhook_deliveries (status, next_attempt_at) WHERE status = 'pending';

-- Every attempt of every delivery: the delivery log an endpoint's owner reads.
CREATE TABLE hub.webhook_attempts (
  id           bigserial PRIMARY KEY,
  delivery_id  uuid NOT NULL REFERENCES hub.webhook_deliveries(id) ON DELETE CASCADE,
  attempt      integer NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  status_code  integer,              -- HTTP status, null when no response (refused, timeout)
  error        text,
  duration_ms  integer NOT NULL,
  retry_in_ms  integer               -- the delay chosen before the next attempt, if any
);
CREATE INDEX webhook_attempts_delivery ON hub.webhook_attempts (delivery_id, attempt);
