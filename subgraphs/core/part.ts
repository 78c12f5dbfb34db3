import { subgraphPart } from '../shared/subgraph-part';
import { coreSubgraph } from './server';

export const part = subgraphPart(coreSubgraph);
