import { subgraphPart } from '../shared/subgraph-part';
import { civilAffairsSubgraph } from './server';

export const part = subgraphPart(civilAffairsSubgraph);
