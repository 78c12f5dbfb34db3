import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A key prefix of its own for one test file (BullMQ `prefix`, pub/sub channels, rate-limit keys). */
export function testPrefix(label = 'test'): string {
  return `tltest:${label}:${randomBytes(4).toString('hex')}`;
}

/** Delete every key under a prefix (afterAll). */
export async function cleanPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}
