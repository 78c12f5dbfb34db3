import { buildSubgraphSchema } from '@apollo/subgraph';
import Fastify, { type FastifyInstance } from 'fastify';
import { GraphQLError, parse, type GraphQLSchema } from 'graphql';
import mercurius from 'mercurius';
import type { HubConfig } from '../../platform/config';
import { createPool, type Pool } from '../../platform/db';
import { HubError, toHubError } from '../../platform/errors';
import { partLogger, type Logger } from '../../platform/logger';
import { decodeIdentity, IDENTITY_HEADER, type Identity } from '../../security/identity';
import { internalKey } from '../../security/keys';
import type { LoaderContext, SubgraphContext } from './context';
import { auditEntry, createAuditLog, type AuditLog } from '../../security/audit';
import { PiiGuard } from './pii-guard';
import { readSubgraphSdl } from './sdl';

/**
 * The one way a subgraph is made, for the five graph subgraphs and the admin subgraph alike.
 *
 * A subgraph is a folder: its `*.graphql` files (concatenated in name order, see sdl.ts), its resolvers and a
 * loader factory. `createSubgraphServer(definition, options)` turns it into a Fastify + Mercurius server whose
 * schema is built by `@apollo/subgraph`'s buildSubgraphSchema (Federation 2), with:
 *  - a pool running as the subgraph's own database role (`createPool(url, { role })`): the database itself
 *    refuses anything outside the subgraph's schema;
 *  - per request: the Identity decoded from the signed `x-tonglan-identity` header (no valid header →
 *    HTTP 401, TL_ERR_UNAUTHENTICATED, no data), fresh DataLoaders, a PII guard whose unmasked reads are
 *    written to the audit log once per request (`audit`);
 *  - errors carrying `extensions.code` (TL_ERR_*), `/healthz`, and `close()` that drains requests and the pool.
 *
 * Usage (subgraphs/<name>/server.ts):
 *   export const definition: SubgraphDefinition<Loaders> = { name: 'police', folder: __dirname, role: 'tonglan_police', resolvers, createLoaders };
 *   const server = await createSubgraphServer(definition, { config, databaseUrl });
 *   const url = await server.listen(4002);
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResolverMap = Record<string, Record<string, any>>;

export interface SubgraphDefinition<L> {
  /** Subgraph name, as in schema/subgraphs.ts (`core`, `police`, ...). */
  name: string;
  /** The folder holding its `*.graphql` files. */
  folder: string;
  /** Database role its pool runs as (domain/departments.ts, migrations/0001). */
  role: string;
  /** Resolver map (`Query`, types, `__resolveReference` of entities); resolvers receive SubgraphContext<L>. */
  resolvers: ResolverMap;
  createLoaders(ctx: LoaderContext): L;
}


export interface SubgraphServerOptions {
  config: Readonly<Pick<HubConfig, 'SECRET_KEY' | 'NODE_ENV'>>;
  /** Database URL; the pool is made from it with the definition's role. */
  databaseUrl?: string;
  /** Or a pool made by the caller (it is then not closed by `close()`). */
  pool?: Pool;
  /** Where unmasked reads are recorded; default: security/audit.ts on the subgraph's own pool (every hub role may append). */
  audit?: Pick<AuditLog, 'record'>;
  log?: Logger;
  /** Pool size (default 10). */
  poolMax?: number;
}

