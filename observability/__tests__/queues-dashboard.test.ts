import { Queue } from 'bullmq';
import { SignJWT } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { createRedis } from '../../platform/redis';
import { createAuthenticator } from '../../security/authenticate';
import { cleanPrefix, testPrefix } from '../../test/support/redis';
import { TEST_REDIS_URL } from '../../test/support/services';
import { createQueuesDashboard, type QueuesDashboard } from '../queues-dashboard';

describe('queues dashboard (bull-board) behind city-admin authentication', () => {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'dashboard-test-secret-0123456789abcdef' });
  const redis = createRedis(TEST_REDIS_URL);
  const prefix = testPrefix('dashboard');
  let dashboard: QueuesDashboard;
  let server: http.Server;
  let base: string;
  let queue: Queue;

  const token = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(`test:${String(claims.role)}`)
    .setIssuer(config.JWT_ISSUER).setAudience(config.JWT_AUDIENCE).setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(config.JWT_SECRET));

  beforeAll(async () => {
    queue = new Queue('sync-petition', { connection: redis, prefix });
    await queue.add('sync', { connectorId: 'c1' });
    dashboard = await createQueuesDashboard({ redis, prefix, authenticate: createAuthenticator(config, null), log: createLogger({ level: 'silent' }) });
    // The gateway's routing: paths under /admin/queues go to the dashboard.
    server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (dashboard.handles(path)) return dashboard.handle(req, res);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/queues`;
  });

  afterAll(async () => {
    server?.close();
    await dashboard?.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });

  it('refuses a caller without credentials (401) and a non-admin (403)', async () => {
    expect((await fetch(`${base}/api/queues`)).status).toBe(401);
    expect((await fetch(`${base}/api/queues`, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);
    for (const claims of [{ role: 'district-officer', districts: ['510104'] }, { role: 'department-admin', department: 'PETITION' }]) {
      const res = await fetch(`${base}/api/queues`, { headers: { authorization: `Bearer ${await token(claims)}` } });
      expect(res.status).toBe(403);
      expect(JSON.stringify(await res.json())).toContain('TL_ERR_FORBIDDEN');
    }
  });

  it("shows the hub's queues and their jobs to a city admin", async () => {
    const res = await fetch(`${base}/api/queues`, { headers: { authorization: `Bearer ${await token({ role: 'city-admin' })}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string; counts: Record<string, number> }[] };
    const names = body.queues.map((q) => q.name).sort();
    expect(names).toEqual(['sync-civil-affairs', 'sync-justice', 'sync-petition', 'sync-police', 'webhook-deliveries']);
    expect(body.queues.find((q) => q.name === 'sync-petition')!.counts.waiting).toBe(1);
  });

  it('lets a browser in with ?token= once, then by an HttpOnly cookie on the dashboard path', async () => {
    const login = await fetch(`${base}?token=${await token({ role: 'city-admin' })}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/admin/queues');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Path=\/admin\/queues/);
    const page = await fetch(base, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Tonglan queues');
  });
});
