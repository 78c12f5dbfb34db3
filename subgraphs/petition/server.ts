import type { SubgraphDefinition } from '../shared/create-subgraph-server';
import { createPetitionLoaders, type PetitionLoaders } from './loaders';
import { resolvers } from './resolvers';

/** 信访 subgraph over the `petition` schema, as database role tonglan_petition. */
export const petitionSubgraph: SubgraphDefinition<PetitionLoaders> = {
  name: 'petition',
  folder: __dirname,
  role: 'tonglan_petition',
  resolvers,
  createLoaders: createPetitionLoaders,
};
