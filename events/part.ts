import type { PartDefinition } from '../cli/part';
import { createPool } from '../platform/db';
import { createRedis } from '../platform/redis';
import { createPartRegistry, startMetricsPublisher } from '../observability/part-metrics';
import { OutboxRelay } from './relay/outbox-relay';
import { DeliveryQueue } from './webhooks/delivery-queue';
import { WebhookDeliveryWorker } from './webhooks/delivery-worker';
import { parseAllowList } from './webhooks/url-guard';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher';

/**
 * `relay`: change events for integrators. Moves the outbox into the durable change log and publishes it on
 * Redis (the gateways' subscription feeds and response caches listen there), turns new events into webhook
 * deliveries, and sends them. Several relay processes may run: the relay lock and the dispatcher's consumer
 * row keep positions in commit order and every delivery single; BullMQ spreads the sending.
 */
export const part: PartDefinition = {
  name: 'relay',
  description: 'Change events: outbox → change log → Redis fan-out; webhook dispatch and signed delivery (BullMQ)',
  async start(ctx) {
    const prefix = ctx.config.REDIS_PREFIX;
    const pool = createPool(ctx.databaseUrl, { role: 'tonglan_sync', applicationName: 'tonglan-relay', max: 6 });
    const publisher = createRedis(ctx.redisUrl);
    const queueConnection = createRedis(ctx.redisUrl);
    const workerConnection = createRedis(ctx.redisUrl);
    for (const r of [publisher, queueConnection, workerConnection]) r.on('error', (err) => ctx.log.warn({ err: err.message }, 'Redis connection error'));
    // This process's metrics reach the gateway's /metrics through Redis (observability/part-metrics.ts).
    const metricsPublisher = startMetricsPublisher({ redis: publisher, prefix, part: 'relay', registry: createPartRegistry('relay') });
    const queue = new DeliveryQueue(queueConnection, prefix);
    const dispatcher = new WebhookDispatcher({ pool, databaseUrl: ctx.databaseUrl, queue, log: ctx.log });
    const relay = new OutboxRelay({
      pool, databaseUrl: ctx.databaseUrl, redis: publisher, prefix, log: ctx.log,
      onRelayed: () => dispatcher.wake(),
    });
    const worker = new WebhookDeliveryWorker({ pool, connection: workerConnection, prefix, log: ctx.log, allowList: parseAllowList(ctx.config.WEBHOOK_ALLOWED_HOSTS) });
    await relay.start();
    await dispatcher.start();
    ctx.log.info('relay running: outbox → change log → Redis; webhook deliveries');
    return {
      async stop() {
        await relay.stop();
        await dispatcher.stop();
        await worker.close();
        await queue.close();
        await metricsPublisher.stop();
        for (const r of [publisher, queueConnection, workerConnection]) r.disconnect();
        await pool.end();
      },
    };
  },
};
