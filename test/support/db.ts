import { randomBytes } from 'node:crypto';
import { createPool, dropDatabase, ensureDatabase, withDatabase, type Pool } from '../../platform/db';
import { migrate } from '../../platform/migrate';
import { TEST_PG_URL } from './services';

export interface TestDatabase {
  url: string;
  /** A pool as the login (super)user: full rights, for fixtures and assertions. */
  pool: Pool;
  /**
   * Leaves `connections` connections open and idle in the pool. For tests of work that takes a connection only if
   * one is free at once (linking's work beside the batch: connectAtOnce waits 50 ms): on a loaded machine a new
   * connection can take longer than that to come up, and the work would run in the batch instead.
   */
  warm(connections: number): Promise<void>;
  drop(): Promise<void>;
}

/**
 * A fresh database for one test file, migrated to the latest schema. Always `drop()` it in afterAll.
 * `migrated: false` gives an empty database (for migration tests).
 */
export async function createTestDatabase(label = 'test', options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `tl_${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(TEST_PG_URL, name);
  await ensureDatabase(url);
  if (options.migrated !== false) await migrate(url);
  const pool = createPool(url, { max: 5, applicationName: `test-${label}` });
  return {
    url,
    pool,
    async warm(connections) {
      const held = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
      for (const c of held) c.release();
    },
    async drop() {
      await pool.end();
      await dropDatabase(url);
    },
  };
}
