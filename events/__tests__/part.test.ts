import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { createRedis } from '../../platform/redis';
import type { Identity } from '../../security/identity';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { cleanPrefix, testPrefix } from '../../test/support/redis';
import { TEST_REDIS_URL } from '../../test/support/services';
import { part } from '../part';
import { commitOutbox, waitFor } from '../testing/outbox-fixtures';
import { createWebhook, listDeliveries } from '../webhooks/webhook-store';
import { parseAllowList } from '../webhooks/url-guard';

/** The `relay` part as the supervisor runs it (database role tonglan_sync): outbox → log → webhook. */
let db: TestDatabase;
const prefix = testPrefix('relaypart').replace(/:/g, '_');

beforeAll(async () => {
  db = await createTestDatabase('relaypart');
});

afterAll(async () => {
  const redis = createRedis(TEST_REDIS_URL);
  await cleanPrefix(redis, prefix);
  redis.disconnect();
  await db.drop();
});

test('runs the relay, the dispatcher and the delivery worker under its own database role', async () => {
  const bodies: string[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { bodies.push(body); res.writeHead(200).end(); });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const owner: Identity = { sub: 'integrator-part', role: 'integrator', grids: [], districts: [], scopes: [] };
  // The receiver is on 127.0.0.1: admitted by WEBHOOK_ALLOWED_HOSTS (loopback is refused otherwise).
  const config = loadConfig({ NODE_ENV: 'test', REDIS_PREFIX: prefix, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  const { webhook } = await createWebhook(db.pool, owner, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in` },
    { allowList: parseAllowList(config.WEBHOOK_ALLOWED_HOSTS) });

  const running = await part.start({ config, databaseUrl: db.url, redisUrl: TEST_REDIS_URL, log: createLogger({ level: 'silent' }) });
  try {
    const [id] = await commitOutbox(db.pool, [{ entityType: 'Place', op: 'CREATE', department: null, gridCode: null }]);
    await waitFor(() => bodies.length === 1, 'the webhook delivery');
    expect(JSON.parse(bodies[0]!)).toMatchObject({ type: 'gov.tonglan.place.created', source: '/tonglan/hub', data: { entityId: id } });
    await waitFor(async () => (await listDeliveries(db.pool, owner, webhook.id))[0]?.status === 'delivered', 'the delivery recorded');
    expect(bodies).toHaveLength(1);
  } finally {
    await running.stop();
    receiver.close();
  }
});