export interface SubgraphServer {
  name: string;
  app: FastifyInstance;
  schema: GraphQLSchema;
  pool: Pool;
  /** Listen on `port` (0: an ephemeral one); resolves to the GraphQL URL. */
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export function buildSchemaOf<L>(definition: SubgraphDefinition<L>): GraphQLSchema {
  const typeDefs = parse(readSubgraphSdl(definition.folder));
  return buildSubgraphSchema([{ typeDefs, resolvers: definition.resolvers as never }]);
}

declare module 'fastify' {
  interface FastifyRequest {
    tonglanIdentity?: Identity | null;
  }
}

/** An error as the gateway sees it: message, and `extensions.code` from the HubError behind it. */
function formatError(error: GraphQLError, log: Logger): Record<string, unknown> {
  const original = error.originalError;
  let code = (error.extensions?.code as string | undefined) ?? undefined;
  let message = error.message;
  let details: Record<string, unknown> | undefined;
  if (original && !(original instanceof GraphQLError)) {
    const hub = toHubError(original);
    code = hub.code;
    details = hub.details;
    if (hub.code === 'TL_ERR_INTERNAL') {
      // Never leak SQL or stack details to clients; log them here.
      log.error({ err: original, path: error.path }, 'resolver failed');
      message = 'Internal error';
    }
  }
  return {
    message,
    ...(error.locations ? { locations: error.locations } : {}),
    ...(error.path ? { path: error.path } : {}),
    extensions: { code: code ?? 'TL_ERR_BAD_USER_INPUT', ...(details ? { details } : {}) },
  };
}

/**
 * Verified identity headers, remembered for a short while: the gateway reuses one signed header per caller
 * (gateway/data-source.ts), so most requests carry a header already checked. An entry is kept for at most
 * `maxAgeMs` and never past the header's own `exp`; a header not in the cache is verified in full.
 */
export function createIdentityVerifier(key: string, options: { maxAgeMs?: number; maxEntries?: number } = {}): (header: string | undefined) => Identity | null {
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const verified = new Map<string, { identity: Identity; until: number }>();
  return (header) => {
    if (!header) return null;
    const now = Date.now();
    const hit = verified.get(header);
    if (hit && hit.until > now) return hit.identity;
    if (hit) verified.delete(header);
    const identity = decodeIdentity(header, key, now);
    if (!identity || maxAgeMs <= 0) return identity;
    let exp = Number.POSITIVE_INFINITY;
    try {
      const claims = JSON.parse(Buffer.from(header.slice(0, header.lastIndexOf('.')), 'base64url').toString('utf8')) as { exp?: unknown };
      if (typeof claims.exp === 'number') exp = claims.exp * 1000;
    } catch {
      return identity;
    }
    if (verified.size >= maxEntries) verified.clear();
    verified.set(header, { identity, until: Math.min(exp, now + maxAgeMs) });
    return identity;
  };
}

export async function createSubgraphServer<L>(definition: SubgraphDefinition<L>, options: SubgraphServerOptions): Promise<SubgraphServer> {
  const log = options.log ?? partLogger(`subgraph:${definition.name}`);
  const key = internalKey(options.config);
  if (!options.pool && !options.databaseUrl) throw new HubError('TL_ERR_CONFIG_INVALID', `subgraph ${definition.name}: a databaseUrl or a pool is required`);
  const ownPool = !options.pool;
  const pool = options.pool ?? createPool(options.databaseUrl!, { role: definition.role, applicationName: `tonglan-subgraph-${definition.name}`, max: options.poolMax ?? 10 });
  const schema = buildSchemaOf(definition);
  const verifyIdentity = createIdentityVerifier(key);

  const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
  app.decorateRequest('tonglanIdentity', null);
  app.get('/healthz', async () => ({ status: 'ok', subgraph: definition.name }));

  // The identity is checked before GraphQL runs at all: without it nothing is parsed, planned or read.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/graphql')) return;
    const header = request.headers[IDENTITY_HEADER];
    const identity = verifyIdentity(Array.isArray(header) ? header[0] : header);
    if (!identity) {
      await reply.code(401).send({
        data: null,
        errors: [{ message: `Missing or invalid ${IDENTITY_HEADER}: subgraphs answer only requests forwarded by the gateway`, extensions: { code: 'TL_ERR_UNAUTHENTICATED' } }],
      });
      return reply;
    }
    request.tonglanIdentity = identity;
  });

  await app.register(mercurius, {
    schema,
    path: '/graphql',
    graphiql: false,
    // Not `jit`: graphql-jit does not call function-valued fields (Connection.totalCount is a function so
    // that its count query runs only when selected) — measured 2026-11-22, every totalCount failed.
    context: (request) => {
      const identity = request.tonglanIdentity!;
      const operationName = (request.headers['x-tonglan-operation'] as string | undefined) ?? null;
      const ctx: Omit<SubgraphContext<L>, never> = {
        identity,
        pool,
        loaders: definition.createLoaders({ identity, pool }),
        pii: new PiiGuard(identity),
        log,
        operationName,
      };
      return ctx as unknown as Record<string, unknown>;
    },
    errorFormatter: (execution, context) => {
      const formatted = mercurius.defaultErrorFormatter(execution, context);
      const errors = (execution.errors ?? []).map((e) => formatError(e as GraphQLError, log));
      // Partial results are normal in federation: answer 200 with `errors`, unless nothing executed.
      return { statusCode: formatted.statusCode >= 500 ? 200 : formatted.statusCode, response: { data: execution.data ?? null, errors } as never };
    },
  });

  // One audit entry per request for every unmasked sensitive value it returned. Fail-closed: when the entry
  // cannot be written the request fails instead of answering unaudited.
  const audit = options.audit ?? createAuditLog(pool);
  app.graphql.addHook('onResolution', async (execution, context) => {
    const ctx = context as unknown as SubgraphContext<L>;
    const reads = ctx.pii?.reads();
    if (!reads) return;
    try {
      await audit.record(auditEntry(ctx.identity, 'pii_read', {
        operation: ctx.operationName, persons: reads.persons, fields: reads.fields, detail: { subgraph: definition.name },
      }));
    } catch (err) {
      log.error({ err, fields: reads.fields }, 'could not record an unmasked PII read in the audit log: answer withheld');
      execution.data = null;
      execution.errors = [new GraphQLError('The audit log could not record this read of personal information; no data returned',
        { extensions: { code: 'TL_ERR_DEPENDENCY_DOWN' } })];
    }
  });

  let closed = false;
  return {
    name: definition.name,
    app,
    schema,
    pool,
    async listen(port: number, host = '127.0.0.1') {
      const address = await app.listen({ port, host });
      return `${address}/graphql`;
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      if (ownPool) await pool.end();
    },
  };
}
