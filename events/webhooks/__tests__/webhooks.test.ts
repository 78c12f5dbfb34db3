import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { createLogger } from '../../../platform/logger';
import { createRedis } from '../../../platform/redis';
import type { Identity } from '../../../security/identity';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db';
import { cleanPrefix, testPrefix } from '../../../test/support/redis';
import { TEST_REDIS_URL } from '../../../test/support/services';
import { OutboxRelay } from '../../relay/outbox-relay';
import { commitOutbox, waitFor } from '../../testing/outbox-fixtures';
import { DeliveryQueue } from '../delivery-queue';
import { WebhookDeliveryWorker } from '../delivery-worker';
import { WebhookDispatcher } from '../webhook-dispatcher';
import { createWebhook, listAttempts, listDeliveries, listWebhooks, markForReplay } from '../webhook-store';
import { parseAllowList } from '../url-guard';

const log = createLogger({ level: 'silent' });
const prefix = testPrefix('webhooks');
const policy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 1500 };
const GRID_A = '510104001001003';
const GRID_B = '510104001002001';
const admin: Identity = { sub: 'admin-1', role: 'city-admin', grids: [], districts: [], scopes: [] };
const integrator: Identity = { sub: 'integrator-1', role: 'integrator', grids: [], districts: [], scopes: [] };
/** The test receivers listen on 127.0.0.1: admitted explicitly, as WEBHOOK_ALLOWED_HOSTS=127.0.0.1 would. */
const RECEIVERS = parseAllowList('127.0.0.1');

let db: TestDatabase;
let redis: Redis;
let connection: Redis;
let workerConnection: Redis;
let relay: OutboxRelay;
let queue: DeliveryQueue;
let dispatcher: WebhookDispatcher;
let worker: WebhookDeliveryWorker;

/** A real HTTP receiver whose answer the test sets; it records every request with its raw body. */
interface Received { headers: http.IncomingHttpHeaders; body: string }
class Receiver {
  server: http.Server | undefined;
  port = 0;
  received: Received[] = [];
  answer: (req: Received) => { status: number; headers?: Record<string, string> } = () => ({ status: 204 });

  /** Start on `port` (0: any free one). */
  async up(port = this.port): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.received.push(r);
        const { status, headers } = this.answer(r);
        res.writeHead(status, headers).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/tonglan`;
  }
}

/** Standard Webhooks verification written from the spec, independently of the hub's signing module. */
function verify(secret: string, r: Received): void {
  const id = r.headers['webhook-id'] as string;
  const timestamp = r.headers['webhook-timestamp'] as string;
  const header = r.headers['webhook-signature'] as string;
  expect(id).toBeTruthy();
  expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(300);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${r.body}`).digest('base64');
  expect(header.split(' ')).toContain(`v1,${expected}`);
}

const receivers: Receiver[] = [];
async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.up(0);
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  db = await createTestDatabase('webhooks');
  redis = createRedis(TEST_REDIS_URL);
  connection = createRedis(TEST_REDIS_URL);
  queue = new DeliveryQueue(connection, prefix, policy);
  relay = new OutboxRelay({ pool: db.pool, databaseUrl: db.url, redis, prefix, log, pollIntervalMs: 200 });
  dispatcher = new WebhookDispatcher({ pool: db.pool, databaseUrl: db.url, queue, log, pollIntervalMs: 200 });
  workerConnection = createRedis(TEST_REDIS_URL);
  worker = new WebhookDeliveryWorker({ pool: db.pool, connection: workerConnection, prefix, log, policy, timeoutMs: 2000, allowList: RECEIVERS });
  await relay.start();
  await dispatcher.start();
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.down()));
  await dispatcher.stop();
  await relay.stop();
  await worker.close();
  await queue.close();
  await cleanPrefix(redis, prefix);
  connection.disconnect();
  workerConnection.disconnect();
  redis.disconnect();
  await db.drop();
});

