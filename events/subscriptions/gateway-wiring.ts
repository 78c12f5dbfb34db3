import type http from 'node:http';
import { Supergraph } from '@apollo/federation-internals';
import { print, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Pool } from '../../platform/db';
import type { Logger } from '../../platform/logger';
import type { Identity } from '../../security/identity';
import { attachSubscriptions, type AttachedSubscriptions, type SubscriptionDeps } from './attach-subscriptions';
import type { ExecuteAs } from './entity-enricher';

/**
 * Wiring of the change subscription into the gateway (gateway/server.ts): the API schema clients see is the
 * supergraph's (computed the way @apollo/gateway computes it), and entities are fetched through the
 * gateway's own query path (`GatewayServer.execute`) as the subscriber.
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

/** The gateway's `execute(request, identity)` as the enrichment's ExecuteAs. */
export function executorOf(execute: (request: { query: string; variables?: Record<string, unknown> }, identity: Identity) => Promise<unknown>): ExecuteAs {
  return async ({ document, variables, identity }) =>
    (await execute({ query: print(document), variables }, identity)) as ExecutionResult;
}

export interface GatewaySubscriptionOptions {
  httpServer: http.Server;
  supergraphSdl: string;
  execute: (request: { query: string; variables?: Record<string, unknown> }, identity: Identity) => Promise<unknown>;
  authenticate: SubscriptionDeps['authenticate'];
  pool: Pool;
  redisUrl: string;
  prefix: string;
  log?: Logger;
  /** The gateway's query limits (`limitsFromConfig(config)`), applied to every operation on the socket. */
  limits?: SubscriptionDeps['limits'];
  /** The gateway's rate guard (null/absent: none), taken once per operation on the socket. */
  rateGuard?: SubscriptionDeps['rateGuard'];
  maxSubscriptionsPerIdentity?: number;
  /** PERSISTED_OPERATIONS=safelist: the gateway's safelist, enforced on the socket as on HTTP. */
  safelist?: SubscriptionDeps['safelist'];
}

/**
 * Attach `Subscription.changes` to the gateway's http server at /graphql and start its live feed.
 * The gateway calls, before `listen`:
 *   const subscriptions = await startGatewaySubscriptions({ httpServer, supergraphSdl, execute, authenticate,
 *     pool, redisUrl, prefix: config.REDIS_PREFIX, log, limits: limitsFromConfig(config), rateGuard, safelist });
 * and `await subscriptions.close()` in its stop(), before closing the http server.
 */
export async function startGatewaySubscriptions(options: GatewaySubscriptionOptions): Promise<AttachedSubscriptions> {
  const schema = apiSchemaOf(options.supergraphSdl);
  const attached = attachSubscriptions(options.httpServer, {
    pool: options.pool,
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    schema,
    execute: executorOf(options.execute),
    authenticate: options.authenticate,
    log: options.log,
    ...(options.limits ? { limits: options.limits } : {}),
    rateGuard: options.rateGuard ?? null,
    ...(options.maxSubscriptionsPerIdentity ? { maxSubscriptionsPerIdentity: options.maxSubscriptionsPerIdentity } : {}),
    safelist: options.safelist ?? null,
  });
  await attached.feed.start();
  return attached;
}
