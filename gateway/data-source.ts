import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import http from 'node:http';
import https from 'node:https';
import fetch from 'node-fetch';
import { encodeIdentity, IDENTITY_HEADER } from '../security/identity';
import type { GatewayContext } from './context';
import { dedupeRepresentations } from './plugins/entity-dedupe';

/**
 * The gateway's connection to one subgraph: forwards the verified caller as the signed `x-tonglan-identity`
 * header (subgraphs trust nothing else) and the operation name (for their audit entries), over keep-alive
 * connections (one agent per subgraph), and reports each fetch to `onFetch` (metrics).
 */
export interface HubDataSourceOptions {
  name: string;
  url: string;
  internalKey: string;
  /** Sockets kept per subgraph (default 64). */
  maxSockets?: number;
  onFetch?: (subgraph: string, outcome: 'ok' | 'error', seconds: number) => void;
}

export class HubDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly agent: http.Agent;

  constructor(private readonly options: HubDataSourceOptions) {
    const agent = options.url.startsWith('https:')
      ? new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 })
      : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    super({
      url: options.url,
      fetcher: ((url: string, init: Record<string, unknown>) => fetch(url, { ...init, agent })) as never,
    });
    this.agent = agent;
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const identity = (options.context as Partial<GatewayContext>).identity;
    if (identity) options.request.http?.headers.set(IDENTITY_HEADER, encodeIdentity(identity, this.options.internalKey));
    if ('incomingRequestContext' in options) {
      const operationName = options.incomingRequestContext.operationName ?? options.incomingRequestContext.request.operationName;
      if (operationName) options.request.http?.headers.set('x-tonglan-operation', operationName.slice(0, 128));
    }
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const started = process.hrtime.bigint();
    // The same entity asked for several times in one fetch is sent once (plugins/entity-dedupe.ts).
    const dedupe = dedupeRepresentations(options.request.variables);
    if (dedupe) options.request.variables = dedupe.variables;
    try {
      const response = await super.process(options);
      this.options.onFetch?.(this.options.name, response.errors?.length ? 'error' : 'ok', Number(process.hrtime.bigint() - started) / 1e9);
      return dedupe ? dedupe.expand(response) : response;
    } catch (err) {
      this.options.onFetch?.(this.options.name, 'error', Number(process.hrtime.bigint() - started) / 1e9);
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
