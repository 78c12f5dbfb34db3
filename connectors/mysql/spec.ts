import type { ConnectorSpec } from '../contract';

export interface MysqlConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  timeZone: string;
  ssl: boolean;
  pageSize: number;
  connectTimeoutSeconds: number;
}

export const mysqlSpec: ConnectorSpec = {
  kind: 'mysql',
  title: 'MySQL / MariaDB',
  supportsIncremental: true,
  supportsDeletes: false,
  configSchema: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'MySQL or MariaDB source',
    type: 'object',
    additionalProperties: false,
    required: ['database', 'user'],
    properties: {
      host: { type: 'string', minLength: 1, default: '127.0.0.1' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 3306 },
      database: { type: 'string', minLength: 1, description: 'Database (schema) whose tables are the streams.' },
      user: { type: 'string', minLength: 1 },
      password: { type: 'string', 'x-secret': true, description: 'Password of the user (secret).' },
      timeZone: {
        type: 'string', pattern: '^[+-](0\\d|1[0-4]):[0-5]\\d$', default: '+08:00',
        description: 'UTC offset of the source\'s DATETIME values (China: +08:00); records carry it in ISO 8601.',
      },
      ssl: { type: 'boolean', default: false },
      pageSize: { type: 'integer', minimum: 1, maximum: 100000, default: 5000, description: 'Rows per keyset page; a state checkpoint follows every page.' },
      connectTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 300, default: 10 },
    },
  },
};
