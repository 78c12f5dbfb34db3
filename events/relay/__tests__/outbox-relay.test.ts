import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedis } from '../../../platform/redis';
import { createLogger } from '../../../platform/logger';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db';
import { TEST_REDIS_URL } from '../../../test/support/services';
import { cleanPrefix, testPrefix } from '../../../test/support/redis';
import type { ChangeEvent } from '../../change-event';
import { liveChannel } from '../../channels';
import { OutboxRelay } from '../outbox-relay';
import { commitOutbox, waitFor } from '../../testing/outbox-fixtures';

const log = createLogger({ level: 'silent' });
let db: TestDatabase;
let redis: Redis;
let subscriber: Redis;
const prefix = testPrefix('relay');
const published: ChangeEvent[] = [];

beforeAll(async () => {
  db = await createTestDatabase('relay');
  redis = createRedis(TEST_REDIS_URL);
  subscriber = createRedis(TEST_REDIS_URL);
  await subscriber.subscribe(liveChannel(prefix));
  subscriber.on('message', (_channel, message: string) => published.push(...(JSON.parse(message) as ChangeEvent[])));
});

afterAll(async () => {
  subscriber.disconnect();
  await cleanPrefix(redis, prefix);
  redis.disconnect();
  await db.drop();
});

beforeEach(async () => {
  await db.pool.query('TRUNCATE hub.outbox, hub.change_events');
  published.length = 0;
});

function relay(extra: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}): OutboxRelay {
  return new OutboxRelay({ pool: db.pool, databaseUrl: db.url, redis, prefix, log, ...extra });
}

test('moves committed outbox rows into the log as CloudEvents with gap-free positions, then publishes them', async () => {
  const [personId, eventId] = await commitOutbox(db.pool, [
    { entityType: 'Person', op: 'UPDATE', department: 'CIVIL_AFFAIRS', gridCode: '510104001001003', changedFields: ['phone', 'flags'] },
    { entityType: 'Event', op: 'CREATE', department: 'POLICE', gridCode: '510104001002001', data: { title: '邻里纠纷' } },
  ]);
  const moved = await relay().drain();
  expect(moved).toBe(2);

  const { rows } = await db.pool.query('SELECT * FROM hub.change_events ORDER BY position');
  expect(rows.map((r) => Number(r.position))).toEqual([1, 2]);
  expect(rows[0]).toMatchObject({
    type: 'gov.tonglan.person.updated', source: '/tonglan/departments/CIVIL_AFFAIRS', subject: `Person/${personId}`,
    op: 'UPDATE', entity_type: 'Person', entity_id: personId, grid_code: '510104001001003', changed_fields: ['phone', 'flags'],
  });
  expect(rows[1]).toMatchObject({ type: 'gov.tonglan.event.created', subject: `Event/${eventId}`, data: { title: '邻里纠纷' } });
  expect(rows[1].id).toMatch(/^[0-9a-f-]{36}$/);
  expect((await db.pool.query('SELECT count(*)::int AS n FROM hub.outbox')).rows[0].n).toBe(0);

  await waitFor(() => published.length === 2, 'the Redis fan-out');
  expect(published.map((e) => [e.position, e.type, e.entityId])).toEqual([
    [1, 'gov.tonglan.person.updated', personId], [2, 'gov.tonglan.event.created', eventId]]);
});

test('an uncommitted outbox row is not relayed until its transaction commits', async () => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO hub.outbox (entity_type, entity_id, op) VALUES ('Event', $1, 'CREATE')`, [randomUUID()]);
    expect(await relay().drain()).toBe(0);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  expect(await relay().drain()).toBe(1);
});

test('is woken by NOTIFY when outbox rows commit (no polling)', async () => {
  const r = relay({ pollIntervalMs: 3_600_000 });
  await r.start();
  try {
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the start-up drain finish
    const [id] = await commitOutbox(db.pool, [{ op: 'UPDATE' }]);
    await waitFor(() => published.some((e) => e.entityId === id), 'the notified relay', 5000);
  } finally {
    await r.stop();
  }
});

test('several relays racing with concurrent writers: every row once, positions 1..N in order, per-entity order kept', async () => {
  const relays = [relay({ batchSize: 7, pollIntervalMs: 20 }), relay({ batchSize: 5, pollIntervalMs: 20 }), relay({ batchSize: 11, pollIntervalMs: 20 })];
  await Promise.all(relays.map((r) => r.start()));
  const entities = Array.from({ length: 6 }, () => randomUUID());
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; i < 15; i++) {
      // Each entity's changes carry an increasing sequence number in `data`.
      await commitOutbox(db.pool, [0, 1].map((k) => ({
        entityId: entities[(w + k) % entities.length], op: 'UPDATE' as const, data: { writer: w, seq: i * 2 + k },
      })));
    }
  });
  try {
    await Promise.all(writers);
    await waitFor(async () => (await db.pool.query('SELECT count(*)::int AS n FROM hub.change_events')).rows[0].n === 120,
      'all 120 changes relayed');
  } finally {
    await Promise.all(relays.map((r) => r.stop()));
  }
  const { rows } = await db.pool.query('SELECT position, outbox_id, entity_id, data FROM hub.change_events ORDER BY position');
  expect(rows.map((r) => Number(r.position))).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  expect(new Set(rows.map((r) => Number(r.outbox_id))).size).toBe(120);
  // (Outbox ids need not rise with position: a transaction that took lower ids may commit later.)
  // Per writer and entity, the sequence numbers arrive in the order they were written.
  const seen = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.data.writer}:${r.entity_id}`;
    expect(r.data.seq).toBeGreaterThan(seen.get(key) ?? -1);
    seen.set(key, r.data.seq);
  }
  await waitFor(() => published.length === 120, 'every event published once');
  expect(published.map((e) => e.position)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
});
