import type { Pool } from '../../platform/db';
import type { Logger } from '../../platform/logger';
import type { Identity } from '../../security/identity';
import type { PiiGuard } from './pii-guard';

/**
 * What every resolver of every subgraph receives (besides Mercurius' own `app` / `reply`):
 * the verified caller, the subgraph's pool (running as the subgraph's own database role), the request's
 * DataLoaders (new for each request, so nothing is cached across callers), and the PII guard.
 */
export interface SubgraphContext<L = unknown> {
  identity: Identity;
  pool: Pool;
  loaders: L;
  pii: PiiGuard;
  log: Logger;
  /** The client's operation name as forwarded by the gateway, for audit entries. */
  operationName: string | null;
}

/** What a subgraph's loader factory gets: built once per request. */
export interface LoaderContext {
  identity: Identity;
  pool: Pool;
}
