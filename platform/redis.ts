import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections. BullMQ needs `maxRetriesPerRequest: null` on the connections it blocks on; every
 * connection of the hub uses it so one factory serves all. Keys are namespaced by a prefix (REDIS_PREFIX,
 * or a random one per test) so several hubs and test files can share one Redis.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...options });
}

export async function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
