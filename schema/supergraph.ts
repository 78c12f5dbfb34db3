import { composeServices } from '@apollo/composition';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import { HubError } from '../platform/errors';
import { readSubgraphSdl, subgraphSdlFiles } from '../subgraphs/shared/sdl';
import { ROOT, SUBGRAPHS, subgraphFolder } from './subgraphs';

/**
 * The supergraph, composed ahead of time from the subgraphs' SDL files with @apollo/composition (no runtime
 * introspection) and committed as schema/supergraph.graphql. The URLs written into it are the defaults
 * (127.0.0.1, SUBGRAPH_PORT_BASE 4001 + index); the gateway routes by subgraph name to the configured URLs.
 * After changing any subgraph's *.graphql: `npm run schema:compose` (a test fails while the file is stale).
 */
export const SUPERGRAPH_FILE = join(ROOT, 'schema', 'supergraph.graphql');
const DEFAULT_PORT_BASE = 4001;

export interface SubgraphSdl {
  name: string;
  url: string;
  sdl: string;
}

/** Every subgraph that has SDL files (the admin subgraph joins once its folder has some). */
export function subgraphSdls(): SubgraphSdl[] {
  return SUBGRAPHS.filter((s) => subgraphSdlFiles(subgraphFolder(s)).length > 0).map((s) => ({
    name: s.name,
    url: `http://127.0.0.1:${DEFAULT_PORT_BASE + s.index}/graphql`,
    sdl: readSubgraphSdl(subgraphFolder(s)),
  }));
}

const HEADER = '# Composed by `npm run schema:compose` (schema/compose.ts) from subgraphs/*/*.graphql. Do not edit.\n';

/** Compose; throws TL_ERR_CONFIG_INVALID listing every composition error with its code. */
export function composeSupergraph(subgraphs: SubgraphSdl[] = subgraphSdls()): string {
  const services = subgraphs.map((s) => {
    try {
      return { name: s.name, url: s.url, typeDefs: parse(s.sdl) };
    } catch (err) {
      throw new HubError('TL_ERR_CONFIG_INVALID', `subgraph ${s.name}: SDL does not parse: ${(err as Error).message}`, { subgraph: s.name });
    }
  });
  const result = composeServices(services);
  if (result.errors?.length || !result.supergraphSdl) {
    const problems = (result.errors ?? []).map((e) => `${(e.extensions?.code as string | undefined) ?? 'ERROR'}: ${e.message}`);
    throw new HubError('TL_ERR_CONFIG_INVALID', `Supergraph composition failed:\n  - ${problems.join('\n  - ')}`, { problems });
  }
  return HEADER + result.supergraphSdl.trim() + '\n';
}

export function readCommittedSupergraph(): string {
  return readFileSync(SUPERGRAPH_FILE, 'utf8');
}
