import type { Pool } from '../platform/db';
import type { ConnectorContext } from './contract';

/**
 * Process-wide defaults for kinds that keep data in the hub itself (push). The worker or gateway calls
 * `setConnectorRuntime({pool})` once at start-up; a context passed to a call wins over it.
 */
let runtime: { pool?: Pool } = {};

export function setConnectorRuntime(options: { pool?: Pool }): void {
  runtime = { ...options };
}

export function resolveContext(context?: ConnectorContext): ConnectorContext {
  return { ...runtime, ...Object.fromEntries(Object.entries(context ?? {}).filter(([, v]) => v !== undefined)) };
}
