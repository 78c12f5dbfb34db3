-- The gateway serves Subscription.changes (events/subscriptions, attached to its http server): its change feed
-- replays hub.change_events after a subscriber's position. The gateway's role may read that log and nothing
-- more of it (no outbox, no consumers' state). The role is made by 0501 too; creating it here first is
-- tolerated there (and here, when 0501 ran first on an older database).
DO $$
BEGIN
  CREATE ROLE tonglan_gateway NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

GRANT USAGE ON SCHEMA hub TO tonglan_gateway;
GRANT SELECT ON hub.change_events TO tonglan_gateway;
