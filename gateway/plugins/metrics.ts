import type { ApolloServerPlugin } from '@apollo/server';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { GatewayContext } from '../context';

/**
 * Prometheus metrics of the gateway (`GET /metrics`): requests per operation, their latency, errors by code,
 * and subgraph fetches (`onSubgraphFetch` is handed to the data sources). One registry per gateway, so
 * several gateways in one process (tests) do not collide.
 */
export interface GatewayMetrics {
  registry: Registry;
  plugin: ApolloServerPlugin<GatewayContext>;
  onSubgraphFetch(subgraph: string, outcome: 'ok' | 'error', seconds: number): void;
  /** Count an error raised before Apollo runs (authentication, rate limit). */
  countError(code: string): void;
}

function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'invalid';
}

export function useMetrics(options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tonglan_gateway_' });
  const requests = new Counter({ name: 'tonglan_gateway_requests_total', help: 'GraphQL operations by name and outcome', labelNames: ['operation', 'outcome'], registers: [registry] });
  const latency = new Histogram({
    name: 'tonglan_gateway_request_duration_seconds', help: 'GraphQL operation latency', labelNames: ['operation'], registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const errors = new Counter({ name: 'tonglan_gateway_errors_total', help: 'Errors returned to clients, by code', labelNames: ['code'], registers: [registry] });
  const fetches = new Counter({ name: 'tonglan_gateway_subgraph_fetches_total', help: 'Fetches from subgraphs by outcome', labelNames: ['subgraph', 'outcome'], registers: [registry] });
  const fetchLatency = new Histogram({
    name: 'tonglan_gateway_subgraph_fetch_duration_seconds', help: 'Subgraph fetch latency', labelNames: ['subgraph'], registers: [registry],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operationName, response, errors: requestErrors }) {
          const label = operationLabel(operationName);
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const sent = body?.errors ?? [];
          for (const e of sent) errors.inc({ code: String(e.extensions?.code ?? 'TL_ERR_INTERNAL') });
          requests.inc({ operation: label, outcome: sent.length || requestErrors?.length ? 'error' : 'ok' });
          latency.observe({ operation: label }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };

  return {
    registry,
    plugin,
    onSubgraphFetch(subgraph, outcome, seconds) {
      fetches.inc({ subgraph, outcome });
      fetchLatency.observe({ subgraph }, seconds);
    },
    countError(code) {
      errors.inc({ code });
      requests.inc({ operation: 'unauthenticated', outcome: 'error' });
    },
  };
}
