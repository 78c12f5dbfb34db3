import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { HubConfig } from '../../platform/config';
import { HubError } from '../../platform/errors';

/**
 * A safelist of persisted operations (production): only operations whose SHA-256 is in the list run. Clients
 * send the operation or just its hash, as in Apollo's persisted-query protocol
 * (`extensions: {persistedQuery: {version: 1, sha256Hash}}`). Unlike automatic persisted queries nothing is
 * ever registered at run time: the list comes from a file built with the front-end release.
 *
 * The file (PERSISTED_OPERATIONS_FILE) is one of:
 *  - an Apollo persisted-query manifest `{"format": "apollo-persisted-query-manifest", "version": 1,
 *    "operations": [{"id", "name", "type", "body"}]}`;
 *  - a JSON object `{"<sha256 hex>": "<operation text>"}` (each hash checked against its text);
 *  - a JSON array of operation texts.
 *
 * Wiring in @apollo/server:
 *   const safelist = loadSafelist(config.PERSISTED_OPERATIONS_FILE);
 *   new ApolloServer({ ..., persistedQueries: { cache: safelist.cache, ttl: null },
 *     plugins: [persistedOperationsPlugin({ safelist, enforce: config.PERSISTED_OPERATIONS === 'safelist' })] })
 * A refused operation gets TL_ERR_FORBIDDEN with `reason: 'operation_not_safelisted'` (HTTP 403), after
 * parsing but before execution (@apollo/server reports errors of earlier hooks as 500s).
 */
export interface Safelist {
  readonly size: number;
  has(hash: string): boolean;
  get(hash: string): string | undefined;
  /** For `persistedQueries.cache`: answers hash-only requests from the list; never stores anything. */
  readonly cache: {
    get(key: string): Promise<string | undefined>;
    set(key: string, value: string): Promise<void>;
    delete(key: string): Promise<boolean | void>;
  };
}

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export function createSafelist(bodies: Iterable<string>): Safelist {
  const byHash = new Map<string, string>();
  for (const body of bodies) byHash.set(sha256Hex(body), body);
  return {
    size: byHash.size,
    has: (hash) => byHash.has(hash),
    get: (hash) => byHash.get(hash),
    cache: {
      // @apollo/server prefixes the keys of this cache (`apq:`); the hash is the key's last 64 characters.
      get: async (key) => byHash.get(key.slice(-64)),
      set: async () => undefined,
      delete: async () => false,
    },
  };
}

/** Parse a safelist file's JSON (see the formats above); a wrong entry stops start-up naming it. */
export function parseSafelist(json: string, source = 'safelist'): Safelist {
  const bad = (why: string) => new HubError('TL_ERR_CONFIG_INVALID', `${source}: ${why}`, { variable: 'PERSISTED_OPERATIONS_FILE' });
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw bad(`not valid JSON (${(err as Error).message})`);
  }
  const bodies: string[] = [];
  if (Array.isArray(data)) {
    data.forEach((b, i) => {
      if (typeof b !== 'string' || !b.trim()) throw bad(`entry ${i} is not an operation text`);
      bodies.push(b);
    });
  } else if (data && typeof data === 'object' && (data as { format?: unknown }).format === 'apollo-persisted-query-manifest') {
    const ops = (data as { operations?: unknown }).operations;
    if (!Array.isArray(ops)) throw bad('manifest has no operations array');
    ops.forEach((op: { body?: unknown; name?: unknown }, i) => {
      if (typeof op?.body !== 'string' || !op.body.trim()) throw bad(`operation ${i}${typeof op?.name === 'string' ? ` (${op.name})` : ''} has no body`);
      bodies.push(op.body);
    });
  } else if (data && typeof data === 'object') {
    for (const [hash, body] of Object.entries(data as Record<string, unknown>)) {
      if (typeof body !== 'string') throw bad(`entry ${hash} is not an operation text`);
      if (sha256Hex(body) !== hash.toLowerCase()) throw bad(`entry ${hash} does not match the SHA-256 of its operation (${sha256Hex(body)})`);
      bodies.push(body);
    }
  } else {
    throw bad('expected a persisted-query manifest, an object of hash → operation, or an array of operations');
  }
  return createSafelist(bodies);
}

export function loadSafelist(path: string): Safelist {
  if (!path) throw new HubError('TL_ERR_CONFIG_INVALID', 'PERSISTED_OPERATIONS=safelist needs PERSISTED_OPERATIONS_FILE', { variable: 'PERSISTED_OPERATIONS_FILE' });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HubError('TL_ERR_CONFIG_INVALID', `PERSISTED_OPERATIONS_FILE ${path} cannot be read: ${(err as Error).message}`, { variable: 'PERSISTED_OPERATIONS_FILE' });
  }
  return parseSafelist(text, path);
}

export interface PersistedOperationsOptions<TContext> {
  safelist: Safelist;
  /** true: refuse everything not in the safelist (production). false: the plugin does nothing. */
  enforce: boolean;
  /** Callers allowed ad-hoc operations even when enforcing (e.g. none; or an operator console). */
  bypass?: (context: TContext) => boolean;
}

export function notSafelistedError(hash: string | undefined): GraphQLError {
  return new GraphQLError('This server runs only persisted operations: the operation is not in the safelist', {
    extensions: { code: 'TL_ERR_FORBIDDEN', reason: 'operation_not_safelisted', ...(hash ? { sha256Hash: hash } : {}), http: { status: 403 } },
  });
}

export function persistedOperationsPlugin<TContext extends BaseContext>(options: PersistedOperationsOptions<TContext>): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      if (!options.enforce) return;
      return {
        async didResolveOperation({ queryHash, source, contextValue }) {
          if (options.bypass?.(contextValue)) return;
          // queryHash is Apollo's SHA-256 of the operation text; recompute when absent (never trust the client's).
          const hash = source !== undefined ? sha256Hex(source) : queryHash;
          if (!hash || !options.safelist.has(hash)) throw notSafelistedError(hash);
        },
      };
    },
  };
}

/** Introspection is off in production (schema details are not for anonymous discovery). */
export function introspectionEnabled(config: Pick<HubConfig, 'NODE_ENV'>): boolean {
  return config.NODE_ENV !== 'production';
}
