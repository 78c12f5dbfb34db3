import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type GraphQLRequest } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, type FormattedExecutionResult } from 'graphql';
import http from 'node:http';
import type { Redis } from 'ioredis';
import type { HubConfig } from '../platform/config';
import { createPool, type Pool } from '../platform/db';
import { HubError, isHubError } from '../platform/errors';
import { partLogger, type Logger } from '../platform/logger';
import { createRedis } from '../platform/redis';
import { subgraphUrls as configuredSubgraphUrls } from '../schema/subgraphs';
import { readCommittedSupergraph } from '../schema/supergraph';
import { createAuthenticator, type Authenticator } from '../security/authenticate';
import type { Identity } from '../security/identity';
import { internalKey } from '../security/keys';
import type { GatewayContext } from './context';
import { HubDataSource } from './data-source';
import { formatGatewayError, statusOf } from './error-codes';
import { checkReadiness } from './health';
import { useErrorStatus } from './plugins/error-status';
import { useMetrics, type GatewayMetrics } from './plugins/metrics';
import { useRequestLog } from './plugins/request-log';
import { startGatewaySubscriptions } from '../events/subscriptions/gateway-wiring';
import type { AttachedSubscriptions } from '../events/subscriptions/attach-subscriptions';
import { limitsFromConfig, queryLimitsPlugin } from './plugins/query-limits';
import { introspectionEnabled, loadSafelist, persistedOperationsPlugin } from './plugins/persisted-operations';
import { createRateLimitGuard, rateLimitFromConfig, type RateLimitGuard } from './plugins/rate-limit';
import { createResponseCache, type ResponseCache } from './plugins/response-cache';
import { operationsInFile, warmQueryPlans } from './plugins/plan-cache-warmup';
import { createHubMetrics } from '../observability/metrics';
import { createQueuesDashboard } from '../observability/queues-dashboard';
import { createPushHandler } from '../connectors/push';
import { connectorSettings } from '../sync/connector-store';

/**
 * The gateway: @apollo/server + @apollo/gateway on the committed supergraph (schema/supergraph.graphql, no
 * runtime introspection), served by a plain Node `http.Server` so that other parts can share it: the
 * change-event task attaches its graphql-ws server to `httpServer` on the same `/graphql` path, and resolves
 * the entities subscribers select through `execute` (the gateway's own query path, with a given identity).
 *
 * Routes: POST/GET `/graphql` (Bearer JWT or API key → Identity → signed `x-tonglan-identity` to subgraphs),
 * GET `/healthz`, `/readyz` (503 naming what is down), `/metrics` (Prometheus).
 * Each capability is a plugin in gateway/plugins/ (metrics, error status, request log, query limits, rate
 * limit); authentication and the rate limit run in the context function, before the query is parsed.
 */
export interface GatewayOptions {
  config: Readonly<HubConfig>;
  databaseUrl: string;
  /** Redis for readiness and the rate limit; null disables both (tests of the gateway alone). */
  redisUrl?: string | null;
  /** Supergraph SDL (default: the committed schema/supergraph.graphql). */
  supergraphSdl?: string;
  /** Subgraph name → GraphQL URL (default: from configuration, schema/subgraphs.ts). */
  subgraphUrls?: Record<string, string>;
  /** Default: security/authenticate.ts with the configured keys, API keys looked up as tonglan_gateway. */
  authenticate?: Authenticator;
  /** Extra Apollo plugins (e.g. persisted operations). */
  plugins?: ApolloServerPlugin<GatewayContext>[];
  /** Queries whose plans are built at start-up (gateway/plugins/plan-cache-warmup.ts), besides those of PERSISTED_OPERATIONS_FILE. */
  knownOperations?: string[];
  /** Response cache invalidated by change events (gateway/plugins/response-cache.ts); default: on when RESPONSE_CACHE_TTL_MS > 0, except under NODE_ENV=test. Needs Redis. */
  responseCache?: boolean;
  /**
   * Identical subgraph queries in flight at once share one fetch (gateway/data-source.ts; never mutations or
   * callers with pii:read). Default true.
   */
  dedupeInflight?: boolean;
  /** Subscription.changes over graphql-ws on /graphql (events/subscriptions); default: on when Redis is configured. */
  subscriptions?: boolean;
  log?: Logger;
}

