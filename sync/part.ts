import type { PartDefinition } from '../cli/part';
import { startLinkingThread } from '../linking';
import { createPool } from '../platform/db';
import { createRedis } from '../platform/redis';
import { createPartRegistry, startMetricsPublisher } from '../observability/part-metrics';
import { setConnectorRuntime } from '../connectors/registry';
import { applyConnectorsFile, connectorsFilePath } from './connectors-file';
import { listConnectors } from './connector-store';
import { SyncQueues } from './worker/sync-queues';
import { SyncWorker } from './worker/sync-worker';

/**
 * `worker`: the sync worker. At start-up it applies config/connectors.yaml (configuration as code), brings
 * every connector's job scheduler in line with its schedule, and serves the per-department sync queues.
 * SIGTERM: runs stop after the batch in flight, then the workers close.
 */
export const part: PartDefinition = {
  name: 'worker',
  description: 'Sync worker: BullMQ queues per department, connector schedules, map → stage → merge → link → outbox',
  async start(ctx) {
    const { config, log } = ctx;
    const pool = createPool(ctx.databaseUrl, { role: 'tonglan_sync', applicationName: 'tonglan-worker', max: config.SYNC_CONCURRENCY * 4 + 4 });
    setConnectorRuntime({ pool });
    const redis = createRedis(ctx.redisUrl);
    // This process's metrics reach the gateway's /metrics through Redis (observability/part-metrics.ts).
    const metricsPublisher = startMetricsPublisher({ redis, prefix: config.REDIS_PREFIX, part: 'worker', registry: createPartRegistry('worker') });
    const file = connectorsFilePath(config.CONNECTORS_FILE);
    // The demo systems' addresses as the configuration resolved them (DEMO_DIR defaults under DATA_DIR).
    const env = {
      ...process.env, DEMO_DIR: config.DEMO_DIR, DEMO_POLICE_DATABASE_URL: config.DEMO_POLICE_DATABASE_URL,
      DEMO_MYSQL_URL: config.DEMO_MYSQL_URL, DEMO_PETITION_PORT: String(config.DEMO_PETITION_PORT),
    };
    await applyConnectorsFile(pool, file, log, env, { demoEnabled: config.DEMO_ENABLED });
    const queues = new SyncQueues(pool, redis, config.REDIS_PREFIX);
    await queues.reconcile(await listConnectors(pool));
    const requeued = await queues.requeueOrphans();
    if (requeued) log.warn({ requeued }, 'queued runs whose jobs were lost were queued again');
    // The merge step links persons; their normalisation runs on the linking thread (linking/normalise-thread.ts).
    void startLinkingThread();
    const worker = new SyncWorker({ pool, connection: redis, prefix: config.REDIS_PREFIX, log, concurrencyPerDepartment: config.SYNC_CONCURRENCY });
    await worker.waitUntilReady();
    log.info({ concurrencyPerDepartment: config.SYNC_CONCURRENCY }, 'sync worker ready');
    return {
      async stop() {
        await worker.close();
        await queues.close();
        await metricsPublisher.stop();
        redis.disconnect();
        await pool.end();
      },
    };
  },
};
