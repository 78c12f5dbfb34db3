import type { AddressInfo } from 'node:net';
import { OutboxRelay } from '../../../events/relay/outbox-relay';
import { createLogger } from '../../../platform/logger';
import { createRedis } from '../../../platform/redis';
import { composeSupergraph, subgraphSdls } from '../../../schema/supergraph';
import { GRIDS } from '../../../test/fixtures/graph';
import { startGraphStack, type GraphStack } from '../../../test/fixtures/graph-stack';
import { cleanPrefix } from '../../../test/support/redis';
import { TEST_REDIS_URL } from '../../../test/support/services';
import { createGatewayServer, type GatewayServer } from '../../server';
import { createResponseCache, type ResponseCache } from '../response-cache';

// The whole graph in-process (real PostgreSQL, subgraphs, Redis), a gateway with the response cache, and the
// real change-event relay publishing on Redis: a cached answer must change after the relay publishes a change.
const PERSON = `query P($id: ID!) { person(id: $id) { id name subsidies { subsidyNo } } }`;

describe('response cache invalidated by change events', () => {
  let stack: GraphStack;
  let gateway: GatewayServer;
  let url: string;
  let cache: ResponseCache;
  let relay: OutboxRelay;
  const subscriber = createRedis(TEST_REDIS_URL);
  const publisher = createRedis(TEST_REDIS_URL);
  const log = createLogger({ level: 'silent' });

  beforeAll(async () => {
    stack = await startGraphStack({ label: 'rcache' });
    const urls = Object.fromEntries(stack.subgraphs.map((s) => [s.name, `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}/graphql`]));
    cache = createResponseCache({ subscriber, prefix: stack.config.REDIS_PREFIX, log });
    await cache.start();
    gateway = await createGatewayServer({
      config: stack.config, databaseUrl: stack.db.url, redisUrl: TEST_REDIS_URL, subgraphUrls: urls, log,
      supergraphSdl: composeSupergraph(subgraphSdls().filter((s) => urls[s.name])), plugins: [cache.plugin],
    });
    url = await gateway.listen(0);
    relay = new OutboxRelay({ pool: stack.db.pool, databaseUrl: stack.db.url, redis: publisher, prefix: stack.config.REDIS_PREFIX, log });
  });

  afterAll(async () => {
    await gateway?.stop();
    await cache?.stop();
    await cleanPrefix(publisher, stack.config.REDIS_PREFIX);
    subscriber.disconnect();
    publisher.disconnect();
    await stack?.stop();
  });

  async function ask(token: string, id: string) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: PERSON, variables: { id } }) });
    return (await res.json()) as { data?: { person: { name: string } | null }; errors?: unknown[] };
  }

  async function until(check: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error('condition not reached in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('serves repeats from the cache, per scope, and refreshes after a real change event', async () => {
    const district = await stack.token({ role: 'district-officer', districts: [GRIDS.jinjiang] });
    const qingyangWorker = await stack.token({ role: 'grid-worker', grids: [GRIDS.g4] });
    const zhang = stack.fixture.persons.zhang.id;
    const zhao = stack.fixture.persons.zhao.id;

    const first = await ask(district, zhang);
    expect(first.data?.person?.name).toBe('张建国');
    stack.resetStatements();
    const second = await ask(district, zhang);
    expect(second).toEqual(first);
    expect(stack.statements()).toBe(0); // answered without reaching a subgraph
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });

    // Another scope never gets the district officer's entry: a Qingyang grid worker cannot see 张建国.
    const outsider = await ask(qingyangWorker, zhang);
    expect(outsider.data?.person).toBeNull();
    const own = await ask(qingyangWorker, zhao);
    expect(own.data?.person?.name).toBe('赵桂兰');

    // The source changes: the cache keeps answering what it has until the change event arrives.
    await stack.db.pool.query(`UPDATE core.persons SET name = '张建华' WHERE id = $1`, [zhang]);
    expect((await ask(district, zhang)).data?.person?.name).toBe('张建国');
    await stack.db.pool.query(
      `INSERT INTO hub.outbox (entity_type, entity_id, op, department, grid_code, changed_fields) VALUES ('Person', $1, 'UPDATE', 'POLICE', $2, '{name}')`,
      [zhang, GRIDS.g1]);
    const before = cache.stats().invalidations;
    expect(await relay.drain()).toBe(1);
    await until(() => cache.stats().invalidations > before);

    expect((await ask(district, zhang)).data?.person?.name).toBe('张建华');
    // An event in 锦江区 does not touch an entry of a 青羊区 grid worker.
    const hitsBefore = cache.stats().hits;
    expect((await ask(qingyangWorker, zhao)).data?.person?.name).toBe('赵桂兰');
    expect(cache.stats().hits).toBe(hitsBefore + 1);
  });

  it('never caches for callers with pii:read (their reads must reach the audit log)', async () => {
    const admin = await stack.token({ role: 'city-admin', scope: 'pii:read' });
    const before = cache.stats();
    await ask(admin, stack.fixture.persons.zhao.id);
    await ask(admin, stack.fixture.persons.zhao.id);
    const after = cache.stats();
    expect(after.bypassed - before.bypassed).toBe(2);
    expect(after.hits).toBe(before.hits);
  });

  it('flushes everything when positions are missing from the stream', () => {
    cache.invalidate([{ position: 1000, id: 'x', type: 't', source: 's', subject: 'Person/x', op: 'UPDATE', entityType: 'Person', entityId: '00000000-0000-4000-8000-000000000000', department: null, gridCode: GRIDS.g4, changedFields: [], time: new Date().toISOString() }]);
    expect(cache.stats().entries).toBe(0);
  });
});
