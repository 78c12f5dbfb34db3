import type { SubgraphDefinition } from '../shared/create-subgraph-server';
import { createCoreLoaders, type CoreLoaders } from './loaders';
import { resolvers } from './resolvers';

/** The core subgraph (一网统揽 graph): Person, Place, Event, Grid, event categories and statistics over `core`. */
export const coreSubgraph: SubgraphDefinition<CoreLoaders> = {
  name: 'core',
  folder: __dirname,
  role: 'tonglan_core',
  resolvers,
  createLoaders: createCoreLoaders,
};
