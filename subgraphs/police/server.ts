import type { SubgraphDefinition } from '../shared/create-subgraph-server';
import { createPoliceLoaders, type PoliceLoaders } from './loaders';
import { resolvers } from './resolvers';

/** 公安 subgraph over the `police` schema, as database role tonglan_police. */
export const policeSubgraph: SubgraphDefinition<PoliceLoaders> = {
  name: 'police',
  folder: __dirname,
  role: 'tonglan_police',
  resolvers,
  createLoaders: createPoliceLoaders,
};
