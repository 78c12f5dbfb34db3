import type { HubConfig } from '../platform/config';
import { createPool } from '../platform/db';
import type { Logger } from '../platform/logger';
import { buildGeography } from '../demo/geography';
import { loadGeographyIntoHub } from '../demo/hub-grids';

/**
 * Reference data the hub needs before its parts start: with demo data on, the demo city's grid hierarchy
 * (city → district → street → community → grid) goes into core.grids (an idempotent upsert). In a real
 * deployment the grids come from the city's own grid system instead.
 */
export async function bootstrapHubData(config: Readonly<HubConfig>, databaseUrl: string, log: Logger): Promise<void> {
  if (!config.DEMO_ENABLED) return;
  const started = Date.now();
  const geography = await buildGeography({ seed: config.DEMO_SEED });
  const pool = createPool(databaseUrl, { max: 1, applicationName: 'tonglan-bootstrap' });
  try {
    const grids = await loadGeographyIntoHub(pool, geography);
    log.info({ grids, ms: Date.now() - started }, 'demo city grids loaded into core.grids');
  } finally {
    await pool.end();
  }
}
