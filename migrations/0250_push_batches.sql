-- Batches that departments post to the hub (the `push` connector kind): stored durably on receipt, then read
-- by the sync worker in id order. Ids of one connector are allocated and committed in order (the receiver
-- takes a per-connector advisory lock around the insert), so "every batch after id N" never skips one that
-- commits late. A re-sent batch with the same idempotency key is recognised and not stored twice.
CREATE TABLE hub.push_batches (
  id              bigserial PRIMARY KEY,
  connector_id    uuid NOT NULL REFERENCES hub.connectors(id) ON DELETE CASCADE,
  stream          text NOT NULL,
  idempotency_key text NOT NULL,          -- the Idempotency-Key header, or the body's sha256
  body_sha256     text NOT NULL,
  record_count    integer NOT NULL,
  records         jsonb NOT NULL,         -- the batch's records, a JSON array, as posted
  received_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (connector_id, stream, idempotency_key)
);
CREATE INDEX push_batches_pending ON hub.push_batches (connector_id, stream, id);
