import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A real graphql-ws client (tests, benchmark) that records what a subscription receives. */
export interface Received {
  data: Array<Record<string, any>>;
  errors: unknown[];
  completed: boolean;
  closed: { code: number; reason: string } | null;
}

export interface TestSubscription extends Received {
  client: Client;
  /** Unsubscribe and close the socket. */
  stop(): Promise<void>;
}

export function subscribeChanges(url: string, authorization: string, query: string, variables: Record<string, unknown> = {},
  extensions?: Record<string, unknown>): TestSubscription {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    retryAttempts: 0,
    lazy: true,
    shouldRetry: () => false,
  });
  const sub: TestSubscription = {
    client,
    data: [],
    errors: [],
    completed: false,
    closed: null,
    async stop() {
      unsubscribe();
      await client.dispose();
    },
  };
  client.on('closed', (event) => {
    const e = event as { code: number; reason: string };
    sub.closed = { code: e.code, reason: e.reason };
  });
  const unsubscribe = client.subscribe({ query, variables, ...(extensions ? { extensions } : {}) }, {
    next: (result) => {
      if (result.errors) sub.errors.push(...result.errors);
      // A subscription's event (its `changes`), or a query's whole answer.
      if (result.data) sub.data.push(('changes' in result.data ? result.data.changes : result.data) as Record<string, any>);
    },
    error: (err) => {
      sub.errors.push(err);
    },
    complete: () => {
      sub.completed = true;
    },
  });
  return sub;
}
