import type { Redis } from 'ioredis';
import { AggregatorRegistry, collectDefaultMetrics, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/**
 * Metrics of the parts that serve no HTTP (the sync worker, the event relay), seen through the gateway's
 * `/metrics`.
 *
 * Each such process keeps its own prom-client registry (`createPartRegistry`), labelled with its part name and
 * pid, and publishes a JSON snapshot of it to Redis every few seconds under `<prefix>:metrics:<part>:<pid>`
 * with a time-to-live of three periods (`startMetricsPublisher`). The gateway, when scraped, reads every
 * live snapshot and merges them with prom-client's AggregatorRegistry (`gatherPartMetrics`): the pid label
 * keeps processes apart, a process that died drops out when its key expires. One scrape target for the
 * whole hub, no extra ports, nothing to configure per process; Redis is already a dependency of every part.
 */
export const PART_METRICS_PERIOD_MS = 5000;

export function partMetricsKey(prefix: string, part: string, pid: number = process.pid): string {
  return `${prefix}:metrics:${part}:${pid}`;
}

/** A registry for one process of a part, with the Node.js process metrics (memory, CPU, event-loop lag). */
export function createPartRegistry(part: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ part, pid: String(process.pid) });
  collectDefaultMetrics({ register: registry, prefix: 'tonglan_part_' });
  return registry;
}

export interface MetricsPublisher {
  /** Publish a snapshot now (also done every period). */
  publish(): Promise<void>;
  /** Stop publishing and remove this process's snapshot. */
  stop(): Promise<void>;
}

export function startMetricsPublisher(options: {
  redis: Redis;
  prefix: string;
  part: string;
  registry: Registry;
  periodMs?: number;
}): MetricsPublisher {
  const period = options.periodMs ?? PART_METRICS_PERIOD_MS;
  const key = partMetricsKey(options.prefix, options.part);
  const publish = async () => {
    const snapshot = await options.registry.getMetricsAsJSON();
    await options.redis.set(key, JSON.stringify(snapshot), 'PX', period * 3);
  };
  const timer = setInterval(() => { publish().catch(() => undefined); }, period);
  timer.unref();
  void publish().catch(() => undefined);
  return {
    publish,
    async stop() {
      clearInterval(timer);
      await options.redis.del(key).catch(() => undefined);
    },
  };
}

/** The Prometheus text of every live part snapshot under `prefix`, merged ('' when there is none). */
export async function gatherPartMetrics(redis: Redis, prefix: string): Promise<string> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:metrics:*`, 'COUNT', 200);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  if (!keys.length) return '';
  const values = await redis.mget(...keys);
  const snapshots: MetricObjectWithValues<MetricValue<string>>[][] = [];
  for (const v of values) {
    if (!v) continue;
    try {
      snapshots.push(JSON.parse(v) as MetricObjectWithValues<MetricValue<string>>[]);
    } catch {
      // A snapshot that does not parse is skipped; the next publish replaces it.
    }
  }
  if (!snapshots.length) return '';
  return AggregatorRegistry.aggregate(snapshots as never).metrics();
}
