import type { ConnectorKind } from '../contract';
import { checkPush } from './check';
import { discoverPush } from './discover';
import { readPush } from './read';
import { pushSpec } from './spec';

export { createPushHandler, type PushHandler, type PushHandlerOptions } from './receiver';
export { prunePushBatches } from './store';

/**
 * Push: the department posts batches to the hub (`createPushHandler`, mounted on the gateway's HTTP server);
 * `read` yields the stored batches in order. Needs the hub pool and connector id in the read context.
 */
export const pushKind: ConnectorKind = {
  spec: () => pushSpec,
  check: (config, context) => checkPush(config, context),
  discover: (config, context) => discoverPush(config, context),
  read: (config, options) => readPush(config, options),
};
