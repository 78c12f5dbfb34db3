import { subgraphPart } from '../shared/subgraph-part';
import { justiceSubgraph } from './server';

export const part = subgraphPart(justiceSubgraph);
