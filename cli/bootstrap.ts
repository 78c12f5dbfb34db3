import type { HubConfig } from '../platform/config';
import { createPool } from '../platform/db';
import type { Logger } from '../platform/logger';
import { buildGeography } from '../demo/geography';
import { loadGeographyIntoHub, loadRegisterIntoHub } from '../demo/hub-grids';
import { demoRegister } from '../demo/register';

/**
 * Reference data the hub needs before its parts start: with demo data on, the demo city's grid hierarchy
 * (city → district → street → community → grid) goes into core.grids, and its standard-address register (标准地址库,
 * every building of the populated grids) into core.buildings (idempotent upserts). In a real deployment both
 * come from the city's own grid system and address register instead.
 */
export async function bootstrapHubData(config: Readonly<HubConfig>, databaseUrl: string, log: Logger): Promise<void> {
  if (!config.DEMO_ENABLED) return;
  const started = Date.now();
  const geography = await buildGeography({ seed: config.DEMO_SEED });
  const pool = createPool(databaseUrl, { max: 1, applicationName: 'tonglan-bootstrap' });
  try {
    const grids = await loadGeographyIntoHub(pool, geography);
    log.info({ grids, ms: Date.now() - started }, 'demo city grids loaded into core.grids');
    const register = await loadRegisterIntoHub(pool, demoRegister(geography, config.DEMO_PERSONS));
    if (register.rejected.length) log.warn({ rejected: register.rejected.length, first: register.rejected.slice(0, 3) }, 'standard-address register rows rejected');
    log.info({ buildings: register.changed, ms: Date.now() - started }, 'demo standard-address register loaded into core.buildings');
  } finally {
    await pool.end();
  }
}
