import type { ConnectorKind } from '../contract';
import { checkPostgres } from './check';
import { discoverPostgres } from './discover';
import { readPostgres } from './read';
import { postgresSpec } from './spec';

/** PostgreSQL source: tables and views of one schema are the streams. */
export const postgresKind: ConnectorKind = {
  spec: () => postgresSpec,
  check: (config) => checkPostgres(config),
  discover: (config) => discoverPostgres(config),
  read: (config, options) => readPostgres(config, options),
};
