/**
 * A sync worker in a process of its own, for the crash test: `node --import tsx worker-child.ts` with
 * HUB_DATABASE_URL, REDIS_URL, SYNC_PREFIX, SYNC_BATCH set. Prints "ready" when it serves the queues.
 */
import { createPool } from '../../platform/db';
import { createRedis } from '../../platform/redis';
import { partLogger } from '../../platform/logger';
import { setConnectorRuntime } from '../../connectors/registry';
import { SyncWorker } from '../worker/sync-worker';

async function main(): Promise<void> {
  const log = partLogger('worker-child');
  log.level = 'warn';
  const pool = createPool(process.env.HUB_DATABASE_URL!, { role: 'tonglan_sync', max: 6 });
  setConnectorRuntime({ pool });
  const redis = createRedis(process.env.REDIS_URL!);
  const worker = new SyncWorker({
    pool, connection: redis, prefix: process.env.SYNC_PREFIX!, log, batchSize: Number(process.env.SYNC_BATCH ?? 100),
    lockDuration: 2000, stalledInterval: 1000, departments: ['POLICE'],
  });
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => {
    void worker.close().then(async () => {
      redis.disconnect();
      await pool.end();
      process.exit(0);
    });
  });
}

void main();
