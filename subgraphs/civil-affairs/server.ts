import type { SubgraphDefinition } from '../shared/create-subgraph-server';
import { createCivilLoaders, type CivilLoaders } from './loaders';
import { resolvers } from './resolvers';

/** 民政 subgraph over the `civil` schema, as database role tonglan_civil. */
export const civilAffairsSubgraph: SubgraphDefinition<CivilLoaders> = {
  name: 'civil-affairs',
  folder: __dirname,
  role: 'tonglan_civil',
  resolvers,
  createLoaders: createCivilLoaders,
};
