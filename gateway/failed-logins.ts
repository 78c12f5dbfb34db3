import type { Logger } from '../platform/logger';
import { isHubError } from '../platform/errors';
import type { AuditLog } from '../security/audit';
import type { Authenticator } from '../security/authenticate';

/**
 * Failed logins in the audit log, without letting a flood of bad tokens flood the log: the first failure of
 * each reason (`expired`, `bad_signature`, `unknown key`, ...) in a window is written as a `denied` entry
 * (actor `anonymous`, operation `authenticate`); the failures of the same reason that follow within the
 * window are only counted, and the count goes into the next entry of that reason (`detail.suppressed`). So
 * the log shows every kind of failure and how many there were, at most one row per reason per window.
 *
 * Only authentication failures (TL_ERR_UNAUTHENTICATED) are recorded, not an unreachable JWKS endpoint. Writing
 * the entry never delays or changes the 401: it is fire-and-forget, and an audit-log error is only logged.
 */
export interface FailedLoginAuditOptions {
  /** One entry per reason per window (default 60 s). */
  windowMs?: number;
  log?: Logger;
  now?: () => number;
}

export function auditFailedLogins(authenticate: Authenticator, audit: Pick<AuditLog, 'record'>, options: FailedLoginAuditOptions = {}): Authenticator {
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { until: number; suppressed: number }>();

  function note(reason: string, message: string): void {
    const t = now();
    const current = windows.get(reason);
    if (current && current.until > t) {
      current.suppressed += 1;
      return;
    }
    const suppressed = current?.suppressed ?? 0;
    windows.set(reason, { until: t + windowMs, suppressed: 0 });
    audit.record({
      actor: 'anonymous', role: null, kind: 'denied', operation: 'authenticate',
      detail: { reason, message, suppressed, windowMs },
    }).catch((err: unknown) => options.log?.warn({ err: (err as Error).message, reason }, 'could not audit a failed login'));
  }

  return async (authorization) => {
    try {
      return await authenticate(authorization);
    } catch (err) {
      if (isHubError(err) && err.code === 'TL_ERR_UNAUTHENTICATED') {
        note(String((err.details as { reason?: unknown } | undefined)?.reason ?? 'unknown'), err.message);
      }
      throw err;
    }
  };
}
