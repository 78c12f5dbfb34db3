import net from 'node:net';
import type { Redis } from 'ioredis';
import { createLogger } from '../../../platform/logger';
import { createRedis } from '../../../platform/redis';
import { cleanPrefix, testPrefix } from '../../../test/support/redis';
import { TEST_REDIS_URL } from '../../../test/support/services';
import { createRedisSubscriptionCap } from '../subscription-cap';

/** The cross-process cap on open subscriptions (leases in a real Redis), apart from the socket server. */
const log = createLogger({ level: 'silent' });

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('subscription cap in Redis', () => {
  const prefix = testPrefix('subcap');
  let redis: Redis;

  beforeAll(() => { redis = createRedis(TEST_REDIS_URL); });
  afterAll(async () => {
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  test('two processes share one cap; a process renews its leases; the leases of a process that died lapse', async () => {
    const other = createRedis(TEST_REDIS_URL);
    other.on('error', () => undefined);
    const a = createRedisSubscriptionCap({ redis, prefix, max: 2, leaseMs: 600, log });
    const b = createRedisSubscriptionCap({ redis: other, prefix, max: 2, leaseMs: 600, log });
    try {
      expect(await a.acquire('u1', 's1')).toEqual({ ok: true });
      expect(await b.acquire('u1', 's1')).toEqual({ ok: true }); // same holder name, another process: another lease
      expect(await a.acquire('u1', 's2')).toEqual({ ok: false, open: 2 });
      expect(await b.acquire('u2', 's1')).toEqual({ ok: true }); // another identity is unaffected (same holder name in b)
      // Renewed every leaseMs / 3: still held well after several lease periods.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await a.count('u1')).toBe(2);
      expect(await a.count('u2')).toBe(1);
      // b's process dies: it can neither renew nor release. Its lease lapses; a's stays.
      other.disconnect();
      await waitUntil(async () => (await a.count('u1')) === 1, 3000);
      expect(await a.count('u2')).toBe(0);
      expect(await a.acquire('u1', 's2')).toEqual({ ok: true });
      await a.release('u1', 's1');
      expect(await a.count('u1')).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
    const fresh = createRedisSubscriptionCap({ redis, prefix, max: 2, log });
    expect(await fresh.count('u1')).toBe(0); // close() released a's
    await fresh.close();
  });

  test('fails open, quickly, when Redis does not answer', async () => {
    // A server that accepts the connection and never answers: Redis hung, or a network path dropping packets.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => { sockets.add(socket); socket.on('error', () => undefined); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const down = createRedis(`redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}`);
    down.on('error', () => undefined);
    const cap = createRedisSubscriptionCap({ redis: down, prefix, max: 1, timeoutMs: 200, log });
    try {
      const t = Date.now();
      expect(await cap.acquire('u1', 'a')).toEqual({ ok: true });
      expect(await cap.acquire('u1', 'b')).toEqual({ ok: true }); // over the cap of 1, but Redis cannot say so
      expect(Date.now() - t).toBeLessThan(2000);
    } finally {
      await cap.close();
      down.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
