import type { ConnectorSpec } from '../contract';

export interface PostgresConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  schema: string;
  ssl: boolean;
  timeZone: string;
  pageSize: number;
  connectTimeoutSeconds: number;
}

export const postgresSpec: ConnectorSpec = {
  kind: 'postgres',
  title: 'PostgreSQL',
  supportsIncremental: true,
  supportsDeletes: false,
  configSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'PostgreSQL source',
    type: 'object',
    additionalProperties: false,
    required: ['database', 'user'],
    properties: {
      host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Host name or address of the server.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432 },
      database: { type: 'string', minLength: 1, description: 'Database to read.' },
      user: { type: 'string', minLength: 1, description: 'Login role; read-only rights on the tables are enough.' },
      password: { type: 'string', 'x-secret': true, description: 'Password of the login role (secret).' },
      schema: { type: 'string', minLength: 1, default: 'public', description: 'Schema whose tables and views are the streams.' },
      ssl: { type: 'boolean', default: false, description: 'Connect with TLS.' },
      timeZone: {
        type: 'string', pattern: '^[+-](0\\d|1[0-4]):[0-5]\\d$', default: '+08:00',
        description: 'UTC offset of `timestamp without time zone` values (China: +08:00); records carry it in ISO 8601. `timestamptz` values come out in UTC.',
      },
      pageSize: { type: 'integer', minimum: 1, maximum: 100000, default: 5000, description: 'Rows per keyset page; a state checkpoint follows every page.' },
      connectTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 300, default: 10 },
    },
  },
};
