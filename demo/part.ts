import path from 'node:path';
import type { PartDefinition } from '../cli/part';
import { buildGeography } from './geography';
import { LiveChanger } from './live';
import { seedDemoSystems } from './seed';
import { createPetitionApi } from './systems/petition-api';
import { PetitionStore } from './systems/petition-store';

/**
 * The `demo` part: the four department systems the hub integrates in a demo. Seeds them for DEMO_SEED and
 * DEMO_PERSONS if they do not hold that data yet, serves the petition API on DEMO_PETITION_PORT and, with
 * DEMO_LIVE, keeps changing every system every DEMO_LIVE_INTERVAL_MS.
 */
export const part: PartDefinition = {
  name: 'demo',
  description: 'demo department systems: police (PostgreSQL), civil affairs (MariaDB), justice (file drop), petitions (HTTP API), live changes',
  async start(ctx) {
    const { config, log } = ctx;
    const started = Date.now();
    const geo = await buildGeography({ seed: config.DEMO_SEED });
    const systems = await seedDemoSystems({
      seed: config.DEMO_SEED, persons: config.DEMO_PERSONS, policeUrl: config.DEMO_POLICE_DATABASE_URL,
      mysqlUrl: config.DEMO_MYSQL_URL, dir: path.resolve(config.DEMO_DIR), geography: geo, log,
    });
    let api: ReturnType<typeof createPetitionApi> | undefined;
    let live: LiveChanger | undefined;
    try {
      const store = await PetitionStore.open(systems.petitionFile);
      api = createPetitionApi({ store, token: config.DEMO_PETITION_TOKEN });
      await api.listen({ port: config.DEMO_PETITION_PORT, host: config.HOST });
      if (config.DEMO_LIVE) {
        live = new LiveChanger({
          police: systems.police, civil: systems.civil, justiceDir: systems.justiceDir, store, geo,
          truthFile: path.join(systems.generatedDir, 'truth.jsonl'), seed: config.DEMO_SEED, log,
        });
        await live.init();
        live.start(config.DEMO_LIVE_INTERVAL_MS);
      }
    } catch (err) {
      await api?.close().catch(() => undefined);
      await systems.close();
      throw err;
    }
    const url = `http://${config.HOST}:${config.DEMO_PETITION_PORT}/api/v1`;
    log.info({ seeded: systems.seeded, persons: config.DEMO_PERSONS, seed: config.DEMO_SEED, petitionApi: url, live: config.DEMO_LIVE, ms: Date.now() - started }, 'demo department systems ready');
    return {
      url,
      async stop() {
        await live?.stop();
        await api?.close();
        await systems.close();
      },
    };
  },
};
