import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../platform/config';
import { createLogger, partLogger } from '../../platform/logger';
import { createRedis } from '../../platform/redis';
import { createAuthenticator } from '../../security/authenticate';
import { signDevToken } from '../../security/dev-token';
import { createConnector } from '../../sync/connector-store';
import { executeRun } from '../../sync/run-sync';
import { enqueueRun } from '../../sync/runs';
import { createSourceDb, insertJq, jqRow, policeConnectorInput, type SourceDb } from '../../sync/__tests__/fixtures';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { cleanPrefix, testPrefix } from '../../test/support/redis';
import { TEST_REDIS_URL } from '../../test/support/services';
import { OutboxRelay } from '../relay/outbox-relay';
import { attachSubscriptions, type AttachedSubscriptions } from '../subscriptions/attach-subscriptions';
import { LocalGraph } from '../testing/local-graph';
import { waitFor } from '../testing/outbox-fixtures';
import { subscribeChanges } from '../testing/ws-client';

/**
 * End to end: a change in a department's source system, synced by the real pipeline (connector → mapping →
 * merge → core event projection → outbox, one transaction), relayed, and received by a graphql-ws subscriber.
 */
const config = loadConfig({ NODE_ENV: 'test' });
const log = createLogger({ level: 'silent' });
const syncLog = partLogger('e2e-sync');
syncLog.level = 'silent';
const prefix = testPrefix('e2e');
let hub: TestDatabase;
let source: SourceDb;
let redis: Redis;
let relay: OutboxRelay;
let subs: AttachedSubscriptions;
let server: http.Server;
let connectorId: string;

async function sync(): Promise<void> {
  const { run } = await enqueueRun(hub.pool, connectorId, 'INCREMENTAL', 'test');
  await executeRun({ pool: hub.pool, runId: run.id, connectorId, mode: 'INCREMENTAL', log: syncLog, batchSize: 40 });
}

beforeAll(async () => {
  hub = await createTestDatabase('e2eevents');
  source = await createSourceDb('e2eevents');
  redis = createRedis(TEST_REDIS_URL);
  await insertJq(source.client, Array.from({ length: 6 }, (_, i) => jqRow(i)));
  connectorId = (await createConnector(hub.pool, policeConnectorInput(source))).id;
  relay = new OutboxRelay({ pool: hub.pool, databaseUrl: hub.url, redis, prefix, log, pollIntervalMs: 200 });
  await relay.start();
  server = http.createServer((_req, res) => res.writeHead(404).end());
  const graph = new LocalGraph();
  subs = attachSubscriptions(server, { pool: hub.pool, redisUrl: TEST_REDIS_URL, prefix, schema: graph.schema, execute: graph.execute,
    authenticate: createAuthenticator(config, null), log, pollIntervalMs: 200 });
  await subs.feed.start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await subs?.close();
  await new Promise((resolve) => server?.close(resolve));
  await relay?.stop();
  await cleanPrefix(redis, prefix);
  redis?.disconnect();
  await hub?.drop();
  await source?.drop();
});

test('a police incident closed at the source reaches the subscriber as gov.tonglan.event.updated', async () => {
  await sync(); // the initial load
  await waitFor(async () => (await hub.pool.query('SELECT count(*)::int AS n FROM hub.outbox')).rows[0].n === 0, 'the initial load relayed');
  const { rows: [{ last }] } = await hub.pool.query('SELECT max(position)::int AS last FROM hub.change_events');
  expect(last).toBeGreaterThan(0);

  const token = `Bearer ${await signDevToken(config, { role: 'integrator', sub: 'e2e' })}`;
  const sub = subscribeChanges(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, token,
    'subscription($after: String) { changes(after: $after, filter: { entityTypes: ["Event"] }) { id type op department changedFields entityId } }',
    { after: String(last) });
  try {
    await waitFor(() => subs.feed.listenerCount === 1, 'the subscription');
    await insertJq(source.client, [jqRow(4, { zt: '30' })]); // 处置中 → 已办结 at the source
    await sync();
    await waitFor(() => sub.data.length >= 1, 'the synced change');
    expect(sub.errors).toEqual([]);
    const { rows: [incident] } = await hub.pool.query(`SELECT event_id FROM police.incidents WHERE incident_no = 'JJ000004'`);
    expect(incident.event_id).toBeTruthy();
    expect(sub.data[0]).toMatchObject({ type: 'gov.tonglan.event.updated', op: 'UPDATE', department: 'POLICE', entityId: incident.event_id });
    expect(sub.data[0]!.changedFields).toContain('status');
    expect(Number(sub.data[0]!.id)).toBeGreaterThan(last);
  } finally {
    await sub.stop();
  }
});
