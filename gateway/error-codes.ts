import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ERROR_CODES, isHubError, type ErrorCode } from '../platform/errors';

/**
 * Every error a client sees carries a stable `extensions.code` (TL_ERR_*, platform/errors.ts). Apollo's own
 * codes are translated; codes coming back from subgraphs are kept; anything unknown is TL_ERR_INTERNAL with no
 * internals in the message.
 */
const APOLLO_CODES: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: 'TL_ERR_BAD_USER_INPUT',
  GRAPHQL_VALIDATION_FAILED: 'TL_ERR_BAD_USER_INPUT',
  BAD_USER_INPUT: 'TL_ERR_BAD_USER_INPUT',
  BAD_REQUEST: 'TL_ERR_BAD_USER_INPUT',
  OPERATION_RESOLUTION_FAILURE: 'TL_ERR_BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_FOUND: 'TL_ERR_BAD_USER_INPUT',
  PERSISTED_QUERY_NOT_SUPPORTED: 'TL_ERR_BAD_USER_INPUT',
  UNAUTHENTICATED: 'TL_ERR_UNAUTHENTICATED',
  FORBIDDEN: 'TL_ERR_FORBIDDEN',
  INTERNAL_SERVER_ERROR: 'TL_ERR_INTERNAL',
};

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** HTTP status of an error code (500 for unknown). */
export function statusOf(code: unknown): number {
  return isErrorCode(code) ? ERROR_CODES[code].status : 500;
}

/** @apollo/server `formatError`: the TL_ERR_* code, no stack traces, no SQL. */
export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : error;
  let code = formatted.extensions?.code as string | undefined;
  let message = formatted.message;
  let details: unknown = formatted.extensions?.details;
  if (isHubError(original)) {
    code = original.code;
    message = original.message;
    details = original.details;
  } else if (!isErrorCode(code)) {
    code = (code && APOLLO_CODES[code]) || 'TL_ERR_INTERNAL';
    if (code === 'TL_ERR_INTERNAL') message = 'Internal error';
  }
  const extensions: Record<string, unknown> = { code };
  if (details !== undefined) extensions.details = details;
  const serviceName = formatted.extensions?.serviceName;
  if (serviceName) extensions.subgraph = serviceName;
  const retryAfter = formatted.extensions?.retryAfter;
  if (retryAfter !== undefined) extensions.retryAfter = retryAfter;
  return { message, ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}), extensions };
}
