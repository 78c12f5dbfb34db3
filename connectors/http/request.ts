import type { Logger } from '../../platform/logger';
import { authError, configError, systemError, transientError } from '../errors';
import type { HttpConfig } from './spec';

/**
 * One JSON GET with the connector's policy: a rate limit shared by every read of the same API in this
 * process, retries on 429 / 5xx / network errors with exponential backoff and jitter (a Retry-After header
 * wins), and typed errors: 401/403 auth, other 4xx configuration, exhausted retries transient.
 * Error messages name the path, never the query string (an API key may travel there).
 */
const limiters = new Map<string, { nextAt: number }>();

async function rateLimit(origin: string, requestsPerSecond: number, signal?: AbortSignal): Promise<void> {
  const limiter = limiters.get(origin) ?? { nextAt: 0 };
  limiters.set(origin, limiter);
  const now = Date.now();
  const at = Math.max(now, limiter.nextAt);
  limiter.nextAt = at + 1000 / requestsPerSecond;
  if (at > now) await sleep(at - now, signal);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(signal!.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

export function authHeaders(config: HttpConfig): Record<string, string> {
  const a = config.auth;
  switch (a.type) {
    case 'bearer': return { authorization: `Bearer ${a.token}` };
    case 'header': return { [a.headerName]: a.token ?? '' };
    case 'basic': return { authorization: `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}` };
    default: return {};
  }
}

export interface RequestStats {
  requests: number;
  retries: number;
}

export async function getJson(config: HttpConfig, url: URL, options: { signal?: AbortSignal; log?: Logger; stats?: RequestStats } = {}): Promise<unknown> {
  if (config.auth.type === 'query') url.searchParams.set(config.auth.queryParam, config.auth.token ?? '');
  const where = `GET ${url.origin}${url.pathname}`;
  const headers: Record<string, string> = { accept: 'application/json', ...config.headers, ...authHeaders(config) };
  for (const [name, value] of Object.entries(headers)) {
    // HTTP header values are bytes: a Chinese character in a token or header is a settings mistake, not a network error.
    if (/[^\x00-\xff]/.test(value)) throw configError(`header "${name}" contains characters that cannot be sent in an HTTP header`, { field: name === 'authorization' ? 'auth.token' : `headers.${name}` });
  }
  for (let attempt = 0; ; attempt++) {
    await rateLimit(url.origin, config.requestsPerSecond, options.signal);
    if (options.stats) options.stats.requests++;
    let retryReason: string;
    let retryAfter: number | undefined;
    try {
      const signals = [AbortSignal.timeout(config.timeoutSeconds * 1000), ...(options.signal ? [options.signal] : [])];
      const res = await fetch(url, { headers, signal: AbortSignal.any(signals) });
      if (res.ok) {
        const text = await res.text();
        try {
          return text.length ? JSON.parse(text) : null;
        } catch {
          throw systemError(`${where}: the response is not JSON (${text.slice(0, 80)}…)`, { status: res.status });
        }
      }
      const body = (await res.text().catch(() => '')).slice(0, 300);
      if (res.status === 401 || res.status === 403) {
        throw authError(`${where} answered ${res.status}: the API refused the credentials${body ? ` (${body})` : ''}`, { status: res.status, field: 'auth' });
      }
      if (res.status !== 429 && res.status !== 408 && res.status < 500) {
        throw configError(`${where} answered ${res.status}${res.status === 404 ? ' (not found: check baseUrl and the stream path)' : ''}${body ? `: ${body}` : ''}`, { status: res.status });
      }
      retryReason = `status ${res.status}`;
      retryAfter = parseRetryAfter(res.headers.get('retry-after'));
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('TL_ERR_')) throw err;
      if (options.signal?.aborted) throw err;
      retryReason = (err as Error).name === 'TimeoutError' ? `timeout after ${config.timeoutSeconds}s` : `network error: ${(err as Error).message}`;
    }
    if (attempt >= config.maxRetries) {
      throw transientError(`${where} failed after ${attempt + 1} attempts: ${retryReason}`, { attempts: attempt + 1 });
    }
    if (retryAfter !== undefined && retryAfter > config.maxRetryDelayMs) {
      throw transientError(`${where}: ${retryReason}, Retry-After ${Math.ceil(retryAfter / 1000)}s is longer than maxRetryDelayMs`, { retryAfterMs: retryAfter });
    }
    const delay = retryAfter ?? backoffDelay(attempt, config.retryBaseMs, config.maxRetryDelayMs);
    if (options.stats) options.stats.retries++;
    options.log?.warn({ where, attempt: attempt + 1, delay, reason: retryReason }, 'http connector: retrying');
    await sleep(delay, options.signal);
  }
}
