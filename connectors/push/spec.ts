import type { ConnectorSpec } from '../contract';

export interface PushStreamConfig {
  name: string;
  primaryKey: string[];
  cursorCandidates?: string[];
  columns?: string[];
}

export interface PushConfig {
  token: string;
  streams: PushStreamConfig[];
  maxBatchBytes: number;
  maxRecordsPerBatch: number;
}

export const pushSpec: ConnectorSpec = {
  kind: 'push',
  title: 'Push (the department posts batches to the hub)',
  supportsIncremental: true,
  supportsDeletes: false,
  configSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Push receiver',
    type: 'object',
    additionalProperties: false,
    required: ['token', 'streams'],
    properties: {
      token: { type: 'string', minLength: 16, 'x-secret': true, description: 'Push token the department sends as `Authorization: Bearer <token>` (secret, at least 16 characters).' },
      streams: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'The `<stream>` of `POST /push/<connectorId>/<stream>`.' },
            primaryKey: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
            cursorCandidates: { type: 'array', items: { type: 'string', minLength: 1 } },
            columns: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'Declared fields; otherwise discovered from the latest batch.' },
          },
        },
      },
      maxBatchBytes: { type: 'integer', minimum: 1024, maximum: 104857600, default: 10485760, description: 'Largest accepted request body (413 above).' },
      maxRecordsPerBatch: { type: 'integer', minimum: 1, maximum: 1000000, default: 10000 },
    },
  },
};
