import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import {
  GraphQLError, defaultFieldResolver, getOperationAST, parse, validate, type DocumentNode, type ExecutionArgs, type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Pool } from '../../platform/db';
import { isHubError, toHubError } from '../../platform/errors';
import { partLogger, type Logger } from '../../platform/logger';
import { createRedis } from '../../platform/redis';
import type { Identity } from '../../security/identity';
import { assertCan } from '../../security/scope';
import { notSafelistedError, sha256Hex, type Safelist } from '../../gateway/plugins/persisted-operations';
import { checkQueryLimits, DEFAULT_QUERY_LIMITS, type QueryLimits } from '../../gateway/plugins/query-limits';
import type { RateLimitGuard } from '../../gateway/plugins/rate-limit';
import { ChangeFeed } from '../change-feed';
import { compileFilter, type ChangeFilterInput } from '../change-filter';
import { ChangeStream } from './change-stream';
import { EntityEnricher, type ExecuteAs } from './entity-enricher';
import { entitySelection } from './entity-query';
import { SharedResults } from './shared-results';
import { createRedisSubscriptionCap } from './subscription-cap';
import { buildSubscriptionSchema } from './subscription-schema';

export interface SubscriptionDeps {
  pool: Pool;
  redisUrl: string;
  /** Redis key prefix (REDIS_PREFIX): the relay publishes on `<prefix>:events:live`. */
  prefix: string;
  /** The supergraph's API schema (the gateway's), or a getter when the gateway may reload it. */
  schema: GraphQLSchema | (() => GraphQLSchema);
  /** Runs an operation through the gateway's query path as the given identity. */
  execute: ExecuteAs;
  /** `authorization` connection parameter ("Bearer <token>" or an API key) → Identity; throws when invalid. */
  authenticate: (authorization: string | undefined) => Promise<Identity>;
  log?: Logger;
  /** Default `/graphql`. */
  path?: string;
  pollIntervalMs?: number;
  /** graphql-ws keep-alive ping interval (default 12 s). */
  keepAliveMs?: number;
  /** Largest number of entities in one federated request (default 100). */
  maxBatchSize?: number;
  /**
   * The gateway's query limits (depth, aliases, root fields, cost, page size, fields), applied to every
   * operation started on a socket before it runs, exactly as on the HTTP path. Default DEFAULT_QUERY_LIMITS.
   */
  limits?: QueryLimits;
  /** The gateway's per-identity rate guard: one request taken from the bucket per operation started. */
  rateGuard?: RateLimitGuard | null;
  /**
   * Subscriptions one identity (its subject) may hold open at once, across every gateway process sharing the
   * Redis (leases in Redis, subscription-cap.ts), and in this process alone when Redis does not answer (default 200).
   */
  maxSubscriptionsPerIdentity?: number;
  /** How long a process's subscription leases live in Redis without renewal (default 60 s; a crashed process's lapse then). */
  subscriptionLeaseMs?: number;
  /**
   * PERSISTED_OPERATIONS=safelist: only operations of the safelist start on a socket, exactly as on the HTTP
   * path — sent whole (the server hashes the text itself) or by hash alone (`query: ""` with
   * `extensions.persistedQuery.sha256Hash`, Apollo's protocol). Anything else: TL_ERR_FORBIDDEN,
   * reason `operation_not_safelisted`. Absent or null: every valid operation may start.
   */
  safelist?: Safelist | null;
}

export const DEFAULT_MAX_SUBSCRIPTIONS_PER_IDENTITY = 200;

export interface AttachedSubscriptions {
  feed: ChangeFeed;
  enricher: EntityEnricher;
  /** Open WebSocket connections. */
  connections(): number;
  /** Open subscriptions of an identity (its subject) in this process. */
  openSubscriptions(sub: string): number;
  /** Open subscriptions of an identity across every gateway process (the leases in Redis). */
  openSubscriptionsEverywhere(sub: string): Promise<number>;
  close(): Promise<void>;
}

type Extra = {
  identity?: Identity;
};

function toGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  const hub = toHubError(err);
  return new GraphQLError(hub.message, { extensions: { code: hub.code, ...(hub.details ? { details: hub.details } : {}) } });
}

/** An error for the socket: the hub's code and details, without the HTTP-only extensions (status, headers). */
function socketError(err: unknown): GraphQLError {
  const e = toGraphQLError(err);
  const { http: _http, ...extensions } = e.extensions as Record<string, unknown>;
  void _http;
  return new GraphQLError(e.message, { extensions });
}

function parseAfter(after: unknown): number | null {
  if (after === null || after === undefined || after === '') return null;
  if (typeof after !== 'string' || !/^\d{1,15}$/.test(after)) {
    throw new GraphQLError('after: a ChangeEvent.id (a non-negative integer, as a string)', { extensions: { code: 'TL_ERR_BAD_USER_INPUT' } });
  }
  return Number(after);
}

