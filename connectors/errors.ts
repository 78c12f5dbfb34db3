import { HubError, isHubError, type ErrorCode } from '../platform/errors';
import type { CheckResult } from './contract';

/**
 * The connector error taxonomy (as in the Airbyte protocol), on the hub's codes:
 *  - TL_ERR_CONNECTOR_CONFIG     the settings are wrong (bad field, unknown table, 4xx): never retried;
 *  - TL_ERR_CONNECTOR_AUTH       the source refused the credentials: never retried;
 *  - TL_ERR_CONNECTOR_TRANSIENT  the source hiccuped (refused connection, timeout, 429/5xx): retried with backoff;
 *  - TL_ERR_CONNECTOR_SYSTEM     the source answered something the connector cannot understand, or a bug.
 * Messages never contain secret values.
 */
export function configError(message: string, details?: Record<string, unknown>, cause?: unknown): HubError {
  return new HubError('TL_ERR_CONNECTOR_CONFIG', message, details, { cause });
}

export function authError(message: string, details?: Record<string, unknown>, cause?: unknown): HubError {
  return new HubError('TL_ERR_CONNECTOR_AUTH', message, details, { cause });
}

export function transientError(message: string, details?: Record<string, unknown>, cause?: unknown): HubError {
  return new HubError('TL_ERR_CONNECTOR_TRANSIENT', message, details, { cause });
}

export function systemError(message: string, details?: Record<string, unknown>, cause?: unknown): HubError {
  return new HubError('TL_ERR_CONNECTOR_SYSTEM', message, details, { cause });
}

const CONNECTOR_CODES: ReadonlySet<ErrorCode> = new Set([
  'TL_ERR_CONNECTOR_CONFIG', 'TL_ERR_CONNECTOR_AUTH', 'TL_ERR_CONNECTOR_TRANSIENT', 'TL_ERR_CONNECTOR_SYSTEM',
]);

/** Any thrown value as a connector HubError (unknown errors become TL_ERR_CONNECTOR_SYSTEM). */
export function asConnectorError(err: unknown): HubError {
  if (isHubError(err) && CONNECTOR_CODES.has(err.code)) return err;
  if (isHubError(err)) return new HubError('TL_ERR_CONNECTOR_SYSTEM', err.message, err.details, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return systemError(message, undefined, err);
}

/** `check` never throws: a failure becomes `{ok: false, code, message}`. */
export function checkFailure(err: unknown): CheckResult {
  const e = asConnectorError(err);
  return { ok: false, code: e.code, message: e.message };
}
