import type { Identity } from '../security/identity';

/** What the gateway's Apollo Server carries per request: the verified caller and the client's operation name. */
export interface GatewayContext {
  identity: Identity;
  /** Set for requests from the gateway's own execution path (change-event enrichment), absent for HTTP. */
  internal?: boolean;
}