/**
 * Serve `Subscription.changes` over graphql-ws on `server` at `/graphql` (WebSocket upgrades of that path;
 * every other request and upgrade is left to the server's own handlers). Queries and mutations sent over
 * the socket are forwarded to the gateway (`deps.execute`) as the connection's identity.
 *
 * The gateway wires it with:
 *   const subs = attachSubscriptions(httpServer, { pool, redisUrl, prefix: config.REDIS_PREFIX,
 *     schema: () => apiSchema, execute: executeAs, authenticate: (a) => authenticator(a) });
 *   await subs.feed.start();   // before listen(); and `await subs.close()` on stop.
 */
export function attachSubscriptions(server: http.Server, deps: SubscriptionDeps): AttachedSubscriptions {
  const log = deps.log ?? partLogger('subscriptions');
  const path = deps.path ?? '/graphql';
  const subscriber = createRedis(deps.redisUrl);
  subscriber.on('error', (err) => log.warn({ err: err.message }, 'Redis subscriber connection error'));
  const feed = new ChangeFeed({ pool: deps.pool, subscriber, prefix: deps.prefix, log, pollIntervalMs: deps.pollIntervalMs });
  const enricher = new EntityEnricher(deps.execute, log, deps.maxBatchSize);

  // One subscription schema per API schema object (the gateway may swap its schema).
  const built = new WeakMap<GraphQLSchema, GraphQLSchema>();
  const schemaOf = (): GraphQLSchema => {
    const api = typeof deps.schema === 'function' ? deps.schema() : deps.schema;
    let schema = built.get(api);
    if (!schema) {
      schema = buildSubscriptionSchema(api);
      const changes = schema.getSubscriptionType()!.getFields().changes!;
      changes.subscribe = (_root, args: { filter?: ChangeFilterInput; after?: string }, context: { identity: Identity }, info) => {
        try {
          assertCan(context.identity, 'changes:subscribe');
          const filter = compileFilter(args.filter, context.identity);
          const after = parseAfter(args.after);
          const selection = entitySelection(info);
          const loader = selection ? enricher.acquire(context.identity, selection) : null;
          return new ChangeStream({ feed, filter, after, loader, log });
        } catch (err) {
          throw toGraphQLError(err);
        }
      };
      changes.resolve = (payload: unknown) => payload;
      built.set(api, schema);
    }
    return schema;
  };

  // Below ChangeEvent everything comes from the federated response, keyed by response name (alias).
  const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
    if (info.parentType.name === 'ChangeEvent' || info.parentType.name === 'Subscription') {
      return defaultFieldResolver(source, args, context, info);
    }
    return source && typeof source === 'object' ? (source as Record<string, unknown>)[info.path.key as string] : null;
  };

  const shared = new SharedResults(fieldResolver);

  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== path) return; // another handler's upgrade
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  // Open subscriptions per identity: counted when one starts, released when it completes or its socket closes.
  const limits = deps.limits ?? DEFAULT_QUERY_LIMITS;
  const maxPerIdentity = deps.maxSubscriptionsPerIdentity ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_IDENTITY;
  const openBy = new Map<string, number>();
  const held = new WeakMap<object, Map<string, string>>();
  // Across processes: a lease per open subscription in Redis (its own command connection: `subscriber` only listens).
  const commands = createRedis(deps.redisUrl);
  commands.on('error', (err) => log.warn({ err: err.message }, 'Redis command connection error'));
  const cap = createRedisSubscriptionCap({ redis: commands, prefix: deps.prefix, max: maxPerIdentity, log, ...(deps.subscriptionLeaseMs ? { leaseMs: deps.subscriptionLeaseMs } : {}) });
  const socketIds = new WeakMap<object, string>();
  const holderOf = (ctx: object, id: string) => {
    let socket = socketIds.get(ctx);
    if (!socket) socketIds.set(ctx, (socket = randomUUID()));
    return `${socket}:${id}`;
  };
  const release = (ctx: object, id: string) => {
    const mine = held.get(ctx);
    const who = mine?.get(id);
    if (who === undefined) return;
    mine!.delete(id);
    const n = (openBy.get(who) ?? 1) - 1;
    if (n > 0) openBy.set(who, n);
    else openBy.delete(who);
    void cap.release(who, holderOf(ctx, id));
  };
  const tooMany = (who: string, open: number) => new GraphQLError(`Too many subscriptions: ${who} has ${open} open, at most ${maxPerIdentity} per identity; close one first`, {
    extensions: { code: 'TL_ERR_RATE_LIMITED', limit: 'subscriptions', value: open, max: maxPerIdentity },
  });

  const disposable = useServer<Record<string, unknown>, Extra>({
    schema: () => schemaOf(),
    // Every operation on the socket passes the gateway's checks before it runs: parse, validate, the query
    // limits (depth, aliases, cost …: TL_ERR_QUERY_TOO_COMPLEX), the rate guard (TL_ERR_RATE_LIMITED), and for
    // subscriptions the cap on open subscriptions per identity (TL_ERR_RATE_LIMITED, limit "subscriptions").
    onSubscribe: async (ctx, id, payload) => {
      const identity = ctx.extra.identity;
      const schema = schemaOf();
      let query = payload.query;
      if (deps.safelist) {
        // The same rule as the HTTP path (gateway/plugins/persisted-operations.ts): a text is hashed here, never
        // taken on the client's word; a hash alone names an operation of the list.
        const persisted = (payload.extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)?.persistedQuery;
        const claimed = typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash.toLowerCase() : undefined;
        const hash = query ? sha256Hex(query) : claimed;
        if (!hash || !deps.safelist.has(hash)) {
          log.info({ sub: identity?.sub, hash }, 'socket operation refused: not in the safelist');
          return [socketError(notSafelistedError(hash))];
        }
        if (!query) query = deps.safelist.get(hash)!;
      }
      let document: DocumentNode;
      try {
        document = parse(query);
      } catch (err) {
        return [err instanceof GraphQLError ? err : new GraphQLError(String(err))];
      }
      const invalid = validate(schema, document);
      if (invalid.length) return invalid;
      const variables = (payload.variables ?? undefined) as Record<string, unknown> | undefined;
      const tooComplex = checkQueryLimits(schema, document, payload.operationName, variables, limits);
      if (tooComplex) {
        log.info({ sub: identity?.sub, limit: tooComplex.extensions.limit }, 'subscription refused: query too complex');
        return [socketError(tooComplex)];
      }
      if (deps.rateGuard) {
        try {
          await deps.rateGuard(identity);
        } catch (err) {
          return [socketError(err)];
        }
      }
      if (getOperationAST(document, payload.operationName)?.operation === 'subscription') {
        const who = identity?.sub ?? 'anonymous';
        const open = openBy.get(who) ?? 0;
        if (open >= maxPerIdentity) {
          log.info({ sub: who, open }, 'subscription refused: too many open subscriptions in this process');
          return [tooMany(who, open)];
        }
        // Counted here before the Redis round trip, so two subscribes of one socket cannot both pass the local check.
        openBy.set(who, open + 1);
        let mine = held.get(ctx);
        if (!mine) held.set(ctx, (mine = new Map()));
        mine.set(id, who);
        const lease = await cap.acquire(who, holderOf(ctx, id));
        if (!lease.ok) {
          mine.delete(id);
          const n = (openBy.get(who) ?? 1) - 1;
          if (n > 0) openBy.set(who, n);
          else openBy.delete(who);
          log.info({ sub: who, open: lease.open }, 'subscription refused: too many open subscriptions across the gateways');
          return [tooMany(who, lease.open)];
        }
      }
      return { schema, document, operationName: payload.operationName, variableValues: variables, contextValue: { identity } };
    },
    onComplete: (ctx, id) => {
      release(ctx, id);
    },
    onClose: (ctx) => {
      for (const id of [...(held.get(ctx)?.keys() ?? [])]) release(ctx, id);
    },
    onConnect: async (ctx) => {
      const params = ctx.connectionParams ?? {};
      const authorization = (params.authorization ?? params.Authorization ?? ctx.extra.request.headers.authorization) as string | undefined;
      try {
        ctx.extra.identity = await deps.authenticate(authorization);
        return true;
      } catch (err) {
        log.info({ reason: isHubError(err) ? err.code : (err as Error).message }, 'subscription connection refused');
        return false; // closes with 4403 Forbidden
      }
    },
    context: (ctx) => ({ identity: ctx.extra.identity }),
    subscribe: (args: ExecutionArgs) => shared.subscribe(args),
    execute: (args: ExecutionArgs) => {
      const identity = (args.contextValue as { identity: Identity }).identity;
      return deps.execute({ document: args.document, variables: (args.variableValues ?? {}) as Record<string, unknown>, identity });
    },
  }, wss, deps.keepAliveMs);

  return {
    feed,
    enricher,
    connections: () => wss.clients.size,
    openSubscriptions: (sub) => openBy.get(sub) ?? 0,
    openSubscriptionsEverywhere: (sub) => cap.count(sub),
    async close() {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.close(1001, 'Going away');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await feed.stop();
      await cap.close();
      subscriber.disconnect();
      await commands.quit().catch(() => commands.disconnect()); // after the releases in flight are answered
    },
  };
}
