import type { ConnectorKind } from '../contract';
import { checkFiles } from './check';
import { discoverFiles } from './discover';
import { readFiles } from './read';
import { fileSpec } from './spec';

/** A folder of dropped CSV / XLSX files: each stream is a file-name pattern; each file is read once. */
export const fileKind: ConnectorKind = {
  spec: () => fileSpec,
  check: (config) => checkFiles(config),
  discover: (config) => discoverFiles(config),
  read: (config, options) => readFiles(config, options),
};
