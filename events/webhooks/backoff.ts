/**
 * When to try a failed delivery again: exponential backoff with jitter, unless the endpoint said when
 * (`Retry-After` on 429 / 503, in seconds or as an HTTP date), capped at `maxDelayMs` either way.
 */
export interface RetryPolicy {
  /** Total attempts per delivery, the first included (default 12: retries spread over about 2–3 hours). */
  attempts: number;
  /** Delay before the 2nd attempt (default 5 s); each later one doubles. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 12, baseDelayMs: 5_000, maxDelayMs: 2 * 60 * 60 * 1000 };

/** "Equal jitter": half the exponential delay fixed, half random, so retries of many deliveries spread out. */
export function backoffDelay(failedAttempts: number, policy: RetryPolicy, random = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Milliseconds a `Retry-After` value asks for, or null when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
