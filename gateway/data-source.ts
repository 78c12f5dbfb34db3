import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GraphQLRequest } from '@apollo/server';
import { GraphQLError } from 'graphql';
import http from 'node:http';
import https from 'node:https';
import { encodeIdentity, IDENTITY_HEADER, PII_READ, type Identity } from '../security/identity';
import type { GatewayContext } from './context';
import { dedupeRepresentations } from './plugins/entity-dedupe';

/**
 * The gateway's connection to one subgraph: forwards the verified caller as the signed `x-tonglan-identity`
 * header (subgraphs trust nothing else) and the operation name (for their audit entries), over keep-alive
 * connections (one agent per subgraph), and reports each fetch to `onFetch` (metrics).
 *
 * The fetch path is lean (measured under load, see docs/performance.md):
 *  - the request goes out with `http.request` on the subgraph's keep-alive agent; the stock data source
 *    builds a node-fetch `Request` and `Headers` for every fetch (and stock uses make-fetch-happen);
 *  - the signed identity header is made once per identity and reused for at most `identityReuseMs` (default
 *    60 s), so it always has at least 14 of its 15 minutes of validity left (security/identity.ts);
 *  - identical subgraph queries in flight at the same moment are sent once and the answer is parsed for each
 *    waiter (`dedupeInflight`, on by default; Hive Gateway's HTTP executor does the same by default). The key
 *    is the subgraph, the whole body (query + variables) and the signed identity and operation headers, so
 *    only requests the subgraph would answer identically for the same caller share a fetch. Never shared:
 *    mutations, and callers holding `pii:read` — each of their fetches reaches the subgraph, which audits
 *    every unmasked read it returns. (The same caller's identical out-of-scope lookups sent at the same moment
 *    are one subgraph request, so one `denied` audit entry.)
 */
export interface HubDataSourceOptions {
  name: string;
  url: string;
  internalKey: string;
  /** Sockets kept per subgraph (default 64). */
  maxSockets?: number;
  onFetch?: (subgraph: string, outcome: 'ok' | 'error', seconds: number) => void;
  /** Share one fetch between identical queries in flight at once (default true). */
  dedupeInflight?: boolean;
  /** How long one signed identity header is reused (ms, default 60 000; 0 = sign for every fetch). */
  identityReuseMs?: number;
}

interface RawAnswer {
  status: number;
  statusText: string;
  contentType: string;
  cacheControl: string | null;
  text: string;
}

/** Signed identity headers, per identity, reused for a short while (signing is an HMAC and a JSON serialisation). */
export class IdentityHeaderCache {
  private readonly byObject = new WeakMap<Identity, { header: string; until: number }>();
  private readonly byValue = new Map<string, { header: string; until: number }>();

  constructor(private readonly key: string, private readonly reuseMs = 60_000, private readonly maxEntries = 10_000) {}

  header(identity: Identity, now = Date.now()): string {
    if (this.reuseMs <= 0) return encodeIdentity(identity, this.key, { now });
    const hit = this.byObject.get(identity);
    if (hit && hit.until > now) return hit.header;
    const valueKey = JSON.stringify([identity.sub, identity.role, identity.department ?? null, identity.grids, identity.districts, identity.scopes]);
    let entry = this.byValue.get(valueKey);
    if (!entry || entry.until <= now) {
      if (this.byValue.size >= this.maxEntries) this.byValue.clear();
      entry = { header: encodeIdentity(identity, this.key, { now }), until: now + this.reuseMs };
      this.byValue.set(valueKey, entry);
    }
    this.byObject.set(identity, entry);
    return entry.header;
  }
}

