-- A webhook receives the changes committed after it was registered: the log position at registration.
ALTER TABLE hub.webhooks ADD COLUMN from_position bigint NOT NULL DEFAULT 0;
