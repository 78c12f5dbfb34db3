/**
 * The hub's error taxonomy. Every error the hub raises on purpose carries a stable code (TL_ERR_*), an HTTP
 * status, and a category that decides retry semantics in the sync worker (as in the Airbyte protocol):
 *  - `config`    the caller's settings or input are wrong: fail at once, never retry;
 *  - `transient` the source or a dependency hiccuped: retry with backoff;
 *  - `system`    a bug or an invariant broken in the hub: fail, alert.
 * Codes are made here and only here, so clients and docs can rely on them.
 */
export type ErrorCategory = 'config' | 'transient' | 'system' | 'auth' | 'input';

interface CodeSpec {
  status: number;
  category: ErrorCategory;
  message: string;
}

export const ERROR_CODES = {
  TL_ERR_CONFIG_INVALID: { status: 500, category: 'config', message: 'Invalid configuration' },
  TL_ERR_BAD_USER_INPUT: { status: 400, category: 'input', message: 'Invalid input' },
  TL_ERR_NOT_FOUND: { status: 404, category: 'input', message: 'Not found' },
  TL_ERR_CONFLICT: { status: 409, category: 'input', message: 'Conflict' },
  TL_ERR_UNAUTHENTICATED: { status: 401, category: 'auth', message: 'Authentication required' },
  TL_ERR_FORBIDDEN: { status: 403, category: 'auth', message: 'Forbidden' },
  TL_ERR_RATE_LIMITED: { status: 429, category: 'transient', message: 'Too many requests' },
  TL_ERR_QUERY_TOO_COMPLEX: { status: 400, category: 'input', message: 'Query too complex' },
  TL_ERR_DEPENDENCY_DOWN: { status: 503, category: 'transient', message: 'A dependency is unavailable' },
  TL_ERR_MIGRATION: { status: 500, category: 'system', message: 'Migration failed' },
  TL_ERR_CONNECTOR_CONFIG: { status: 400, category: 'config', message: 'Connector configuration is invalid' },
  TL_ERR_CONNECTOR_AUTH: { status: 400, category: 'config', message: 'The source refused the credentials' },
  TL_ERR_CONNECTOR_TRANSIENT: { status: 503, category: 'transient', message: 'The source is temporarily unavailable' },
  TL_ERR_CONNECTOR_SYSTEM: { status: 500, category: 'system', message: 'Connector failure' },
  TL_ERR_MAPPING: { status: 400, category: 'input', message: 'Record failed mapping or validation' },
  TL_ERR_INTERNAL: { status: 500, category: 'system', message: 'Internal error' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HubError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly category: ErrorCategory;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    const spec: CodeSpec = ERROR_CODES[code];
    super(message ?? spec.message, options);
    this.name = 'HubError';
    this.code = code;
    this.status = spec.status;
    this.category = spec.category;
    this.details = details;
  }

  /** Whether a job that failed with this error should be retried. */
  get retryable(): boolean {
    return this.category === 'transient';
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export function hubError(code: ErrorCode, message?: string, details?: Record<string, unknown>): HubError {
  return new HubError(code, message, details);
}

export function isHubError(err: unknown): err is HubError {
  return err instanceof HubError;
}

/** Turn anything thrown into a HubError, keeping the original as the cause. */
export function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new HubError('TL_ERR_INTERNAL', message, undefined, { cause: err });
}
