import { startStandaloneServer } from '@apollo/server/standalone';
import type { ApolloServer } from '@apollo/server';
import { createRedis } from '../../../platform/redis';
import type { Identity } from '../../../security/identity';
import { cleanPrefix, testPrefix } from '../../../test/support/redis';
import { TEST_REDIS_URL } from '../../../test/support/services';
import { createRateLimitGuard, RateLimiter, rateLimitFromConfig, rateLimitPlugin } from '../rate-limit';
import { testServer } from './schema';

interface Ctx { identity?: Identity }
const redis = createRedis(TEST_REDIS_URL);
const prefix = testPrefix('ratelimit');
let server: ApolloServer<Ctx>;
let url: string;

beforeAll(async () => {
  server = testServer<Ctx>({
    plugins: [rateLimitPlugin<Ctx>({ redis, prefix, perMinute: 60, burst: 3, byRole: { integrator: { perMinute: 600, burst: 10 } } })],
  });
  ({ url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => {
      const sub = req.headers['x-test-user'] as string | undefined;
      const role = (req.headers['x-test-role'] as Identity['role'] | undefined) ?? 'grid-worker';
      return sub ? { identity: { sub, role, grids: [], districts: [], scopes: [] } } : {};
    },
  }));
});
afterAll(async () => {
  await server.stop();
  await cleanPrefix(redis, prefix);
  redis.disconnect();
});

async function ask(user?: string, role?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { 'x-test-user': user } : {}), ...(role ? { 'x-test-role': role } : {}) },
    body: JSON.stringify({ query: '{ hello }' }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), remaining: res.headers.get('ratelimit-remaining'), body: await res.json() as { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] } };
}

describe('rate limit on a real @apollo/server and Redis', () => {
  it('allows a burst, then refuses with 429, TL_ERR_RATE_LIMITED and Retry-After', async () => {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await ask('gw-1'));
    expect(results.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.slice(0, 3).map((r) => r.remaining)).toEqual(['2', '1', '0']);
    const refused = results[3]!;
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors?.[0]).toMatchObject({ extensions: { code: 'TL_ERR_RATE_LIMITED', retryAfter: 1 } });
    expect(refused.body.errors?.[0]?.message).toMatch(/rate limit reached for gw-1/);
  });

  it('keeps clients apart, gives roles their own limits, and refills over time', async () => {
    expect((await ask('gw-2')).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await ask('apikey:abc', 'integrator')).status).toBe(200);
    for (let i = 0; i < 3; i++) await ask('gw-3');
    expect((await ask('gw-3')).status).toBe(429);
    // One request a second refills: after ~1.1 s one (at most two, on a slow machine) more pass, then 429 again.
    await new Promise((r) => setTimeout(r, 1100));
    let passed = 0;
    while (passed < 5 && (await ask('gw-3')).status === 200) passed += 1;
    expect(passed).toBeGreaterThanOrEqual(1);
    expect(passed).toBeLessThanOrEqual(2);
  });

  it('counts anonymous callers together', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await ask()).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('lets requests through when Redis is unreachable (fail open), or refuses when told to fail closed', async () => {
    const dead = createRedis('redis://127.0.0.1:1', { enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const open = new RateLimiter(dead, prefix, { timeoutMs: 100 });
    await expect(open.consume('x', { perMinute: 1, burst: 1 })).resolves.toMatchObject({ allowed: true });
    const closed = new RateLimiter(dead, prefix, { timeoutMs: 100, failOpen: false });
    await expect(closed.consume('x', { perMinute: 1, burst: 1 })).rejects.toThrow();
    dead.disconnect();
  });

  it('refuses before parsing when the guard runs in the context function', async () => {
    const guardPrefix = `${prefix}:guard`;
    const guard = createRateLimitGuard({ redis, prefix: guardPrefix, perMinute: 60, burst: 2 });
    const guarded = testServer<Ctx>({});
    const started = await startStandaloneServer(guarded, {
      listen: { port: 0, host: '127.0.0.1' },
      context: async ({ req }) => {
        const identity: Identity = { sub: String(req.headers['x-test-user']), role: 'analyst', grids: [], districts: [], scopes: [] };
        await guard(identity);
        return { identity };
      },
    });
    try {
      const post = () => fetch(started.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-user': 'a-1' }, body: '{"query": "{ this is not even GraphQL"}' });
      // Within the rate the syntax error is reported; beyond it the query is never parsed.
      expect((await post()).status).toBe(400);
      expect((await post()).status).toBe(400);
      const refused = await post();
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('TL_ERR_RATE_LIMITED');
    } finally {
      await guarded.stop();
    }
  });

  it('reads its settings from configuration', () => {
    expect(rateLimitFromConfig({ RATE_LIMIT_PER_MINUTE: 120, RATE_LIMIT_BURST: 20, REDIS_PREFIX: 'tl' })).toEqual({ perMinute: 120, burst: 20, prefix: 'tl:ratelimit' });
  });
});
