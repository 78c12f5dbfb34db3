import type { HubConfig } from '../platform/config';
import type { Logger } from '../platform/logger';

/**
 * A part of the hub that runs as its own process under `npm start` (or alone, `npm run hub -- run <name>`):
 * the gateway, each subgraph, the sync worker, the event relay, the demo department systems.
 * `start` resolves once the part is serving; `stop` closes it gracefully (SIGINT/SIGTERM).
 */
export interface PartContext {
  config: Readonly<HubConfig>;
  /** Resolved PostgreSQL URL of the hub's database (after the embedded fallback). */
  databaseUrl: string;
  redisUrl: string;
  log: Logger;
}

export interface RunningPart {
  /** URL the part serves on, if it serves HTTP. */
  url?: string;
  stop(): Promise<void>;
}

export interface PartDefinition {
  name: string;
  description: string;
  start(ctx: PartContext): Promise<RunningPart>;
}
