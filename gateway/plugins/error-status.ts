import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context';
import { statusOf } from '../error-codes';

/**
 * HTTP status from the error code: a response with errors and no data at all (the request failed as a whole:
 * forbidden, bad input caught by a subgraph, a dependency down) answers with the status of its first error's
 * TL_ERR_* code instead of 200. Partial results (some data, some errors) stay 200, as GraphQL over HTTP asks.
 */
export function useErrorStatus(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          if (!errors?.length || (data !== undefined && data !== null && Object.values(data).some((v) => v !== null))) return;
          if (response.http.status && response.http.status !== 200) return;
          response.http.status = statusOf(errors[0]!.extensions?.code);
        },
      };
    },
  };
}
