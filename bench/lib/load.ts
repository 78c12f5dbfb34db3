// autocannon ships no type declarations; the little used here is typed below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>, done: (err: Error | null, result: AutocannonResult) => void) => { stop(): void };

interface AutocannonResult {
  latency: { p50: number; p99: number; average: number; max: number };
  requests: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}

/**
 * One HTTP load run: `connections` clients sending `body` back to back, for `seconds` — or, with `requests`,
 * until that many answers came back (a run on a fast target ends early, a slow one still completes enough
 * requests to measure), stopped after `seconds` at the latest.
 */
export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  requests?: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Transport errors, timeouts and non-2xx answers. */
  failures: number;
  requests: number;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const started = process.hrtime.bigint();
  const r = await new Promise<AutocannonResult>((resolve, reject) => {
    const opts: Record<string, unknown> = {
      url: spec.url, method: spec.method ?? 'POST', headers: spec.headers ?? {}, body: spec.body,
      connections: spec.connections, pipelining: 1, timeout: 10,
    };
    if (spec.requests) opts.amount = Math.max(spec.requests, spec.connections);
    else opts.duration = spec.seconds;
    let timer: NodeJS.Timeout | undefined;
    const tracker = autocannon(opts, (err, result) => {
      if (timer) clearTimeout(timer);
      if (err) reject(err);
      else resolve(result);
    });
    if (spec.requests) timer = setTimeout(() => tracker.stop(), spec.seconds * 1000);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    requestsPerSecond: r.requests.total / seconds,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    failures: r.errors + r.timeouts + r.non2xx,
    requests: r.requests.total,
  };
}

/** POST a GraphQL operation once and return the parsed body (checks a target answers correctly before loading it). */
export async function postJson(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = { unparsable: text.slice(0, 200) }; }
  return { status: res.status, json };
}
