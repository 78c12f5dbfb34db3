import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChangeEvent } from '../../events/change-event';
import { liveChannel } from '../../events/channels';
import type { Logger } from '../../platform/logger';
import { PII_READ, type Identity } from '../../security/identity';
import { scopeCodes } from '../../security/scope';
import type { GatewayContext } from '../context';

/**
 * A response cache for the gateway whose entries are invalidated by the hub's own change events (the relay's
 * Redis channel `<prefix>:events:live`, events/channels.ts), so a cached answer is never staler than the
 * event stream.
 *
 * Key: the operation text, operation name and variables, plus the caller's *scope signature* (role,
 * department, grids, districts, scopes — everything that decides what a caller may see and how it is
 * masked). Two callers share an entry only when the subgraphs would answer them identically.
 *
 * Never cached: mutations; responses with errors; callers holding `pii:read` (every unmasked read must reach
 * the subgraphs, which write it to the audit log); the gateway's own internal requests (change-event
 * enrichment must read the state the event announces, whatever order Redis delivers the two messages in).
 *
 * Invalidation, for each change event (entity id, grid code, changed fields):
 *  - every entry whose response contains the entity's id;
 *  - every entry of every scope that can see the event's grid (a new or changed row may enter any list,
 *    count or statistic of that scope): a city-wide scope sees every grid; a district or grid scope the
 *    codes under it;
 *  - everything, when the event has no grid code or moved an entity between grids (`grid_code` changed),
 *    when a position is missing from the stream (a lost message), and while the subscription is down
 *    (then nothing is served from the cache either).
 * A response computed while an invalidation arrived is not stored (it may predate the change). Entries also
 * expire after `ttlMs` (default 60 s) as a bound for changes that emit no event (grid reference data).
 */
export interface ResponseCacheOptions {
  /** A Redis connection of its own (it is put in subscriber mode). */
  subscriber: Redis;
  prefix: string;
  log: Logger;
  /** Where the hit/miss/invalidation metrics go. */
  registry?: Registry;
  maxEntries?: number;
  ttlMs?: number;
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  bypassed: number;
  entries: number;
  invalidations: number;
  hitRate: number;
}

export interface ResponseCache {
  plugin: ApolloServerPlugin<GatewayContext>;
  /** Subscribe to the change-event channel; entries are served only once this resolved. */
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): ResponseCacheStats;
  /** Apply change events (what a Redis message does); exported for the gateway's own use. */
  invalidate(events: ChangeEvent[]): void;
  clear(): void;
}

interface Entry {
  result: Record<string, unknown>;
  scope: string;
  ids: string[];
  expires: number;
}

interface ScopeGroup {
  /** null: city-wide. */
  codes: string[] | null;
  keys: Set<string>;
}

/** What decides what a caller sees: everything of the identity except who they are. */
export function scopeSignature(identity: Identity): string {
  return JSON.stringify([
    identity.role, identity.department ?? null,
    [...identity.grids].sort(), [...identity.districts].sort(), [...identity.scopes].sort(),
  ]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every entity id (a uuid under an `id` key) in a response. */
export function idsIn(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) idsIn(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'id' && typeof v === 'string' && UUID.test(v)) out.add(v.toLowerCase());
      else if (v && typeof v === 'object') idsIn(v, out);
    }
  }
  return out;
}

