import type { SubgraphDefinition } from '../shared/create-subgraph-server';
import { createJusticeLoaders, type JusticeLoaders } from './loaders';
import { resolvers } from './resolvers';

/** 司法 subgraph over the `justice` schema, as database role tonglan_justice. */
export const justiceSubgraph: SubgraphDefinition<JusticeLoaders> = {
  name: 'justice',
  folder: __dirname,
  role: 'tonglan_justice',
  resolvers,
  createLoaders: createJusticeLoaders,
};
