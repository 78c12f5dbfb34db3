// autocannon ships no type declarations; the little used here is typed below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>, done: (err: Error | null, result: AutocannonResult) => void) => Tracker;

interface AutocannonResult {
  errors: number;
  timeouts: number;
}

interface Tracker {
  stop(): void;
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
}

/**
 * One HTTP load run: `connections` clients sending `body` back to back (keep-alive, no pipelining) for
 * `seconds` — or, with `requests`, until that many answers came back, stopped after `seconds` at the latest.
 *
 * The figures are taken from every answer as it arrives, not from autocannon's summary: autocannon checks
 * its stop condition only on its 1-second sampling tick, so "N answers / time until the callback" is
 * quantised to whole seconds (400 answers read as 398, 199, 133, 100 req/s whatever the real rate). Here
 * req/s = answers / (time of the last answer − start), and p50/p99 are exact percentiles of every answer's
 * latency.
 */
export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Bodies sent in turn (one per request, round robin over all connections) instead of `body`. */
  bodies?: string[];
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
  /** Answers received (any status). */
  requests: number;
  /** Seconds from the start to the last answer. */
  seconds: number;
}

function exactPercentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank), hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  let lastAt = 0n;
  const started = process.hrtime.bigint();
  const r = await new Promise<AutocannonResult>((resolve, reject) => {
    const opts: Record<string, unknown> = {
      url: spec.url, method: spec.method ?? 'POST', headers: spec.headers ?? {}, body: spec.body,
      connections: spec.connections, pipelining: 1, timeout: 10, duration: spec.seconds,
    };
    if (spec.bodies?.length) {
      const bodies = spec.bodies;
      let next = 0;
      opts.requests = [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[next++ % bodies.length] }) }];
    }
    let timer: NodeJS.Timeout | undefined;
    const tracker = autocannon(opts, (err, result) => {
      if (timer) clearTimeout(timer);
      if (err) reject(err);
      else resolve(result);
    });
    tracker.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastAt = process.hrtime.bigint();
      latencies.push(responseTime);
      if (statusCode < 200 || statusCode >= 300) non2xx += 1;
      if (spec.requests && latencies.length === spec.requests) tracker.stop();
    });
  });
  const seconds = lastAt > started ? Number(lastAt - started) / 1e9 : Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requestsPerSecond: latencies.length / seconds,
    p50Ms: Math.round(exactPercentile(sorted, 50) * 10) / 10,
    p99Ms: Math.round(exactPercentile(sorted, 99) * 10) / 10,
    failures: r.errors + r.timeouts + non2xx,
    requests: latencies.length,
    seconds,
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
