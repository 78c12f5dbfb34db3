import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { Pool } from '../platform/db';
import { registerHubStateMetrics } from './hub-state-metrics';
import { gatherPartMetrics } from './part-metrics';

/**
 * The hub's metrics, in one place, for the gateway's `GET /metrics`:
 *  - the gateway's own registry (requests per operation, latency, errors, subgraph fetches:
 *    gateway/plugins/metrics.ts) and any other in-process registry handed in (the response cache's);
 *  - the hub's shared state, sampled from PostgreSQL and BullMQ at scrape time (hub-state-metrics.ts): sync
 *    runs, rows, duration and lag; queue depths; the relay's backlog and lag; webhook deliveries and failures;
 *  - the snapshots the worker and relay processes publish to Redis (part-metrics.ts).
 *
 * Usage in the gateway:
 *   const hubMetrics = createHubMetrics({ pool, redis, prefix: config.REDIS_PREFIX, registries: [metrics.registry] });
 *   app.get('/metrics', async (_req, reply) => { const m = await hubMetrics.render(); reply.type(m.contentType).send(m.body); });
 *   ... await hubMetrics.close() on stop.
 */
export interface HubMetricsOptions {
  pool: Pool;
  redis: Redis | null;
  prefix: string;
  /** In-process registries of the serving process (their metric names must not collide). */
  registries: Registry[];
}

export interface HubMetrics {
  /** Registry of the hub-state metrics (sampled at scrape time). */
  readonly stateRegistry: Registry;
  /** Add a registry (e.g. a plugin's) to what `/metrics` shows. */
  add(registry: Registry): void;
  render(): Promise<{ contentType: string; body: string }>;
  close(): Promise<void>;
}

export function createHubMetrics(options: HubMetricsOptions): HubMetrics {
  const stateRegistry = new Registry();
  const state = registerHubStateMetrics(stateRegistry, { pool: options.pool, redis: options.redis, prefix: options.prefix });
  const registries = [...options.registries, stateRegistry];
  return {
    stateRegistry,
    add(registry) {
      registries.push(registry);
    },
    async render() {
      // A dependency that is down must not hide the metrics that can still be read: each part fails alone.
      const texts = await Promise.all([
        ...registries.map((r) => r.metrics().catch((err: Error) => `# registry failed: ${err.message.replace(/\n/g, ' ')}\n`)),
        options.redis ? gatherPartMetrics(options.redis, options.prefix).catch(() => '') : Promise.resolve(''),
      ]);
      return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: texts.filter(Boolean).map((t) => t.trimEnd()).join('\n') + '\n' };
    },
    close: () => state.close(),
  };
}
