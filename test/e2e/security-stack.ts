import { SignJWT } from 'jose';
import type { Redis } from 'ioredis';
import { loadConfig, type HubConfig } from '../../platform/config';
import { createPool, type Pool } from '../../platform/db';
import { createLogger } from '../../platform/logger';
import { createRedis } from '../../platform/redis';
import { createAuditLog } from '../../security/audit';
import { createAuthenticator } from '../../security/authenticate';
import { auditFailedLogins } from '../../gateway/failed-logins';
import { composeSupergraph, subgraphSdls } from '../../schema/supergraph';
import { createGatewayServer, type GatewayServer } from '../../gateway/server';
import { createAdminServer } from '../../subgraphs/admin/server';
import { createSubgraphServer, type SubgraphServer } from '../../subgraphs/shared/create-subgraph-server';
import { SyncQueues } from '../../sync/worker/sync-queues';
import { GRAPH_SUBGRAPHS } from '../fixtures/graph-stack';
import { loadGraphFixture, type GraphFixture } from '../fixtures/graph';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { cleanPrefix, testPrefix } from '../support/redis';
import { TEST_REDIS_URL } from '../support/services';

/**
 * The whole hub's GraphQL side for the security tests: the graph fixture in a fresh database, the five graph
 * subgraphs AND the admin subgraph (connectors, webhooks, review queue) behind the real gateway on ephemeral
 * ports, with the full committed composition; JWTs signed with the configured secret; a statement counter over
 * every subgraph pool; the gateway's /metrics.
 */
export interface SecurityStack {
  db: TestDatabase;
  fixture: GraphFixture;
  config: Readonly<HubConfig>;
  url: string;
  subgraphUrls: Record<string, string>;
  token(claims: { role: string; sub?: string; grids?: string[]; districts?: string[]; department?: string; scope?: string }, options?: { expiresAt?: number; secret?: string; audience?: string }): Promise<string>;
  query<T = any>(query: string, variables?: Record<string, unknown>, token?: string, operationName?: string): Promise<{ status: number; data?: T; errors?: { message: string; extensions?: Record<string, any> }[] }>;
  statements(): number;
  /** Sum of tonglan_gateway_subgraph_fetches_total over every subgraph and outcome. */
  subgraphFetches(): Promise<number>;
  stop(): Promise<void>;
}

function countStatements(pool: Pool, counter: { n: number }): void {
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    counter.n += 1;
    return original(...args);
  };
}

export async function startSecurityStack(label = 'security'): Promise<SecurityStack> {
  const db = await createTestDatabase(label);
  const prefix = testPrefix(label);
  const subgraphs: SubgraphServer[] = [];
  let gateway: GatewayServer | undefined;
  let redis: Redis | undefined;
  let syncPool: Pool | undefined;
  let queues: SyncQueues | undefined;
  let authPool: Pool | undefined;
  const stopAll = async () => {
    await gateway?.stop().catch(() => undefined);
    for (const s of subgraphs) await s.close().catch(() => undefined);
    await queues?.close().catch(() => undefined);
    // The sync queues use `prefix`; the gateway (its queue board, limits) the same with ':' made '_' (REDIS_PREFIX).
    if (redis) { for (const p of [prefix, prefix.replace(/:/g, '_')]) await cleanPrefix(redis, p).catch(() => undefined); redis.disconnect(); }
    await syncPool?.end().catch(() => undefined);
    await authPool?.end().catch(() => undefined);
    await db.drop().catch(() => undefined);
  };
  try {
    const fixture = await loadGraphFixture(db.pool);
    const config = loadConfig({
      NODE_ENV: 'test', JWT_SECRET: 'security-test-secret-0123456789abcdef', LOG_LEVEL: 'silent',
      REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix.replace(/:/g, '_'), RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_BURST: '100000',
    });
    const log = createLogger({ level: 'silent' });
    const counter = { n: 0 };
    const urls: Record<string, string> = {};
    for (const definition of GRAPH_SUBGRAPHS) {
      const server = await createSubgraphServer(definition, { config, databaseUrl: db.url, poolMax: 4, log });
      subgraphs.push(server);
      countStatements(server.pool, counter);
      urls[definition.name] = await server.listen(0);
    }
    redis = createRedis(TEST_REDIS_URL);
    syncPool = createPool(db.url, { role: 'tonglan_sync', max: 2 });
    queues = new SyncQueues(syncPool, redis, prefix);
    const admin = await createAdminServer({ syncPool, queues, audit: createAuditLog(syncPool) }, { config, databaseUrl: db.url, poolMax: 2, log });
    subgraphs.push(admin);
    countStatements(admin.pool, counter);
    urls.admin = await admin.listen(0);

    const supergraphSdl = composeSupergraph(subgraphSdls().filter((s) => urls[s.name]));
    // Authentication as gateway/part.ts wires it: failed logins audited.
    authPool = createPool(db.url, { role: 'tonglan_gateway', max: 2 });
    const authenticate = auditFailedLogins(createAuthenticator(config, authPool), createAuditLog(authPool), { log });
    gateway = await createGatewayServer({ config, databaseUrl: db.url, redisUrl: TEST_REDIS_URL, supergraphSdl, subgraphUrls: urls, log, authenticate });
    const url = await gateway.listen(0);
    const metricsUrl = url.replace(/\/graphql$/, '/metrics');
    return {
      db, fixture, config, url, subgraphUrls: urls,
      async token(claims, options = {}) {
        const secret = new TextEncoder().encode(options.secret ?? config.JWT_SECRET);
        return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject(claims.sub ?? `test:${claims.role}`)
          .setIssuer(config.JWT_ISSUER).setAudience(options.audience ?? config.JWT_AUDIENCE).setIssuedAt()
          .setExpirationTime(options.expiresAt ?? '1h').sign(secret);
      },
      async query(query, variables = {}, token, operationName) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (token) headers.authorization = `Bearer ${token}`;
        const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables, ...(operationName ? { operationName } : {}) }) });
        return { status: res.status, ...((await res.json()) as object) };
      },
      statements: () => counter.n,
      async subgraphFetches() {
        const text = await (await fetch(metricsUrl)).text();
        let sum = 0;
        for (const line of text.split('\n')) if (line.startsWith('tonglan_gateway_subgraph_fetches_total{')) sum += Number(line.split(' ').pop());
        return sum;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
