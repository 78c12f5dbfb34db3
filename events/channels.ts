/**
 * Names shared by the relay, the subscription servers and the webhook dispatcher.
 * PostgreSQL NOTIFY channels are per database, so they need no prefix; Redis names carry the hub's prefix
 * (REDIS_PREFIX, or a random one per test) so several hubs can share one Redis.
 */
/** NOTIFY'd by the trigger on hub.outbox (migration 0400) when outbox rows commit. */
export const OUTBOX_CHANNEL = 'tonglan_outbox';
/** NOTIFY'd by the relay in the transaction that appends to hub.change_events; payload = last position. */
export const CHANGE_LOG_CHANNEL = 'tonglan_change_events';

/** NOTIFY'd by the admin API when deliveries of a webhook are put back for replay; payload = webhook id. */
export const WEBHOOK_REPLAY_CHANNEL = 'tonglan_webhook_replay';

/** Redis pub/sub channel carrying each relayed batch (a JSON array of ChangeEvent, in position order). */
export function liveChannel(prefix: string): string {
  return `${prefix}:events:live`;
}

/** BullMQ queue of webhook deliveries (BullMQ's own `prefix` option carries the hub prefix). */
export const WEBHOOK_QUEUE = 'webhook-deliveries';
