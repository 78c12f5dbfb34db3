import type { PartDefinition } from '../cli/part';
import { createPool } from '../platform/db';
import { createAuditLog } from '../security/audit';
import { createAuthenticator } from '../security/authenticate';
import { auditFailedLogins } from './failed-logins';
import { createGatewayServer } from './server';

/** `gateway`: the one GraphQL endpoint, on PORT (default 4000). */
export const part: PartDefinition = {
  name: 'gateway',
  description: 'GraphQL gateway (@apollo/server + @apollo/gateway on the committed supergraph): /graphql, /healthz, /readyz, /metrics',
  async start(ctx) {
    // Authentication with failed logins audited (one entry per failure reason per minute, gateway/failed-logins.ts).
    const authPool = createPool(ctx.databaseUrl, { role: 'tonglan_gateway', applicationName: 'tonglan-gateway-auth', max: 2 });
    const authenticate = auditFailedLogins(createAuthenticator(ctx.config, authPool), createAuditLog(authPool), { log: ctx.log });
    const server = await createGatewayServer({ config: ctx.config, databaseUrl: ctx.databaseUrl, redisUrl: ctx.redisUrl, log: ctx.log, authenticate });
    const url = await server.listen(ctx.config.PORT, ctx.config.HOST);
    ctx.log.info({ url }, 'gateway serving');
    return { url, stop: async () => { await server.stop(); await authPool.end(); } };
  },
};
