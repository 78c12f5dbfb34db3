import type { PartDefinition } from '../../cli/part';
import { subgraphEntry, subgraphPort } from '../../schema/subgraphs';
import { createSubgraphServer, type SubgraphDefinition } from './create-subgraph-server';

/**
 * The runnable part of a subgraph (`subgraph-<name>`), listening on SUBGRAPH_PORT_BASE + its index
 * (schema/subgraphs.ts). `subgraphs/<name>/part.ts` is one line: `export const part = subgraphPart(definition)`.
 */
export function subgraphPart<L>(definition: SubgraphDefinition<L>): PartDefinition {
  const entry = subgraphEntry(definition.name);
  return {
    name: `subgraph-${definition.name}`,
    description: `GraphQL subgraph ${definition.name} (Federation 2, Mercurius) as database role ${definition.role}`,
    async start(ctx) {
      const server = await createSubgraphServer(definition, { config: ctx.config, databaseUrl: ctx.databaseUrl, log: ctx.log });
      const url = await server.listen(subgraphPort(ctx.config, entry), ctx.config.HOST);
      ctx.log.info({ url }, `subgraph ${definition.name} serving`);
      return {
        url,
        stop: () => server.close(),
      };
    },
  };
}
