import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../../platform/config';
import { createLogger } from '../../../platform/logger';
import { createRedis } from '../../../platform/redis';
import { createAuthenticator } from '../../../security/authenticate';
import { signDevToken, type DevTokenClaims } from '../../../security/dev-token';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db';
import { cleanPrefix, testPrefix } from '../../../test/support/redis';
import { TEST_REDIS_URL } from '../../../test/support/services';
import { OutboxRelay } from '../../relay/outbox-relay';
import { LocalGraph } from '../../testing/local-graph';
import { commitOutbox, waitFor } from '../../testing/outbox-fixtures';
import { subscribeChanges, type TestSubscription } from '../../testing/ws-client';
import { attachSubscriptions, type AttachedSubscriptions } from '../attach-subscriptions';

const config = loadConfig({ NODE_ENV: 'test' });
const authenticate = createAuthenticator(config, null);
const log = createLogger({ level: 'silent' });
const prefix = testPrefix('subs');
const GRID_A = '510104001001003';
const GRID_B = '510104001002001';
const OTHER_DISTRICT_GRID = '510105002003004';

let db: TestDatabase;
let redis: Redis;
let relay: OutboxRelay;
const graph = new LocalGraph();
const servers: Array<{ url: string; subs: AttachedSubscriptions; server: http.Server }> = [];
const open: TestSubscription[] = [];

async function startServer(): Promise<{ url: string; subs: AttachedSubscriptions }> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const subs = attachSubscriptions(server, {
    pool: db.pool, redisUrl: TEST_REDIS_URL, prefix, schema: graph.schema, execute: graph.execute,
    authenticate: (a) => authenticate(a), log, pollIntervalMs: 200,
  });
  await subs.feed.start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  servers.push({ url, subs, server });
  return { url, subs };
}

async function bearer(claims: DevTokenClaims): Promise<string> {
  return `Bearer ${await signDevToken(config, { sub: `u-${randomUUID()}`, ...claims })}`;
}

function subscribe(url: string, authorization: string, query: string, variables: Record<string, unknown> = {}): TestSubscription {
  const sub = subscribeChanges(url, authorization, query, variables);
  open.push(sub);
  return sub;
}

/** Wait until `n` more subscriptions are registered with the feed of `subs`. */
async function registered(subs: AttachedSubscriptions, n: number): Promise<void> {
  await waitFor(() => subs.feed.listenerCount >= n, `${n} subscriptions registered`);
}

const CHANGES = /* GraphQL */ `
  subscription Changes($filter: ChangeFilter, $after: String) {
    changes(filter: $filter, after: $after) { id type op department gridCode entityId }
  }`;

beforeAll(async () => {
  db = await createTestDatabase('subs');
  redis = createRedis(TEST_REDIS_URL);
  relay = new OutboxRelay({ pool: db.pool, databaseUrl: db.url, redis, prefix, log, pollIntervalMs: 200 });
  await relay.start();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  for (const s of servers) {
    await s.subs.close();
    await new Promise((resolve) => s.server.close(resolve));
  }
  await relay.stop();
  await cleanPrefix(redis, prefix);
  redis.disconnect();
  await db.drop();
});

