import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../../platform/config';
import { createLogger } from '../../../platform/logger';
import { createRedis } from '../../../platform/redis';
import { createAuthenticator } from '../../../security/authenticate';
import { signDevToken, type DevTokenClaims } from '../../../security/dev-token';
import { DEFAULT_QUERY_LIMITS } from '../../../gateway/plugins/query-limits';
import { createRateLimitGuard } from '../../../gateway/plugins/rate-limit';
import { GRIDS } from '../../../test/fixtures/graph';
import { startGraphStack, type GraphStack } from '../../../test/fixtures/graph-stack';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db';
import { cleanPrefix, testPrefix } from '../../../test/support/redis';
import { TEST_REDIS_URL } from '../../../test/support/services';
import { OutboxRelay } from '../../relay/outbox-relay';
import { LocalGraph } from '../../testing/local-graph';
import { commitOutbox, waitFor } from '../../testing/outbox-fixtures';
import { subscribeChanges, type TestSubscription } from '../../testing/ws-client';
import { createSafelist, sha256Hex } from '../../../gateway/plugins/persisted-operations';
import { attachSubscriptions, type AttachedSubscriptions } from '../attach-subscriptions';

/**
 * The gateway's query limits and rate limit on the graphql-ws endpoint too (issue #7/#8): every operation
 * started on a socket is checked by the same `checkQueryLimits` and rate guard as the HTTP path before it runs,
 * and one identity may hold only so many subscriptions open. Real graphql-ws clients against a real server:
 * first the subscription server on its own http server (small limits to reach them), then the real gateway
 * (its configured limits, wired by gateway/server.ts).
 */
const log = createLogger({ level: 'silent' });
const config = loadConfig({ NODE_ENV: 'test' });
const authenticate = createAuthenticator(config, null);
const GRID = '510104001001003';

/** The coded errors a subscription received (the client reports the error message's array). */
function codes(sub: TestSubscription): Array<{ code: string; limit?: string; message: string }> {
  return sub.errors.flat().map((e) => {
    const err = e as { message: string; extensions?: { code: string; limit?: string } };
    return { code: err.extensions?.code ?? '', ...(err.extensions?.limit ? { limit: err.extensions.limit } : {}), message: err.message };
  });
}

const received = (sub: TestSubscription) => sub.errors.length > 0 || sub.completed || sub.data.length > 0;

