import type { PartDefinition } from '../../cli/part';
import { createPool } from '../../platform/db';
import { createRedis } from '../../platform/redis';
import { createAuditLog } from '../../security/audit';
import { subgraphEntry, subgraphPort } from '../../schema/subgraphs';
import { SyncQueues } from '../../sync/worker/sync-queues';
import { createAdminServer } from './server';

/** `subgraph-admin`: the admin API (connectors, sync runs, quarantine, and the other admin areas). */
export const part: PartDefinition = {
  name: 'subgraph-admin',
  description: 'GraphQL subgraph admin (connectors, sync runs, quarantine, webhooks, review queue) as database role tonglan_admin',
  async start(ctx) {
    const syncPool = createPool(ctx.databaseUrl, { role: 'tonglan_sync', applicationName: 'tonglan-admin-sync', max: 4 });
    const redis = createRedis(ctx.redisUrl);
    const queues = new SyncQueues(syncPool, redis, ctx.config.REDIS_PREFIX);
    const server = await createAdminServer({ syncPool, queues, audit: createAuditLog(syncPool) }, { config: ctx.config, databaseUrl: ctx.databaseUrl, log: ctx.log });
    const url = await server.listen(subgraphPort(ctx.config, subgraphEntry('admin')), ctx.config.HOST);
    ctx.log.info({ url }, 'subgraph admin serving');
    return {
      url,
      async stop() {
        await server.close();
        await queues.close();
        redis.disconnect();
        await syncPool.end();
      },
    };
  },
};