test('committed outbox rows reach a subscriber with the entity resolved through the graph in ONE request per batch', async () => {
  const { url, subs } = await startServer();
  const person = { __typename: 'Person' as const, id: randomUUID(), gridCode: GRID_A, name: '张三', phone: '13800138000' };
  const place = { __typename: 'Place' as const, id: randomUUID(), gridCode: GRID_A, address: '锦江区督院街道1号' };
  const event = { __typename: 'Event' as const, id: randomUUID(), gridCode: GRID_A, title: '邻里纠纷', status: 'reported', placeId: place.id, participantIds: [person.id] };
  [person, place, event].forEach((e) => graph.put(e));

  const query = /* GraphQL */ `
    subscription {
      changes(filter: { gridCode: "5101" }) {
        id type op gridCode department
        entity {
          __typename
          ...PersonBits
          ... on Event { headline: title status place { address } participants { name ...Phone } }
          ... on Node { id }
        }
      }
    }
    fragment PersonBits on Person { name ...Phone grid { code } }
    fragment Phone on Person { phone }`;
  const plain = subscribe(url, await bearer({ role: 'city-admin', sub: 'plain-user' }), query);
  const withPii = subscribe(url, await bearer({ role: 'city-admin', sub: 'pii-user', scopes: ['pii:read'] }), query);
  const plainTwin = subscribe(url, await bearer({ role: 'city-admin', sub: 'plain-user' }), query);
  await registered(subs, 3);
  const before = graph.operations.length;

  await commitOutbox(db.pool, [
    { entityType: 'Person', entityId: person.id, op: 'UPDATE', department: 'CIVIL_AFFAIRS', changedFields: ['phone'] },
    { entityType: 'Place', entityId: place.id, op: 'CREATE', department: 'POLICE' },
    { entityType: 'Event', entityId: event.id, op: 'CREATE', department: 'POLICE' },
    { entityType: 'Event', entityId: randomUUID(), op: 'DELETE', department: 'POLICE' },
  ]);
  await waitFor(() => [plain, withPii, plainTwin].every((s) => s.data.length === 4), 'four events for each subscriber');

  expect(plain.errors).toEqual([]);
  const [p, pl, ev, del] = plain.data;
  expect(p).toMatchObject({ type: 'gov.tonglan.person.updated', op: 'UPDATE', department: 'CIVIL_AFFAIRS', gridCode: GRID_A,
    entity: { __typename: 'Person', id: person.id, name: '张三', phone: '138****8000', grid: { code: GRID_A } } });
  expect(pl).toMatchObject({ op: 'CREATE', entity: { __typename: 'Place', id: place.id } });
  expect(ev).toMatchObject({ type: 'gov.tonglan.event.created',
    entity: { __typename: 'Event', id: event.id, headline: '邻里纠纷', status: 'reported', place: { address: '锦江区督院街道1号' },
      participants: [{ name: '张三', phone: '138****8000' }] } });
  expect(del).toMatchObject({ op: 'DELETE', entity: null });
  expect(Number(pl.id)).toBe(Number(p.id) + 1);
  // The subscriber's own permissions: only the pii:read identity sees the full phone.
  expect(withPii.data[0]!.entity.phone).toBe('13800138000');
  // Two identities (the twins share one) → two federated requests for the whole batch of three entities:
  // one per identity and selection, never one per event or per subscriber.
  const ops = graph.operations.slice(before);
  expect(ops.length).toBe(2);
  expect(ops.every((o) => ['event0: event(', 'person0: person(', 'place0: place('].every((f) => o.includes(f)))).toBe(true);
});

test('a client that disconnects and resumes with `after` receives every missed event once, in order, then live ones', async () => {
  const { url, subs } = await startServer();
  const token = await bearer({ role: 'integrator' });
  const first = subscribe(url, token, CHANGES);
  await registered(subs, 1);
  await commitOutbox(db.pool, [{ data: { n: 1 } }, { data: { n: 2 } }]);
  await waitFor(() => first.data.length === 2, 'the first two events');
  const lastSeen = first.data[1]!.id as string;
  await first.stop();
  await waitFor(() => subs.feed.listenerCount === 0, 'the subscription to end');

  const missed = await commitOutbox(db.pool, Array.from({ length: 5 }, () => ({})));
  await waitFor(async () => (await db.pool.query('SELECT count(*)::int AS n FROM hub.outbox')).rows[0].n === 0, 'the relay');

  const resumed = subscribe(url, token, CHANGES, { after: lastSeen });
  await registered(subs, 1);
  const live = await commitOutbox(db.pool, [{}, {}]);
  await waitFor(() => resumed.data.length >= 7, 'the missed and the live events');
  await new Promise((r) => setTimeout(r, 300)); // nothing more may come
  expect(resumed.errors).toEqual([]);
  expect(resumed.data.map((e) => e.entityId)).toEqual([...missed, ...live]);
  const ids = resumed.data.map((e) => Number(e.id));
  expect(ids).toEqual(Array.from({ length: 7 }, (_, i) => Number(lastSeen) + 1 + i));
});

test('resuming while events keep coming: replay hands over to live with no gap and no duplicate', async () => {
  const { url, subs } = await startServer();
  const token = await bearer({ role: 'integrator' });
  const start = (await db.pool.query('SELECT coalesce(max(position), 0)::int AS p FROM hub.change_events')).rows[0].p as number;
  await commitOutbox(db.pool, Array.from({ length: 300 }, () => ({})));
  // Subscribe while a writer keeps committing.
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing && i < 40; i++) await commitOutbox(db.pool, [{}, {}]);
  })();
  const sub = subscribe(url, token, CHANGES, { after: String(start) });
  await registered(subs, 1);
  await writer;
  writing = false;
  const total = (await db.pool.query('SELECT count(*)::int AS n FROM hub.outbox')).rows[0].n as number;
  await waitFor(async () => total === 0 || (await db.pool.query('SELECT count(*)::int AS n FROM hub.outbox')).rows[0].n === 0, 'the relay');
  const last = (await db.pool.query('SELECT max(position)::int AS p FROM hub.change_events')).rows[0].p as number;
  await waitFor(() => sub.data.length >= last - start, `${last - start} events`);
  await new Promise((r) => setTimeout(r, 300));
  expect(sub.data.map((e) => Number(e.id))).toEqual(Array.from({ length: last - start }, (_, i) => start + 1 + i));
});

