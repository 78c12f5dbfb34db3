import type { Redis } from 'ioredis';
import type { Pool } from '../platform/db';

/**
 * Liveness and readiness. `/healthz`: the process answers. `/readyz`: the database, Redis and every subgraph
 * of the supergraph answer, and the schema is loaded — 200 `{status:"ready"}` or 503 naming what is down.
 */
export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: Record<string, { ok: boolean; error?: string; url?: string }>;
  down: string[];
}

export interface ReadinessDeps {
  pool: Pool;
  redis: Redis | null;
  subgraphUrls: Record<string, string>;
  schemaLoaded: () => boolean;
  timeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** `http://host:port/graphql` → `http://host:port/healthz` */
export function healthUrlOf(graphqlUrl: string): string {
  const u = new URL(graphqlUrl);
  u.pathname = u.pathname.replace(/\/graphql\/?$/, '') + '/healthz';
  u.search = '';
  return u.toString();
}

export async function checkReadiness(deps: ReadinessDeps): Promise<ReadinessReport> {
  const ms = deps.timeoutMs ?? 1500;
  const checks: ReadinessReport['checks'] = {};
  const run = async (name: string, fn: () => Promise<unknown>, url?: string) => {
    try {
      await withTimeout(fn(), ms, name);
      checks[name] = { ok: true, ...(url ? { url } : {}) };
    } catch (err) {
      checks[name] = { ok: false, error: (err as Error).message, ...(url ? { url } : {}) };
    }
  };
  await Promise.all([
    run('database', () => deps.pool.query('SELECT 1')),
    run('redis', async () => {
      if (!deps.redis) throw new Error('no Redis connection configured');
      if ((await deps.redis.ping()) !== 'PONG') throw new Error('unexpected PING answer');
    }),
    run('schema', async () => { if (!deps.schemaLoaded()) throw new Error('supergraph not loaded yet'); }),
    ...Object.entries(deps.subgraphUrls).map(([name, url]) => run(`subgraph:${name}`, async () => {
      const res = await fetch(healthUrlOf(url), { signal: AbortSignal.timeout(ms) });
      if (!res.ok) throw new Error(`healthz answered ${res.status}`);
    }, url)),
  ]);
  const down = Object.entries(checks).filter(([, c]) => !c.ok).map(([n]) => n).sort();
  return { status: down.length ? 'not_ready' : 'ready', checks, down };
}