test('a receiver that is down for a while receives every event once it is back, signed per Standard Webhooks', async () => {
  const r = await receiver();
  await r.down(); // the port is known, nothing listens on it
  const { webhook, secret } = await createWebhook(db.pool, integrator, { url: r.url, description: '12345 热线平台' }, { allowList: RECEIVERS });
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

  const ids = await commitOutbox(db.pool, Array.from({ length: 5 }, (_, i) => ({ data: { i }, changedFields: ['status'], op: 'UPDATE' as const })));
  await waitFor(async () => (await listDeliveries(db.pool, integrator, webhook.id)).filter((d) => d.attempts >= 2).length === 5,
    'two refused attempts of each delivery');
  await r.up();
  await waitFor(async () => (await listDeliveries(db.pool, integrator, webhook.id)).every((d) => d.status === 'delivered'), 'all delivered', 15_000);

  const bodies = r.received.map((x) => JSON.parse(x.body));
  expect(new Set(bodies.map((b) => b.data.entityId))).toEqual(new Set(ids));
  expect(r.received).toHaveLength(5); // once each
  for (const x of r.received) verify(secret, x);
  expect(bodies[0]).toMatchObject({
    specversion: '1.0', type: 'gov.tonglan.event.updated', source: '/tonglan/departments/POLICE', datacontenttype: 'application/json',
    data: { op: 'UPDATE', entityType: 'Event', department: 'POLICE', gridCode: GRID_A, changedFields: ['status'] },
  });
  expect(r.received[0]!.headers['webhook-id']).toBe(bodies[0].id);
  expect(bodies[0].subject).toBe(`Event/${bodies[0].data.entityId}`);
  expect(String(bodies[0].data.position)).toBe(bodies[0].sequence);

  // The delivery log: refused attempts with the backoff chosen, then the success.
  const [delivery] = await listDeliveries(db.pool, integrator, webhook.id);
  const attempts = await listAttempts(db.pool, delivery!.id);
  expect(attempts.length).toBeGreaterThanOrEqual(3);
  expect(attempts[0]).toMatchObject({ statusCode: null });
  expect(attempts[0]!.error).toMatch(/fetch failed|ECONNREFUSED/);
  expect(attempts[0]!.retryInMs).toBeGreaterThanOrEqual(50);
  expect(attempts[1]!.retryInMs).toBeGreaterThan(attempts[0]!.retryInMs! / 2);
  expect(attempts[attempts.length - 1]).toMatchObject({ statusCode: 204, error: null, retryInMs: null });
});

