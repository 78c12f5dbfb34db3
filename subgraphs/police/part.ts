import { subgraphPart } from '../shared/subgraph-part';
import { policeSubgraph } from './server';

export const part = subgraphPart(policeSubgraph);
