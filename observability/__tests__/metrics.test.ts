import { Queue } from 'bullmq';
import { createHubMetrics } from '../metrics';
import { createPartRegistry, gatherPartMetrics, startMetricsPublisher } from '../part-metrics';
import { createPool, type Pool } from '../../platform/db';
import { createRedis } from '../../platform/redis';
import { startGraphStack, type GraphStack } from '../../test/fixtures/graph-stack';
import { createTestDatabase, type TestDatabase } from '../../test/support/db';
import { cleanPrefix, testPrefix } from '../../test/support/redis';
import { TEST_REDIS_URL } from '../../test/support/services';

/** The value of one sample line of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe('hub metrics', () => {
  let db: TestDatabase;
  let gatewayPool: Pool;
  const redis = createRedis(TEST_REDIS_URL);
  const prefix = testPrefix('metrics');

  beforeAll(async () => {
    db = await createTestDatabase('metrics');
    // The gateway reads as its own role: the grants of migration 0900 must be enough.
    gatewayPool = createPool(db.url, { role: 'tonglan_gateway', max: 2 });
  });

  afterAll(async () => {
    await gatewayPool.end();
    await cleanPrefix(redis, prefix);
    redis.disconnect();
    await db.drop();
  });

  it('reports sync runs, rows, lag, queue depth, relay backlog and webhook failures from the real state', async () => {
    const { rows: [connector] } = await db.pool.query<{ id: string }>(
      `INSERT INTO hub.connectors (department, name, kind) VALUES ('POLICE', 'police-db', 'postgres') RETURNING id`);
    await db.pool.query(
      `INSERT INTO hub.sync_runs (connector_id, mode, status, started_at, finished_at, records_read, records_written, records_quarantined)
       VALUES ($1, 'INCREMENTAL', 'succeeded', now() - interval '120 seconds', now() - interval '100 seconds', 1000, 990, 10),
              ($1, 'INCREMENTAL', 'failed', now() - interval '50 seconds', now() - interval '49 seconds', 5, 0, 0)`, [connector!.id]);
    await db.pool.query(`INSERT INTO hub.outbox (entity_type, entity_id, op, grid_code, created_at)
                         VALUES ('Event', gen_random_uuid(), 'CREATE', '510104', now() - interval '30 seconds')`);
    await db.pool.query(`INSERT INTO hub.change_events (position, type, source, op, entity_type, entity_id) VALUES (7, 'gov.tonglan.event.created', '/tonglan/hub', 'CREATE', 'Event', gen_random_uuid())`);
    const { rows: [hook] } = await db.pool.query<{ id: string }>(
      `INSERT INTO hub.webhooks (owner, url, secret) VALUES ('test', 'http://127.0.0.1:9/hook', '{}') RETURNING id`);
    const { rows: [delivery] } = await db.pool.query<{ id: string }>(
      `INSERT INTO hub.webhook_deliveries (webhook_id, position, status, attempts) VALUES ($1, 7, 'pending', 2) RETURNING id`, [hook!.id]);
    await db.pool.query(`INSERT INTO hub.webhook_attempts (delivery_id, attempt, status_code, duration_ms) VALUES ($1, 1, NULL, 5), ($1, 2, 503, 7)`, [delivery!.id]);
    const queue = new Queue('sync-police', { connection: redis, prefix });
    await queue.add('sync', { connectorId: connector!.id }, { delay: 60_000 });
    await queue.add('sync', { connectorId: connector!.id });

    const metrics = createHubMetrics({ pool: gatewayPool, redis, prefix, registries: [] });
    try {
      const { body, contentType } = await metrics.render();
      expect(contentType).toContain('text/plain');
      expect(sample(body, 'tonglan_sync_runs', { department: 'POLICE', status: 'succeeded' })).toBe(1);
      expect(sample(body, 'tonglan_sync_runs', { department: 'POLICE', status: 'failed' })).toBe(1);
      expect(sample(body, 'tonglan_sync_rows_total', { department: 'POLICE', kind: 'written' })).toBe(990);
      expect(sample(body, 'tonglan_sync_rows_total', { department: 'POLICE', kind: 'quarantined' })).toBe(10);
      expect(sample(body, 'tonglan_sync_last_run_duration_seconds', { connector: 'police-db' })).toBeCloseTo(20, 0);
      const lag = sample(body, 'tonglan_sync_lag_seconds', { connector: 'police-db', department: 'POLICE' })!;
      expect(lag).toBeGreaterThanOrEqual(119);
      expect(lag).toBeLessThan(200);
      expect(sample(body, 'tonglan_queue_jobs', { queue: 'sync-police', state: 'waiting' })).toBe(1);
      expect(sample(body, 'tonglan_queue_jobs', { queue: 'sync-police', state: 'delayed' })).toBe(1);
      expect(sample(body, 'tonglan_events_outbox_pending')).toBe(1);
      expect(sample(body, 'tonglan_events_lag_seconds')).toBeGreaterThanOrEqual(29);
      expect(sample(body, 'tonglan_events_log_position')).toBe(7);
      expect(sample(body, 'tonglan_webhook_deliveries', { status: 'pending' })).toBe(1);
      expect(sample(body, 'tonglan_webhook_failures_total', { reason: 'no_answer' })).toBe(1);
      expect(sample(body, 'tonglan_webhook_failures_total', { reason: 'http_status' })).toBe(1);
    } finally {
      await metrics.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('shows the metrics a worker process publishes through Redis, until the process is gone', async () => {
    const registry = createPartRegistry('worker');
    const publisher = startMetricsPublisher({ redis, prefix, part: 'worker', registry, periodMs: 60_000 });
    await publisher.publish();
    const text = await gatherPartMetrics(redis, prefix);
    expect(sample(text, 'tonglan_part_process_resident_memory_bytes', { part: 'worker', pid: String(process.pid) })).toBeGreaterThan(1e6);
    await publisher.stop();
    expect(await gatherPartMetrics(redis, prefix)).toBe('');
  });
});

describe('gateway /metrics after real work', () => {
  let stack: GraphStack;

  beforeAll(async () => {
    stack = await startGraphStack({ label: 'gwmetrics' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('counts a real query per operation, with its latency and subgraph fetches', async () => {
    const token = await stack.token({ role: 'city-admin' });
    const query = `query PersonWithSubsidies($id: ID!) { person(id: $id) { name subsidies { subsidyNo } } }`;
    const res = await stack.query(query, { id: stack.fixture.persons.zhang.id }, token);
    expect(res.data?.person?.name).toBe('张建国');
    const metricsUrl = stack.url.replace(/\/graphql$/, '/metrics');
    const text = await (await fetch(metricsUrl)).text();
    expect(sample(text, 'tonglan_gateway_requests_total', { operation: 'PersonWithSubsidies', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'tonglan_gateway_request_duration_seconds_count', { operation: 'PersonWithSubsidies' })).toBe(1);
    expect(sample(text, 'tonglan_gateway_subgraph_fetches_total', { subgraph: 'civil-affairs', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
  });
});