describe('subscription server: query limits, rate guard, open subscriptions per identity', () => {
  const prefix = testPrefix('sublimits');
  let db: TestDatabase;
  let redis: Redis;
  let relay: OutboxRelay;
  let server: http.Server;
  let subs: AttachedSubscriptions;
  let url: string;
  const graph = new LocalGraph();
  const open: TestSubscription[] = [];
  const bearer = async (claims: DevTokenClaims) => `Bearer ${await signDevToken(config, { sub: `u-${randomUUID()}`, ...claims })}`;
  const subscribe = (authorization: string, query: string) => {
    const s = subscribeChanges(url, authorization, query);
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    db = await createTestDatabase('sublimits');
    redis = createRedis(TEST_REDIS_URL);
    relay = new OutboxRelay({ pool: db.pool, databaseUrl: db.url, redis, prefix, log, pollIntervalMs: 200 });
    await relay.start();
    server = http.createServer((_req, res) => res.writeHead(404).end());
    subs = attachSubscriptions(server, {
      pool: db.pool, redisUrl: TEST_REDIS_URL, prefix, schema: graph.schema, execute: graph.execute,
      authenticate: (a) => authenticate(a), log, pollIntervalMs: 200,
      limits: { ...DEFAULT_QUERY_LIMITS, maxDepth: 5 },
      rateGuard: createRateLimitGuard({ redis, prefix: `${prefix}:ratelimit`, perMinute: 60, burst: 5 }),
      maxSubscriptionsPerIdentity: 2,
    });
    await subs.feed.start();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.stop()));
  });

  afterAll(async () => {
    await subs?.close();
    await new Promise((resolve) => server?.close(resolve));
    await relay?.stop();
    if (redis) {
      await cleanPrefix(redis, prefix);
      redis.disconnect();
    }
    await db?.drop();
  });

  test('a too-deep or alias-bombed subscription is refused with TL_ERR_QUERY_TOO_COMPLEX; a normal one receives events', async () => {
    const token = await bearer({ role: 'city-admin' });
    const deep = subscribe(token, `subscription { changes { entity { ... on Event { participants { residence { grid { code } } } } } } }`);
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: id`).join(' ');
    const bomb = subscribe(token, `subscription { changes { ${aliases} } }`);
    const normal = subscribe(token, `subscription { changes(filter: { gridCode: "5101" }) { id op entity { ... on Event { title grid { code } } } } }`);
    await waitFor(() => received(deep) && received(bomb), 'the refusals');
    expect(codes(deep)).toEqual([{ code: 'TL_ERR_QUERY_TOO_COMPLEX', limit: 'depth', message: expect.stringMatching(/depth 6 exceeds the limit of 5 \(at changes\.entity\.participants\.residence\.grid\.code\)/) }]);
    expect(codes(bomb)).toEqual([{ code: 'TL_ERR_QUERY_TOO_COMPLEX', limit: 'aliases', message: expect.stringMatching(/31 aliases exceed the limit of 30/) }]);
    expect(deep.data).toEqual([]);

    await waitFor(() => subs.feed.listenerCount === 1, 'the normal subscription registered');
    const event = { __typename: 'Event' as const, id: randomUUID(), gridCode: GRID, title: '噪音扰民', status: 'reported' };
    graph.put(event);
    await commitOutbox(db.pool, [{ entityType: 'Event', entityId: event.id, op: 'CREATE', department: 'POLICE', gridCode: GRID }]);
    await waitFor(() => normal.data.length === 1, 'the event');
    expect(normal.errors).toEqual([]);
    expect(normal.data[0]).toMatchObject({ op: 'CREATE', entity: { title: '噪音扰民', grid: { code: GRID } } });
  });

  test('one identity holds at most maxSubscriptionsPerIdentity open; closing one frees its place; others are unaffected', async () => {
    const mine = await bearer({ role: 'integrator', sub: `cap-${randomUUID()}` });
    const q = `subscription { changes { id } }`;
    const first = subscribe(mine, q);
    const second = subscribe(mine, q);
    await waitFor(() => subs.feed.listenerCount === 2, 'two subscriptions');
    const third = subscribe(mine, q);
    await waitFor(() => received(third), 'the refusal');
    expect(codes(third)).toEqual([{ code: 'TL_ERR_RATE_LIMITED', limit: 'subscriptions', message: expect.stringMatching(/has 2 open, at most 2 per identity/) }]);
    const other = subscribe(await bearer({ role: 'integrator' }), q);
    await waitFor(() => subs.feed.listenerCount === 3, 'another identity subscribed');
    expect(other.errors).toEqual([]);

    await first.stop();
    await waitFor(() => subs.feed.listenerCount === 2, 'the first subscription closed');
    const again = subscribe(mine, q);
    await waitFor(() => subs.feed.listenerCount === 3, 'a new one in its place');
    expect(again.errors).toEqual([]);
    expect(second.errors).toEqual([]);
  });

  test('the cap holds across gateway processes sharing Redis; a lease of a process that died lapses', async () => {
    const otherServer = http.createServer((_req, res) => res.writeHead(404).end());
    const other = attachSubscriptions(otherServer, {
      pool: db.pool, redisUrl: TEST_REDIS_URL, prefix, schema: graph.schema, execute: graph.execute,
      authenticate: (a) => authenticate(a), log, pollIntervalMs: 200, maxSubscriptionsPerIdentity: 2,
    });
    await other.feed.start();
    await new Promise<void>((resolve) => otherServer.listen(0, '127.0.0.1', resolve));
    const otherUrl = `ws://127.0.0.1:${(otherServer.address() as AddressInfo).port}/graphql`;
    const sub = `everywhere-${randomUUID()}`;
    const mine = await bearer({ role: 'integrator', sub });
    const q = `subscription { changes { id } }`;
    const onOther = (query: string) => {
      const s = subscribeChanges(otherUrl, mine, query);
      open.push(s);
      return s;
    };
    try {
      const here = subscribe(mine, q);
      await waitFor(() => subs.openSubscriptions(sub) === 1, 'one subscription here');
      const there = onOther(q);
      await waitFor(() => other.openSubscriptions(sub) === 1, 'one on the other gateway');
      expect(await subs.openSubscriptionsEverywhere(sub)).toBe(2);
      // Each process holds only one, yet the identity is at its cap of 2 on both.
      const thirdHere = subscribe(mine, q);
      const thirdThere = onOther(q);
      await waitFor(() => received(thirdHere) && received(thirdThere), 'the refusals');
      for (const s of [thirdHere, thirdThere]) {
        expect(codes(s)).toEqual([{ code: 'TL_ERR_RATE_LIMITED', limit: 'subscriptions', message: expect.stringMatching(/has 2 open, at most 2 per identity/) }]);
      }
      expect(here.errors).toEqual([]);
      expect(there.errors).toEqual([]);

      await there.stop();
      await waitFor(async () => (await subs.openSubscriptionsEverywhere(sub)) === 1, 'the lease released');
      const again = subscribe(mine, q);
      await waitFor(() => subs.openSubscriptions(sub) === 2, 'a new one in its place');
      expect(again.errors).toEqual([]);

      // A lease whose process stopped renewing it (its end already past) no longer counts.
      await redis.zadd(`${prefix}:subs:${sub}`, 1, 'dead-process:socket:1');
      expect(await subs.openSubscriptionsEverywhere(sub)).toBe(2);
      await again.stop();
      await waitFor(async () => (await subs.openSubscriptionsEverywhere(sub)) === 1, 'the lease released');
      const afterDead = subscribe(mine, q);
      await waitFor(() => subs.openSubscriptions(sub) === 2, 'a place despite the dead lease');
      expect(afterDead.errors).toEqual([]);
    } finally {
      await other.close();
      await new Promise((resolve) => otherServer.close(resolve));
    }
  });

  test('with a safelist only its operations start on the socket, sent whole or by hash; queries cannot go around it', async () => {
    const listed = `subscription Listed { changes(filter: { gridCode: "5101" }) { id op entity { ... on Event { title } } } }`;
    const listedQuery = `query Listed($id: ID!) { event(id: $id) { title } }`;
    const strictServer = http.createServer((_req, res) => res.writeHead(404).end());
    const strict = attachSubscriptions(strictServer, {
      pool: db.pool, redisUrl: TEST_REDIS_URL, prefix, schema: graph.schema, execute: graph.execute,
      authenticate: (a) => authenticate(a), log, pollIntervalMs: 200, safelist: createSafelist([listed, listedQuery]),
    });
    await strict.feed.start();
    await new Promise<void>((resolve) => strictServer.listen(0, '127.0.0.1', resolve));
    const strictUrl = `ws://127.0.0.1:${(strictServer.address() as AddressInfo).port}/graphql`;
    const token = await bearer({ role: 'city-admin' });
    const on = (query: string, variables: Record<string, unknown> = {}, extensions?: Record<string, unknown>) => {
      const s = subscribeChanges(strictUrl, token, query, variables, extensions);
      open.push(s);
      return s;
    };
    try {
      const whole = on(listed);
      const byHash = on('', {}, { persistedQuery: { version: 1, sha256Hash: sha256Hex(listed) } });
      const unlisted = on(`subscription { changes { id op } }`);
      const unknownHash = on('', {}, { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } });
      const event = { __typename: 'Event' as const, id: randomUUID(), gridCode: GRID, title: '占道经营', status: 'reported' };
      const adHoc = `{ event(id: "${event.id}") { title status } }`;
      const adHocQuery = on(adHoc);
      graph.put(event);
      const listedAnswer = on(listedQuery, { id: event.id });
      await waitFor(() => [unlisted, unknownHash, adHocQuery, listedAnswer].every(received), 'the refusals and the listed query');
      const refusal = (hash: string) => [{ code: 'TL_ERR_FORBIDDEN', message: expect.stringMatching(/not in the safelist/), hash }];
      const refused = (s: TestSubscription) => s.errors.flat().map((e) => {
        const err = e as { message: string; extensions: { code: string; sha256Hash: string; reason: string } };
        expect(err.extensions.reason).toBe('operation_not_safelisted');
        return { code: err.extensions.code, message: err.message, hash: err.extensions.sha256Hash };
      });
      expect(refused(unlisted)).toEqual(refusal(sha256Hex(`subscription { changes { id op } }`)));
      expect(refused(unknownHash)).toEqual(refusal('f'.repeat(64)));
      expect(refused(adHocQuery)).toEqual(refusal(sha256Hex(adHoc)));
      expect(adHocQuery.data).toEqual([]);
      expect(listedAnswer.errors).toEqual([]);
      expect(listedAnswer.data).toEqual([{ event: { title: '占道经营' } }]);

      await waitFor(() => strict.feed.listenerCount === 2, 'the two listed subscriptions registered');
      await commitOutbox(db.pool, [{ entityType: 'Event', entityId: event.id, op: 'CREATE', department: 'POLICE', gridCode: GRID }]);
      await waitFor(() => whole.data.length === 1 && byHash.data.length === 1, 'the event on both listed subscriptions');
      for (const s of [whole, byHash]) {
        expect(s.errors).toEqual([]);
        expect(s.data[0]).toMatchObject({ op: 'CREATE', entity: { title: '占道经营' } });
      }
      expect(unlisted.data).toEqual([]);
    } finally {
      await strict.close();
      await new Promise((resolve) => strictServer.close(resolve));
    }
  });

  test('operations on the socket take from the same per-identity rate bucket: beyond the burst, TL_ERR_RATE_LIMITED', async () => {
    const token = await bearer({ role: 'city-admin', sub: `rate-${randomUUID()}` });
    const queries = Array.from({ length: 6 }, () => subscribe(token, `{ event(id: "${randomUUID()}") { title } }`));
    await waitFor(() => queries.every(received), 'six answers');
    const refused = queries.filter((s) => codes(s).some((c) => c.code === 'TL_ERR_RATE_LIMITED'));
    expect(refused).toHaveLength(1);
    expect(codes(refused[0]!)[0]!.message).toMatch(/rate limit reached/);
    expect(queries.filter((s) => s.completed && s.errors.length === 0)).toHaveLength(5);
  });
});