test('429 with Retry-After is honoured; 410 disables the endpoint; replay delivers what was kept', async () => {
  const r = await receiver();
  let calls = 0;
  r.answer = () => (++calls === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
  const { webhook, secret } = await createWebhook(db.pool, integrator, { url: r.url, filter: { types: ['person.created'] } }, { allowList: RECEIVERS });
  await commitOutbox(db.pool, [{ entityType: 'Person', op: 'CREATE' }, { entityType: 'Event', op: 'CREATE' }]);
  await waitFor(async () => (await listDeliveries(db.pool, integrator, webhook.id))[0]?.status === 'delivered', 'the 429 then 200');
  const [d] = await listDeliveries(db.pool, integrator, webhook.id);
  const attempts = await listAttempts(db.pool, d!.id);
  expect(attempts.map((a) => [a.statusCode, a.retryInMs])).toEqual([[429, 1000], [200, null]]);
  const gap = Date.parse(attempts[1]!.at) - Date.parse(attempts[0]!.at);
  expect(gap).toBeGreaterThanOrEqual(900);
  expect(r.received).toHaveLength(2); // the Event change does not match the filter

  r.answer = () => ({ status: 410 });
  await commitOutbox(db.pool, [{ entityType: 'Person', op: 'CREATE' }]);
  await waitFor(async () => (await listWebhooks(db.pool, integrator)).find((w) => w.id === webhook.id)?.status === 'disabled', 'the endpoint disabled');
  const gone = (await listWebhooks(db.pool, integrator)).find((w) => w.id === webhook.id)!;
  expect(gone.disabledReason).toMatch(/410/);
  const receivedAt410 = r.received.length;
  await commitOutbox(db.pool, [{ entityType: 'Person', op: 'CREATE' }]);
  await waitFor(async () => (await listDeliveries(db.pool, integrator, webhook.id)).filter((x) => x.status === 'dead').length === 2, 'two dead deliveries');
  expect(r.received.length).toBe(receivedAt410); // nothing sent to a disabled endpoint

  r.answer = () => ({ status: 202 });
  const replayed = await markForReplay(db.pool, integrator, webhook.id); // the dispatcher queues them on NOTIFY
  expect(replayed).toHaveLength(2);
  await waitFor(async () => (await listDeliveries(db.pool, integrator, webhook.id)).every((x) => x.status === 'delivered'), 'the replay');
  expect((await listWebhooks(db.pool, integrator)).find((w) => w.id === webhook.id)!.status).toBe('active');
  for (const x of r.received.slice(receivedAt410)) verify(secret, x);
});

test('an endpoint that keeps failing ends as failed after the last attempt, and stays replayable', async () => {
  const r = await receiver();
  r.answer = () => ({ status: 500 });
  const { webhook } = await createWebhook(db.pool, admin, { url: r.url, filter: { departments: ['JUSTICE'] } }, { allowList: RECEIVERS });
  await commitOutbox(db.pool, [{ department: 'JUSTICE' }]);
  await waitFor(async () => (await listDeliveries(db.pool, admin, webhook.id))[0]?.status === 'failed', 'the failed delivery', 15_000);
  const [d] = await listDeliveries(db.pool, admin, webhook.id);
  expect(d!.attempts).toBe(policy.attempts);
  expect(r.received).toHaveLength(policy.attempts);
  r.answer = () => ({ status: 200 });
  expect(await markForReplay(db.pool, admin, webhook.id, { deliveryIds: [d!.id] })).toEqual([d!.id]);
  await waitFor(async () => (await listDeliveries(db.pool, admin, webhook.id))[0]?.status === 'delivered', 'the replayed delivery');
});

test('the owner\'s scope applies: a grid-scoped owner never gets other grids, and may not ask for them', async () => {
  const r = await receiver();
  const scoped: Identity = { sub: `apikey:${randomUUID()}`, role: 'integrator', grids: [GRID_A], districts: [], scopes: [] };
  await expect(createWebhook(db.pool, scoped, { url: r.url, filter: { gridCode: GRID_B } }, { allowList: RECEIVERS })).rejects.toThrow(/outside the grids/);
  await expect(createWebhook(db.pool, scoped, { url: 'ftp://example.org/x' })).rejects.toThrow(/input\.url/);
  await expect(createWebhook(db.pool, { ...scoped, role: 'analyst' }, { url: r.url }, { allowList: RECEIVERS })).rejects.toThrow(/may not webhooks:manage/);
  const { webhook } = await createWebhook(db.pool, scoped, { url: r.url }, { allowList: RECEIVERS });
  await commitOutbox(db.pool, [{ gridCode: GRID_B }, { gridCode: null }, { gridCode: GRID_A }, { gridCode: '510105002003004' }]);
  await waitFor(async () => (await listDeliveries(db.pool, scoped, webhook.id)).some((x) => x.status === 'delivered'), 'the in-scope delivery');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(r.received.map((x) => JSON.parse(x.body).data.gridCode)).toEqual([GRID_A]);
  // Another integrator does not see this endpoint.
  expect((await listWebhooks(db.pool, integrator)).some((w) => w.id === webhook.id)).toBe(false);
});

test('only external hosts: loopback, private and link-local URLs are refused at registration unless allow-listed', async () => {
  const r = await receiver();
  const refused = [
    [r.url, /127\.0\.0\.1, a loopback address; webhooks go to external hosts only/],
    [`http://localhost:${r.port}/in`, /localhost resolves to 127\.0\.0\.1, a loopback address/],
    ['http://[::1]/in', /::1, a loopback address/],
    ['http://[::ffff:127.0.0.1]/in', /a loopback address/],
    ['http://10.2.3.4/in', /10\.2\.3\.4, a private address/],
    ['http://192.168.1.20:8080/in', /a private address/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a link-local address/],
    ['http://[fd12:3456::1]/in', /unique-local/],
    ['http://0.0.0.0:6379/', /"this network"/],
  ] as const;
  for (const [url, reason] of refused) {
    await expect(createWebhook(db.pool, integrator, { url })).rejects.toMatchObject({ code: 'TL_ERR_BAD_USER_INPUT', message: expect.stringMatching(reason) });
  }
  // A public address is accepted; so is the loopback receiver once it is allow-listed (by address, or by name).
  await expect(createWebhook(db.pool, integrator, { url: 'https://8.8.8.8/hooks' })).resolves.toMatchObject({ webhook: { url: 'https://8.8.8.8/hooks' } });
  await expect(createWebhook(db.pool, integrator, { url: r.url }, { allowList: parseAllowList('127.0.0.0/8') })).resolves.toBeTruthy();
  await expect(createWebhook(db.pool, integrator, { url: `http://localhost:${r.port}/in` }, { allowList: parseAllowList('localhost') })).resolves.toBeTruthy();
  const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM hub.webhooks WHERE url LIKE 'http://10.%' OR url LIKE '%169.254%' OR url LIKE '%[::1]%'`);
  expect(rows[0].n).toBe(0);
});

test('checked again at delivery: an endpoint whose host is no longer admitted is not contacted, and fails without retries', async () => {
  const r = await receiver();
  // Registered while 127.0.0.2 was admitted (or while its name still resolved outside); the worker admits 127.0.0.1 only.
  const url = `http://127.0.0.2:${r.port}/hooks/tonglan`;
  const { webhook } = await createWebhook(db.pool, integrator, { url, filter: { types: ['place.created'] } }, { allowList: parseAllowList('127.0.0.2') });
  await commitOutbox(db.pool, [{ entityType: 'Place', op: 'CREATE' }]);
  await waitFor(async () => (await listDeliveries(db.pool, integrator, webhook.id))[0]?.status === 'failed', 'the refused delivery');
  const [d] = await listDeliveries(db.pool, integrator, webhook.id);
  expect(d).toMatchObject({ attempts: 1, lastStatus: null });
  expect(d!.lastError).toMatch(/^refused: 127\.0\.0\.2, a loopback address; webhooks go to external hosts only/);
  expect(r.received).toHaveLength(0);
});
