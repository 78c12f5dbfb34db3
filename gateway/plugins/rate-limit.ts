import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import type { HubConfig } from '../../platform/config';
import { partLogger } from '../../platform/logger';
import type { Identity, Role } from '../../security/identity';

/**
 * Per-client rate limit in Redis, shared by every gateway process: GCRA (the generic cell rate algorithm, a
 * token bucket kept as one timestamp per client), evaluated atomically in one Lua script on Redis's own clock
 * so gateways with skewed clocks agree. A client may send `burst` requests at once and `perMinute` sustained;
 * beyond that it gets TL_ERR_RATE_LIMITED, HTTP 429 and `Retry-After` (seconds) before execution.
 *
 * The client is the verified identity's subject (a user, or `apikey:<id>`), else `anonymous`. Limits can
 * differ per role (`byRole`). If Redis does not answer within `timeoutMs` the request is let through
 * (`failOpen`, the default: Redis trouble must not take the city's command centre down) and a warning logged.
 *
 * Wiring (either, not both): in the gateway's context function, after authentication,
 * `await guard(identity)` with `guard = createRateLimitGuard({ redis, ...rateLimitFromConfig(config) })` —
 * refused before parsing; or `plugins: [rateLimitPlugin({ redis, ...rateLimitFromConfig(config) })]` with the
 * context carrying `identity` — refused after validation, before execution. The graphql-ws endpoint calls the
 * guard on subscribe.
 */
export interface RateLimit {
  /** Sustained requests per minute; 0 = unlimited. */
  perMinute: number;
  /** Requests allowed at once from a full bucket. */
  burst: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Milliseconds until the next request would be allowed (0 when allowed). */
  retryAfterMs: number;
  /** Requests still allowed at once after this one. */
  remaining: number;
}

const GCRA = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - burst * interval
if allow_at > now then
  return {0, math.ceil(allow_at - now), 0}
end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now) + 1000)
return {1, 0, math.floor((now - allow_at) / interval)}
`;

export class RateLimiter {
  private readonly log = partLogger('rate-limit');
  private lastWarn = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: { timeoutMs?: number; failOpen?: boolean } = {},
  ) {
    redis.defineCommand('tonglanGcra', { numberOfKeys: 1, lua: GCRA });
  }

  /** Take `cost` requests from `client`'s bucket. */
  async consume(client: string, limit: RateLimit, cost = 1): Promise<RateDecision> {
    if (limit.perMinute <= 0) return { allowed: true, retryAfterMs: 0, remaining: Number.POSITIVE_INFINITY };
    const interval = 60_000 / limit.perMinute;
    const call = (this.redis as unknown as { tonglanGcra(key: string, ...args: (string | number)[]): Promise<[number, number, number]> })
      .tonglanGcra(`${this.prefix}:${client}`, interval, limit.burst, cost);
    let timer: NodeJS.Timeout | undefined;
    try {
      const [allowed, retryAfterMs, remaining] = await Promise.race([
        call,
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('Redis did not answer in time')), this.options.timeoutMs ?? 250); }),
      ]);
      return { allowed: allowed === 1, retryAfterMs: Number(retryAfterMs), remaining: Number(remaining) };
    } catch (err) {
      call.catch(() => undefined);
      if (this.options.failOpen === false) throw err;
      if (Date.now() - this.lastWarn > 10_000) {
        this.lastWarn = Date.now();
        this.log.warn({ err: (err as Error).message }, 'rate limit unavailable (Redis); letting requests through');
      }
      return { allowed: true, retryAfterMs: 0, remaining: 0 };
    } finally {
      clearTimeout(timer);
    }
  }
}

export function rateLimitedError(decision: RateDecision, client: string): GraphQLError {
  const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  // @apollo/server takes the response status and headers from `extensions.http`, headers as a HeaderMap (a Map).
  // graphql-yoga (a benchmark peer) augments graphql's types to say Record<string, string>: hence the cast.
  const http = { status: 429, headers: new HeaderMap([['retry-after', String(seconds)]]) } as unknown as { status: number; headers: Record<string, string> };
  return new GraphQLError(`Too many requests: rate limit reached for ${client}; retry after ${seconds} s`, {
    extensions: { code: 'TL_ERR_RATE_LIMITED', retryAfter: seconds, http },
  });
}

export interface RateLimitOptions extends RateLimit {
  redis: Redis;
  /** Redis key prefix, e.g. `${REDIS_PREFIX}:ratelimit`. */
  prefix: string;
  byRole?: Partial<Record<Role, RateLimit>>;
  timeoutMs?: number;
  failOpen?: boolean;
}

export type RateLimitGuard = (identity: Identity | null | undefined, client?: string) => Promise<RateDecision & { limit: RateLimit }>;

/**
 * The check itself, for the gateway's context function (after authentication, before the query is parsed):
 * resolves with the decision, or throws the TL_ERR_RATE_LIMITED GraphQLError (HTTP 429, Retry-After), which
 * @apollo/server returns as is when thrown from the context function.
 */
export function createRateLimitGuard(options: RateLimitOptions): RateLimitGuard {
  const limiter = new RateLimiter(options.redis, options.prefix, { timeoutMs: options.timeoutMs, failOpen: options.failOpen });
  return async (identity, client) => {
    const key = client ?? identity?.sub ?? 'anonymous';
    const limit = (identity && options.byRole?.[identity.role]) ?? { perMinute: options.perMinute, burst: options.burst };
    const decision = await limiter.consume(key, limit);
    if (!decision.allowed) throw rateLimitedError(decision, key);
    return { ...decision, limit };
  };
}

export interface RateLimitPluginOptions<TContext> extends RateLimitOptions {
  /** The verified identity in the context; default `context.identity`. */
  identityOf?: (context: TContext) => Identity | null | undefined;
  /** The client key; default the identity's subject, else `anonymous`. */
  clientKey?: (context: TContext) => string | undefined;
}

/**
 * @apollo/server plugin: counts every operation (each one of a batch too) and refuses one over its client's
 * rate once the operation is resolved, before execution; adds `RateLimit-Limit`/`RateLimit-Remaining` headers.
 * @apollo/server turns errors thrown in earlier hooks into 500s, so to refuse before parsing, call
 * `createRateLimitGuard` in the context function instead of installing this plugin (not both: double count).
 */
export function rateLimitPlugin<TContext extends BaseContext>(options: RateLimitPluginOptions<TContext>): ApolloServerPlugin<TContext> {
  const guard = createRateLimitGuard(options);
  const identityOf = options.identityOf ?? ((ctx: TContext) => (ctx as { identity?: Identity }).identity);
  return {
    async requestDidStart() {
      let decision: Awaited<ReturnType<RateLimitGuard>> | undefined;
      return {
        async didResolveOperation({ contextValue }) {
          decision = await guard(identityOf(contextValue), options.clientKey?.(contextValue));
        },
        async willSendResponse({ response }) {
          if (decision && decision.limit.perMinute > 0 && Number.isFinite(decision.remaining)) {
            response.http.headers.set('ratelimit-limit', String(decision.limit.burst));
            response.http.headers.set('ratelimit-remaining', String(decision.remaining));
          }
        },
      };
    },
  };
}

export function rateLimitFromConfig(config: Pick<HubConfig, 'RATE_LIMIT_PER_MINUTE' | 'RATE_LIMIT_BURST' | 'REDIS_PREFIX'>): RateLimit & { prefix: string } {
  return { perMinute: config.RATE_LIMIT_PER_MINUTE, burst: config.RATE_LIMIT_BURST, prefix: `${config.REDIS_PREFIX}:ratelimit` };
}