export interface ExecuteRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** How long a stopping gateway lets in-flight requests finish before it closes their connections. */
const HTTP_DRAIN_MS = 3_000;
/** A step of the stop taking longer than this is named in the log. */
const STOP_STEP_WARN_MS = 2_000;

export interface GatewayServer {
  httpServer: http.Server;
  apollo: ApolloServer<GatewayContext>;
  metrics: GatewayMetrics;
  /** The response cache, when on. */
  responseCache: ResponseCache | null;
  /** Subscription.changes attached to `httpServer` (graphql-ws on /graphql), when on. */
  subscriptions: AttachedSubscriptions | null;
  /** Run an operation through the gateway's own query path as `identity` (no HTTP, no rate limit). */
  execute(request: ExecuteRequest, identity: Identity): Promise<FormattedExecutionResult>;
  /** Listen on `port` (0: ephemeral); resolves to the GraphQL URL. */
  listen(port: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The subgraph names a supergraph routes to (its `join__graph` directives). */
export function supergraphSubgraphNames(sdl: string): string[] {
  return [...sdl.matchAll(/@join__graph\(name:\s*"([^"]+)"/g)].map((m) => m[1]!);
}

function bearerOf(req: http.IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return Array.isArray(h) ? h[0] : h;
}

async function readBody(req: http.IncomingMessage, limit = 1_048_576): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HubError('TL_ERR_BAD_USER_INPUT', `Request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An error thrown by the context function, as @apollo/server returns it: code and HTTP status in extensions. */
function contextError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  const hub = isHubError(err) ? err : new HubError('TL_ERR_INTERNAL', 'Internal error');
  return new GraphQLError(hub.message, { extensions: { code: hub.code, ...(hub.details ? { details: hub.details } : {}), http: { status: hub.status } } });
}

export async function createGatewayServer(options: GatewayOptions): Promise<GatewayServer> {
  const { config } = options;
  const log = options.log ?? partLogger('gateway');
  const key = internalKey(config);
  const pool: Pool = createPool(options.databaseUrl, { role: 'tonglan_gateway', applicationName: 'tonglan-gateway', max: 5 });
  const redis: Redis | null = options.redisUrl === null ? null : createRedis(options.redisUrl ?? config.REDIS_URL, { lazyConnect: false });
  redis?.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  const authenticate = options.authenticate ?? createAuthenticator(config, pool);
  const rateGuard: RateLimitGuard | null = redis ? createRateLimitGuard({ redis, ...rateLimitFromConfig(config) }) : null;

  const supergraphSdl = options.supergraphSdl ?? readCommittedSupergraph();
  const allUrls = options.subgraphUrls ?? configuredSubgraphUrls(config);
  const names = supergraphSubgraphNames(supergraphSdl);
  const missing = names.filter((n) => !allUrls[n]);
  if (missing.length) throw new HubError('TL_ERR_CONFIG_INVALID', `No URL for subgraph(s) ${missing.join(', ')} of the supergraph`, { missing });
  const urls = Object.fromEntries(names.map((n) => [n, allUrls[n]!]));

  const safelist = config.PERSISTED_OPERATIONS === 'safelist' ? loadSafelist(config.PERSISTED_OPERATIONS_FILE) : null;
  const metrics = useMetrics();
  const cacheOn = redis !== null && config.RESPONSE_CACHE_TTL_MS > 0 && (options.responseCache ?? config.NODE_ENV !== 'test');
  const cacheSubscriber = cacheOn ? createRedis(options.redisUrl ?? config.REDIS_URL) : null;
  cacheSubscriber?.on('error', () => undefined);
  const responseCache = cacheSubscriber
    ? createResponseCache({ subscriber: cacheSubscriber, prefix: config.REDIS_PREFIX, log, registry: metrics.registry, ttlMs: config.RESPONSE_CACHE_TTL_MS })
    : null;
  const hubMetrics = createHubMetrics({ pool, redis, prefix: config.REDIS_PREFIX, registries: [metrics.registry] });
  const dashboard = redis ? await createQueuesDashboard({ redis, prefix: config.REDIS_PREFIX, authenticate, log }) : null;
  const dataSources: HubDataSource[] = [];
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) => {
      const source = new HubDataSource({ name, url: urls[name]!, internalKey: key, onFetch: metrics.onSubgraphFetch, dedupeInflight: options.dedupeInflight });
      dataSources.push(source);
      return source;
    },
  });

  let schemaLoaded = false;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: formatGatewayError,
    includeStacktraceInErrorResponses: false,
    // The part's stop() owns shutdown (cli/hub.ts calls it on SIGINT/SIGTERM): it drains HTTP before stopping Apollo.
    // Apollo's own handlers (on by default outside NODE_ENV=test) stopped Apollo at the signal, under the requests
    // still draining, and then re-sent the signal to the process.
    stopOnTerminationSignals: false,
    introspection: introspectionEnabled(config),
    // PERSISTED_OPERATIONS=safelist: only operations of PERSISTED_OPERATIONS_FILE run (sent whole or by hash);
    // the gateway's own execute() (change-event enrichment) is exempt, from it and from the query limits.
    ...(safelist ? { persistedQueries: { cache: safelist.cache, ttl: null } } : {}),
    plugins: [
      ...(safelist ? [persistedOperationsPlugin<GatewayContext>({ safelist, enforce: true, bypass: (ctx) => ctx.internal === true })] : []),
      ApolloServerPluginLandingPageDisabled(),
      metrics.plugin,
      useErrorStatus(),
      useRequestLog(log),
      queryLimitsPlugin<GatewayContext>(limitsFromConfig(config), { bypass: (ctx) => ctx.internal === true }),
      ...(options.plugins ?? []),
      ...(responseCache ? [responseCache.plugin] : []),
    ],
  });
  await apollo.start();
  await responseCache?.start();
  const knownOperations = [...(options.knownOperations ?? []), ...(config.PERSISTED_OPERATIONS_FILE ? operationsInFile(config.PERSISTED_OPERATIONS_FILE) : [])];
  if (knownOperations.length && gateway.schema) {
    await warmQueryPlans({
      schema: gateway.schema, operations: knownOperations, log,
      execute: async (request, identity) => {
        const r = await apollo.executeOperation(request as GraphQLRequest, { contextValue: { identity, internal: true } });
        return r.body.kind === 'single' ? r.body.singleResult : {};
      },
    });
  }
  schemaLoaded = true;

  async function contextOf(req: http.IncomingMessage): Promise<GatewayContext> {
    try {
      const identity = await authenticate(bearerOf(req));
      if (rateGuard) await rateGuard(identity);
      return { identity };
    } catch (err) {
      const error = contextError(err);
      metrics.countError(String(error.extensions.code));
      throw error;
    }
  }

  async function handleGraphQL(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req);
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        sendJson(res, 400, { errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'TL_ERR_BAD_USER_INPUT' } }] });
        return;
      }
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: () => contextOf(req),
    });
    for (const [k, v] of response.headers) res.setHeader(k, v);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  // Departments post batches to POST /push/<connectorId>/<stream> (the `push` connector kind); the worker
  // syncs stored batches on the connector's schedule.
  const pushHandler = createPushHandler({
    pool,
    log,
    async loadConnector(id) {
      try {
        const { record, config: settings } = await connectorSettings(pool, id);
        return { kind: record.kind, config: settings };
      } catch (err) {
        if (isHubError(err) && err.code === 'TL_ERR_NOT_FOUND') return null;
        throw err;
      }
    },
  });

  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const route = async () => {
      if (url.pathname === '/graphql') return handleGraphQL(req, res, url);
      if (await pushHandler(req, res)) return;
      if (dashboard?.handles(url.pathname)) return dashboard.handle(req, res);
      if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
      switch (url.pathname) {
        case '/healthz':
          return sendJson(res, 200, { status: 'ok' });
        case '/readyz': {
          const report = await checkReadiness({ pool, redis, subgraphUrls: urls, schemaLoaded: () => schemaLoaded });
          return sendJson(res, report.status === 'ready' ? 200 : 503, report);
        }
        case '/metrics': {
          const { contentType, body } = await hubMetrics.render();
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
          return;
        }
        default:
          return sendJson(res, 404, { error: 'not found', paths: ['/graphql', '/healthz', '/readyz', '/metrics'] });
      }
    };
    route().catch((err) => {
      const hub = isHubError(err) ? err : new HubError('TL_ERR_INTERNAL', 'Internal error');
      if (!isHubError(err)) log.error({ err }, 'gateway request failed');
      if (!res.headersSent) sendJson(res, statusOf(hub.code), { errors: [{ message: hub.message, extensions: { code: hub.code } }] });
      else res.end();
    });
  });
  httpServer.keepAliveTimeout = 65_000;

  async function execute(request: ExecuteRequest, identity: Identity): Promise<FormattedExecutionResult> {
    const result = await apollo.executeOperation(request as GraphQLRequest, { contextValue: { identity, internal: true } });
    if (result.body.kind !== 'single') throw new HubError('TL_ERR_INTERNAL', 'Incremental delivery is not supported by execute()');
    return result.body.singleResult;
  }

  // Change-event subscriptions share the http server and the /graphql path (graphql-ws upgrade); their
  // entities are resolved through `execute`, as each subscriber.
  const subscriptions: AttachedSubscriptions | null = redis && (options.subscriptions ?? true)
    ? await startGatewaySubscriptions({
      httpServer, supergraphSdl, execute, authenticate, pool, redisUrl: options.redisUrl ?? config.REDIS_URL, prefix: config.REDIS_PREFIX, log,
      limits: limitsFromConfig(config), rateGuard, // the HTTP path's query limits and rate limit, on the socket too
      safelist, // and, in production, its persisted-operation safelist: the socket is no way around it
    })
    : null;

  let stopped = false;
  return {
    httpServer,
    apollo,
    metrics,
    responseCache,
    subscriptions,
    execute,
    async listen(port, host = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => { httpServer.off('error', reject); resolve(); });
      });
      const address = httpServer.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      return `http://${host}:${actual}/graphql`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Each step named in the log when it keeps the stop waiting (the part is killed after 9 s: cli/hub.ts).
      const step = async (name: string, work: () => Promise<unknown> | unknown) => {
        const slow = setTimeout(() => log.warn({ step: name }, 'gateway stop still waiting'), STOP_STEP_WARN_MS);
        slow.unref();
        try { await work(); } finally { clearTimeout(slow); }
      };
      await step('subscriptions', () => subscriptions?.close());
      // Stop accepting, let in-flight requests finish, then close dependencies. A connection that is neither idle
      // nor finishing a request (a client that sent half a request and stalls) is closed after the drain time:
      // it would otherwise hold the stop until the server's header timeout.
      await step('http server', () => new Promise<void>((resolve) => {
        if (!httpServer.listening) return resolve();
        const drain = setTimeout(() => httpServer.closeAllConnections(), HTTP_DRAIN_MS);
        drain.unref();
        httpServer.close(() => { clearTimeout(drain); resolve(); });
        httpServer.closeIdleConnections();
      }));
      await step('apollo', () => apollo.stop());
      await step('response cache', () => responseCache?.stop());
      cacheSubscriber?.disconnect();
      await step('queues dashboard', () => dashboard?.close());
      await step('metrics', () => hubMetrics.close());
      for (const source of dataSources) source.close();
      redis?.disconnect();
      await step('database pool', () => pool.end());
    },
  };
}
