import type { ConnectorKind } from '../contract';
import { checkHttp } from './check';
import { discoverHttp } from './discover';
import { readHttp } from './read';
import { httpSpec } from './spec';

/** Paged JSON HTTP API source: each configured endpoint is a stream. */
export const httpKind: ConnectorKind = {
  spec: () => httpSpec,
  check: (config) => checkHttp(config),
  discover: (config) => discoverHttp(config),
  read: (config, options) => readHttp(config, options),
};
