import { subgraphPart } from '../shared/subgraph-part';
import { petitionSubgraph } from './server';

export const part = subgraphPart(petitionSubgraph);
