import { createSubgraphServer, type SubgraphDefinition, type SubgraphServer, type SubgraphServerOptions } from '../shared/create-subgraph-server';
import { loadResolverModules } from './resolver-modules';
import type { AdminLoaders, AdminRuntime } from './runtime';

/**
 * The hub's admin subgraph: connectors and sync (connectors.resolvers.ts), and whatever other areas add as
 * `<area>.graphql` + `<area>.resolvers.ts` in this folder (webhooks, the linking review queue).
 * Its pool runs as `tonglan_admin` (hub schema only); replays go through the runtime's sync pool.
 */
export function adminSubgraph(runtime: AdminRuntime): SubgraphDefinition<AdminLoaders> {
  return {
    name: 'admin',
    folder: __dirname,
    role: 'tonglan_admin',
    resolvers: loadResolverModules(__dirname),
    createLoaders: () => ({ runtime }),
  };
}

export function createAdminServer(runtime: AdminRuntime, options: SubgraphServerOptions): Promise<SubgraphServer> {
  return createSubgraphServer(adminSubgraph(runtime), options);
}