const QUERY_OPERATION = /^\s*(?:query\b|\{)/;

export class HubDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly agent: http.Agent;
  private readonly target: URL;
  private readonly send: typeof http.request;
  private readonly identities: IdentityHeaderCache;
  private readonly inflight = new Map<string, Promise<RawAnswer>>();

  constructor(private readonly options: HubDataSourceOptions) {
    const secure = options.url.startsWith('https:');
    const agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 })
      : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    super({ url: options.url });
    this.agent = agent;
    this.target = new URL(options.url);
    this.send = secure ? https.request : http.request;
    this.identities = new IdentityHeaderCache(options.internalKey, options.identityReuseMs ?? 60_000);
    // RemoteGraphQLDataSource.process calls `this.sendRequest(request, context)`; it is private in its typings.
    (this as unknown as { sendRequest: HubDataSource['sendLean'] }).sendRequest = this.sendLean.bind(this);
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const identity = (options.context as Partial<GatewayContext>).identity;
    if (identity) options.request.http?.headers.set(IDENTITY_HEADER, this.identities.header(identity));
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

  /** One POST to the subgraph; the answer's text, status and the headers the gateway reads. */
  private post(body: string, headers: Record<string, string>): Promise<RawAnswer> {
    return new Promise<RawAnswer>((resolve, reject) => {
      const req = this.send({
        protocol: this.target.protocol, hostname: this.target.hostname, port: this.target.port, path: this.target.pathname + this.target.search,
        method: 'POST', agent: this.agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({
          status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', contentType: String(res.headers['content-type'] ?? ''),
          cacheControl: (res.headers['cache-control'] as string | undefined) ?? null,
          text: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
        }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Replaces RemoteGraphQLDataSource's (private) sendRequest: see the class comment. */
  private async sendLean(request: GraphQLRequest, _context: GatewayContext): Promise<Record<string, unknown> & { http: unknown }> {
    const { http: httpRequest, ...withoutHttp } = request as GraphQLRequest & { http?: { headers: Iterable<[string, string]> } };
    if (!httpRequest) throw new Error("Internal error: Only 'http' requests are supported.");
    const body = JSON.stringify(withoutHttp);
    const headers: Record<string, string> = {};
    for (const [name, value] of httpRequest.headers) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';

    const identity = (_context as Partial<GatewayContext> | undefined)?.identity;
    const shareable = this.options.dedupeInflight !== false && QUERY_OPERATION.test(request.query ?? '')
      && !(identity?.scopes ?? []).includes(PII_READ);
    let answer: Promise<RawAnswer>;
    if (shareable) {
      const key = `${headers[IDENTITY_HEADER] ?? ''}\n${headers['x-tonglan-operation'] ?? ''}\n${body}`;
      const pending = this.inflight.get(key);
      if (pending) {
        answer = pending;
      } else {
        answer = this.post(body, headers);
        this.inflight.set(key, answer);
        const forget = () => { if (this.inflight.get(key) === answer) this.inflight.delete(key); };
        answer.then(forget, forget);
      }
    } else {
      answer = this.post(body, headers);
    }
    const raw = await answer;
    const json = raw.contentType.startsWith('application/json') || raw.contentType.startsWith('application/graphql-response+json');
    let parsed: unknown = raw.text;
    if (json) {
      try {
        parsed = JSON.parse(raw.text);
      } catch {
        throw new Error(`Expected JSON response body from subgraph ${this.options.name}, but received: ${raw.text.slice(0, 200)}`);
      }
    }
    if (raw.status < 200 || raw.status >= 300) {
      throw new GraphQLError(`${raw.status}: ${raw.statusText}`, {
        extensions: {
          response: { url: this.options.url, status: raw.status, statusText: raw.statusText, body: parsed },
          ...(raw.status === 401 ? { code: 'UNAUTHENTICATED' } : raw.status === 403 ? { code: 'FORBIDDEN' } : {}),
        },
      });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`Expected JSON response body, but received: ${raw.text.slice(0, 200)}`);
    // `http.headers.get('cache-control')` is all the gateway reads of the response (cache hints).
    const cacheControl = raw.cacheControl;
    return { ...(parsed as Record<string, unknown>), http: { status: raw.status, headers: { get: (name: string) => (name.toLowerCase() === 'cache-control' ? cacheControl : null) } } };
  }

  close(): void {
    this.agent.destroy();
  }
}