function sees(codes: string[] | null, gridCode: string): boolean {
  if (codes === null) return true;
  return codes.some((c) => gridCode.startsWith(c) || c.startsWith(gridCode));
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const ttlMs = options.ttlMs ?? 60_000;
  const channel = liveChannel(options.prefix);
  const entries = new Map<string, Entry>();
  const byId = new Map<string, Set<string>>();
  const byScope = new Map<string, ScopeGroup>();
  let generation = 0;
  let lastPosition: number | null = null;
  let live = false;
  let hits = 0, misses = 0, bypassed = 0, invalidations = 0;

  const registers = options.registry ? [options.registry] : [];
  const lookups = new Counter({ name: 'tonglan_gateway_response_cache_lookups_total', help: 'Response cache lookups by result (hit, miss, bypass)', labelNames: ['result'], registers });
  const dropped = new Counter({ name: 'tonglan_gateway_response_cache_invalidations_total', help: 'Response cache entries dropped, by reason (entity, scope, flush, expired, evicted)', labelNames: ['reason'], registers });
  new Gauge({ name: 'tonglan_gateway_response_cache_entries', help: 'Entries in the response cache', registers, collect() { this.set(entries.size); } });
  new Gauge({
    name: 'tonglan_gateway_response_cache_hit_ratio', help: 'Hits / (hits + misses) since start', registers,
    collect() { this.set(hits + misses ? hits / (hits + misses) : 0); },
  });

  function remove(key: string, reason: string): void {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    for (const id of entry.ids) {
      const set = byId.get(id);
      set?.delete(key);
      if (set && !set.size) byId.delete(id);
    }
    byScope.get(entry.scope)?.keys.delete(key);
    dropped.inc({ reason });
    invalidations++;
  }

  function clear(reason = 'flush'): void {
    generation++;
    const n = entries.size;
    entries.clear();
    byId.clear();
    byScope.clear();
    if (n) {
      dropped.inc({ reason }, n);
      invalidations += n;
    }
  }

  function invalidate(events: ChangeEvent[]): void {
    if (!events.length) return;
    generation++;
    for (const e of events) {
      if (lastPosition !== null && e.position > lastPosition + 1) {
        options.log.warn({ expected: lastPosition + 1, got: e.position }, 'response cache: change-event positions missing, cache flushed');
        clear();
      }
      if (lastPosition === null || e.position > lastPosition) lastPosition = e.position;
      if (!e.gridCode || e.changedFields.includes('grid_code')) {
        clear();
        continue;
      }
      const keys = byId.get(String(e.entityId).toLowerCase());
      if (keys) for (const k of [...keys]) remove(k, 'entity');
      for (const group of byScope.values()) {
        if (group.keys.size && sees(group.codes, e.gridCode)) for (const k of [...group.keys]) remove(k, 'scope');
      }
    }
  }

  function store(key: string, entry: Entry, identity: Identity): void {
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next().value as string;
      remove(oldest, 'evicted');
    }
    entries.set(key, entry);
    for (const id of entry.ids) {
      let set = byId.get(id);
      if (!set) byId.set(id, (set = new Set()));
      set.add(key);
    }
    let group = byScope.get(entry.scope);
    if (!group) byScope.set(entry.scope, (group = { codes: scopeCodes(identity), keys: new Set() }));
    group.keys.add(key);
  }

  const onMessage = (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      invalidate(JSON.parse(message) as ChangeEvent[]);
    } catch (err) {
      // An event we cannot read may have changed anything.
      options.log.warn({ err: (err as Error).message }, 'response cache: unreadable change-event message, cache flushed');
      clear();
    }
  };
  // While the subscription is down events may be missed: serve nothing, and start from empty when back.
  const onDown = () => { if (live) { live = false; clear(); } };
  const onReady = () => { if (!live && subscribed) { clear(); live = true; } };
  let subscribed = false;

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ contextValue }) {
      const identity = contextValue.identity;
      const started = generation;
      let key: string | null = null;
      let scope = '';
      return {
        async responseForOperation(ctx): Promise<GraphQLResponse | null> {
          if (ctx.operation.operation !== 'query' || contextValue.internal || !identity || identity.scopes.includes(PII_READ) || !live) {
            bypassed++;
            lookups.inc({ result: 'bypass' });
            return null;
          }
          scope = scopeSignature(identity);
          key = createHash('sha256')
            .update(ctx.source).update('\0').update(ctx.operationName ?? '').update('\0')
            .update(JSON.stringify(ctx.request.variables ?? {})).update('\0').update(scope)
            .digest('base64url');
          const entry = entries.get(key);
          if (entry && entry.expires > Date.now()) {
            hits++;
            lookups.inc({ result: 'hit' });
            return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: entry.result } };
          }
          if (entry) remove(key, 'expired');
          misses++;
          lookups.inc({ result: 'miss' });
          return null;
        },
        async willSendResponse({ response }) {
          if (!key || !live || generation !== started || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (result.errors?.length || !result.data || entries.has(key)) return;
          store(key, { result: { data: result.data }, scope, ids: [...idsIn(result.data)], expires: Date.now() + ttlMs }, identity);
        },
      };
    },
  };

  return {
    plugin,
    async start() {
      options.subscriber.on('message', onMessage);
      options.subscriber.on('close', onDown);
      options.subscriber.on('end', onDown);
      options.subscriber.on('ready', onReady);
      await options.subscriber.subscribe(channel);
      subscribed = true;
      live = true;
    },
    async stop() {
      live = false;
      subscribed = false;
      options.subscriber.off('message', onMessage);
      options.subscriber.off('ready', onReady);
      await options.subscriber.unsubscribe(channel).catch(() => undefined);
      clear();
    },
    stats() {
      return { hits, misses, bypassed, entries: entries.size, invalidations, hitRate: hits + misses ? hits / (hits + misses) : 0 };
    },
    invalidate,
    clear: () => clear(),
  };
}