test('a grid-scoped subscriber never receives events of other grids; filters narrow within the scope', async () => {
  const { url, subs } = await startServer();
  const worker = subscribe(url, await bearer({ role: 'grid-worker', grids: [GRID_A] }), CHANGES);
  const district = subscribe(url, await bearer({ role: 'district-officer', districts: ['510104'] }), CHANGES,
    { filter: { gridCode: '510104001002', ops: ['CREATE'] } });
  const outside = subscribe(url, await bearer({ role: 'grid-worker', grids: [GRID_A] }), CHANGES, { filter: { gridCode: GRID_B } });
  const departmentOnly = subscribe(url, await bearer({ role: 'integrator' }), CHANGES, { filter: { departments: ['PETITION'], types: ['event.updated'] } });
  await registered(subs, 3);
  await waitFor(() => outside.errors.length > 0 || outside.completed, 'the refused subscription');
  expect(JSON.stringify(outside.errors)).toMatch(/outside the grids/);

  await commitOutbox(db.pool, [
    { gridCode: GRID_A, op: 'CREATE' },
    { gridCode: GRID_B, op: 'CREATE' },
    { gridCode: GRID_B, op: 'UPDATE', department: 'PETITION' },
    { gridCode: OTHER_DISTRICT_GRID, op: 'CREATE' },
    { gridCode: null, op: 'CREATE' },
    { gridCode: '5101040010', op: 'CREATE' }, // a prefix of GRID_A is not inside it
  ]);
  await waitFor(() => worker.data.length >= 1 && district.data.length >= 1 && departmentOnly.data.length >= 1, 'the scoped events');
  await new Promise((r) => setTimeout(r, 400));
  expect(worker.data.map((e) => e.gridCode)).toEqual([GRID_A]);
  expect(district.data.map((e) => [e.gridCode, e.op])).toEqual([[GRID_B, 'CREATE']]);
  expect(departmentOnly.data.map((e) => [e.department, e.type])).toEqual([['PETITION', 'gov.tonglan.event.updated']]);
});

test('two gateway processes: each subscriber receives each event once, whichever it is connected to', async () => {
  const a = await startServer();
  const b = await startServer();
  const token = await bearer({ role: 'integrator' });
  const onA = subscribe(a.url, token, CHANGES);
  const onB = subscribe(b.url, token, CHANGES);
  await registered(a.subs, 1);
  await registered(b.subs, 1);
  const ids = await commitOutbox(db.pool, Array.from({ length: 20 }, () => ({})));
  await waitFor(() => onA.data.length >= 20 && onB.data.length >= 20, 'twenty events on both');
  await new Promise((r) => setTimeout(r, 300));
  expect(onA.data.map((e) => e.entityId)).toEqual(ids);
  expect(onB.data.map((e) => e.entityId)).toEqual(ids);

  // Reconnect to the other process and resume: still once each.
  const lastOnA = onA.data[9]!.id as string;
  await onA.stop();
  const moved = subscribe(b.url, token, CHANGES, { after: lastOnA });
  await waitFor(() => moved.data.length >= 10, 'the resumed events on the other process');
  await new Promise((r) => setTimeout(r, 300));
  expect(moved.data.map((e) => e.entityId)).toEqual(ids.slice(10));
});

test('events still arrive when the live Redis message is lost (gap read from the log)', async () => {
  const { url, subs } = await startServer();
  const sub = subscribe(url, await bearer({ role: 'integrator' }), CHANGES);
  await registered(subs, 1);
  // A relay publishing under another prefix: this server's feed never hears of these events live.
  const deaf = new OutboxRelay({ pool: db.pool, databaseUrl: db.url, redis, prefix: `${prefix}:elsewhere`, log });
  await relay.stop();
  try {
    const ids = await commitOutbox(db.pool, [{}, {}, {}]);
    await deaf.drain();
    await waitFor(() => sub.data.length === 3, 'the events found by polling the log');
    expect(sub.data.map((e) => e.entityId)).toEqual(ids);
  } finally {
    relay = new OutboxRelay({ pool: db.pool, databaseUrl: db.url, redis, prefix, log, pollIntervalMs: 200 });
    await relay.start();
  }
});

test('a connection without a valid token is refused (4403); a role without changes:subscribe gets an error', async () => {
  const { url } = await startServer();
  const anonymous = subscribe(url, 'Bearer not-a-token', CHANGES);
  await waitFor(() => anonymous.closed !== null || anonymous.errors.length > 0, 'the refusal');
  expect(anonymous.data).toEqual([]);
  expect(anonymous.closed?.code ?? (anonymous.errors[0] as { code?: number }).code).toBe(4403);

  const analyst = subscribe(url, await bearer({ role: 'analyst' }), CHANGES);
  await waitFor(() => analyst.errors.length > 0, 'the error');
  expect(JSON.stringify(analyst.errors)).toMatch(/may not changes:subscribe/);
});
