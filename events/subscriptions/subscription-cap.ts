import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger';

/**
 * The cap on open subscriptions per identity, across every gateway process that shares a Redis.
 *
 * Each open subscription is a lease in a sorted set per identity (`<prefix>:subs:<sub>`, member
 * `<process>:<socket>:<operation id>`, score = when the lease ends, on Redis's own clock so gateways with skewed
 * clocks agree). Taking one is one Lua script: drop the expired leases, count, add if under the cap. A process
 * renews its leases every `leaseMs / 3` and removes them when the subscription completes or its socket closes;
 * the leases of a process that died without doing so lapse after `leaseMs`, so a crashed gateway does not keep
 * its callers locked out.
 *
 * Redis trouble never takes subscriptions down: when Redis does not answer within `timeoutMs` the lease is
 * granted (fail open, as the rate limit does) and a warning logged (at most once a minute); the per-process
 * count still applies (attach-subscriptions.ts).
 */
export interface SubscriptionCap {
  /** Take a place for `holder` (unique per subscription); `ok: false` with the number already open when full. */
  acquire(who: string, holder: string): Promise<{ ok: true } | { ok: false; open: number }>;
  release(who: string, holder: string): Promise<void>;
  /** Open leases of an identity across all processes (expired ones not counted). */
  count(who: string): Promise<number>;
  close(): Promise<void>;
}

export interface RedisSubscriptionCapOptions {
  redis: Redis;
  /** Key prefix (REDIS_PREFIX). */
  prefix: string;
  max: number;
  /** How long a lease lives without renewal (default 60 s). */
  leaseMs?: number;
  /** Give up on Redis after this long and let the subscription start (default 250 ms). */
  timeoutMs?: number;
  log: Logger;
}

const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local open = redis.call('ZCARD', KEYS[1])
if open >= tonumber(ARGV[1]) then return -open - 1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return open + 1
`;

/** Renew this process's leases: ARGV[1] lease ms, then key/member pairs (KEYS unused: keys differ per identity). */
const RENEW = `
local t = redis.call('TIME')
local until_ = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('ZADD', ARGV[i], 'XX', until_, ARGV[i + 1])
  redis.call('PEXPIRE', ARGV[i], tonumber(ARGV[1]) * 2)
end
return 1
`;

const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;

export function createRedisSubscriptionCap(options: RedisSubscriptionCapOptions): SubscriptionCap {
  const { redis, prefix, max, log } = options;
  const leaseMs = options.leaseMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 250;
  const processId = randomUUID();
  const keyOf = (who: string) => `${prefix}:subs:${who}`;
  const memberOf = (holder: string) => `${processId}:${holder}`;
  /** This process's leases, by key and member (one holder name may hold leases of several identities). */
  const held = new Map<string, [key: string, member: string]>();
  const leaseId = (key: string, member: string) => `${key}\n${member}`;
  let lastWarn = 0;
  const warn = (err: unknown, what: string) => {
    if (Date.now() - lastWarn < 60_000) return;
    lastWarn = Date.now();
    log.warn({ err: (err as Error).message }, `subscription cap: Redis did not answer (${what}); failing open`);
  };
  const withTimeout = <T>(p: Promise<T>): Promise<T> => new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });

  const renew = async () => {
    if (!held.size) return;
    const args: string[] = [String(leaseMs)];
    for (const [key, member] of held.values()) args.push(key, member);
    try {
      await withTimeout(redis.eval(RENEW, 0, ...args));
    } catch (err) {
      warn(err, 'renewal');
    }
  };
  const timer = setInterval(() => void renew(), Math.max(50, Math.floor(leaseMs / 3)));
  timer.unref();

  return {
    async acquire(who, holder) {
      const key = keyOf(who);
      const member = memberOf(holder);
      try {
        const n = Number(await withTimeout(redis.eval(ACQUIRE, 1, key, String(max), String(leaseMs), member)));
        if (n < 0) return { ok: false, open: -n - 1 };
      } catch (err) {
        warn(err, 'acquire');
      }
      held.set(leaseId(key, member), [key, member]);
      return { ok: true };
    },
    async release(who, holder) {
      const key = keyOf(who);
      const member = memberOf(holder);
      held.delete(leaseId(key, member));
      try {
        await withTimeout(redis.zrem(key, member));
      } catch (err) {
        warn(err, 'release'); // the lease lapses by itself after leaseMs
      }
    },
    async count(who) {
      return Number(await redis.eval(COUNT, 1, keyOf(who)));
    },
    async close() {
      clearInterval(timer);
      const leases = [...held.values()];
      held.clear();
      if (!leases.length) return;
      try {
        const pipeline = redis.pipeline();
        for (const [key, member] of leases) pipeline.zrem(key, member);
        await withTimeout(pipeline.exec());
      } catch (err) {
        warn(err, 'close');
      }
    },
  };
}