describe('the real gateway applies its configured query limits on the socket', () => {
  let stack: GraphStack;
  let redis: Redis;
  let relay: OutboxRelay;
  const open: TestSubscription[] = [];

  beforeAll(async () => {
    stack = await startGraphStack({ label: 'gwsublimits' });
    redis = createRedis(TEST_REDIS_URL);
    relay = new OutboxRelay({ pool: stack.db.pool, databaseUrl: stack.db.url, redis, prefix: stack.config.REDIS_PREFIX, log, pollIntervalMs: 200 });
    await relay.start();
  });

  afterAll(async () => {
    await Promise.all(open.map((s) => s.stop()));
    await relay?.stop();
    if (redis) {
      await cleanPrefix(redis, stack.config.REDIS_PREFIX);
      redis.disconnect();
    }
    await stack?.stop();
  });

  test('depth 16 > QUERY_MAX_DEPTH 15 is refused before it runs; a normal subscription receives the event', async () => {
    const wsUrl = stack.url.replace(/^http/, 'ws');
    const token = `Bearer ${await stack.token({ role: 'city-admin', sub: 'limits-admin' })}`;
    const hop = (inner: string) => `events(first: 1) { edges { node { participants { person { ${inner} } } } } }`;
    const deep = subscribeChanges(wsUrl, token, `subscription { changes { entity { ... on Person { ${hop(hop('events(first: 1) { edges { node { id } } }'))} } } } }`);
    const normal = subscribeChanges(wsUrl, token, `subscription { changes { id op entity { ... on Event { id status } } } }`);
    open.push(deep, normal);
    await waitFor(() => received(deep), 'the refusal');
    expect(codes(deep)).toEqual([{ code: 'TL_ERR_QUERY_TOO_COMPLEX', limit: 'depth', message: expect.stringMatching(/depth 16 exceeds the limit of 15/) }]);

    await waitFor(() => stack.gateway.subscriptions!.feed.listenerCount === 1, 'the normal subscription registered');
    const { events } = stack.fixture;
    await commitOutbox(stack.db.pool, [{ entityType: 'Event', entityId: events.e1, op: 'UPDATE', department: 'POLICE', gridCode: GRIDS.g1, changedFields: ['status'] }]);
    await waitFor(() => normal.data.length === 1, 'the event', 20_000);
    expect(normal.errors).toEqual([]);
    expect(normal.data[0]).toMatchObject({ op: 'UPDATE', entity: { id: events.e1 } });
  }, 60_000);
});
