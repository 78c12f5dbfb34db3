import type { HubConfig } from '../platform/config';
import type { Logger } from '../platform/logger';

/**
 * Reference data the hub needs before its parts start: with demo data on, the demo city's grid hierarchy
 * (city → district → street → community → grid) goes into core.grids. In a real deployment the grids come
 * from the city's own grid system instead.
 */
export async function bootstrapHubData(config: Readonly<HubConfig>, databaseUrl: string, log: Logger): Promise<void> {
  if (!config.DEMO_ENABLED) return;
  void databaseUrl;
  log.debug('demo geography bootstrap not wired yet');
}
