import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { WEBHOOK_QUEUE } from '../channels';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff';

/**
 * The BullMQ queue of webhook deliveries: one job per row of hub.webhook_deliveries, job id = delivery id,
 * so enqueueing a delivery that is already waiting, delayed or running (two dispatchers, a sweep, a replay
 * racing a retry) adds nothing. Finished jobs are removed: the delivery row is the record of what happened.
 * Used by the relay part (dispatcher) and the admin API (replay), against the same Redis.
 */
export interface DeliveryJob {
  deliveryId: string;
}

/** BullMQ's own key prefix under the hub's Redis prefix. */
export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

export class DeliveryQueue {
  readonly queue: Queue<DeliveryJob>;

  /** `connection` is owned by the caller (closed by it). */
  constructor(connection: Redis, prefix: string, readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY) {
    this.queue = new Queue<DeliveryJob>(WEBHOOK_QUEUE, { connection, prefix: bullPrefix(prefix) });
  }

  async enqueue(deliveryIds: string[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.queue.addBulk(deliveryIds.map((deliveryId) => ({
      name: 'deliver',
      data: { deliveryId },
      opts: { jobId: deliveryId, attempts: this.policy.attempts, backoff: { type: 'webhook' }, removeOnComplete: true, removeOnFail: true },
    })));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
