import type { PartDefinition } from '../cli/part';
import { createGatewayServer } from './server';

/** `gateway`: the one GraphQL endpoint, on PORT (default 4000). */
export const part: PartDefinition = {
  name: 'gateway',
  description: 'GraphQL gateway (@apollo/server + @apollo/gateway on the committed supergraph): /graphql, /healthz, /readyz, /metrics',
  async start(ctx) {
    const server = await createGatewayServer({ config: ctx.config, databaseUrl: ctx.databaseUrl, redisUrl: ctx.redisUrl, log: ctx.log });
    const url = await server.listen(ctx.config.PORT, ctx.config.HOST);
    ctx.log.info({ url }, 'gateway serving');
    return { url, stop: () => server.stop() };
  },
};
