import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../../platform/logger';
import type { GatewayContext } from '../context';

/** One log line per operation: who (subject, role), which operation, how long, which error codes. No variables. */
export function useRequestLog(log: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = Date.now();
      return {
        async willSendResponse({ operationName, response }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const codes = (body?.errors ?? []).map((e) => e.extensions?.code);
          log.info({ sub: contextValue.identity?.sub, role: contextValue.identity?.role, operation: operationName ?? null, ms: Date.now() - started,
            ...(codes.length ? { errors: codes } : {}) }, 'graphql');
        },
      };
    },
  };
}
