import type { ConnectorKind } from '../contract';
import { checkMysql } from './check';
import { discoverMysql } from './discover';
import { readMysql } from './read';
import { mysqlSpec } from './spec';

/** MySQL / MariaDB source: the tables of one database are the streams. */
export const mysqlKind: ConnectorKind = {
  spec: () => mysqlSpec,
  check: (config) => checkMysql(config),
  discover: (config) => discoverMysql(config),
  read: (config, options) => readMysql(config, options),
};
