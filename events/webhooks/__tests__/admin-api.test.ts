import { partLogger } from '../../../platform/logger';
import type { Identity } from '../../../security/identity';
import { type TestDatabase } from '../../../test/support/db';
import { testPrefix } from '../../../test/support/redis';
import { startAdminStack, type AdminStack } from '../../../test/fixtures/admin-stack';

/** The webhooks part of the admin API (subgraphs/admin/webhooks.*), through the admin subgraph as tonglan_admin. */
const config = { SECRET_KEY: '', NODE_ENV: 'test' as const };
const log = partLogger('webhooks-admin-test');
log.level = 'silent';
const prefix = testPrefix('whadmin');

let hub: TestDatabase;
let stack: AdminStack;

const integrator: Identity = { sub: 'apikey:12345', role: 'integrator', grids: [], districts: [], scopes: [] };
const other: Identity = { sub: 'apikey:warning-model', role: 'integrator', grids: [], districts: [], scopes: [] };
const cityAdmin: Identity = { sub: 'u-city', role: 'city-admin', grids: [], districts: [], scopes: [] };
const gridWorker: Identity = { sub: 'u-grid', role: 'grid-worker', grids: ['510104018001001'], districts: [], scopes: [] };

const gql = (identity: Identity, query: string, variables: Record<string, unknown> = {}) => stack.gql(identity, query, variables);

beforeAll(async () => {
  stack = await startAdminStack('whadmin', { config, log, prefix });
  ({ db: hub } = stack);
});

afterAll(async () => {
  await stack?.stop();
});

const CREATE = `mutation($input: WebhookInput!) { createWebhook(input: $input) {
  id url description status secret fromPosition filter { types gridCode departments } } }`;

test('create (secret shown once), list (own only), deliveries with their attempt log, replay, delete — all audited', async () => {
  const created = await gql(integrator, CREATE, { input: { url: 'https://12345.example.gov.cn/hooks/tonglan', description: '12345 热线平台',
    filter: { types: ['event.created'], gridCode: '510104', departments: ['PETITION'] } } });
  expect(created.errors).toBeUndefined();
  const w = created.data!.createWebhook;
  expect(w).toMatchObject({ status: 'ACTIVE', description: '12345 热线平台', filter: { types: ['event.created'], gridCode: '510104', departments: ['PETITION'] } });
  expect(w.secret).toMatch(/^whsec_/);
  const { rows: [stored] } = await hub.pool.query('SELECT secret FROM hub.webhooks WHERE id = $1', [w.id]);
  expect(JSON.stringify(stored.secret)).not.toContain(w.secret.slice(6)); // encrypted at rest

  const listed = await gql(integrator, '{ webhooks { id secret } }');
  expect(listed.data!.webhooks).toEqual([{ id: w.id, secret: null }]);
  expect((await gql(other, '{ webhooks { id } }')).data!.webhooks).toEqual([]);
  expect((await gql(other, 'query($id: ID!) { webhook(id: $id) { id } }', { id: w.id })).data!.webhook).toBeNull();
  expect((await gql(cityAdmin, '{ webhooks { id } }')).data!.webhooks.map((x: { id: string }) => x.id)).toContain(w.id);

  // Refusals name what is wrong.
  const outside = await gql(gridWorker, CREATE, { input: { url: 'https://a.example/x' } });
  expect(outside.errors?.[0]?.extensions.code).toBe('TL_ERR_FORBIDDEN');
  const badUrl = await gql(integrator, CREATE, { input: { url: 'not a url' } });
  expect(badUrl.errors?.[0]?.message).toMatch(/input\.url/);

  // A failed delivery with its attempts, as the worker leaves it; replay puts it back to pending.
  const { rows: [d] } = await hub.pool.query(
    `INSERT INTO hub.webhook_deliveries (webhook_id, position, status, attempts, last_status, last_error)
     VALUES ($1, 7, 'failed', 2, 503, 'HTTP 503') RETURNING id`, [w.id]);
  await hub.pool.query(`INSERT INTO hub.webhook_attempts (delivery_id, attempt, status_code, error, duration_ms, retry_in_ms)
     VALUES ($1, 1, 503, 'HTTP 503', 12, 5000), ($1, 2, 503, 'HTTP 503', 9, NULL)`, [d.id]);
  const log1 = await gql(integrator, `query($id: ID!) { webhook(id: $id) { deliveries(statuses: [FAILED]) {
    id position status attempts lastStatus attemptLog { attempt statusCode retryInMs } } } }`, { id: w.id });
  expect(log1.data!.webhook.deliveries).toEqual([{ id: d.id, position: '7', status: 'FAILED', attempts: 2, lastStatus: 503,
    attemptLog: [{ attempt: 1, statusCode: 503, retryInMs: 5000 }, { attempt: 2, statusCode: 503, retryInMs: null }] }]);
  const replay = await gql(integrator, 'mutation($id: ID!) { replayWebhookDeliveries(webhookId: $id) }', { id: w.id });
  expect(replay.data!.replayWebhookDeliveries).toBe(1);
  expect((await hub.pool.query('SELECT status FROM hub.webhook_deliveries WHERE id = $1', [d.id])).rows[0].status).toBe('pending');

  expect((await gql(other, 'mutation($id: ID!) { deleteWebhook(id: $id) }', { id: w.id })).errors?.[0]?.extensions.code).toBe('TL_ERR_NOT_FOUND');
  expect((await gql(integrator, 'mutation($id: ID!) { deleteWebhook(id: $id) }', { id: w.id })).data!.deleteWebhook).toBe(true);
  const { rows: audit } = await hub.pool.query(`SELECT operation FROM hub.audit_log WHERE kind = 'admin_change' ORDER BY id`);
  expect(audit.map((r) => r.operation)).toEqual(['createWebhook', 'replayWebhookDeliveries', 'deleteWebhook']);
});
