import type { ConnectorSpec } from '../contract';

export interface HttpStreamConfig {
  name: string;
  path: string;
  /** Dotted path of the records array in the response body (`data.items`); empty: the body itself. */
  recordsPath: string;
  primaryKey: string[];
  cursorField?: string;
  params: Record<string, string>;
}

export interface HttpConfig {
  baseUrl: string;
  auth: { type: 'none' | 'bearer' | 'header' | 'query' | 'basic'; token?: string; headerName: string; queryParam: string; username?: string; password?: string };
  headers: Record<string, string>;
  pagination: {
    type: 'page' | 'offset' | 'cursor' | 'none';
    pageParam: string; startPage: number; sizeParam: string; pageSize: number;
    offsetParam: string; limitParam: string;
    cursorParam: string; nextCursorPath: string;
    initialCursor?: string; hasMorePath?: string;
  };
  incremental: { sinceParam: string; format: 'iso' | 'epoch-seconds' | 'epoch-millis'; sortedByCursor: boolean };
  streams: HttpStreamConfig[];
  requestsPerSecond: number;
  maxRetries: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
  timeoutSeconds: number;
}

const name = { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.-]+$' };

export const httpSpec: ConnectorSpec = {
  kind: 'http',
  title: 'HTTP JSON API (paged)',
  supportsIncremental: true,
  supportsDeletes: false,
  configSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Paged HTTP JSON API',
    type: 'object',
    additionalProperties: false,
    required: ['baseUrl', 'streams'],
    properties: {
      baseUrl: { type: 'string', format: 'uri', pattern: '^https?://', description: 'Base URL; stream paths are relative to it.' },
      auth: {
        type: 'object',
        additionalProperties: false,
        default: { type: 'none' },
        properties: {
          type: { type: 'string', enum: ['none', 'bearer', 'header', 'query', 'basic'], default: 'none',
            description: 'bearer: `Authorization: Bearer <token>`; header: `<headerName>: <token>` (API key); query: `?<queryParam>=<token>`; basic: username + password.' },
          token: { type: 'string', minLength: 1, 'x-secret': true, description: 'Bearer token or API key (secret).' },
          headerName: { type: 'string', minLength: 1, default: 'X-API-Key' },
          queryParam: { type: 'string', minLength: 1, default: 'api_key' },
          username: { type: 'string' },
          password: { type: 'string', 'x-secret': true },
        },
        allOf: [
          { if: { properties: { type: { enum: ['bearer', 'header', 'query'] } }, required: ['type'] }, then: { required: ['token'] } },
          { if: { properties: { type: { const: 'basic' } }, required: ['type'] }, then: { required: ['username', 'password'] } },
        ],
      },
      headers: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Extra request headers (not secret).' },
      pagination: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          type: { type: 'string', enum: ['page', 'offset', 'cursor', 'none'], default: 'page' },
          pageParam: { type: 'string', default: 'page' },
          startPage: { type: 'integer', minimum: 0, default: 1 },
          sizeParam: { type: 'string', default: 'pageSize', description: 'Page-size parameter (page and cursor pagination).' },
          pageSize: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
          offsetParam: { type: 'string', default: 'offset' },
          limitParam: { type: 'string', default: 'limit' },
          cursorParam: { type: 'string', default: 'cursor', description: 'Parameter carrying the next-page token.' },
          nextCursorPath: { type: 'string', default: 'next_cursor', description: 'Dotted path of the next-page token in the response; empty/absent = last page.' },
          initialCursor: { type: 'string', description: 'Cursor value sent on the first page (e.g. "" for APIs that switch to keyset paging on an empty `cursor=`); default: not sent.' },
          hasMorePath: { type: 'string', description: 'Dotted path of a "more pages" boolean (`data.has_more`); false ends the read.' },
        },
      },
      incremental: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          sinceParam: { type: 'string', minLength: 1, default: 'updated_since', description: 'Query parameter asking for records changed at or after a time.' },
          format: { type: 'string', enum: ['iso', 'epoch-seconds', 'epoch-millis'], default: 'iso' },
          sortedByCursor: { type: 'boolean', default: true, description: 'The API returns records in ascending cursor order: a state checkpoint follows every page. Otherwise one checkpoint at the end.' },
        },
      },
      streams: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'path'],
          properties: {
            name,
            path: { type: 'string', minLength: 1, description: 'Path relative to baseUrl, e.g. `/api/petitions`.' },
            recordsPath: { type: 'string', default: 'data', description: 'Dotted path of the records array in the body; empty string: the body is the array.' },
            primaryKey: { type: 'array', items: { type: 'string', minLength: 1 }, default: ['id'] },
            cursorField: { type: 'string', minLength: 1 },
            params: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
          },
        },
      },
      requestsPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 1000, default: 5, description: 'Rate limit towards this API (all reads of the process share it).' },
      maxRetries: { type: 'integer', minimum: 0, maximum: 20, default: 5, description: 'Retries on 429, 5xx and network errors.' },
      retryBaseMs: { type: 'integer', minimum: 1, maximum: 60000, default: 500, description: 'First backoff delay; doubles per retry, with jitter.' },
      maxRetryDelayMs: { type: 'integer', minimum: 1, maximum: 600000, default: 30000, description: 'Longest wait for one retry (Retry-After included); a longer Retry-After fails the read as transient.' },
      timeoutSeconds: { type: 'integer', minimum: 1, maximum: 600, default: 30 },
    },
  },
};
