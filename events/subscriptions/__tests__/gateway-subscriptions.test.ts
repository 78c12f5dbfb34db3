import type { Redis } from 'ioredis';
import { createLogger } from '../../../platform/logger';
import { createRedis } from '../../../platform/redis';
import { createAuthenticator } from '../../../security/authenticate';
import { GRIDS } from '../../../test/fixtures/graph';
import { startGraphStack, type GraphStack } from '../../../test/fixtures/graph-stack';
import { cleanPrefix, testPrefix } from '../../../test/support/redis';
import { TEST_REDIS_URL } from '../../../test/support/services';
import { OutboxRelay } from '../../relay/outbox-relay';
import { commitOutbox, waitFor } from '../../testing/outbox-fixtures';
import { subscribeChanges, type TestSubscription } from '../../testing/ws-client';
import type { AttachedSubscriptions } from '../attach-subscriptions';
import { startGatewaySubscriptions } from '../gateway-wiring';

/**
 * The change subscription on the real gateway: the five graph subgraphs and @apollo/gateway, the
 * subscription attached to the gateway's own http server at /graphql, entities resolved through the
 * gateway's query path with each subscriber's identity (masking and scope of the real subgraphs).
 */
const log = createLogger({ level: 'silent' });
const prefix = testPrefix('gwsubs');
let stack: GraphStack;
let redis: Redis;
let relay: OutboxRelay;
let subs: AttachedSubscriptions;
const open: TestSubscription[] = [];

beforeAll(async () => {
  stack = await startGraphStack({ label: 'gwsubs', redis: false });
  redis = createRedis(TEST_REDIS_URL);
  relay = new OutboxRelay({ pool: stack.db.pool, databaseUrl: stack.db.url, redis, prefix, log, pollIntervalMs: 200 });
  await relay.start();
  subs = await startGatewaySubscriptions({
    httpServer: stack.gateway.httpServer, supergraphSdl: stack.supergraphSdl, execute: (r, i) => stack.gateway.execute(r, i),
    authenticate: createAuthenticator(stack.config, stack.db.pool), pool: stack.db.pool, redisUrl: TEST_REDIS_URL, prefix, log,
  });
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.stop()));
  await subs?.close();
  await relay?.stop();
  await cleanPrefix(redis, prefix);
  redis?.disconnect();
  await stack?.stop();
});

const QUERY = /* GraphQL */ `
  subscription ($filter: ChangeFilter) {
    changes(filter: $filter) {
      id type op gridCode
      entity {
        __typename
        ... on Person { id name idNumber phone }
        ... on Event { id title status grid { code } participants { role person { name idNumber } } }
      }
    }
  }`;

test('the gateway serves Subscription.changes at /graphql beside queries, resolving entities through the federated graph', async () => {
  const wsUrl = stack.url.replace(/^http/, 'ws');
  const admin = subscribeChanges(wsUrl, `Bearer ${await stack.token({ role: 'city-admin', sub: 'admin-a' })}`, QUERY);
  const pii = subscribeChanges(wsUrl, `Bearer ${await stack.token({ role: 'city-admin', sub: 'admin-b', scope: 'pii:read' })}`, QUERY);
  const otherGrid = subscribeChanges(wsUrl, `Bearer ${await stack.token({ role: 'grid-worker', grids: [GRIDS.g3] })}`, QUERY);
  open.push(admin, pii, otherGrid);
  await waitFor(() => subs.feed.listenerCount === 3, 'three subscriptions');

  const { persons, events } = stack.fixture;
  await commitOutbox(stack.db.pool, [
    { entityType: 'Event', entityId: events.e1, op: 'UPDATE', department: 'POLICE', gridCode: GRIDS.g1, changedFields: ['status'] },
    { entityType: 'Person', entityId: persons.zhang.id, op: 'UPDATE', department: 'CIVIL_AFFAIRS', gridCode: GRIDS.g1, changedFields: ['phone'] },
  ]);
  await waitFor(() => admin.data.length === 2 && pii.data.length === 2, 'both events');
  expect(admin.errors).toEqual([]);
  const [event, person] = admin.data;
  expect(event).toMatchObject({ type: 'gov.tonglan.event.updated', gridCode: GRIDS.g1,
    entity: { __typename: 'Event', id: events.e1, grid: { code: GRIDS.g1 } } });
  expect(event!.entity.title).toEqual(expect.any(String));
  expect(event!.entity.participants.map((p: { person: { name: string } }) => p.person.name)).toEqual(expect.arrayContaining(['张建国', '李秀英']));
  expect(person!.entity).toMatchObject({ __typename: 'Person', id: persons.zhang.id, name: '张建国' });
  // Masked for the subscriber without pii:read, in full for the one with it: each subscriber's own permissions.
  expect(person!.entity.idNumber).not.toBe(persons.zhang.idNumber);
  expect(person!.entity.idNumber).toMatch(/\*{4,}/);
  expect(pii.data[1]!.entity.idNumber).toBe(persons.zhang.idNumber);

  await new Promise((r) => setTimeout(r, 300));
  expect(otherGrid.data).toEqual([]); // grid 1's changes never reach the worker of grid 3

  // Plain queries still go to the gateway over HTTP on the same server and path.
  const answer = await stack.query('{ person(id: "' + persons.zhang.id + '") { name } }', {}, await stack.token({ role: 'city-admin' }));
  expect(answer.data).toEqual({ person: { name: '张建国' } });
});
